//! What an uninstall journals and reports. The operation, and the repair of
//! operations a crash interrupted, are the manager's (`manager/uninstall.rs`).

use serde::{Deserialize, Serialize};

/// What the journal keeps about an uninstall, so a repairer can finish it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct UninstallData {
    /// The compose project.
    pub project: String,
    /// Remove volumes too.
    pub volumes: bool,
    /// The image name in the store.
    pub image: String,
}

/// What an uninstall found and removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// The extension was installed.
    pub was_installed: bool,
    /// Leftovers (containers, files) of an extension not installed were cleaned.
    pub leftovers: bool,
}
