//! An installed extension as `dockhand ls --format json` shows it (`CLI.md`),
//! shared by the CLI and the dashboard's `GET /api/extensions`.

use dockhand_engine::SocketState;
use dockhand_host::state::ExtensionRecord;
use serde::Serialize;

/// One entry of `dockhand ls --format json`.
#[derive(Debug, Clone, Serialize)]
pub struct LsJson {
    /// The extension id.
    pub id: String,
    /// The reference it was installed from.
    pub image: String,
    /// The tag installed (empty when none).
    pub version: String,
    /// The manifest digest.
    pub digest: String,
    /// Its title.
    pub title: String,
    /// Its vendor.
    pub vendor: String,
    /// Backend running and tab shown.
    pub enabled: bool,
    /// The UI tab, when it has one.
    pub ui: Option<UiJson>,
    /// The backend, when it has one.
    pub vm: Option<VmJson>,
    /// Its host binaries.
    pub host_binaries: Vec<String>,
    /// A newer version, when the last check found one.
    pub update_available: Option<String>,
}

/// The UI tab of an [`LsJson`].
#[derive(Debug, Clone, Serialize)]
pub struct UiJson {
    /// The tab title.
    pub title: String,
}

/// The backend of an [`LsJson`].
#[derive(Debug, Clone, Serialize)]
pub struct VmJson {
    /// `running`, `degraded`, `stopped` or `disabled`.
    pub state: String,
    /// Running containers.
    pub containers: usize,
    /// The socket the UI talks to (`vm.service`), when it exposes one.
    pub socket: Option<SocketJson>,
}

/// The backend socket of a [`VmJson`].
#[derive(Debug, Clone, Serialize)]
pub struct SocketJson {
    /// Its file name (in `/run/guest-services`).
    pub name: String,
    /// `ready`, `missing` (not created yet), `not-listening` or `denied`
    /// (this user may not connect); null when it was not looked at.
    pub state: Option<&'static str>,
}

/// One record as `ls --format json` shows it, given its backend's running
/// and total container counts (its socket not looked at).
pub fn ls_json(r: &ExtensionRecord, running: usize, containers: usize) -> LsJson {
    ls_json_with_socket(r, running, containers, None)
}

/// [`ls_json`] with what connecting to the backend's socket said.
pub fn ls_json_with_socket(
    r: &ExtensionRecord,
    running: usize,
    containers: usize,
    socket: Option<SocketState>,
) -> LsJson {
    LsJson {
        id: r.id.to_string(),
        image: r.image.clone(),
        version: r.version.clone().unwrap_or_default(),
        digest: r.digest.clone(),
        title: r.title.clone(),
        vendor: r.vendor.clone(),
        enabled: r.enabled,
        ui: r.ui_title.clone().map(|title| UiJson { title }),
        vm: r.backend.as_ref().map(|b| VmJson {
            state: vm_state(r.enabled, running, containers),
            containers: running,
            socket: b.socket.as_ref().map(|name| SocketJson {
                name: name.clone(),
                state: socket.map(SocketState::as_str),
            }),
        }),
        host_binaries: r.host_binaries.clone(),
        update_available: r.update_available.clone(),
    }
}

fn vm_state(enabled: bool, running: usize, containers: usize) -> String {
    if running > 0 && running == containers {
        "running".into()
    } else if running > 0 {
        "degraded".into()
    } else if enabled {
        "stopped".into()
    } else {
        "disabled".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_states() {
        assert_eq!(vm_state(true, 2, 2), "running");
        assert_eq!(vm_state(true, 1, 2), "degraded");
        assert_eq!(vm_state(true, 0, 2), "stopped");
        assert_eq!(vm_state(false, 0, 2), "disabled");
    }
}
