//! Updates: checking an installed extension's registry for a newer
//! compatible version ([`crate::Manager::check_update`]), and installing a newer
//! (or, to roll back, an older named) version through the install
//! transaction ([`crate::Manager::update`]).
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

pub(crate) mod check;
pub mod tags;
pub mod untagged;
mod unusable;

use dockhand_oci::registry::RegistryError;
use dockhand_oci::source::ImageSource;
use dockhand_oci::{Platform, Reference};
use dockhand_spec::ExtensionId;

pub use check::{CheckCounts, MAX_CONFIG_BYTES, api_satisfied, api_satisfied_by};
pub(crate) use check::{ReadTag, walk_down};
pub use unusable::Unusable;

use crate::error::InstallError;
use crate::state::{ExtensionRecord, StateError};

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
        reason: Unusable,
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
pub(crate) fn installed_version(r: &ExtensionRecord) -> String {
    r.version.clone().unwrap_or_else(|| r.digest.clone())
}

/// The registry reference an extension was installed from, when it was.
pub(crate) fn registry_of(r: &ExtensionRecord) -> Option<Reference> {
    match ImageSource::parse(&r.source) {
        Ok(ImageSource::Registry(reference)) => Some(reference),
        _ => None,
    }
}
