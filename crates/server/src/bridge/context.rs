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

use dockhand_engine::{Engine, EngineHost};
use dockhand_host::layout::Layout;
use dockhand_host::state::ExtensionRecord;
use dockhand_oci::ExtensionId;
use tokio::sync::RwLock;

use super::error::ApiError;
use super::exec::Processes;
use super::pool::UnixPools;

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

    /// The label every container of its backend carries.
    pub fn label(&self) -> String {
        format!("{}={}", dockhand_engine::EXTENSION_LABEL, self.record.id)
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
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_processes: 16,
            max_buffered: 16 << 20,
            max_body: 32 << 20,
            kill_grace: Duration::from_secs(2),
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
    /// Limits.
    pub limits: Limits,
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
            limits,
        }
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
