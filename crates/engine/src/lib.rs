//! dockhand-engine: the Docker Engine API as dockhand uses it.
//!
//! This crate owns:
//!
//! - the connection to an engine: `DOCKER_HOST` or a docker CLI context
//!   resolved into a typed [`EngineHost`] ([`resolve_host`]), API-version
//!   negotiation, errors that name the socket and say how to start an engine;
//! - images: exporting (`docker save`) and loading (`docker load`);
//! - containers, networks and volumes found by label, start/stop, logs and
//!   exec ([`ContainerInfo`], [`ExecOutput`], [`ExecStream`]);
//! - the compose runner ([`ComposeRunner`]): docker compose v2 or
//!   docker-compose v1, run as a child process against the given engine;
//! - the override compose file that gives every backend service dockhand's
//!   labels, its socket dir and the engine socket ([`compose_override`]), and
//!   the one-service compose file of a `vm.image` backend ([`vm_image_compose`]);
//! - waiting for a backend's socket ([`wait_for_socket`]).
//!
//! It reads no environment variables and prints nothing: everything comes in
//! as arguments.

mod compose;
mod containers;
mod context;
mod host;
mod images;
#[path = "override.rs"]
mod overrides;
mod readiness;

pub use compose::{
    ComposeCli, ComposeError, ComposeProject, ComposeRunner, DEFAULT_COMPOSE_TIMEOUT, project_name,
};
pub use containers::{
    COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, ContainerInfo, EngineVersion, ExecOutput,
    ExecStream, LogLine, NetworkInfo, OutputChunk, OutputStream, StdStream, VolumeInfo,
};
pub use context::{ContextError, DEFAULT_CONTEXT, context_dir_name, resolve_host};
pub use host::{EngineHost, HostError};
pub use images::ImageSummary;
pub use overrides::{
    EXTENSION_LABEL, Override, OverrideError, OverrideInput, Replaced, ReplacedKind, VERSION_LABEL,
    compose_override, plugin_image_env, vm_image_compose, vm_image_service,
};
pub use readiness::{NotReady, wait_for_socket};

use bollard::Docker;

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The engine does not answer.
    #[error(
        "cannot reach the Docker engine at {host}: {reason}; start one (for example `sudo systemctl start docker`, or scripts/deps in this repository) or set DOCKER_HOST / --host"
    )]
    Unreachable {
        /// Where we looked.
        host: String,
        /// What went wrong.
        reason: String,
    },
    /// The image is not in the engine.
    #[error(
        "image {0} is not in the engine: pull or build it first (docker images lists what is there)"
    )]
    NoSuchImage(String),
    /// The container is not in the engine.
    #[error(
        "container {0} does not exist in the engine: it was removed; list what is there with `docker ps -a`"
    )]
    NoSuchContainer(String),
    /// The engine answered with an error.
    #[error("the Docker engine at {host} refused {action}: {message}")]
    Api {
        /// Where.
        host: String,
        /// What we asked.
        action: String,
        /// What it said.
        message: String,
    },
    /// Reading or writing a local file failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// A connected engine.
#[derive(Debug, Clone)]
pub struct Engine {
    docker: Docker,
    host: EngineHost,
}

impl Engine {
    /// Connects and negotiates the API version.
    pub async fn connect(host: &EngineHost) -> Result<Self, EngineError> {
        let unreachable = |reason: String| EngineError::Unreachable {
            host: host.to_string(),
            reason,
        };
        let docker = host.client().map_err(|e| unreachable(e.to_string()))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        Ok(Self {
            docker,
            host: host.clone(),
        })
    }

    /// Where the engine is.
    pub fn host(&self) -> &EngineHost {
        &self.host
    }

    /// The bollard client, for operations this crate does not wrap yet.
    pub fn client(&self) -> &Docker {
        &self.docker
    }

    fn api_error(&self, action: &str, e: bollard::errors::Error) -> EngineError {
        EngineError::Api {
            host: self.host.to_string(),
            action: action.to_owned(),
            message: e.to_string(),
        }
    }
}
