//! dockhand-engine: the Docker Engine API as dockhand uses it.
//!
//! This crate owns the connection to an engine (`DOCKER_HOST` as a typed
//! [`EngineHost`], API-version negotiation, errors that name the socket and
//! say how to start an engine) and the image operations the OCI side needs:
//! exporting an image (`docker save`) and loading one (`docker load`).
//! Containers, exec, logs, events and the compose runner join it with the
//! extension lifecycle.

mod host;
mod images;

pub use host::{EngineHost, HostError};
pub use images::ImageSummary;

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
