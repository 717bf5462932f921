//! What the state's tests set up the same way: an id, a state in a
//! temporary home, a full sample record. The unit tests and the integration
//! tests (`tests/it/state`, through `#[path]`) share this one file, so it
//! uses only the crate's public API.

use std::collections::BTreeMap;
use std::path::Path;

use dockhand_spec::ExtensionId;
use tempfile::TempDir;

use super::{BackendRecord, ExtensionRecord, OpId, OpKind, State};

/// `s` as an extension id; panics when it is not one.
pub(crate) fn id(s: &str) -> ExtensionId {
    ExtensionId::parse(s).unwrap()
}

/// A state in a fresh temporary home; keep the directory as long as the state.
pub(crate) fn temp_state() -> (TempDir, State) {
    let tmp = tempfile::tempdir().unwrap();
    let state = State::open(tmp.path()).unwrap();
    (tmp, state)
}

/// [`temp_state`] with the [`sample`] record of `id` installed.
pub(crate) fn with_sample(id: &str) -> (TempDir, State, ExtensionRecord) {
    let (tmp, state) = temp_state();
    let record = sample(tmp.path(), id);
    state.put(&record).unwrap();
    (tmp, state, record)
}

/// Begins an install of `name` with empty data in `state`; the operation.
pub(crate) fn begin_install(state: &State, name: &str) -> OpId {
    state
        .begin(&id(name), OpKind::Install, serde_json::json!({}))
        .unwrap()
}

/// A full record with every optional field set.
pub(crate) fn sample(home: &Path, id: &str) -> ExtensionRecord {
    let id = ExtensionId::parse(id).unwrap();
    ExtensionRecord {
        image: format!("{id}:1.2.0"),
        source: format!("{id}:1.2.0"),
        digest: format!("sha256:{}", "ab".repeat(32)),
        version: Some("1.2.0".into()),
        title: "Sample".into(),
        vendor: "Acme".into(),
        enabled: true,
        installed_at: 1_700_000_000,
        dir: home.join("extensions").join(id.fs_name()).join("sha256_ab"),
        compose_project: Some(format!("dockhand-{}", id.fs_name())),
        backend: Some(BackendRecord {
            socket: Some("backend.sock".into()),
            services: 2,
        }),
        host_binaries: vec!["tool".into(), "tool-helper".into()],
        ui_title: Some("Sample".into()),
        metadata: serde_json::json!({"icon": "icon.svg", "ui": {"dashboard-tab": {"title": "Sample"}}}),
        labels: BTreeMap::from([(
            "org.opencontainers.image.title".to_owned(),
            "Sample".to_owned(),
        )]),
        update_available: Some("1.3.0".into()),
        id,
    }
}
