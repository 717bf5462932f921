//! Which origin a request is for: [`Site`], and for an extension's origin
//! everything about it ([`ExtensionSite`], [`ExtensionPaths`]).

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use dockhand_host::dev::DevSettings;
use dockhand_host::layout::Layout;
use dockhand_host::state::ExtensionRecord;

/// Which origin a request came to, put into the request's extensions by the
/// router before any route runs.
#[derive(Debug, Clone)]
pub enum Site {
    /// The dashboard; `origin` is `http://` + the request's `Host`.
    Dashboard {
        /// `http://localhost:PORT` (or `127.0.0.1`, `[::1]`, as requested).
        origin: String,
    },
    /// An extension's origin.
    Extension(Arc<ExtensionSite>),
}

/// An installed extension's origin.
#[derive(Debug, Clone)]
pub struct ExtensionSite {
    /// The extension.
    pub record: Arc<ExtensionRecord>,
    /// Its slug.
    pub slug: String,
    /// `http://<slug>.localhost:PORT`.
    pub origin: String,
    /// Its dev settings when it is in dev mode (`dockhand dev`).
    pub dev: Option<Arc<DevSettings>>,
    /// Where its files are.
    pub paths: ExtensionPaths,
    /// What its bridge routes are given.
    pub caller: crate::bridge::Caller,
}

/// Where an installed extension's files are.
#[derive(Debug, Clone)]
pub struct ExtensionPaths {
    /// dockhand's directories.
    pub layout: Layout,
    /// The installed version's directory (`record.dir`).
    pub version_dir: PathBuf,
    /// What was unpacked from the image: `<version_dir>/root`.
    pub root: PathBuf,
    /// The UI root, `<root>/<ui.dashboard-tab.root>`, when it has a UI.
    pub ui_root: Option<PathBuf>,
    /// The host binaries, `<version_dir>/host` (by file name).
    pub host: PathBuf,
    /// The compose file dockhand runs, `<version_dir>/vm`.
    pub vm: PathBuf,
    /// The backend's socket directory (bind-mounted at `/run/guest-services`).
    pub socket_dir: PathBuf,
    /// The backend's socket (`vm.exposes.socket`), when it exposes one.
    pub socket: Option<PathBuf>,
}

impl ExtensionPaths {
    /// The paths of `record` under `layout`.
    pub fn of(layout: &Layout, record: &ExtensionRecord) -> Self {
        let version_dir = record.dir.clone();
        let root = version_dir.join("root");
        let ui_root = ui_field(record, "root")
            .and_then(|r| relative_inside(&r))
            .map(|r| root.join(r));
        let socket_dir = layout.socket_dir(&record.id);
        let socket = record
            .backend
            .as_ref()
            .and_then(|b| b.socket.as_deref())
            .and_then(relative_inside)
            .map(|s| socket_dir.join(s));
        Self {
            layout: layout.clone(),
            host: version_dir.join("host"),
            vm: version_dir.join("vm"),
            root,
            ui_root,
            socket_dir,
            socket,
            version_dir,
        }
    }
}

/// `metadata.ui["dashboard-tab"][field]` as text.
pub fn ui_field(record: &ExtensionRecord, field: &str) -> Option<String> {
    record
        .metadata
        .get("ui")?
        .get("dashboard-tab")?
        .get(field)?
        .as_str()
        .map(str::to_owned)
}

/// `path` (leading `/` allowed) as a relative path made of normal
/// components only; `None` when it would climb out (`..`) or is empty.
pub fn relative_inside(path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in Path::new(path.trim_start_matches('/')).components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            _ => return None,
        }
    }
    (!out.as_os_str().is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_inside_refuses_climbing() {
        assert_eq!(relative_inside("/ui"), Some(PathBuf::from("ui")));
        assert_eq!(relative_inside("./a/./b"), Some(PathBuf::from("a/b")));
        assert_eq!(relative_inside("a/../b"), None);
        assert_eq!(relative_inside("/"), None);
        assert_eq!(relative_inside(""), None);
    }
}
