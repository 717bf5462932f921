//! The session and `Origin` layer: what a request must carry, checked once,
//! by the router, before any route of its group (the dashboard's, or an
//! extension origin's) runs (`docs/bridge.md`, "Sessions"):
//!
//! - a valid credential: the `dockhand_session` cookie and the page key on
//!   the dashboard (all but the login `GET /?token=…`), the `dockhand_ext`
//!   cookie *of that extension* on an extension origin (all but
//!   `/.dockhand/enter`) — else `401`;
//! - on an extension origin, a browser's `Sec-Fetch-Site: same-origin` for
//!   the bridge and `ddclient.js` — else `403`;
//! - for `POST`, `PUT`, `PATCH`, `DELETE` and WebSocket upgrades, an
//!   `Origin` header equal to the origin of the request
//!   ([`auth::check_origin`]) — else `403`.
//!
//! What it verified goes into the request's extensions, where the
//! extractors of [`crate::extract`] ([`DashboardSession`],
//! [`ExtensionCaller`]) find it: routes never check again.

use std::sync::Arc;

use axum::http::request::Parts;
use axum::http::{HeaderMap, Method};

use crate::auth::{self, ExtensionSession};
use crate::error::ApiError;
use crate::extract::{DashboardSession, ExtensionCaller};
use crate::state::{AppState, ExtensionSite, Site};

/// Checks the request of `parts` for `site` as the module docs say and puts
/// what it verified into `parts.extensions`: a [`DashboardSession`] or an
/// [`ExtensionCaller`] (none on the login and `/.dockhand/enter`, which
/// create sessions).
pub(crate) fn check(state: &AppState, site: &Site, parts: &mut Parts) -> Result<(), ApiError> {
    match site {
        Site::Dashboard { origin } => {
            let login = parts.method == Method::GET
                && parts.uri.path() == "/"
                && crate::ui::query_param(parts.uri.query(), "token").is_some();
            if login {
                return Ok(());
            }
            dashboard_session(state, &parts.headers)?;
            dashboard_page_key(state, parts)?;
            auth::check_origin(&parts.method, &parts.headers, origin)?;
            parts.extensions.insert(DashboardSession {
                origin: origin.clone(),
            });
        }
        Site::Extension(site) => {
            // Disabled (here or by `dockhand disable` in another process,
            // seen at the next read of the records): its origin answers
            // nothing, an open tab included.
            if !site.record.enabled {
                return Err(ApiError::forbidden(format!(
                    "{} is disabled: enable it with `dockhand enable {}`",
                    site.record.id, site.record.id
                )));
            }
            let path = parts.uri.path();
            if path == crate::ui::ENTER_PATH {
                return Ok(());
            }
            let session = extension_session(state, site, &parts.headers)?;
            if path.starts_with("/.dockhand/api/") || path == crate::ui::DDCLIENT_PATH {
                auth::check_same_origin_fetch(&parts.headers)?;
            }
            auth::check_origin(&parts.method, &parts.headers, &site.origin)?;
            parts.extensions.insert(ExtensionCaller {
                site: Arc::clone(site),
                session: session.number,
            });
        }
    }
    Ok(())
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
