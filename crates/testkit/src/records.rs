//! An installed extension's record, as an install of `{id}:1.0.0` leaves
//! it, for tests that put one in the state instead of installing. A test
//! changes what it needs with struct update syntax.

use std::collections::BTreeMap;
use std::path::PathBuf;

use dockhand_host::state::ExtensionRecord;
use dockhand_spec::ExtensionId;

/// The record of `id` installed from `{id}:1.0.0` (version 1.0.0, digest
/// `sha256:abab…`, vendor Acme, enabled) in `dir`, with one dashboard tab
/// titled `title` (root `/ui`, page `index.html`), and no backend, compose
/// project, host binaries, labels or update.
pub fn record(id: &ExtensionId, title: &str, dir: PathBuf) -> ExtensionRecord {
    ExtensionRecord {
        id: id.clone(),
        image: format!("{id}:1.0.0"),
        source: format!("{id}:1.0.0"),
        digest: format!("sha256:{}", "ab".repeat(32)),
        version: Some("1.0.0".into()),
        title: title.into(),
        vendor: "Acme".into(),
        enabled: true,
        installed_at: 1_700_000_000,
        dir,
        compose_project: None,
        backend: None,
        host_binaries: vec![],
        ui_title: Some(title.into()),
        metadata: serde_json::json!({
            "ui": {"dashboard-tab": {"title": title, "root": "/ui", "src": "index.html"}}
        }),
        labels: BTreeMap::new(),
        update_available: None,
    }
}
