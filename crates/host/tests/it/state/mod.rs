//! The state layer: `dockhand.db`, the journal and the locks, through the
//! public API only (and, where a test needs a state no API makes, SQLite).

#![allow(clippy::unwrap_used)] // test helpers

mod child;
mod db;
mod extensions;
mod journal;
mod locks;

use std::collections::BTreeMap;
use std::path::Path;

use dockhand_host::state::{BackendRecord, ExtensionRecord, State};
use dockhand_spec::ExtensionId;
use tempfile::TempDir;

pub(crate) fn id(s: &str) -> ExtensionId {
    ExtensionId::parse(s).unwrap()
}

/// A state in a fresh temporary home; keep the directory as long as the state.
pub(crate) fn temp_state() -> (TempDir, State) {
    let tmp = tempfile::tempdir().unwrap();
    let state = State::open(tmp.path()).unwrap();
    (tmp, state)
}

/// [`temp_state`] with the [`record`] of `name` installed.
pub(crate) fn with_record(name: &str) -> (TempDir, State, ExtensionRecord) {
    let (tmp, state) = temp_state();
    let rec = record(tmp.path(), name);
    state.put(&rec).unwrap();
    (tmp, state, rec)
}

/// A record with every field set.
pub(crate) fn record(home: &Path, name: &str) -> ExtensionRecord {
    let id = id(name);
    ExtensionRecord {
        image: format!("{id}:0.3.1"),
        source: format!("{id}:0.3.1"),
        digest: format!("sha256:{}", "0f".repeat(32)),
        version: Some("0.3.1".into()),
        title: format!("Title of {id}"),
        vendor: "Acme, Inc.".into(),
        enabled: true,
        installed_at: 1_714_000_000,
        dir: home
            .join("extensions")
            .join(id.fs_name())
            .join(format!("sha256_{}", "0f".repeat(32))),
        compose_project: Some(format!("dockhand_{}", id.fs_name())),
        backend: Some(BackendRecord {
            socket: Some("ext.sock".into()),
            services: 1,
        }),
        host_binaries: vec!["kubectl-ext".into()],
        ui_title: Some("Ext".into()),
        metadata: serde_json::json!({
            "icon": "docker.svg",
            "vm": {"image": "${DESKTOP_PLUGIN_IMAGE}"},
            "ui": {"dashboard-tab": {"title": "Ext", "root": "/ui", "src": "index.html"}},
            "host": {"binaries": [{"linux": [{"path": "/linux/kubectl-ext"}]}]}
        }),
        labels: BTreeMap::from([
            ("org.opencontainers.image.title".into(), "Ext".into()),
            (
                "com.docker.desktop.extension.api.version".into(),
                ">= 0.3.0".into(),
            ),
        ]),
        update_available: None,
        id,
    }
}
