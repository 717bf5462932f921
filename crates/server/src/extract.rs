//! The extractors routes use to know who calls: [`DashboardSession`] on the
//! dashboard origin, [`ExtensionCaller`] on an extension's origin.
//!
//! Both reject as `docs/bridge.md` says: `421` when the request is on the
//! other kind of origin (or an unknown `Host`), `401` without a valid cookie
//! for this origin, `403` when a state-changing request (`POST`, `PUT`,
//! `PATCH`, `DELETE`) or a WebSocket upgrade has an `Origin` other than this
//! origin. The router already refused such requests before any route runs
//! (see [`crate::app`]); the extractors check again and hand over the data.
//!
//! ```text
//! async fn info(caller: ExtensionCaller, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
//!     let id = &caller.record.id;             // which extension calls
//!     let tool = caller.paths.host.join("tool");
//!     let tab = caller.session;               // group for ProcessRegistry::register
//!     todo!()
//! }
//! ```

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use dockhand_host::layout::Layout;
use dockhand_host::state::ExtensionRecord;

use crate::app::{AppState, ExtensionSite, Site, request_host, site_of};
use crate::auth::{self, ExtensionSession};
use crate::error::ApiError;

/// A request on the dashboard origin with a valid `dockhand_session`.
#[derive(Debug, Clone)]
pub struct DashboardSession {
    /// The dashboard origin as requested (`http://localhost:PORT`).
    pub origin: String,
}

/// A request on an extension's origin with that extension's `dockhand_ext`:
/// its site (record, slug, origin, paths, through `Deref`) and session.
#[derive(Debug, Clone)]
pub struct ExtensionCaller {
    /// The extension's origin, as built when the installed extensions were
    /// last read.
    pub site: Arc<ExtensionSite>,
    /// The number of the extension session (one per ticket redeemed, so
    /// roughly one per tab opened): group processes by it.
    pub session: u64,
}

impl std::ops::Deref for ExtensionCaller {
    type Target = ExtensionSite;

    fn deref(&self) -> &ExtensionSite {
        &self.site
    }
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

/// The dashboard session of `headers` (`401` without one).
pub(crate) fn dashboard_session(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    match auth::cookie(headers, auth::SESSION_COOKIE) {
        Some(s) if state.auth().is_session(s) => Ok(()),
        Some(_) => Err(ApiError::unauthorized(
            "this dashboard session is not valid (dockhand was restarted?): open the URL `dockhand serve` printed",
        )),
        None => Err(ApiError::unauthorized(
            "no dashboard session: open the URL `dockhand serve` printed, with its token",
        )),
    }
}

/// The page-key check of the dashboard API (see [`auth::DashboardLogin`]):
/// a request to `/api/…` carries the key of the session its cookie names,
/// in [`auth::PAGE_KEY_HEADER`] (or, for a WebSocket, the
/// [`auth::PAGE_KEY_PARAM`] query parameter); `403` otherwise. An
/// extension's icon is exempt: `<img>` cannot send headers, and it is only
/// ever an image in a sandbox.
pub(crate) fn dashboard_page_key(state: &AppState, parts: &Parts) -> Result<(), ApiError> {
    let path = parts.uri.path();
    if !path.starts_with("/api/") || is_icon_path(path) {
        return Ok(());
    }
    let session = auth::cookie(&parts.headers, auth::SESSION_COOKIE).unwrap_or_default();
    let key = match parts.headers.get(auth::PAGE_KEY_HEADER) {
        Some(v) => v.to_str().ok().map(str::to_owned),
        None if auth::is_websocket_upgrade(&parts.headers) => {
            crate::ui::query_param(parts.uri.query(), auth::PAGE_KEY_PARAM)
        }
        None => None,
    };
    match key {
        Some(key) if state.auth().is_page_key(session, &key) => Ok(()),
        _ => Err(ApiError::forbidden(
            "this request lacks the dashboard page's key: the session cookie alone is not enough \
             (another program on localhost may have it); use the dashboard page opened from the \
             URL `dockhand serve` printed",
        )),
    }
}

fn is_icon_path(path: &str) -> bool {
    path.strip_prefix("/api/extensions/")
        .and_then(|rest| rest.strip_suffix("/icon"))
        .is_some_and(|id| !id.is_empty() && !id.contains('/'))
}

/// The extension session of `headers` for `site` (`401` without one).
pub(crate) fn extension_session(
    state: &AppState,
    site: &ExtensionSite,
    headers: &HeaderMap,
) -> Result<ExtensionSession, ApiError> {
    auth::cookie(headers, auth::EXTENSION_COOKIE)
        .and_then(|s| state.auth().extension_session(s))
        .filter(|s| s.extension == site.record.id)
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "no session for {} on this origin: open it from the dashboard's tab",
                site.record.id
            ))
        })
}

/// The site the router found, or (when mounted elsewhere) the one `Host` names.
async fn site(parts: &Parts, state: &AppState) -> Result<Site, ApiError> {
    match parts.extensions.get::<Site>() {
        Some(site) => Ok(site.clone()),
        None => site_of(state, request_host(parts).as_deref()).await,
    }
}

fn check_origin_if_needed(parts: &Parts, origin: &str) -> Result<(), ApiError> {
    if auth::is_state_changing(&parts.method) || auth::is_websocket_upgrade(&parts.headers) {
        auth::check_origin(&parts.headers, origin)?;
    }
    Ok(())
}

impl FromRequestParts<AppState> for DashboardSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Site::Dashboard { origin } = site(parts, state).await? else {
            return Err(ApiError::misdirected(format!(
                "this is a dashboard route: call it on {}",
                state.dashboard_origin()
            )));
        };
        dashboard_session(state, &parts.headers)?;
        check_origin_if_needed(parts, &origin)?;
        Ok(Self { origin })
    }
}

impl FromRequestParts<AppState> for ExtensionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Site::Extension(site) = site(parts, state).await? else {
            return Err(ApiError::misdirected(
                "this is an extension route: call it on the extension's own origin",
            ));
        };
        let session = extension_session(state, &site, &parts.headers)?;
        check_origin_if_needed(parts, &site.origin)?;
        Ok(Self {
            site,
            session: session.number,
        })
    }
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
