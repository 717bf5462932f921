//! What an install is asked and what it journals: the request, its
//! outcome, the undo record. The transaction itself is the manager's
//! (`manager/install.rs`, `manager/prepare.rs`, `manager/commit.rs`):
//! fetch → check → unpack to staging → validate → consent → \[journal\]
//! unpacked → backend → host binaries → switch → commit.

use std::path::PathBuf;

use dockhand_oci::source::ImageSource;
use dockhand_oci::{Platform, Reference};
use serde::{Deserialize, Serialize};

use crate::state::ExtensionRecord;

/// What to install.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    /// Where the image is.
    pub source: ImageSource,
    /// The platform to install.
    pub platform: Platform,
    /// Do not ask.
    pub yes: bool,
    /// Reinstall the same digest too.
    pub force: bool,
    /// Install even when api.version excludes 0.4.2 (an untagged reference
    /// then takes the highest version).
    pub ignore_api_version: bool,
    /// An untagged reference may resolve to a pre-release (`--pre`).
    pub pre: bool,
}

/// How an install ended.
#[derive(Debug, Clone)]
pub enum Installed {
    /// Installed (or replaced the previous version).
    New(Box<ExtensionRecord>),
    /// This exact image was installed already; nothing was done.
    Unchanged(Box<ExtensionRecord>),
}

/// What the journal keeps about an install, so that a repairer can undo it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallData {
    /// The new version's directory.
    pub version_dir: PathBuf,
    /// Where an identical version dir was moved while reinstalling it.
    pub aside: Option<PathBuf>,
    /// The version installed before, when there was one.
    pub previous: Option<PreviousVersion>,
    /// The compose project.
    pub project: String,
}

/// The version an install or update replaces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviousVersion {
    /// Its directory.
    pub dir: PathBuf,
    /// Whether its backend was running.
    pub enabled: bool,
    /// Whether it has a backend.
    pub has_backend: bool,
    /// The image `${DESKTOP_PLUGIN_IMAGE}` named.
    pub plugin_image: String,
    /// Its socket, when exposed.
    pub socket: Option<String>,
}

/// The image a record's backend runs as `${DESKTOP_PLUGIN_IMAGE}`.
pub(crate) fn plugin_image_of(r: &ExtensionRecord) -> String {
    match r.source.strip_prefix("engine:") {
        Some(name) => name.to_owned(),
        None => match Reference::parse(&r.image) {
            Ok(reference) if reference.digest().is_none() => reference.familiar(),
            _ => format!("{}:{}", r.id, r.version.clone().unwrap_or_default()),
        },
    }
}
