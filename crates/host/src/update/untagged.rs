//! A reference without tag or digest (`acme/ext`), resolved by DESIGN.md's
//! rule: the highest semver tag (a leading `v` accepted, pre-releases only
//! when asked) whose `com.docker.desktop.extension.api.version` the
//! extension API satisfies; `latest` only when the repository has no semver
//! tag at all. The walk is the update check's (`check`): tag list,
//! then manifests and configs from the highest down, never a layer, cached
//! per digest in `dockhand.db`.
//!
//! `install`, `inspect` and `validate` resolve through [`resolve`]; the
//! dashboard and the Docker CLI plugin reach it through
//! [`Manager::install`](crate::Manager::install).

use dockhand_oci::registry::{RegistryClient, RegistryError};
use dockhand_oci::source::ImageSource;
use dockhand_oci::{Reference, ReferenceError};

use super::check::{CheckCounts, RegistryTags, walk_down};
use super::tags::{UntaggedTags, untagged_tags};
use super::{CheckOptions, Unusable, UpdateError};
use crate::state::{State, StateError};

/// The most tags or versions named in one message.
const NAMED: usize = 5;

/// How an untagged reference is resolved.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// Pre-releases (`--pre`), the platform, the API to suit, the most tags
    /// read.
    pub check: CheckOptions,
    /// Take the highest version whatever its api.version
    /// (`--ignore-api-version`).
    pub ignore_api_version: bool,
}

/// Why the tag was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChosenBy {
    /// The highest version tag that suits.
    Version,
    /// `latest`: the repository has no version tags.
    Latest,
}

/// An untagged reference, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The reference with the chosen tag.
    pub reference: Reference,
    /// The chosen tag.
    pub tag: String,
    /// Why it was chosen.
    pub by: ChosenBy,
    /// Higher versions passed over because their api.version excludes the
    /// API: tag and constraint, highest first.
    pub passed: Vec<(String, Option<String>)>,
    /// What the walk read.
    pub counts: CheckCounts,
}

impl Resolved {
    /// One line saying what was chosen and why, for stderr.
    pub fn message(&self, options: &ResolveOptions) -> String {
        let repo = self.reference.familiar_name();
        let tag = &self.tag;
        match self.by {
            ChosenBy::Latest => {
                format!("{repo}: no tag given, chose `latest` (the repository has no version tags)")
            }
            ChosenBy::Version => {
                let pre = if options.check.pre {
                    ", pre-releases included"
                } else {
                    ""
                };
                let mut out = if options.ignore_api_version {
                    format!("{repo}: no tag given, chose {tag} (the highest version{pre})")
                } else {
                    format!(
                        "{repo}: no tag given, chose {tag} (the highest version{pre} whose api.version extension API {} satisfies",
                        options.check.api
                    )
                };
                if !options.ignore_api_version {
                    if !self.passed.is_empty() {
                        out.push_str("; ");
                        out.push_str(&needs(&self.passed));
                    }
                    out.push(')');
                }
                out
            }
        }
    }
}

/// `1.2.0 needs >= 9, 1.1.0 needs >= 5 and 3 more`.
fn needs(passed: &[(String, Option<String>)]) -> String {
    let mut parts: Vec<String> = passed
        .iter()
        .take(NAMED)
        .map(|(tag, api)| {
            format!(
                "{tag} needs `{}`",
                api.as_deref().unwrap_or("an unreadable api.version")
            )
        })
        .collect();
    if passed.len() > NAMED {
        parts.push(format!("and {} more", passed.len() - NAMED));
    }
    parts.join(", ")
}

fn list(tags: &[String]) -> String {
    let mut shown: Vec<&str> = tags.iter().take(NAMED).map(String::as_str).collect();
    let more = format!("and {} more", tags.len().saturating_sub(NAMED));
    if tags.len() > NAMED {
        shown.push(&more);
    }
    shown.join(", ")
}

/// Why an untagged reference could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    /// The registry failed.
    #[error("cannot list the versions of {name}: {source}")]
    Registry {
        /// The repository (or tag).
        name: String,
        /// Why.
        source: Box<RegistryError>,
    },
    /// The registry sent something unusable.
    #[error("cannot read {what}: {reason}")]
    Invalid {
        /// What.
        what: String,
        /// Why.
        reason: Unusable,
    },
    /// The state database (the cache) failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// There are versions, but none suits the API.
    #[error(
        "no version of {repo} works with extension API {api}: {needs}; name a version made for {api} ({repo}:TAG), or pass --ignore-api-version to install the highest ({highest}) anyway"
    )]
    NoCompatible {
        /// The repository.
        repo: String,
        /// The API.
        api: String,
        /// Each version and the api.version it needs.
        needs: String,
        /// The highest version.
        highest: String,
    },
    /// Only pre-release versions, not asked for.
    #[error(
        "{repo} has only pre-release versions ({tags}): pass --pre to take the highest one, or name a tag ({repo}:{first})"
    )]
    OnlyPreReleases {
        /// The repository.
        repo: String,
        /// The pre-release tags, highest first.
        tags: String,
        /// The highest.
        first: String,
    },
    /// No version tag and no `latest`.
    #[error(
        "{repo} has no version tag (such as 1.0.0) and no `latest`{listed}: name a tag ({repo}:TAG)"
    )]
    NoTags {
        /// The repository.
        repo: String,
        /// `: its tags are …`, or empty.
        listed: String,
    },
    /// The allow-list permits none of the versions; this reference (the
    /// highest) is what its refusal names.
    #[error("{0} is not allowed")]
    NotPermitted(Reference),
}

impl From<UpdateError> for ResolveError {
    fn from(e: UpdateError) -> Self {
        match e {
            UpdateError::Registry { name, source } => Self::Registry { name, source },
            UpdateError::Invalid { what, reason } => Self::Invalid { what, reason },
            UpdateError::State(e) => Self::State(e),
            other => Self::Invalid {
                what: "the versions".to_owned(),
                reason: Unusable::Check(Box::new(other)),
            },
        }
    }
}

/// True when `reference` names neither a tag nor a digest.
pub fn is_untagged(reference: &Reference) -> bool {
    reference.tag().is_none() && reference.digest().is_none()
}

/// `raw` as an image source, like [`ImageSource::parse`] but a registry
/// reference without tag or digest stays untagged (for [`resolve`]) instead
/// of becoming `:latest`.
pub fn parse_source(raw: &str) -> Result<ImageSource, ReferenceError> {
    match ImageSource::parse(raw)? {
        ImageSource::Registry(_) => Reference::parse_loose(raw).map(ImageSource::Registry),
        other => Ok(other),
    }
}

/// Resolves the untagged `repo` (its tag and digest, if any, are ignored).
pub async fn resolve(
    client: &RegistryClient,
    state: &State,
    repo: &Reference,
    options: &ResolveOptions,
) -> Result<Resolved, ResolveError> {
    resolve_permitted(client, state, repo, options, |_| true).await
}

/// [`resolve`] among the tags `permitted` accepts (the allow-list's).
pub(crate) async fn resolve_permitted(
    client: &RegistryClient,
    state: &State,
    repo: &Reference,
    options: &ResolveOptions,
    permitted: impl Fn(&Reference) -> bool,
) -> Result<Resolved, ResolveError> {
    let name = repo.familiar_name();
    let listed = client
        .list_tags(repo, options.check.max_tags)
        .await
        .map_err(|source| ResolveError::Registry {
            name: name.clone(),
            source: Box::new(source),
        })?;
    let tagged = |tag: &str| {
        repo.with_tag(tag).map_err(|e| ResolveError::Invalid {
            what: format!("tag {tag} of {name}"),
            reason: Unusable::Tag(e),
        })
    };
    let mut counts = CheckCounts {
        tags: listed.len(),
        ..Default::default()
    };
    let versions = match untagged_tags(listed.iter().map(String::as_str), options.check.pre) {
        UntaggedTags::Versions(v) => v,
        UntaggedTags::Latest => {
            return Ok(Resolved {
                reference: tagged("latest")?,
                tag: "latest".to_owned(),
                by: ChosenBy::Latest,
                passed: Vec::new(),
                counts,
            });
        }
        UntaggedTags::OnlyPreReleases(tags) => {
            return Err(ResolveError::OnlyPreReleases {
                repo: name,
                first: tags[0].clone(),
                tags: list(&tags),
            });
        }
        UntaggedTags::Nothing(tags) => {
            return Err(ResolveError::NoTags {
                repo: name,
                listed: if tags.is_empty() {
                    String::new()
                } else {
                    format!(": its tags are {}", list(&tags))
                },
            });
        }
    };
    counts.ignored = listed.len() - versions.len();
    let allowed: Vec<_> = versions
        .iter()
        .filter(|v| tagged(&v.tag).is_ok_and(|r| permitted(&r)))
        .cloned()
        .collect();
    if allowed.is_empty() {
        return Err(ResolveError::NotPermitted(tagged(&versions[0].tag)?));
    }
    let mut reader = RegistryTags {
        client,
        state,
        repo,
        platform: &options.check.platform,
        api: options.check.api.clone(),
        any_api: options.ignore_api_version,
        counts,
    };
    let walk = walk_down(&allowed, &mut reader).await?;
    let passed: Vec<(String, Option<String>)> = walk
        .passed
        .into_iter()
        .map(|(t, c)| (t.tag, c.api_version))
        .collect();
    match walk.chosen {
        Some((tag, _)) => Ok(Resolved {
            reference: tagged(&tag.tag)?,
            tag: tag.tag,
            by: ChosenBy::Version,
            passed,
            counts: reader.counts,
        }),
        None if passed.is_empty() => Err(ResolveError::NoTags {
            repo: name,
            listed: format!(
                ": none of its versions ({}) has an image for {}",
                list(&allowed.iter().map(|t| t.tag.clone()).collect::<Vec<_>>()),
                options.check.platform
            ),
        }),
        None => Err(ResolveError::NoCompatible {
            repo: name,
            api: options.check.api.to_string(),
            highest: passed[0].0.clone(),
            needs: needs(&passed),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(passed: &[(&str, &str)]) -> Resolved {
        Resolved {
            reference: Reference::parse("127.0.0.1:5000/acme/ext:1.1.0").unwrap(),
            tag: "1.1.0".into(),
            by: ChosenBy::Version,
            passed: passed
                .iter()
                .map(|(t, a)| ((*t).to_owned(), Some((*a).to_owned())))
                .collect(),
            counts: CheckCounts::default(),
        }
    }

    #[test]
    fn messages_say_what_was_chosen_and_why() {
        let o = ResolveOptions::default();
        assert_eq!(
            resolved(&[("1.2.0", ">= 9")]).message(&o),
            "127.0.0.1:5000/acme/ext: no tag given, chose 1.1.0 (the highest version whose api.version extension API 0.4.2 satisfies; 1.2.0 needs `>= 9`)"
        );
        assert_eq!(
            resolved(&[]).message(&o),
            "127.0.0.1:5000/acme/ext: no tag given, chose 1.1.0 (the highest version whose api.version extension API 0.4.2 satisfies)"
        );
        let mut latest = resolved(&[]);
        latest.by = ChosenBy::Latest;
        latest.tag = "latest".into();
        assert!(
            latest
                .message(&o)
                .contains("chose `latest` (the repository has no version tags)")
        );
        let ignore = ResolveOptions {
            ignore_api_version: true,
            check: CheckOptions {
                pre: true,
                ..Default::default()
            },
        };
        assert_eq!(
            resolved(&[]).message(&ignore),
            "127.0.0.1:5000/acme/ext: no tag given, chose 1.1.0 (the highest version, pre-releases included)"
        );
    }

    #[test]
    fn long_lists_are_cut() {
        let passed: Vec<(String, Option<String>)> = (0..7)
            .map(|i| (format!("1.{i}.0"), Some(">= 9".to_owned())))
            .collect();
        let text = needs(&passed);
        assert!(text.ends_with("1.4.0 needs `>= 9`, and 2 more"), "{text}");
        let tags: Vec<String> = (0..6).map(|i| format!("t{i}")).collect();
        assert_eq!(list(&tags), "t0, t1, t2, t3, t4, and 1 more");
    }

    #[test]
    fn refusals_name_tags_needs_and_what_to_do() {
        let e = ResolveError::NoCompatible {
            repo: "acme/ext".into(),
            api: "0.4.2".into(),
            needs: needs(&[("2.0.0".into(), Some(">= 9".into()))]),
            highest: "2.0.0".into(),
        };
        assert_eq!(
            e.to_string(),
            "no version of acme/ext works with extension API 0.4.2: 2.0.0 needs `>= 9`; name a version made for 0.4.2 (acme/ext:TAG), or pass --ignore-api-version to install the highest (2.0.0) anyway"
        );
    }

    #[test]
    fn sources_keep_no_tag() {
        let ImageSource::Registry(r) = parse_source("127.0.0.1:5000/acme/ext").unwrap() else {
            panic!("registry")
        };
        assert!(is_untagged(&r));
        let ImageSource::Registry(r) = parse_source("acme/ext:1.0.0").unwrap() else {
            panic!("registry")
        };
        assert_eq!(r.tag(), Some("1.0.0"));
        let pinned = format!("acme/ext@sha256:{}", "a".repeat(64));
        let ImageSource::Registry(r) = parse_source(&pinned).unwrap() else {
            panic!("registry")
        };
        assert!(!is_untagged(&r));
        assert!(matches!(
            parse_source("engine:acme/ext").unwrap(),
            ImageSource::Engine(_)
        ));
        assert!(parse_source("Bad Ref").is_err());
    }
}
