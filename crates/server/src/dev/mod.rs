//! Dev mode (`dockhand dev`, `docs/dev-mode.md`) on an extension's origin.
//!
//! The router sends a request here only when the extension has dev settings
//! ([`crate::state::ExtensionSite::dev`], read with the cached records), so an
//! extension outside dev mode pays one `None` check:
//!
//! - with a `ui_source`, every path outside `/.dockhand/` goes to the dev
//!   server ([`proxy`]), after the router's cookie and `Origin` checks;
//! - with `debug`, every bridge call (`/.dockhand/api/…`) is summarised into
//!   the extension's bridge call log ([`calllog`]).
//!
//! [`bridge_log`] is the dashboard's `GET /api/extensions/{id}/bridge-log`.

pub mod calllog;
pub mod proxy;

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use dockhand_host::dev::{BridgeLog, DevSettings};
use serde::{Deserialize, Serialize};
use tower::ServiceExt as _;

use crate::error::ApiError;
use crate::extract::{ApiQuery, DashboardSession};
pub use crate::state::DevState;
use crate::state::{AppState, ExtensionSite};

/// A request on the origin of `site`, which is in dev mode.
pub async fn route(
    state: &AppState,
    site: &Arc<ExtensionSite>,
    router: Router,
    req: Request,
) -> Response {
    let dev: &DevSettings = site.dev.as_deref().unwrap_or(&NOT_IN_DEV_MODE);
    let path = req.uri().path();
    if let Some(source) = &dev.ui_source
        && !path.starts_with("/.dockhand/")
    {
        return proxy::forward(state, site, source, req).await;
    }
    if dev.debug && path.starts_with(calllog::API_PREFIX) {
        return calllog::logged(state, site, router, req).await;
    }
    match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    }
}

static NOT_IN_DEV_MODE: DevSettings = DevSettings {
    ui_source: None,
    debug: false,
};

/// An extension's dev settings as the dashboard shows them.
#[derive(Debug, Clone, Serialize)]
pub struct DevJson {
    /// The dev server the UI comes from, when set.
    pub ui_source: Option<String>,
    /// Whether bridge calls are logged.
    pub debug: bool,
}

impl DevJson {
    /// `None` outside dev mode.
    pub fn of(settings: Option<&DevSettings>) -> Option<Self> {
        let s = settings.filter(|s| !s.is_default())?;
        Some(Self {
            ui_source: s.ui_source.as_ref().map(|u| u.as_str().to_owned()),
            debug: s.debug,
        })
    }
}

/// `?tail=N` of the bridge-log route.
#[derive(Debug, Deserialize)]
pub struct TailQuery {
    tail: Option<usize>,
}

/// Entries the bridge-log route returns when `tail` is not given.
const DEFAULT_TAIL: usize = 200;

/// `GET /api/extensions/{id}/bridge-log?tail=N`: `{"debug": bool, "path":
/// str, "entries": [ … ]}`, the last entries of the extension's bridge call
/// log, oldest first.
pub async fn bridge_log(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<TailQuery>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = crate::api::parse_id(&id)?;
    let manager = Arc::clone(state.manager());
    let tail = q.tail.unwrap_or(DEFAULT_TAIL);
    let (debug, path, lines) = tokio::task::spawn_blocking(move || {
        manager.get(&id)?;
        let debug = manager.state.dev_settings(&id)?.debug;
        let log = BridgeLog::of(&manager.layout, &id);
        let lines = log.tail(Some(tail)).map_err(|e| {
            ApiError::internal(format!("cannot read {}: {e}", log.path().display()))
        })?;
        Ok::<_, ApiError>((debug, log.path().display().to_string(), lines))
    })
    .await
    .map_err(|e| ApiError::internal(format!("reading the bridge log: {e}")))??;
    let entries: Vec<serde_json::Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    Ok(Json(serde_json::json!({
        "debug": debug,
        "path": path,
        "entries": entries,
    })))
}
