//! Updates: checking an installed extension's registry for a newer
//! compatible version ([`Manager::check_update`]), and installing a newer
//! (or, to roll back, an older named) version through the install
//! transaction ([`Manager::update`]).
//!
//! A check lists the repository's tags (following `Link` pages, bounded),
//! keeps semver tags ([`tags`]), and walks down from the highest above the
//! installed version reading each candidate's
//! `com.docker.desktop.extension.api.version` from its manifest and config
//! only — never a layer — until one that dockhand's API satisfies: that is
//! `latest`; a higher one that needs a newer API is `blocked_by_api`. What a
//! manifest digest said is cached in `dockhand.db`, so a repeated check
//! costs the tag list and one `HEAD` per candidate.
//!
//! An extension installed by digest, or from a tag that is not a version
//! (`latest`), has no version to compare: every version tag is a candidate,
//! `latest` is the highest compatible one, and an update is available when
//! its platform manifest differs from the installed digest.
//!
//! Extensions installed from `engine:`, `oci:` or `archive:` have no
//! registry: a check skips them with that reason.

mod check;
pub mod tags;
pub mod untagged;

use dockhand_oci::registry::{RegistryClient, RegistryError};
use dockhand_oci::source::ImageSource;
use dockhand_oci::{Platform, Reference};
use dockhand_spec::ExtensionId;
use dockhand_spec::{ComposeFacts, Metadata};
use futures_util::StreamExt as _;

pub use check::{CheckCounts, MAX_CONFIG_BYTES, api_satisfied, api_satisfied_by};
pub(crate) use check::{ReadTag, walk_down};

use crate::consent::Summary;
use crate::error::InstallError;
use crate::install::{InstallRequest, Installed};
use crate::state::{CachedCheck, ExtensionRecord, StateError};
use crate::{Hooks, Manager};
use tags::VersionTag;

/// The most tags one check reads (across all pages).
pub const MAX_TAGS: usize = 100_000;

/// How a check is made.
#[derive(Debug, Clone)]
pub struct CheckOptions {
    /// Consider pre-release tags too.
    pub pre: bool,
    /// The platform whose manifest is read in an index.
    pub platform: Platform,
    /// The most tags read.
    pub max_tags: usize,
    /// The extension API a candidate's api.version must admit (default:
    /// the one dockhand implements).
    pub api: semver::Version,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            pre: false,
            platform: Platform::host(),
            max_tags: MAX_TAGS,
            api: dockhand_spec::implemented_api_version(),
        }
    }
}

/// The answer of one check (`update --check --format json`, CLI.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateCheck {
    /// The extension.
    pub id: ExtensionId,
    /// The installed version (tag, or short digest).
    pub installed: String,
    /// The highest compatible version tag (the installed one when nothing
    /// above it is compatible), or none.
    pub latest: Option<String>,
    /// Whether `latest` is newer than what is installed.
    pub update_available: bool,
    /// The highest tag above `latest` that needs a newer extension API.
    pub blocked_by_api: Option<String>,
    /// What the check read.
    pub counts: CheckCounts,
}

/// How one extension's check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Checked against its registry.
    Checked(UpdateCheck),
    /// Not checked, and why (no registry to ask).
    Skipped {
        /// The extension.
        id: ExtensionId,
        /// The installed version.
        installed: String,
        /// Why.
        reason: String,
    },
}

/// One extension's check as `update --check --format json` and the
/// dashboard's `POST /api/updates/check` report it (CLI.md).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckReport {
    /// The extension.
    pub id: String,
    /// The installed version.
    pub installed: String,
    /// The highest compatible version, when the check found one.
    pub latest: Option<String>,
    /// Whether `latest` is newer than what is installed.
    pub update_available: bool,
    /// The highest version that needs a newer extension API.
    pub blocked_by_api: Option<String>,
    /// Why the extension was not checked (no registry), when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    /// Why the check failed, when it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl CheckReport {
    /// The report of a check that ran or was skipped.
    pub fn of(checked: Checked) -> Self {
        match checked {
            Checked::Checked(c) => Self {
                id: c.id.to_string(),
                installed: c.installed,
                latest: c.latest,
                update_available: c.update_available,
                blocked_by_api: c.blocked_by_api,
                skipped: None,
                error: None,
            },
            Checked::Skipped {
                id,
                installed,
                reason,
            } => Self {
                id: id.to_string(),
                installed,
                latest: None,
                update_available: false,
                blocked_by_api: None,
                skipped: Some(reason),
                error: None,
            },
        }
    }

    /// The report of a check that failed, saying `error`.
    pub fn failed(id: &ExtensionId, installed: String, error: String) -> Self {
        Self {
            id: id.to_string(),
            installed,
            latest: None,
            update_available: false,
            blocked_by_api: None,
            skipped: None,
            error: Some(error),
        }
    }
}

/// Why a check or an update failed.
#[derive(Debug, thiserror::Error)]
pub enum UpdateError {
    /// The registry failed.
    #[error("cannot check {name} for updates: {source}")]
    Registry {
        /// The repository (or tag).
        name: String,
        /// Why.
        source: Box<RegistryError>,
    },
    /// The registry sent something unusable.
    #[error("cannot check {what} for updates: {reason}")]
    Invalid {
        /// What.
        what: String,
        /// Why.
        reason: String,
    },
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// Installing the new version failed (the old one is still installed).
    #[error(transparent)]
    Install(Box<InstallError>),
    /// The extension was not installed from a registry.
    #[error(
        "{id} was installed from {from}, which has no registry to update from: install the new version with dockhand install"
    )]
    NoRegistry {
        /// The extension.
        id: ExtensionId,
        /// Its source.
        from: String,
    },
    /// A tag that cannot be a tag.
    #[error("`{tag}` is not a valid tag for {id}: give a version tag such as 1.2.0")]
    BadTag {
        /// The extension.
        id: ExtensionId,
        /// The tag.
        tag: String,
    },
}

impl From<InstallError> for UpdateError {
    fn from(e: InstallError) -> Self {
        Self::Install(Box::new(e))
    }
}

/// What to update.
#[derive(Debug, Clone)]
pub struct UpdateRequest {
    /// The extension.
    pub id: ExtensionId,
    /// The tag to install; `None`: the latest compatible version.
    pub tag: Option<String>,
    /// Check options (when `tag` is `None`) and the platform to install.
    pub check: CheckOptions,
    /// Do not ask, even when the new version wants more.
    pub yes: bool,
    /// Reinstall even when the tag names the installed image.
    pub force: bool,
    /// The image `tag` must be (its top manifest digest, as a preview
    /// showed it): another image is refused.
    pub pin: Option<dockhand_oci::Digest>,
}

/// How an update ended.
#[derive(Debug, Clone)]
pub enum Updated {
    /// The new version is installed; `from` is the version before.
    Updated {
        /// The version before.
        from: String,
        /// The new record.
        record: Box<ExtensionRecord>,
    },
    /// Nothing newer and compatible (the check says why).
    UpToDate(Box<UpdateCheck>),
    /// The tag names the installed image.
    Unchanged(Box<ExtensionRecord>),
}

/// The installed version as shown (`1.0.0`, or the short digest).
fn installed_version(r: &ExtensionRecord) -> String {
    r.version.clone().unwrap_or_else(|| r.digest.clone())
}

/// The registry reference an extension was installed from, when it was.
fn registry_of(r: &ExtensionRecord) -> Option<Reference> {
    match ImageSource::parse(&r.source) {
        Ok(ImageSource::Registry(reference)) => Some(reference),
        _ => None,
    }
}

impl Manager {
    /// Checks one installed extension for updates and caches the answer
    /// (setting the record's `update_available`).
    pub async fn check_update(
        &self,
        id: &ExtensionId,
        client: &RegistryClient,
        options: &CheckOptions,
    ) -> Result<Checked, UpdateError> {
        let record = self.get(id)?;
        let installed = installed_version(&record);
        let Some(repo) = registry_of(&record) else {
            let kind = record.source.split(':').next().unwrap_or_default();
            return Ok(Checked::Skipped {
                id: id.clone(),
                installed,
                reason: format!(
                    "installed from {kind}: (not a registry): there is nothing to check; install a registry reference to get updates"
                ),
            });
        };
        let version = VersionTag::parse(&installed).map(|t| t.version);
        let by_version = version.is_some();
        let (outcome, counts) = check::check_repository(
            client,
            &self.state,
            &repo,
            &check::Installed { version },
            options,
        )
        .await?;
        let (latest, update_available) = match outcome.latest {
            Some((tag, manifest)) => {
                let newer = by_version || manifest != record.digest;
                (Some(tag), newer)
            }
            None if by_version => (Some(installed.clone()), false),
            None => (None, false),
        };
        let check = UpdateCheck {
            id: id.clone(),
            installed,
            latest,
            update_available,
            blocked_by_api: outcome.blocked_by_api,
            counts,
        };
        self.state.put_check(&CachedCheck {
            id: id.clone(),
            checked_at: crate::state::check_time(),
            installed: check.installed.clone(),
            latest: check.latest.clone(),
            update_available: check.update_available,
            blocked_by_api: check.blocked_by_api.clone(),
        })?;
        Ok(Checked::Checked(check))
    }

    /// Checks `ids` (every installed extension when empty), at most
    /// `concurrency` at once; results in the order of `ids` (or of `ls`).
    pub async fn check_updates(
        &self,
        ids: &[ExtensionId],
        client: &RegistryClient,
        options: &CheckOptions,
        concurrency: usize,
    ) -> Result<Vec<(ExtensionId, Result<Checked, UpdateError>)>, UpdateError> {
        let ids: Vec<ExtensionId> = if ids.is_empty() {
            self.state.list()?.into_iter().map(|r| r.id).collect()
        } else {
            ids.to_vec()
        };
        let results = futures_util::stream::iter(ids.into_iter().map(|id| async move {
            let result = self.check_update(&id, client, options).await;
            (id, result)
        }))
        .buffered(concurrency.max(1))
        .collect()
        .await;
        Ok(results)
    }

    /// Installs another version of an installed extension: the latest
    /// compatible one, or the tag asked for (older ones too: a rollback).
    /// The install transaction puts it beside the old version, switches and
    /// then removes the old one; the backend's compose project (and so its
    /// named volumes) stays; any failure brings the old version back up.
    /// Consent is asked again only when the new version wants more.
    pub async fn update(
        &self,
        req: &UpdateRequest,
        client: &RegistryClient,
        hooks: &dyn Hooks,
    ) -> Result<Updated, UpdateError> {
        let record = self.get(&req.id)?;
        let from = installed_version(&record);
        let repo = registry_of(&record).ok_or_else(|| UpdateError::NoRegistry {
            id: req.id.clone(),
            from: record.source.clone(),
        })?;
        let tag = match &req.tag {
            Some(tag) => tag.clone(),
            None => {
                hooks.progress(&format!("checking {} for updates", req.id));
                match self.check_update(&req.id, client, &req.check).await? {
                    Checked::Checked(c) if c.update_available => match &c.latest {
                        Some(latest) => latest.clone(),
                        None => return Ok(Updated::UpToDate(Box::new(c))),
                    },
                    Checked::Checked(c) => return Ok(Updated::UpToDate(Box::new(c))),
                    Checked::Skipped { .. } => {
                        return Err(UpdateError::NoRegistry {
                            id: req.id.clone(),
                            from: record.source.clone(),
                        });
                    }
                }
            }
        };
        let reference = repo.with_tag(&tag).map_err(|_| UpdateError::BadTag {
            id: req.id.clone(),
            tag: tag.clone(),
        })?;
        // A pinned update installs that image or fails (the registry's
        // digest check), whatever the tag names by now.
        let reference = match &req.pin {
            Some(digest) => reference.with_digest(digest.clone()),
            None => reference,
        };
        let before = self.summary_of_installed(&record);
        let install = InstallRequest {
            source: ImageSource::Registry(reference),
            platform: req.check.platform.clone(),
            yes: req.yes,
            force: req.force,
            ignore_api_version: false,
            pre: false,
        };
        hooks.progress(&format!("updating {} from {from} to {tag}", req.id));
        let installed = self
            .install_with(&install, client, hooks, before.as_ref())
            .await?;
        match installed {
            Installed::New(record) => {
                self.after_update(&record)?;
                Ok(Updated::Updated { from, record })
            }
            Installed::Unchanged(record) => Ok(Updated::Unchanged(record)),
        }
    }

    /// Keeps the cached check true after an update: an update stays
    /// available when the last check's `latest` is above what is now
    /// installed (after a rollback).
    fn after_update(&self, record: &ExtensionRecord) -> Result<(), UpdateError> {
        let Some(mut cached) = self.state.get_check(&record.id)? else {
            return Ok(());
        };
        let now = installed_version(record);
        let above = |latest: &str| match (VersionTag::parse(latest), VersionTag::parse(&now)) {
            (Some(l), Some(n)) => l.version > n.version,
            _ => false,
        };
        cached.update_available = cached.latest.as_deref().is_some_and(above);
        cached.installed = now;
        self.state.put_check(&cached)?;
        Ok(())
    }

    /// The consent summary of the installed version: the one kept beside it
    /// at install; for a version installed before summaries were kept, its
    /// metadata and the local reading of its compose file, interpolated with
    /// the environment compose gets. `None` when neither can be read (then
    /// an update asks).
    pub fn summary_of_installed(&self, r: &ExtensionRecord) -> Option<Summary> {
        let dir = self.layout.home.join(&r.dir);
        if let Some(kept) = crate::compose_model::read_summary(&dir) {
            return Some(kept);
        }
        let metadata: Metadata = serde_json::from_value(r.metadata.clone()).ok()?;
        let facts = match metadata.vm.as_ref() {
            None => None,
            Some(vm) => match (&vm.image, &vm.composefile) {
                (image, Some(file)) => {
                    let path = dir.join("root").join(file.trim_start_matches('/'));
                    match fs_err::read_to_string(path) {
                        Ok(text) => Some(self.local_facts(r, &text)?),
                        Err(_) if image.is_some() => None,
                        Err(_) => return None,
                    }
                }
                (Some(image), None) => Some(
                    ComposeFacts::parse(
                        &serde_json::to_string(&dockhand_engine::vm_image_compose(
                            r.id.as_str(),
                            image,
                        ))
                        .ok()?,
                    )
                    .ok()?,
                ),
                (None, None) => None,
            },
        };
        Some(Summary::of(&metadata, facts.as_ref()))
    }

    /// The local reading of an installed compose file with compose's
    /// environment.
    fn local_facts(&self, r: &ExtensionRecord, text: &str) -> Option<ComposeFacts> {
        let image = crate::install::plugin_image_of(r);
        let env = self.compose_env.variables(
            &self.engine_host,
            &[dockhand_engine::plugin_image_env(&image)],
        );
        let context = dockhand_spec::ModelContext {
            project: r
                .compose_project
                .clone()
                .unwrap_or_else(|| crate::backend::project_of(&self.layout.home_id(), &r.id)),
            plugin_image: image,
            project_dir: String::new(),
            home: self.compose_env.home.clone().unwrap_or_default(),
        };
        ComposeFacts::local(text, &env, &context).ok()
    }
}
