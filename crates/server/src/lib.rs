//! dockhand-server: the dashboard and the ddClient bridge.
//!
//! One axum server on loopback serves the dashboard shell (`web/`, embedded)
//! on `localhost:PORT` and each installed extension's UI on its own origin
//! `<slug>.localhost:PORT`, with `ddclient.js` injected into every HTML page
//! and the bridge under `/.dockhand/` answering for that extension only.
//! The wire contract is `docs/bridge.md`.
//!
//! Modules, from the bottom up (none imports one above it):
//!
//! - [`error`]: [`ApiError`], every handler's error, answered as
//!   `{"message"}` with its status; [`auth`]: tokens, sessions, tickets,
//!   cookies, the `Host` allow-list and the one `Origin` check; [`slug`]:
//!   the origin names; [`blocking`]: SQLite, file walks, uninstalls and
//!   installs off the server's thread; [`html`]: text escaped for a page;
//! - [`bridge`]: `/.dockhand/api/*` and its state (the engine handle, the
//!   registry of every process the server started, connection pools);
//! - [`state`]: [`AppState`] and the sites a request can be for;
//! - [`gate`]: the session and `Origin` layer, applied once per request
//!   for its group; [`extract`]: [`ExtensionCaller`] and
//!   [`DashboardSession`], what the layer verified;
//! - [`ui`]: an extension's files, `/.dockhand/enter` and `ddclient.js`;
//!   [`assets`]: the embedded `web/`; [`api`]: the dashboard's own routes;
//!   [`catalog`]: the catalog and install routes; [`resources`]: the
//!   dashboard's engine views (`/api/containers…`, `/api/images…`,
//!   `/api/volumes…`, `/api/fs`); [`dev`]: dev mode, the dev-server proxy
//!   and the bridge call log; [`updates`]: the periodic update check and
//!   the update routes;
//! - [`app`]: the [`router`], how a request finds its origin (read its docs
//!   before writing a route); [`serve`]: binding, running, shutting down.

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod blocking;
pub mod bridge;
pub mod catalog;
pub mod dev;
pub mod error;
pub mod extract;
pub mod gate;
pub mod html;
pub mod listing;
pub mod mime;
pub mod resources;
pub mod serve;
pub mod slug;
pub mod state;
pub mod ui;
pub mod updates;

#[cfg(test)]
mod test_support;

pub use app::router;
pub use error::ApiError;
pub use extract::{DashboardSession, ExtensionCaller};
pub use serve::{ServeOptions, Server};
pub use state::AppState;
