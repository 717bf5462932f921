//! dockhand-server: the dashboard and the ddClient bridge.
//!
//! One axum server on loopback serves the dashboard shell (`web/`, embedded)
//! on `localhost:PORT` and each installed extension's UI on its own origin
//! `<slug>.localhost:PORT`, with `ddclient.js` injected into every HTML page
//! and the bridge under `/.dockhand/` answering for that extension only.
//! The wire contract is `docs/bridge.md`.
//!
//! - [`app`]: [`AppState`], the [`router`], how a
//!   request finds its origin and what it must carry (read its docs before
//!   writing a route);
//! - [`extract`]: the extractors routes use, [`ExtensionCaller`]
//!   and [`DashboardSession`];
//! - [`auth`]: tokens, sessions, tickets, cookies, the `Host` allow-list and
//!   the `Origin` check; [`slug`]: the origin names;
//! - [`ui`]: an extension's files, `/.dockhand/enter` and `ddclient.js`;
//!   [`assets`]: the embedded `web/`; [`api`]: the dashboard's own routes;
//!   [`catalog`]: the catalog and install routes;
//! - [`bridge`]: `/.dockhand/api/*`; [`resources`]: the dashboard's engine
//!   views (`/api/containers…`, `/api/images…`, `/api/volumes…`, `/api/fs`);
//! - [`dev`]: dev mode, the dev-server proxy and the bridge call log;
//! - [`updates`]: the periodic update check and the update routes;
//! - [`process`]: the processes the server started; [`serve`]: binding,
//!   running, shutting down; [`error`]: errors as `{"message"}` responses.

pub mod api;
pub mod app;
pub mod assets;
pub mod auth;
pub mod bridge;
pub mod catalog;
pub mod dev;
pub mod error;
pub mod extract;
pub mod listing;
pub mod process;
pub mod resources;
pub mod serve;
pub mod slug;
pub mod ui;
pub mod updates;

pub use app::{AppState, DashboardSession, ExtensionCaller, router};
pub use error::ApiError;
pub use serve::{ServeOptions, Server};
