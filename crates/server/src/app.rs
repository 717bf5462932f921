//! The application: [`AppState`], the [`router`] and how a request finds its
//! origin.
//!
//! # How a request is handled
//!
//! [`router`] first looks at the `Host` header (`docs/bridge.md`):
//!
//! - `localhost:PORT`, `127.0.0.1:PORT`, `[::1]:PORT`: the **dashboard**
//!   router — the dashboard API (`crate::api`), `crate::resources::routes()`
//!   and the embedded `web/` (`crate::assets`);
//! - `<slug>.localhost:PORT` of an installed extension: that extension's
//!   router — `/.dockhand/enter`, `/.dockhand/ddclient.js`,
//!   `crate::bridge::routes()`, and its UI files (`crate::ui`);
//! - anything else: `421`.
//!
//! Before a route runs, the router enforces, for every route of both origins:
//!
//! - a valid credential: the `dockhand_session` cookie on the dashboard (all
//!   but `GET /?token=…`), the `dockhand_ext` cookie *of that extension* on
//!   an extension origin (all but `/.dockhand/enter`) — else `401`;
//! - for `POST`, `PUT`, `PATCH`, `DELETE` and WebSocket upgrades, an `Origin`
//!   header equal to the origin of the request (`http://` + its `Host`) —
//!   else `403`.
//!
//! It also adds `X-Content-Type-Options: nosniff` to every response, and on
//! extension origins `Content-Security-Policy: frame-ancestors
//! http://localhost:PORT http://127.0.0.1:PORT`.
//!
//! # What routes get
//!
//! Routes are `Router<AppState>`; handlers take `State<AppState>` and one of
//! the extractors of [`crate::extract`] (re-exported here):
//!
//! - [`ExtensionCaller`] on extension-origin routes: the caller's
//!   `ExtensionRecord`, its paths
//!   ([`ExtensionPaths`]), slug, origin and session number;
//! - [`DashboardSession`] on dashboard routes.
//!
//! Both check again what the router checked (`401`/`403`/`421`), so a route
//! cannot be reached without them even if mounted elsewhere. Errors are
//! [`ApiError`] (`{"message"}` JSON).

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use dockhand_host::Manager;
use dockhand_host::dev::DevSettings;
use dockhand_host::state::ExtensionRecord;
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::auth::{self, Auth, HostName};
use crate::error::ApiError;
use crate::process::ProcessRegistry;

pub use crate::extract::{DashboardSession, ExtensionCaller, ExtensionPaths};

/// Everything the handlers share. Cheap to clone (one `Arc`).
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    manager: Arc<Manager>,
    port: u16,
    auth: Auth,
    processes: Arc<ProcessRegistry>,
    shutdown: watch::Sender<bool>,
    bridge: Arc<crate::bridge::BridgeState>,
    dev: crate::dev::DevState,
    /// The installed extensions as last read, and when: every request on an
    /// extension origin needs its record, and reading SQLite for each one
    /// would cost more than the proxying itself.
    records: std::sync::Mutex<Option<Cached>>,
    /// How updates are checked, when they are (`crate::updates`).
    updates: std::sync::OnceLock<Arc<crate::updates::UpdateService>>,
    /// The registry client and configuration of the catalog and install routes.
    catalog: crate::catalog::CatalogSetup,
    /// The `Content-Security-Policy` of extension pages: only the dashboard
    /// may frame them.
    frame_ancestors: HeaderValue,
}

/// The installed extensions and the dev settings of those in dev mode, as
/// read at one instant.
#[derive(Debug)]
struct Cached {
    at: std::time::Instant,
    records: Arc<Vec<ExtensionRecord>>,
    /// Each extension's origin, built once per read: finding a request's
    /// extension and everything about it is a scan of slugs and an `Arc`
    /// clone, with no hashing, formatting or copying per request.
    sites: Arc<Vec<Arc<ExtensionSite>>>,
    dev: Arc<DevMap>,
}

/// What [`AppState::cached_sites`] answers.
type CachedParts = (
    Arc<Vec<ExtensionRecord>>,
    Arc<Vec<Arc<ExtensionSite>>>,
    Arc<DevMap>,
);

/// The dev settings of the extensions in dev mode.
pub type DevMap = std::collections::BTreeMap<dockhand_spec::ExtensionId, Arc<DevSettings>>;

/// How long the cached list of installed extensions is trusted: changes made
/// through this server drop it at once, changes made by another dockhand
/// process (install, rm) show within this time.
const RECORDS_TTL: std::time::Duration = std::time::Duration::from_secs(1);

impl AppState {
    /// The state of a server whose clients reach it on `port`.
    pub fn new(manager: Arc<Manager>, port: u16) -> Self {
        Self::with_user_home(manager, port, std::path::PathBuf::from("/"))
    }

    /// The state of a server whose bridge starts local processes (and the
    /// file picker) in `user_home`.
    pub fn with_user_home(manager: Arc<Manager>, port: u16, user_home: std::path::PathBuf) -> Self {
        Self::with_catalog(
            manager,
            port,
            user_home,
            crate::catalog::CatalogSetup::default(),
        )
    }

    /// The state of a server with a registry client and configuration for
    /// the catalog and install routes.
    pub fn with_catalog(
        manager: Arc<Manager>,
        port: u16,
        user_home: std::path::PathBuf,
        catalog: crate::catalog::CatalogSetup,
    ) -> Self {
        let (shutdown, _) = watch::channel(false);
        let docker =
            crate::bridge::procs::resolve_program(&manager.docker_cli, &manager.search_path);
        let engine = crate::bridge::EngineHandle::lazy(manager.engine_host.clone());
        let limits = crate::bridge::Limits::from_config(&catalog.config);
        let bridge = Arc::new(crate::bridge::BridgeState::with_limits(
            engine, docker, user_home, limits,
        ));
        Self {
            inner: Arc::new(Inner {
                manager,
                port,
                auth: Auth::new(),
                processes: Arc::new(ProcessRegistry::new()),
                shutdown,
                bridge,
                dev: crate::dev::DevState::default(),
                records: std::sync::Mutex::new(None),
                updates: std::sync::OnceLock::new(),
                catalog,
                frame_ancestors: HeaderValue::from_str(&format!(
                    "frame-ancestors http://localhost:{port} http://127.0.0.1:{port}"
                ))
                .expect("a port makes a valid header value"),
            }),
        }
    }

    /// The catalog routes' registry client and configuration.
    pub fn catalog(&self) -> &crate::catalog::CatalogSetup {
        &self.inner.catalog
    }

    /// The installed extensions, from a cache at most [`RECORDS_TTL`] old.
    pub async fn records(&self) -> Result<Arc<Vec<ExtensionRecord>>, ApiError> {
        Ok(self.cached().await?.0)
    }

    /// The dev settings of the extensions in dev mode (`dockhand dev`),
    /// from the same cache as [`records`](Self::records).
    pub async fn dev_settings(&self) -> Result<Arc<DevMap>, ApiError> {
        Ok(self.cached().await?.1)
    }

    async fn cached(&self) -> Result<(Arc<Vec<ExtensionRecord>>, Arc<DevMap>), ApiError> {
        let (records, _, dev) = self.cached_sites().await?;
        Ok((records, dev))
    }

    async fn cached_sites(&self) -> Result<CachedParts, ApiError> {
        {
            let cached = self.inner.records.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(c) = cached.as_ref()
                && c.at.elapsed() < RECORDS_TTL
            {
                return Ok((
                    Arc::clone(&c.records),
                    Arc::clone(&c.sites),
                    Arc::clone(&c.dev),
                ));
            }
        }
        let manager = Arc::clone(self.manager());
        let (records, dev) = tokio::task::spawn_blocking(move || {
            let records = manager.state.list()?;
            let dev = manager.state.all_dev_settings()?;
            Ok::<_, dockhand_host::state::StateError>((records, dev))
        })
        .await
        .map_err(|e| ApiError::internal(format!("reading the installed extensions: {e}")))??;
        let records = Arc::new(records);
        let dev: Arc<DevMap> = Arc::new(dev.into_iter().map(|(k, v)| (k, Arc::new(v))).collect());
        let layout = &self.manager().layout;
        let sites: Arc<Vec<Arc<ExtensionSite>>> = Arc::new(
            records
                .iter()
                .map(|r| {
                    let record = Arc::new(r.clone());
                    let slug = crate::slug::slug(&r.id);
                    let origin = self.extension_origin(&slug);
                    Arc::new(ExtensionSite {
                        paths: ExtensionPaths::of(layout, r),
                        caller: crate::bridge::Caller::new(
                            layout,
                            Arc::clone(&record),
                            origin.clone(),
                        ),
                        dev: dev.get(&r.id).cloned(),
                        record,
                        slug,
                        origin,
                    })
                })
                .collect(),
        );
        *self.inner.records.lock().unwrap_or_else(|e| e.into_inner()) = Some(Cached {
            at: std::time::Instant::now(),
            records: Arc::clone(&records),
            sites: Arc::clone(&sites),
            dev: Arc::clone(&dev),
        });
        Ok((records, sites, dev))
    }

    /// Turns on update checks and `POST /api/extensions/{id}/update` (once).
    pub fn set_updates(&self, service: crate::updates::UpdateService) {
        let _ = self.inner.updates.set(Arc::new(service));
    }

    /// How updates are checked, when they are.
    pub fn updates(&self) -> Option<Arc<crate::updates::UpdateService>> {
        self.inner.updates.get().cloned()
    }

    /// Drops the cached list of installed extensions (after a change).
    pub fn forget_records(&self) {
        *self.inner.records.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// The bridge's state (its engine handle, processes and connection pools).
    pub fn bridge(&self) -> &Arc<crate::bridge::BridgeState> {
        &self.inner.bridge
    }

    /// Dev mode's state (the clients that reach dev servers).
    pub fn dev(&self) -> &crate::dev::DevState {
        &self.inner.dev
    }

    /// The extension manager.
    pub fn manager(&self) -> &Arc<Manager> {
        &self.inner.manager
    }

    /// The port clients use.
    pub fn port(&self) -> u16 {
        self.inner.port
    }

    /// Sessions, tickets and the startup token.
    pub fn auth(&self) -> &Auth {
        &self.inner.auth
    }

    /// The processes the server started.
    pub fn processes(&self) -> &Arc<ProcessRegistry> {
        &self.inner.processes
    }

    /// The dashboard's origin as the shell uses it: `http://localhost:PORT`.
    pub fn dashboard_origin(&self) -> String {
        format!("http://localhost:{}", self.port())
    }

    /// The origin of the extension whose slug is `slug`:
    /// `http://<slug>.localhost:PORT`.
    pub fn extension_origin(&self, slug: &str) -> String {
        format!("http://{slug}.localhost:{}", self.port())
    }

    /// Asks everything long-lived (WebSockets, followed logs) to end: the
    /// server is stopping.
    pub fn request_shutdown(&self) {
        self.inner.shutdown.send_replace(true);
    }

    /// True once [`request_shutdown`](Self::request_shutdown) was called.
    pub fn is_shutting_down(&self) -> bool {
        *self.inner.shutdown.borrow()
    }

    /// Resolves once the server is stopping; long-lived handlers race it.
    pub async fn shutdown_requested(&self) {
        let mut rx = self.inner.shutdown.subscribe();
        let _ = rx.wait_for(|s| *s).await;
    }
}

/// Which origin a request came to, put into the request's extensions by the
/// router before any route runs.
#[derive(Debug, Clone)]
pub enum Site {
    /// The dashboard; `origin` is `http://` + the request's `Host`.
    Dashboard {
        /// `http://localhost:PORT` (or `127.0.0.1`, `[::1]`, as requested).
        origin: String,
    },
    /// An extension's origin.
    Extension(Arc<ExtensionSite>),
}

/// An installed extension's origin.
#[derive(Debug, Clone)]
pub struct ExtensionSite {
    /// The extension.
    pub record: Arc<ExtensionRecord>,
    /// Its slug.
    pub slug: String,
    /// `http://<slug>.localhost:PORT`.
    pub origin: String,
    /// Its dev settings when it is in dev mode (`dockhand dev`).
    pub dev: Option<Arc<DevSettings>>,
    /// Where its files are.
    pub paths: ExtensionPaths,
    /// What its bridge routes are given.
    pub caller: crate::bridge::Caller,
}

/// The whole application: both origins, with the checks described in the
/// module docs. `crate::bridge::routes()` is mounted on extension origins,
/// `crate::resources::routes()` on the dashboard.
pub fn router(state: AppState) -> Router {
    let dashboard = crate::api::routes()
        .merge(crate::resources::routes())
        .merge(crate::updates::routes())
        .merge(crate::catalog::routes())
        .fallback(crate::assets::serve)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    let extension = crate::ui::routes()
        .merge(crate::bridge::routes())
        .fallback(crate::ui::serve_file)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    let service = tower::service_fn(move |req: Request| {
        let (state, dashboard, extension) = (state.clone(), dashboard.clone(), extension.clone());
        async move {
            Ok::<_, std::convert::Infallible>(dispatch(state, dashboard, extension, req).await)
        }
    });
    Router::new().fallback_service(service)
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
}

/// The `Host` of a request: its header, else the URI's authority.
pub fn request_host(req: &axum::http::request::Parts) -> Option<String> {
    req.headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| req.uri.authority().map(|a| a.as_str().to_owned()))
}

/// Finds the site `host` names: the dashboard, an installed extension's
/// origin, or `421`.
pub async fn site_of(state: &AppState, host: Option<&str>) -> Result<Site, ApiError> {
    let misdirected = || {
        ApiError::misdirected(format!(
            "this dockhand answers for localhost:{port} and the extensions' <slug>.localhost:{port} only",
            port = state.port()
        ))
    };
    let host = host.ok_or_else(misdirected)?;
    match auth::classify_host(host, state.port()).ok_or_else(misdirected)? {
        HostName::Dashboard => Ok(Site::Dashboard {
            origin: format!("http://{}", host.to_ascii_lowercase()),
        }),
        HostName::Extension(slug) => {
            let (_, sites, _) = state.cached_sites().await?;
            sites
                .iter()
                .find(|s| s.slug == slug)
                .map(|s| Site::Extension(Arc::clone(s)))
                .ok_or_else(misdirected)
        }
    }
}

/// The credential and `Origin` checks of the module docs, for `site`.
fn gate(state: &AppState, site: &Site, parts: &axum::http::request::Parts) -> Result<(), ApiError> {
    let (origin, exempt) = match site {
        Site::Dashboard { origin } => {
            let login = parts.method == Method::GET
                && parts.uri.path() == "/"
                && crate::ui::query_param(parts.uri.query(), "token").is_some();
            if !login {
                crate::extract::dashboard_session(state, &parts.headers)?;
                crate::extract::dashboard_page_key(state, parts)?;
            }
            (origin.as_str(), login)
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
            let enter = path == crate::ui::ENTER_PATH;
            if !enter {
                crate::extract::extension_session(state, site, &parts.headers)?;
            }
            if path.starts_with("/.dockhand/api/") || path == crate::ui::DDCLIENT_PATH {
                auth::check_same_origin_fetch(&parts.headers)?;
            }
            (site.origin.as_str(), enter)
        }
    };
    if !exempt
        && (auth::is_state_changing(&parts.method) || auth::is_websocket_upgrade(&parts.headers))
    {
        auth::check_origin(&parts.headers, origin)?;
    }
    Ok(())
}

async fn dispatch(state: AppState, dashboard: Router, extension: Router, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let host = request_host(&parts);
    let site = match site_of(&state, host.as_deref()).await {
        Ok(site) => site,
        Err(e) => return e.into_response(),
    };
    let framed = matches!(site, Site::Extension(_));
    let mut response = match gate(&state, &site, &parts) {
        Err(e) => e.into_response(),
        Ok(()) => {
            // Not in dev mode: one `None` check on the cached site.
            let dev_site = match &site {
                Site::Extension(s) if s.dev.is_some() => Some(Arc::clone(s)),
                _ => None,
            };
            let router = match site {
                Site::Dashboard { .. } => dashboard,
                Site::Extension(_) => extension,
            };
            parts.extensions.insert(site);
            let req = Request::from_parts(parts, body);
            match dev_site {
                Some(s) => crate::dev::route(&state, &s, router, req).await,
                None => match router.oneshot(req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                },
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if framed {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            state.inner.frame_ancestors.clone(),
        );
    } else {
        // A route's own policy (an extension's icon: a sandbox) is kept, with
        // the framing rule added to it.
        let csp = match headers.get(header::CONTENT_SECURITY_POLICY) {
            Some(own) => HeaderValue::from_str(&format!(
                "{}; frame-ancestors 'self'",
                own.to_str().unwrap_or("default-src 'none'")
            ))
            .unwrap_or(HeaderValue::from_static("default-src 'none'")),
            None => HeaderValue::from_static("frame-ancestors 'self'"),
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache"));
    response
}

/// A response with `body` and `content_type`.
pub(crate) fn with_type(content_type: &str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// Runs `f`'s future on its own thread and runtime: an install or update
/// unpacks layers and writes files (blocking work that must not stall the
/// server's one thread), and the registry client's futures are not `Send`.
pub(crate) async fn off_thread<T, F, Fut>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ApiError::internal(format!("cannot start a runtime: {e}")))?;
        Ok(rt.block_on(f()))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the task failed: {e}")))?
}

impl axum::extract::FromRef<AppState> for Arc<crate::bridge::BridgeState> {
    fn from_ref(state: &AppState) -> Self {
        state.inner.bridge.clone()
    }
}

impl axum::extract::FromRequestParts<AppState> for crate::bridge::Caller {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = ExtensionCaller::from_request_parts(parts, state).await?;
        Ok(caller.site.caller.clone())
    }
}

impl axum::extract::FromRequestParts<AppState> for crate::bridge::DashboardAccess {
    type Rejection = crate::error::ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = DashboardSession::from_request_parts(parts, state).await?;
        Ok(crate::bridge::DashboardAccess {
            origin: session.origin,
        })
    }
}
