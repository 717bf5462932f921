//! The dashboard's own routes (`docs/bridge.md`, "Dashboard API"): the login
//! at `/?token=`, `index.html`, `/api/info` and `/api/extensions…`.
//!
//! Extension ids hold `/` and `:`, so they travel URL-encoded in one path
//! segment: `/api/extensions/docker%2Fvolumes-backup-extension/ticket`.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use dockhand_host::state::ExtensionRecord;
use dockhand_host::{Listed, Quiet};
use dockhand_spec::ExtensionId;
use futures_util::StreamExt as _;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use crate::assets::with_type;
use crate::auth;
use crate::blocking::{blocking, off_thread};
use crate::error::ApiError;
use crate::extract::{ApiQuery, DashboardSession};
use crate::listing::{LsJson, ls_json_with_socket};
use crate::state::AppState;
use crate::ui::query_param;

/// How long the engine may take to answer the dashboard's questions.
const ENGINE_TIMEOUT: Duration = Duration::from_secs(5);
/// Log lines when `tail` is not given.
const DEFAULT_TAIL: usize = 200;

/// Everything but the characters an id may keep unencoded in a path segment.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The dashboard's own routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/api/info", get(info))
        .route("/api/extensions", get(list))
        .route("/api/extensions/{id}", get(details).delete(remove))
        .route("/api/extensions/{id}/icon", get(icon))
        .route("/api/extensions/{id}/ticket", post(ticket))
        .route("/api/extensions/{id}/enable", post(set_enabled::<true>))
        .route("/api/extensions/{id}/disable", post(set_enabled::<false>))
        .route("/api/extensions/{id}/logs", get(logs))
        .route(
            "/api/extensions/{id}/bridge-log",
            get(crate::dev::bridge_log),
        )
}

/// `id` encoded for one path segment.
pub fn encode_id(id: &ExtensionId) -> String {
    utf8_percent_encode(id.as_str(), SEGMENT).to_string()
}

pub(crate) fn parse_id(raw: &str) -> Result<ExtensionId, ApiError> {
    ExtensionId::parse(raw).map_err(|e| {
        ApiError::bad_request(format!(
            "`{raw}` is not an extension id ({e}): URL-encode the id in one path segment"
        ))
    })
}

/// `GET /`: with `?token=`, the login; else `index.html`.
async fn index(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, ApiError> {
    if let Some(token) = query_param(uri.query(), "token") {
        return login(&state, &headers, &token);
    }
    // The session was checked by the router's layer (`crate::gate`).
    let html = crate::assets::get("index.html")
        .ok_or_else(|| ApiError::not_found("this dockhand was built without web/index.html"))?;
    Ok(with_type("text/html; charset=utf-8", html))
}

fn redirect_home() -> Response {
    redirect_to(HeaderValue::from_static("/"))
}

fn redirect_to(location: HeaderValue) -> Response {
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

fn login(state: &AppState, headers: &HeaderMap, token: &str) -> Result<Response, ApiError> {
    let session = state
        .auth()
        .redeem_startup_token(token)
        .map_err(|e| ApiError::internal(format!("cannot make a session: {e}")))?;
    let Some(login) = session else {
        // A reload of the login URL in a browser already logged in.
        if crate::gate::dashboard_session(state, headers).is_ok() {
            return Ok(redirect_home());
        }
        return Err(ApiError::unauthorized(
            "this token is not valid (it is used once and for 10 minutes): restart `dockhand serve` for a new URL",
        ));
    };
    let cookie = HeaderValue::from_str(&auth::session_cookie(&login.session))
        .map_err(|_| ApiError::internal("cannot write the session cookie"))?;
    // The page key goes in the fragment, which no server ever receives: the
    // page keeps it (see `auth::DashboardLogin`).
    let location = HeaderValue::from_str(&format!("/#{}={}", auth::PAGE_KEY_PARAM, login.key))
        .map_err(|_| ApiError::internal("cannot write the login redirect"))?;
    let mut r = redirect_to(location);
    r.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(r)
}

/// `GET /api/info`.
#[derive(Debug, Serialize)]
struct Info {
    version: &'static str,
    api_version: &'static str,
    /// The engine in one line (`Docker Engine 24.0.7 (API 1.43, linux/amd64) at …`).
    engine: String,
    /// The engine and its mode, field by field.
    engine_status: EngineStatus,
}

/// Which engine the dashboard works on and how it reaches backends there
/// (`docs/bridge.md`, "Dashboard API").
#[derive(Debug, Default, Serialize)]
struct EngineStatus {
    /// The address as the CLI names it (`DOCKER_HOST`'s value).
    host: String,
    /// `unix`, `tcp`, `tcp+tls` or `ssh`.
    kind: &'static str,
    /// True when it answered.
    reachable: bool,
    /// `Docker Engine` or `Podman`.
    flavor: Option<&'static str>,
    /// The engine's version.
    version: Option<String>,
    /// Its API version.
    api_version: Option<String>,
    /// `local` (backends' sockets are reached on this machine) or `relay`
    /// (through each extension's relay); null when it could not be probed.
    mode: Option<&'static str>,
    /// Why that mode, or why it is not known.
    mode_reason: Option<String>,
    /// Why the engine could not be reached or probed.
    error: Option<String>,
}

/// What [`info`] asks the engine: its version, then its mode.
async fn engine_status(state: &AppState) -> (EngineStatus, Option<dockhand_engine::EngineVersion>) {
    let host = &state.manager().engine_host;
    let mut status = EngineStatus {
        host: host.to_string(),
        kind: host.kind(),
        ..EngineStatus::default()
    };
    let no_answer = |what: &str| format!("{what} within {} s", ENGINE_TIMEOUT.as_secs());
    let asked = tokio::time::timeout(ENGINE_TIMEOUT, async {
        let engine = state.bridge().engine.get().await.map_err(|e| e.message)?;
        let version = engine.version().await.map_err(|e| e.to_string())?;
        Ok::<_, String>((engine, version))
    })
    .await
    .unwrap_or_else(|_| Err(no_answer("no answer")));
    match asked {
        Ok((engine, version)) => {
            // The first probe loads dockhand's probe image: it has a
            // timeout of its own.
            let mode =
                tokio::time::timeout(ENGINE_TIMEOUT, state.manager().engine_mode(&engine, false))
                    .await
                    .map_err(|_| no_answer("the probe did not answer"))
                    .and_then(|r| r.map_err(|e| e.to_string()));
            status.reachable = true;
            status.flavor = Some(version.flavor.name());
            status.version = Some(version.version.clone());
            status.api_version = Some(version.api_version.clone());
            match mode {
                Ok(report) => {
                    status.mode = Some(match report.mode {
                        dockhand_engine::EngineMode::Local => "local",
                        dockhand_engine::EngineMode::Remote => "relay",
                    });
                    status.mode_reason = Some(report.reason);
                }
                Err(e) => {
                    status.mode_reason = Some(format!("the mode could not be probed: {e}"));
                    status.error = Some(e);
                }
            }
            (status, Some(version))
        }
        Err(e) => {
            status.error = Some(e);
            (status, None)
        }
    }
}

async fn info(_s: DashboardSession, State(state): State<AppState>) -> Json<Info> {
    let (status, version) = engine_status(&state).await;
    let host = &status.host;
    let engine = match (&version, &status.error) {
        (Some(v), _) => format!(
            "{} {} (API {}, {}/{}) at {host}",
            v.flavor.name(),
            v.version,
            v.api_version,
            v.os,
            v.arch
        ),
        (None, Some(e)) => format!("unreachable at {host}: {e}"),
        (None, None) => format!("unreachable at {host}"),
    };
    Json(Info {
        version: env!("CARGO_PKG_VERSION"),
        api_version: dockhand_spec::API_VERSION,
        engine,
        engine_status: status,
    })
}

/// One entry of `GET /api/extensions`: `dockhand ls --format json` plus the
/// slug and the icon's URL.
#[derive(Debug, Serialize)]
pub struct ExtensionEntry {
    /// As `dockhand ls --format json`.
    #[serde(flatten)]
    pub ls: LsJson,
    /// The slug of the extension's origin.
    pub slug: String,
    /// `/api/extensions/{id}/icon`, or null when it has none.
    pub icon: Option<String>,
    /// `{"ui_source", "debug"}` when it is in dev mode (`dockhand dev`), else null.
    pub dev: Option<crate::dev::DevJson>,
}

async fn icon_file(state: &AppState, record: &ExtensionRecord) -> Option<std::path::PathBuf> {
    let paths = crate::state::ExtensionPaths::of(&state.manager().layout, record);
    let icon = record.metadata.get("icon")?.as_str()?;
    crate::ui::file_inside(&paths.root, icon).await
}

async fn entry(state: &AppState, listed: &Listed) -> ExtensionEntry {
    let record = &listed.record;
    let icon = icon_file(state, record)
        .await
        .map(|_| format!("/api/extensions/{}/icon", encode_id(&record.id)));
    let dev = state.dev_settings().await.ok();
    ExtensionEntry {
        ls: ls_json_with_socket(record, listed.running, listed.containers, listed.socket),
        slug: crate::slug::slug(&record.id),
        icon,
        dev: crate::dev::DevJson::of(dev.as_ref().and_then(|d| d.get(&record.id)).map(|d| &**d)),
    }
}

/// The installed record of `id`, read off the server's thread.
async fn record_of(state: &AppState, id: &ExtensionId) -> Result<ExtensionRecord, ApiError> {
    let (manager, id) = (Arc::clone(state.manager()), id.clone());
    blocking("reading the installed extension", move || {
        manager.get(&id).map_err(ApiError::from)
    })
    .await
}

/// Every installed extension with its backend's counts and socket; without
/// an engine (or when it does not answer) the counts are zero. The records
/// are read off the server's thread.
async fn listed(state: &AppState) -> Result<Vec<Listed>, ApiError> {
    let manager = Arc::clone(state.manager());
    let all = off_thread(move || async move { manager.list().await });
    match tokio::time::timeout(ENGINE_TIMEOUT, all).await {
        Ok(Ok(Ok(all))) => Ok(all.extensions),
        _ => {
            let manager = Arc::clone(state.manager());
            let records = blocking("reading the installed extensions", move || {
                manager.state.list()
            })
            .await?;
            Ok(records
                .into_iter()
                .map(|record| Listed {
                    record,
                    running: 0,
                    containers: 0,
                    socket: None,
                })
                .collect())
        }
    }
}

async fn list(
    _s: DashboardSession,
    State(state): State<AppState>,
) -> Result<Json<Vec<ExtensionEntry>>, ApiError> {
    let mut out = Vec::new();
    for l in listed(&state).await? {
        out.push(entry(&state, &l).await);
    }
    Ok(Json(out))
}

async fn entry_of(state: &AppState, id: &ExtensionId) -> Result<ExtensionEntry, ApiError> {
    let found = listed(state)
        .await?
        .into_iter()
        .find(|l| l.record.id == *id)
        .ok_or_else(|| ApiError::not_found(format!("{id} is not installed")))?;
    Ok(entry(state, &found).await)
}

/// `GET /api/extensions/{id}`: the list entry plus the image's labels (the
/// details view shows the description, changelog and links from them).
async fn details(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let id = parse_id(&id)?;
    let record = record_of(&state, &id).await?;
    let entry = entry_of(&state, &id).await?;
    let mut value = serde_json::to_value(&entry).map_err(|e| ApiError::internal(e.to_string()))?;
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "labels".into(),
            serde_json::to_value(&record.labels).map_err(|e| ApiError::internal(e.to_string()))?,
        );
    }
    Ok(Json(value))
}

async fn icon(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let record = record_of(&state, &id).await?;
    let file = icon_file(&state, &record)
        .await
        .ok_or_else(|| ApiError::not_found(format!("{id} has no icon")))?;
    let bytes = tokio::fs::read(&file)
        .await
        .map_err(|e| ApiError::not_found(format!("{id}'s icon {}: {e}", file.display())))?;
    icon_response(&id, bytes)
}

/// What an extension's icon may be on the dashboard's origin: an image told
/// from its bytes (never its file name), in a sandbox where nothing runs
/// (an SVG may carry scripts; opened as a page it must reach nothing).
pub const ICON_CSP: &str = "sandbox; default-src 'none'; style-src 'unsafe-inline'";

fn icon_response(id: &ExtensionId, bytes: Vec<u8>) -> Result<Response, ApiError> {
    let kind = dockhand_spec::icon::sniff(&bytes).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "the icon of {id} is not a png, jpeg, gif, webp, svg or ico image: dockhand does not serve it (`dockhand validate` reports it as DH406)"
            ),
        )
    })?;
    let mut r = with_type(kind.content_type(), bytes);
    let headers = r.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(ICON_CSP),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(r)
}

/// `POST /api/extensions/{id}/ticket`.
#[derive(Debug, Serialize)]
struct TicketUrl {
    url: String,
}

async fn ticket(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<TicketUrl>, ApiError> {
    let id = parse_id(&id)?;
    let record = record_of(&state, &id).await?;
    let dev_ui = state
        .dev_settings()
        .await?
        .get(&id)
        .is_some_and(|d| d.ui_source.is_some());
    if !dev_ui
        && crate::state::ExtensionPaths::of(&state.manager().layout, &record)
            .ui_root
            .is_none()
    {
        return Err(ApiError::not_found(format!("{id} has no UI to open")));
    }
    let ticket = state
        .auth()
        .issue_ticket(&id)
        .map_err(|e| ApiError::internal(format!("cannot make a ticket: {e}")))?;
    let origin = state.extension_origin(&crate::slug::slug(&id));
    Ok(Json(TicketUrl {
        url: format!("{origin}{}?ticket={ticket}", crate::ui::ENTER_PATH),
    }))
}

/// Ends what the extension's tabs started and drops its backend connections.
fn forget(state: &AppState, id: &ExtensionId) {
    state.forget_records();
    // Its open tabs lose the bridge at once: sessions and tickets end.
    state.auth().forget_extension(id);
    state.bridge().processes.kill_extension(id);
    state
        .bridge()
        .pools
        .forget_under(&state.manager().layout.socket_dir(id));
    state.bridge().relays.forget(id);
}

/// `POST /api/extensions/{id}/enable` (`ENABLED`) and `…/disable`: the
/// extension's entry afterwards.
async fn set_enabled<const ENABLED: bool>(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<ExtensionEntry>, ApiError> {
    let id = parse_id(&raw)?;
    if !ENABLED {
        forget(&state, &id);
    }
    // `compose up`/`stop` and SQLite writes: on a thread of their own.
    let (manager, target) = (Arc::clone(state.manager()), id.clone());
    off_thread(move || async move { manager.set_enabled(&target, ENABLED).await }).await??;
    state.forget_records();
    Ok(Json(entry_of(&state, &id).await?))
}

#[derive(Debug, Deserialize)]
struct RemoveQuery {
    #[serde(default)]
    volumes: bool,
}

async fn remove(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<RemoveQuery>,
) -> Result<Json<BTreeMap<&'static str, bool>>, ApiError> {
    let id = parse_id(&id)?;
    forget(&state, &id);
    // `compose down`, SQLite writes and removing the files: on a thread of
    // their own, so the dashboard keeps answering meanwhile.
    let (manager, target, volumes) = (Arc::clone(state.manager()), id.clone(), q.volumes);
    off_thread(move || async move { manager.uninstall(&target, volumes, &Quiet).await }).await??;
    state.forget_records();
    state.auth().forget_extension(&id);
    Ok(Json(BTreeMap::from([("removed", true)])))
}

#[derive(Debug, Deserialize)]
struct LogsQuery {
    tail: Option<usize>,
}

async fn logs(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<LogsQuery>,
) -> Result<Response, ApiError> {
    let id = parse_id(&id)?;
    let record = record_of(&state, &id).await?;
    if record.backend.is_none() {
        return Err(ApiError::not_found(format!(
            "{id} has no backend: there are no logs"
        )));
    }
    let tail = q.tail.unwrap_or(DEFAULT_TAIL);
    let text = tokio::time::timeout(ENGINE_TIMEOUT, backend_logs(&state, &id, tail))
        .await
        .map_err(|_| {
            ApiError::bad_gateway(format!(
                "the engine did not send {id}'s logs within {} s",
                ENGINE_TIMEOUT.as_secs()
            ))
        })??;
    Ok(with_type("text/plain; charset=utf-8", text))
}

async fn backend_logs(state: &AppState, id: &ExtensionId, tail: usize) -> Result<String, ApiError> {
    let engine = state.manager().engine().await?;
    let containers = engine
        .containers_by_label(&state.manager().layout.owner_label(id))
        .await
        .map_err(|e| ApiError::bad_gateway(e.to_string()))?;
    let many = containers.len() > 1;
    let mut out = String::new();
    for c in &containers {
        let prefix = if many {
            format!("{} | ", c.service.as_deref().unwrap_or(&c.name))
        } else {
            String::new()
        };
        let mut lines = engine.logs(&c.id, false, Some(tail));
        while let Some(chunk) = lines.next().await {
            let chunk = chunk.map_err(|e| ApiError::bad_gateway(e.to_string()))?;
            for line in chunk.text().lines() {
                out.push_str(&prefix);
                out.push_str(line);
                out.push('\n');
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Handlers run on a multi-threaded runtime: the manager's futures must be `Send`.
    #[allow(dead_code)]
    fn manager_futures_are_send(state: &AppState, id: &ExtensionId) {
        fn is_send<T: Send>(_: T) {}
        is_send(state.manager().set_enabled(id, true));
        is_send(state.manager().uninstall(id, true, &Quiet));
    }

    #[test]
    fn ids_are_one_segment() {
        let id = ExtensionId::parse("127.0.0.1:5000/acme/my_ext").unwrap();
        assert_eq!(encode_id(&id), "127.0.0.1%3A5000%2Facme%2Fmy_ext");
    }
}
