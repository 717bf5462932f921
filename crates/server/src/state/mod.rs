//! The state every handler shares ([`AppState`]) and the sites a request
//! can be for ([`Site`]): the dashboard, or an installed extension's origin
//! ([`ExtensionSite`], built once per read of the installed records).
//!
//! This module sits below every route module: it uses the bridge's state
//! types and the credential store ([`crate::auth`]), and nothing that
//! imports it back.

mod setup;
mod site;

use std::sync::Arc;

use axum::http::{HeaderValue, header};
use dockhand_host::Manager;
use dockhand_host::dev::DevSettings;
use dockhand_host::state::ExtensionRecord;
use tokio::sync::watch;

pub use setup::{
    CatalogSetup, DEV_SERVER_CONNECT_TIMEOUT, DevClientError, DevState, UpdateService,
};
pub use site::{ExtensionPaths, ExtensionSite, Site, relative_inside, ui_field};

use crate::auth::{self, Auth, HostName};
use crate::error::ApiError;

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
    shutdown: watch::Sender<bool>,
    bridge: Arc<crate::bridge::BridgeState>,
    dev: DevState,
    /// The installed extensions as last read, and when: every request on an
    /// extension origin needs its record, and reading SQLite for each one
    /// would cost more than the proxying itself.
    records: std::sync::Mutex<Option<Cached>>,
    /// How updates are checked, when they are (`crate::updates`).
    updates: std::sync::OnceLock<Arc<UpdateService>>,
    /// The registry client and configuration of the catalog and install routes.
    catalog: CatalogSetup,
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
        Self::with_catalog(manager, port, user_home, CatalogSetup::default())
    }

    /// The state of a server with a registry client and configuration for
    /// the catalog and install routes.
    pub fn with_catalog(
        manager: Arc<Manager>,
        port: u16,
        user_home: std::path::PathBuf,
        catalog: CatalogSetup,
    ) -> Self {
        let (shutdown, _) = watch::channel(false);
        let docker =
            crate::bridge::procs::resolve_program(&manager.docker_cli, &manager.search_path);
        let engine = crate::bridge::EngineHandle::lazy(manager.engine_host.clone());
        let limits = crate::bridge::Limits::from_config(&catalog.config);
        let mode = crate::bridge::relay::ModeCheck::probe(manager.layout.clone());
        let bridge = Arc::new(
            crate::bridge::BridgeState::with_limits(engine, docker, user_home, limits)
                .with_mode(mode),
        );
        Self {
            inner: Arc::new(Inner {
                manager,
                port,
                auth: Auth::new(),
                shutdown,
                bridge,
                dev: DevState::default(),
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
    pub fn catalog(&self) -> &CatalogSetup {
        &self.inner.catalog
    }

    /// The installed extensions, from a cache at most one second old.
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
    pub fn set_updates(&self, service: UpdateService) {
        let _ = self.inner.updates.set(Arc::new(service));
    }

    /// How updates are checked, when they are.
    pub fn updates(&self) -> Option<Arc<UpdateService>> {
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
    pub fn dev(&self) -> &DevState {
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

    /// The `Content-Security-Policy` of extension pages: only the dashboard
    /// may frame them.
    pub(crate) fn frame_ancestors(&self) -> &HeaderValue {
        &self.inner.frame_ancestors
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

impl axum::extract::FromRef<AppState> for Arc<crate::bridge::BridgeState> {
    fn from_ref(state: &AppState) -> Self {
        state.inner.bridge.clone()
    }
}
