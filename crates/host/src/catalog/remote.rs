//! Reading catalog entries from registries through the cache (see the
//! module docs of [`crate::catalog`] for the strategy).

use std::collections::BTreeMap;

use dockhand_oci::registry::{ManifestKind, RegistryClient, RegistryError};
use dockhand_oci::{Reference, ReferenceError};
use dockhand_spec::Labels;
use dockhand_spec::labels::name;

use super::{CatalogItem, CatalogOptions, Source};
use crate::namespace::Namespace;
use crate::state::State;
use crate::update::tags::{UntaggedTags, VersionTag, untagged_tags};
use crate::update::{ReadTag, api_satisfied, walk_down};

/// The most tags of one repository read.
const MAX_TAGS: usize = 10_000;
/// The most repositories of one namespace read.
const MAX_REPOSITORIES: usize = 5_000;
use crate::update::MAX_CONFIG_BYTES;

pub(crate) struct Remote<'a> {
    pub state: &'a State,
    pub client: &'a RegistryClient,
    pub options: &'a CatalogOptions,
}

/// Why a catalog entry could not be read (shown as the entry's `error`).
#[derive(Debug, thiserror::Error)]
pub(crate) enum EntryError {
    /// The registry failed or answered something unusable.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A version tag does not make a reference.
    #[error(transparent)]
    Tag(#[from] ReferenceError),
    /// No release version, only pre-releases.
    #[error("it has only pre-release versions ({}): install one by its tag", versions.join(", "))]
    OnlyPreReleases {
        /// The pre-release tags.
        versions: Vec<String>,
    },
}

/// An image's labels and its top manifest digest.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Labelled {
    digest: String,
    labels: BTreeMap<String, String>,
}

impl Labelled {
    fn compatible(&self) -> bool {
        // As install: no constraint installs.
        api_satisfied(self.labels.get(name::API_VERSION).map(String::as_str))
    }
}

/// Reads a version tag's labels for the walk down the versions (the update
/// check's, [`walk_down`]), through the catalog's own cache.
struct CatalogTags<'r, 'a> {
    remote: &'r Remote<'a>,
    repo: &'r Reference,
}

impl ReadTag for CatalogTags<'_, '_> {
    type Value = (Reference, Labelled);
    type Error = EntryError;

    async fn read(
        &mut self,
        tag: &VersionTag,
    ) -> Result<Option<((Reference, Labelled), bool)>, EntryError> {
        let r = self.repo.with_tag(&tag.tag)?;
        let l = self.remote.labels(&r).await?;
        let ok = l.compatible();
        Ok(Some(((r, l), ok)))
    }
}

impl Remote<'_> {
    fn fresh(&self, fetched_at: i64) -> bool {
        let age = now() - fetched_at;
        !self.options.refresh && age >= 0 && (age as u64) < self.options.list_ttl.as_secs()
    }

    /// A cached list under `key`, or `fetch`ed and cached; a stale cached
    /// list stands in when the registry cannot be reached.
    async fn cached_list<F, Fut>(&self, key: &str, fetch: F) -> Result<Vec<String>, RegistryError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Vec<String>, RegistryError>>,
    {
        let cached = self.state.cache_get(key).ok().flatten();
        let parsed = cached.as_ref().and_then(|c| {
            serde_json::from_str::<Vec<String>>(&c.body)
                .ok()
                .map(|l| (l, c.fetched_at))
        });
        if let Some((list, at)) = &parsed
            && self.fresh(*at)
        {
            return Ok(list.clone());
        }
        match fetch().await {
            Ok(list) => {
                // The cache is best effort: what does not serialize is not kept.
                if let Ok(body) = serde_json::to_string(&list) {
                    let _ = self.state.cache_put(key, None, None, &body);
                }
                Ok(list)
            }
            Err(e @ RegistryError::Transport { .. }) => match parsed {
                Some((list, _)) => Ok(list),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// The repositories under a namespace (`acme/ext`, without the registry).
    pub(crate) async fn repositories(&self, ns: &Namespace) -> Result<Vec<String>, RegistryError> {
        self.cached_list(&format!("repos:{ns}"), || {
            self.client
                .list_repositories(&ns.registry, &ns.path, MAX_REPOSITORIES)
        })
        .await
    }

    async fn tags(&self, repo: &Reference) -> Result<Vec<String>, RegistryError> {
        self.cached_list(&format!("tags:{}", repo.name()), || {
            self.client.list_tags(repo, MAX_TAGS)
        })
        .await
    }

    /// The labels of `reference`: cached ones when a digest pins it or a
    /// `HEAD` shows the same digest; else the manifest(s) and config.
    async fn labels(&self, reference: &Reference) -> Result<Labelled, EntryError> {
        let key = format!("manifest:{reference}");
        let cached = self
            .state
            .cache_get(&key)
            .ok()
            .flatten()
            .and_then(|c| serde_json::from_str::<Labelled>(&c.body).ok());
        if let Some(c) = &cached {
            if reference.digest().is_some() {
                return Ok(c.clone());
            }
            match self.client.head_manifest(reference).await {
                Ok(Some(head))
                    if head
                        .digest
                        .as_ref()
                        .is_some_and(|d| d.to_string() == c.digest) =>
                {
                    // The cached labels stand; nothing is written (every
                    // write to dockhand.db is a synced transaction).
                    return Ok(c.clone());
                }
                Err(RegistryError::Transport { .. }) => return Ok(c.clone()),
                _ => {}
            }
        }
        let fresh = self.fetch_labels(reference).await?;
        if let Ok(body) = serde_json::to_string(&fresh) {
            let _ = self.state.cache_put(&key, Some(&fresh.digest), None, &body);
        }
        Ok(fresh)
    }

    async fn fetch_labels(&self, reference: &Reference) -> Result<Labelled, RegistryError> {
        let top = self.client.get_manifest(reference).await?;
        let parsed = top.parse().map_err(|e| RegistryError::Protocol {
            name: reference.name(),
            reason: e.to_string(),
        })?;
        let image = match parsed {
            ManifestKind::Image(m) => m,
            ManifestKind::Index(index) => {
                let entry = index
                    .find_platform(&self.options.platform)
                    .or_else(|| {
                        index
                            .manifests
                            .iter()
                            .find(|d| d.platform.as_ref().is_none_or(|p| p.os() != "unknown"))
                    })
                    .ok_or_else(|| RegistryError::Protocol {
                        name: reference.name(),
                        reason: "the index lists no image".to_owned(),
                    })?;
                let platform_ref = reference.with_digest(entry.digest.clone());
                match self.client.get_manifest(&platform_ref).await?.parse() {
                    Ok(ManifestKind::Image(m)) => m,
                    _ => {
                        return Err(RegistryError::Protocol {
                            name: reference.name(),
                            reason: "the index entry is not an image manifest".to_owned(),
                        });
                    }
                }
            }
        };
        if image.config.size > MAX_CONFIG_BYTES {
            return Err(RegistryError::Protocol {
                name: reference.name(),
                reason: format!(
                    "the image config is {} bytes, more than {MAX_CONFIG_BYTES}",
                    image.config.size
                ),
            });
        }
        let mut bytes = Vec::new();
        self.client
            .fetch_blob(
                reference,
                &image.config.digest,
                image.config.size,
                &mut bytes,
            )
            .await?;
        let config: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| RegistryError::Protocol {
                name: reference.name(),
                reason: format!("the image config is not JSON: {e}"),
            })?;
        let labels = config
            .get("config")
            .and_then(|c| c.get("Labels"))
            .and_then(|l| serde_json::from_value(l.clone()).ok())
            .unwrap_or_default();
        Ok(Labelled {
            digest: top.digest.to_string(),
            labels,
        })
    }

    /// Resolves one entry to a list item; failures become its `error`.
    pub(crate) async fn resolve(&self, source: &Source) -> CatalogItem {
        let reference = &source.reference;
        let pinned = reference.tag().is_some() || reference.digest().is_some();
        let mut item = CatalogItem {
            id: reference.extension_id().to_string(),
            reference: reference.familiar(),
            catalog: source.catalog.clone(),
            title: String::new(),
            vendor: String::new(),
            description: String::new(),
            categories: Vec::new(),
            latest: None,
            digest: None,
            pinned,
            api_version: None,
            compatible: false,
            installed: None,
            icon: None,
            error: None,
            labels: BTreeMap::new(),
        };
        let found = if pinned {
            self.labels(reference)
                .await
                .map(|l| (reference.clone(), Some(l)))
        } else {
            self.latest(reference).await
        };
        match found {
            Ok((chosen, Some(l))) => {
                item.compatible = l.compatible();
                item.latest = Some(
                    chosen
                        .tag()
                        .map(str::to_owned)
                        .unwrap_or_else(|| short_digest(&l.digest)),
                );
                item.reference = chosen.familiar();
                item.digest = Some(l.digest.clone());
                item.labels = l.labels;
            }
            Ok((_, None)) => {
                item.error = Some(
                    "the repository has no version tag (such as 1.0.0) and no `latest`".to_owned(),
                )
            }
            Err(e) => item.error = Some(e.to_string()),
        }
        let labels = Labels(item.labels.clone());
        let label = |n: &str| labels.non_empty(n).map(str::to_owned);
        let o = &source.overrides;
        item.title = o
            .title
            .clone()
            .or_else(|| label(name::TITLE))
            .unwrap_or_else(|| item.id.clone());
        item.vendor = o
            .vendor
            .clone()
            .or_else(|| label(name::VENDOR))
            .unwrap_or_default();
        item.description = o
            .description
            .clone()
            .or_else(|| label(name::DESCRIPTION))
            .unwrap_or_default();
        item.categories = o.categories.clone().unwrap_or_else(|| {
            labels
                .categories()
                .iter()
                .map(|c| c.as_str().to_owned())
                .collect()
        });
        item.api_version = label(name::API_VERSION);
        item.icon = label(name::ICON);
        item
    }

    /// What installing the untagged `repo` would take (the rule of
    /// [`crate::update::untagged`]): the highest release tag whose labels
    /// dockhand's API satisfies; when none is, the highest one (marked
    /// incompatible); without semver tags, `latest`.
    async fn latest(&self, repo: &Reference) -> Result<(Reference, Option<Labelled>), EntryError> {
        let tags = self.tags(repo).await?;
        let versions = match untagged_tags(tags.iter().map(String::as_str), false) {
            UntaggedTags::Versions(v) => v,
            UntaggedTags::Latest => {
                let r = repo.with_tag("latest")?;
                let l = self.labels(&r).await?;
                return Ok((r, Some(l)));
            }
            UntaggedTags::OnlyPreReleases(pre) => {
                return Err(EntryError::OnlyPreReleases { versions: pre });
            }
            UntaggedTags::Nothing(_) => return Ok((repo.clone(), None)),
        };
        let walk = walk_down(&versions, &mut CatalogTags { remote: self, repo }).await?;
        Ok(
            match walk.chosen.or_else(|| walk.passed.into_iter().next()) {
                Some((_, (r, l))) => (r, Some(l)),
                None => (repo.clone(), None),
            },
        )
    }
}

fn short_digest(d: &str) -> String {
    let hex = d.split_once(':').map_or(d, |(_, h)| h);
    hex.chars().take(12).collect()
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
