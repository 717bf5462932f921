//! dockhand-server: the dashboard and the ddClient bridge.
//!
//! One axum server on loopback serves the dashboard shell (`web/`, embedded)
//! on `localhost:PORT` and each installed extension's UI on its own origin
//! `<slug>.localhost:PORT`, with `ddclient.js` injected into every HTML page
//! and the bridge under `/.dockhand/` answering for that extension only.
//! The wire contract is `docs/bridge.md`.

pub mod bridge;
pub mod resources;
