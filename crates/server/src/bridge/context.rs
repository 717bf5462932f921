//! What the bridge and the dashboard resources need from the server: the
//! calling extension ([`Caller`]), the shared state ([`BridgeState`]) and the
//! dashboard's session check ([`DashboardAccess`]).
//!
//! The server core provides them by implementing axum's `FromRef` /
//! `FromRequestParts` for its own state (see the adapter contract in
//! [`crate::bridge`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRef, FromRequest, Request};
use dockhand_engine::{Engine, EngineHost};
use dockhand_host::config::format_size;
use dockhand_host::layout::Layout;
use dockhand_host::state::ExtensionRecord;
use dockhand_spec::ExtensionId;
use serde::de::DeserializeOwned;
use tokio::sync::{OwnedSemaphorePermit, RwLock, Semaphore};

use super::exec::Processes;
use super::pool::UnixPools;
use super::relay::{ModeCheck, RelaySessions};
use crate::error::{ApiError, read_json};

/// The extension a bridge request comes from, already authenticated by the
/// server (its Host and its `dockhand_ext` cookie). Cheap to clone (one
/// `Arc`): the server builds it once per installed extension, not once per
/// request; its parts are reached through `Deref`.
#[derive(Debug, Clone)]
pub struct Caller(Arc<CallerParts>);

/// What a [`Caller`] knows.
#[derive(Debug)]
pub struct CallerParts {
    /// The installed extension.
    pub record: Arc<ExtensionRecord>,
    /// The installed version's directory, absolute
    /// (`$DOCKHAND_HOME/extensions/<fs-id>/<digest>/`).
    pub version_dir: PathBuf,
    /// The backend's socket directory (mounted at `/run/guest-services`).
    pub socket_dir: PathBuf,
    /// The extension's origin, `http://<slug>.localhost:PORT`: the only
    /// `Origin` its bridge accepts.
    pub origin: String,
    /// The label filter of its backend's containers in this home
    /// ([`Layout::owner_label`]).
    pub owner_label: String,
}

impl std::ops::Deref for Caller {
    type Target = CallerParts;

    fn deref(&self) -> &CallerParts {
        &self.0
    }
}

impl Caller {
    /// The caller for `record` with the paths of `layout`.
    pub fn new(layout: &Layout, record: Arc<ExtensionRecord>, origin: impl Into<String>) -> Self {
        Self(Arc::new(CallerParts {
            version_dir: layout.home.join(&record.dir),
            socket_dir: layout.socket_dir(&record.id),
            owner_label: layout.owner_label(&record.id),
            record,
            origin: origin.into(),
        }))
    }

    /// The extension id.
    pub fn id(&self) -> &ExtensionId {
        &self.record.id
    }

    /// The directory of its host binaries (`<version>/host/`).
    pub fn host_dir(&self) -> PathBuf {
        self.version_dir.join("host")
    }

    /// The directory of its compose files (`<version>/vm/`).
    pub fn vm_dir(&self) -> PathBuf {
        self.version_dir.join("vm")
    }

    /// The label filter of its backend's containers (this home's only).
    pub fn label(&self) -> String {
        self.owner_label.clone()
    }
}

/// Passed the dashboard's session check (cookie; `Origin` for state-changing
/// methods). The server implements `FromRequestParts` for it; the resource
/// routes take it as an argument and so answer only to the dashboard.
#[derive(Debug, Clone, Default)]
pub struct DashboardAccess {
    /// The dashboard origin of this request (`http://localhost:PORT`, or the
    /// `127.0.0.1` / `[::1]` form the browser used). The terminal WebSocket
    /// accepts only this `Origin`: a WebSocket is not protected by CORS, and
    /// `<slug>.localhost` pages are same-site with `localhost`, so the
    /// `SameSite=Strict` session cookie alone would let an extension page
    /// open a shell.
    pub origin: String,
}

/// Limits of the bridge.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Processes one extension may run at once (`429` beyond).
    pub max_processes: usize,
    /// Output one extension's collected execs may hold in memory at once.
    pub max_buffered: usize,
    /// The largest bridge request body, and the largest backend answer
    /// (`413` / `502` beyond).
    pub max_body: usize,
    /// How long a killed process has between SIGTERM and SIGKILL.
    pub kill_grace: Duration,
    /// How long a `vm.service` call may wait for the backend's whole answer
    /// (`504` beyond, the connection closed); `None`: no limit. Streaming
    /// answers (the exec WebSocket) are not cut.
    pub service_timeout: Option<Duration>,
    /// The bytes of `vm.service` request bodies and backend answers held at
    /// once over every extension (`503` beyond): see [`Budget`].
    pub in_flight_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_processes: 16,
            max_buffered: 16 << 20,
            max_body: 32 << 20,
            kill_grace: Duration::from_secs(2),
            service_timeout: Some(dockhand_host::config::DEFAULT_SERVICE_TIMEOUT),
            in_flight_bytes: usize::try_from(dockhand_host::config::DEFAULT_IN_FLIGHT_BYTES)
                .unwrap_or(usize::MAX),
        }
    }
}

impl Limits {
    /// The defaults with `[limits] service_timeout` and `in_flight_bytes`
    /// of `config`.
    pub fn from_config(config: &dockhand_host::config::Config) -> Self {
        Self {
            service_timeout: config.service_timeout(),
            in_flight_bytes: usize::try_from(config.in_flight_bytes()).unwrap_or(usize::MAX),
            ..Self::default()
        }
    }
}

/// The server-wide memory bound on `vm.service` bodies: every chunk of a
/// request body or a backend answer takes its size in permits as it
/// arrives (without waiting: an exhausted budget fails the call at once),
/// and gives them back when the answer has been sent. One atomic operation
/// per chunk, so the hot path stays lock-free.
#[derive(Debug, Clone)]
pub struct Budget {
    permits: Arc<Semaphore>,
    total: usize,
}

/// Bytes held against a [`Budget`]; given back when dropped.
#[derive(Debug, Default)]
pub struct Held(Option<OwnedSemaphorePermit>);

/// The budget is used up.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error(
    "dockhand serve holds {} of vm.service bodies in flight, and {} more would pass its limit of {} ([limits] in_flight_bytes in config.toml)",
    format_size(*in_use as u64),
    format_size(*wanted as u64),
    format_size(*total as u64)
)]
pub struct BudgetExhausted {
    /// The whole budget.
    pub total: usize,
    /// Held by every call when this one was refused.
    pub in_use: usize,
    /// The chunk this call asked for.
    pub wanted: usize,
}

impl Budget {
    /// A budget of `total` bytes (at least one).
    pub fn new(total: usize) -> Self {
        let total = total.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            permits: Arc::new(Semaphore::new(total)),
            total,
        }
    }

    /// The whole budget.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Bytes not held by any call now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }

    /// Adds `n` bytes to `held`, or fails at once when the budget has not
    /// that much left.
    pub fn take(&self, held: &mut Held, n: usize) -> Result<(), BudgetExhausted> {
        if n == 0 {
            return Ok(());
        }
        let exhausted = || BudgetExhausted {
            total: self.total,
            in_use: self.total - self.available().min(self.total),
            wanted: n,
        };
        let n = u32::try_from(n).map_err(|_| exhausted())?;
        let permit = Arc::clone(&self.permits)
            .try_acquire_many_owned(n)
            .map_err(|_| exhausted())?;
        match &mut held.0 {
            Some(p) => p.merge(permit),
            None => held.0 = Some(permit),
        }
        Ok(())
    }
}

impl Held {
    /// The bytes held.
    pub fn bytes(&self) -> usize {
        self.0.as_ref().map_or(0, OwnedSemaphorePermit::num_permits)
    }

    /// Adds what `other` holds.
    pub fn merge(&mut self, other: Held) {
        match (&mut self.0, other.0) {
            (Some(p), Some(o)) => p.merge(o),
            (None, o) => self.0 = o,
            (_, None) => {}
        }
    }
}

/// The engine, connected on first use (and again after a failed attempt),
/// so that `serve` starts while the engine is down.
#[derive(Debug)]
pub struct EngineHandle {
    host: EngineHost,
    engine: RwLock<Option<Engine>>,
}

impl EngineHandle {
    /// A handle that connects to `host` when first needed.
    pub fn lazy(host: EngineHost) -> Self {
        Self {
            host,
            engine: RwLock::new(None),
        }
    }

    /// A handle to an engine already connected.
    pub fn connected(engine: Engine) -> Self {
        Self {
            host: engine.host().clone(),
            engine: RwLock::new(Some(engine)),
        }
    }

    /// Where the engine is.
    pub fn host(&self) -> &EngineHost {
        &self.host
    }

    /// The engine; `503` when it cannot be reached.
    pub async fn get(&self) -> Result<Engine, ApiError> {
        if let Some(engine) = self.engine.read().await.as_ref() {
            return Ok(engine.clone());
        }
        let mut slot = self.engine.write().await;
        if let Some(engine) = slot.as_ref() {
            return Ok(engine.clone());
        }
        let engine = Engine::connect(&self.host).await?;
        *slot = Some(engine.clone());
        Ok(engine)
    }
}

/// The state the bridge and the resource routes share; the server keeps one
/// in an `Arc` for its whole life.
#[derive(Debug)]
pub struct BridgeState {
    /// The engine.
    pub engine: EngineHandle,
    /// The docker CLI, an absolute path (see [`super::exec::resolve_program`]);
    /// `None` when it is not installed (`docker.cli.exec` answers `503`).
    pub docker_cli: Option<PathBuf>,
    /// The user's home: where the file picker starts and the default `cwd`
    /// of processes.
    pub user_home: PathBuf,
    /// Every process the bridge started, per extension.
    pub processes: Arc<Processes>,
    /// Keep-alive connections to backend sockets.
    pub pools: UnixPools,
    /// Whether backends are reached through their relay (relay mode).
    pub mode: ModeCheck,
    /// In relay mode, each extension's relay session and connections.
    pub relays: RelaySessions,
    /// Limits.
    pub limits: Limits,
    /// The memory bound on `vm.service` bodies ([`Limits::in_flight_bytes`]).
    pub budget: Budget,
}

impl BridgeState {
    /// A state with the default [`Limits`].
    pub fn new(engine: EngineHandle, docker_cli: Option<PathBuf>, user_home: PathBuf) -> Self {
        Self::with_limits(engine, docker_cli, user_home, Limits::default())
    }

    /// A state with the given limits.
    pub fn with_limits(
        engine: EngineHandle,
        docker_cli: Option<PathBuf>,
        user_home: PathBuf,
        limits: Limits,
    ) -> Self {
        Self {
            engine,
            docker_cli,
            user_home,
            processes: Arc::new(Processes::new(limits)),
            pools: UnixPools::default(),
            mode: ModeCheck::fixed(false),
            relays: RelaySessions::default(),
            budget: Budget::new(limits.in_flight_bytes),
            limits,
        }
    }

    /// This state with `mode` deciding between local and relay mode
    /// (the default is local mode, without asking the engine).
    pub fn with_mode(mut self, mode: ModeCheck) -> Self {
        self.mode = mode;
        self
    }

    /// The docker CLI, or `503` saying how to get one.
    pub fn docker_cli(&self) -> Result<&Path, ApiError> {
        self.docker_cli.as_deref().ok_or_else(|| {
            ApiError::unavailable(
                "the docker CLI is not installed (no `docker` on PATH when dockhand started): \
                 install it (docker-ce-cli) and restart `dockhand serve`",
            )
        })
    }
}

/// A bridge call's JSON body, read within [`Limits::max_body`]: `413`
/// beyond it, `400` when it is not the expected JSON. Take it last, after
/// [`Caller`], so that a call is authenticated before its body is read.
#[derive(Debug)]
pub struct BridgeJson<T>(pub T);

impl<S, T> FromRequest<S> for BridgeJson<T>
where
    S: Send + Sync,
    Arc<BridgeState>: FromRef<S>,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let limit = Arc::<BridgeState>::from_ref(state).limits.max_body;
        read_json(req.into_body(), limit).await.map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_the_config() {
        let config = dockhand_host::config::Config::parse(
            Path::new("/u/config.toml"),
            "[limits]\nservice_timeout = \"off\"\nin_flight_bytes = \"8MiB\"\n",
        )
        .expect("parses");
        let limits = Limits::from_config(&config);
        assert_eq!(limits.service_timeout, None);
        assert_eq!(limits.in_flight_bytes, 8 << 20);
        assert_eq!(limits.max_body, Limits::default().max_body);
        let defaults = Limits::from_config(&Default::default());
        assert_eq!(defaults.service_timeout, Some(Duration::from_secs(60)));
        assert_eq!(defaults.in_flight_bytes, 256 << 20);
    }

    #[test]
    fn a_budget_is_taken_per_chunk_and_given_back() {
        let budget = Budget::new(100);
        let mut a = Held::default();
        budget.take(&mut a, 60).expect("fits");
        let mut b = Held::default();
        let e = budget.take(&mut b, 50).expect_err("past the budget");
        assert_eq!((e.in_use, e.wanted, e.total), (60, 50, 100));
        budget.take(&mut b, 40).expect("fits");
        assert_eq!(budget.available(), 0);
        a.merge(b);
        assert_eq!(a.bytes(), 100);
        drop(a);
        assert_eq!(budget.available(), 100);
    }
}
