//! One extension's update check against its registry: the tag list, then,
//! from the highest version down, each candidate's api.version label from
//! its manifest and config (never a layer), cached per digest.

use dockhand_oci::registry::{ManifestKind, RegistryClient};
use dockhand_oci::{Digest, Platform, Reference};
use dockhand_spec::{ApiVersionReq, labels::name};

use super::tags::{VersionTag, candidates, version_tags};
use super::{CheckOptions, Unusable, UpdateError};
use crate::state::{CachedManifest, State};

/// The largest image config read for its labels.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// What one candidate tag is, as far as a check cares.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// The platform image manifest's digest.
    pub manifest: String,
    /// Its `com.docker.desktop.extension.api.version` label, when set.
    pub api_version: Option<String>,
}

/// Counters of one check (for `--verbose`, tests and the benchmark).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckCounts {
    /// Tags the registry listed.
    pub tags: usize,
    /// Tags that are not versions (or pre-releases without `--pre`).
    pub ignored: usize,
    /// Candidates whose labels came from the cache.
    pub cached: usize,
    /// Image configs read from the registry.
    pub configs_read: usize,
}

/// True when dockhand's API satisfies an api.version label (absent: any).
pub fn api_satisfied(label: Option<&str>) -> bool {
    api_satisfied_by(label, &dockhand_spec::implemented_api_version())
}

/// True when the extension API `api` satisfies an api.version label
/// (absent or empty: any; a bare version reads as `>= X`).
pub fn api_satisfied_by(label: Option<&str>, api: &semver::Version) -> bool {
    let raw = label.filter(|l| !l.trim().is_empty()).unwrap_or(">= 0.0.0");
    ApiVersionReq::parse(raw).is_ok_and(|r| r.matches(api))
}

/// Reads what a walk needs to know about one version tag.
pub(crate) trait ReadTag {
    /// What was read.
    type Value;
    /// Why reading failed.
    type Error;
    /// The tag's value and whether the API satisfies it; `None` when the
    /// tag has no image for the platform (it is left out).
    async fn read(&mut self, tag: &VersionTag) -> Result<Option<(Self::Value, bool)>, Self::Error>;
}

/// What a walk found.
#[derive(Debug, Clone)]
pub(crate) struct Walk<T> {
    /// The highest compatible tag and its value.
    pub chosen: Option<(VersionTag, T)>,
    /// The incompatible tags above it (all of them when none is
    /// compatible), highest first.
    pub passed: Vec<(VersionTag, T)>,
}

/// Walks `tags` (highest first) until the first one whose api.version the
/// API satisfies: the one rule behind update checks, untagged references
/// and catalog entries.
pub(crate) async fn walk_down<R: ReadTag>(
    tags: &[VersionTag],
    reader: &mut R,
) -> Result<Walk<R::Value>, R::Error> {
    let mut passed = Vec::new();
    for tag in tags {
        match reader.read(tag).await? {
            Some((value, true)) => {
                return Ok(Walk {
                    chosen: Some((tag.clone(), value)),
                    passed,
                });
            }
            Some((value, false)) => passed.push((tag.clone(), value)),
            None => {}
        }
    }
    Ok(Walk {
        chosen: None,
        passed,
    })
}

/// Reads candidates from the registry through the `dockhand.db` cache:
/// the api.version of each tag's manifest and config, never a layer.
pub(crate) struct RegistryTags<'a> {
    pub client: &'a RegistryClient,
    pub state: &'a State,
    pub repo: &'a Reference,
    pub platform: &'a Platform,
    /// The extension API candidates must suit.
    pub api: semver::Version,
    /// Every candidate suits (`--ignore-api-version`).
    pub any_api: bool,
    pub counts: CheckCounts,
}

impl ReadTag for RegistryTags<'_> {
    type Value = Candidate;
    type Error = UpdateError;

    async fn read(&mut self, tag: &VersionTag) -> Result<Option<(Candidate, bool)>, UpdateError> {
        let c = read_candidate(
            self.client,
            self.state,
            self.repo,
            tag,
            self.platform,
            &mut self.counts,
        )
        .await?;
        Ok(c.map(|c| {
            let ok = self.any_api || api_satisfied_by(c.api_version.as_deref(), &self.api);
            (c, ok)
        }))
    }
}

/// Checks `repo` (the installed reference, its tag ignored) for a version
/// above `installed` whose api.version dockhand satisfies.
pub(crate) async fn check_repository(
    client: &RegistryClient,
    state: &State,
    repo: &Reference,
    installed: &Installed,
    options: &CheckOptions,
) -> Result<(Outcome, CheckCounts), UpdateError> {
    let wrap = |source| UpdateError::Registry {
        name: repo.name(),
        source: Box::new(source),
    };
    let listed = client
        .list_tags(repo, options.max_tags)
        .await
        .map_err(wrap)?;
    let (all, ignored) = version_tags(listed.iter().map(String::as_str), options.pre);
    let mut reader = RegistryTags {
        client,
        state,
        repo,
        platform: &options.platform,
        api: options.api.clone(),
        any_api: false,
        counts: CheckCounts {
            tags: listed.len(),
            ignored,
            ..Default::default()
        },
    };
    let walk = walk_down(candidates(&all, installed.version.as_ref()), &mut reader).await?;
    Ok((
        Outcome {
            latest: walk.chosen.map(|(tag, c)| (tag.tag, c.manifest)),
            blocked_by_api: walk.passed.into_iter().next().map(|(tag, _)| tag.tag),
        },
        reader.counts,
    ))
}

/// What the installed version is, for comparing.
#[derive(Debug, Clone)]
pub(crate) struct Installed {
    /// Its tag as a version, when it is one.
    pub version: Option<semver::Version>,
}

/// The raw answer of a check.
#[derive(Debug, Clone)]
pub(crate) struct Outcome {
    /// The highest compatible candidate: tag and platform manifest digest.
    pub latest: Option<(String, String)>,
    /// The highest incompatible candidate above it.
    pub blocked_by_api: Option<String>,
}

/// Reads one candidate: `HEAD` for its digest, then the cache, else its
/// manifest (the platform's one in an index) and config. `None` when the
/// tag has no image for this platform.
async fn read_candidate(
    client: &RegistryClient,
    state: &State,
    repo: &Reference,
    tag: &VersionTag,
    platform: &Platform,
    counts: &mut CheckCounts,
) -> Result<Option<Candidate>, UpdateError> {
    let wrap = |source| UpdateError::Registry {
        name: format!("{}:{}", repo.name(), tag.tag),
        source: Box::new(source),
    };
    let tagged = repo.with_tag(&tag.tag).map_err(|e| UpdateError::Invalid {
        what: format!("tag {} of {}", tag.tag, repo.name()),
        reason: Unusable::Tag(e),
    })?;
    let repository = repo.name();
    let platform_key = platform.to_string();
    let head = client.head_manifest(&tagged).await.map_err(wrap)?;
    let Some(head) = head else { return Ok(None) };
    if let Some(digest) = &head.digest
        && let Some(hit) =
            state.get_manifest_api(&repository, &digest.to_string(), &platform_key)?
    {
        counts.cached += 1;
        return Ok(Some(Candidate {
            manifest: hit.manifest,
            api_version: hit.api_version,
        }));
    }
    // Pinned by the digest the HEAD gave, so what is read is what was asked about.
    let top_ref = match &head.digest {
        Some(d) => tagged.with_digest(d.clone()),
        None => tagged.clone(),
    };
    let top = client.get_manifest(&top_ref).await.map_err(wrap)?;
    let top_digest = top.digest.clone();
    let image = match top.parse().map_err(|e| unreadable(&tagged, e))? {
        ManifestKind::Image(m) => (m, top_digest.clone()),
        ManifestKind::Index(index) => {
            let Some(entry) = index.find_platform(platform) else {
                return Ok(None);
            };
            let pinned = tagged.with_digest(entry.digest.clone());
            let m = client.get_manifest(&pinned).await.map_err(wrap)?;
            let digest = m.digest.clone();
            match m.parse().map_err(|e| unreadable(&tagged, e))? {
                ManifestKind::Image(m) => (m, digest),
                ManifestKind::Index(_) => {
                    return Err(UpdateError::Invalid {
                        what: tagged.to_string(),
                        reason: Unusable::NestedIndex {
                            platform: platform.to_string(),
                        },
                    });
                }
            }
        }
    };
    let (manifest, manifest_digest) = image;
    let labels = read_labels(
        client,
        &tagged,
        &manifest.config.digest,
        manifest.config.size,
    )
    .await
    .map_err(|e| match e {
        Read::Registry(source) => wrap(source),
        Read::Unusable(reason) => UpdateError::Invalid {
            what: format!("the config of {tagged}"),
            reason,
        },
    })?;
    counts.configs_read += 1;
    let api_version = labels.get(name::API_VERSION).cloned();
    let value = CachedManifest {
        manifest: manifest_digest.to_string(),
        api_version,
    };
    state.put_manifest_api(&repository, &top_digest.to_string(), &platform_key, &value)?;
    Ok(Some(Candidate {
        manifest: value.manifest,
        api_version: value.api_version,
    }))
}

fn unreadable(what: &Reference, e: dockhand_oci::registry::ManifestError) -> UpdateError {
    UpdateError::Invalid {
        what: what.to_string(),
        reason: Unusable::Manifest(e),
    }
}

/// The `Labels` of an image config.
type ConfigLabels = std::collections::BTreeMap<String, String>;

enum Read {
    Registry(dockhand_oci::registry::RegistryError),
    Unusable(Unusable),
}

/// The labels of the config blob `digest` (at most [`MAX_CONFIG_BYTES`]).
async fn read_labels(
    client: &RegistryClient,
    repo: &Reference,
    digest: &Digest,
    size: u64,
) -> Result<ConfigLabels, Read> {
    if size > MAX_CONFIG_BYTES {
        return Err(Read::Unusable(Unusable::ConfigTooLarge { size }));
    }
    let mut bytes = Vec::new();
    client
        .fetch_blob(repo, digest, size, &mut bytes)
        .await
        .map_err(Read::Registry)?;
    #[derive(serde::Deserialize)]
    struct Config {
        #[serde(default)]
        config: Option<RunConfig>,
    }
    #[derive(serde::Deserialize)]
    struct RunConfig {
        #[serde(default, rename = "Labels")]
        labels: Option<std::collections::BTreeMap<String, String>>,
    }
    let config: Config = serde_json::from_slice(&bytes)
        .map_err(|error| Read::Unusable(Unusable::NotAConfig { error }))?;
    Ok(config.config.and_then(|c| c.labels).unwrap_or_default())
}
