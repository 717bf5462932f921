//! dockhand-engine: the Docker Engine API as dockhand uses it.
//!
//! This crate owns:
//!
//! - the connection to an engine: `DOCKER_HOST`, the TLS settings and a
//!   docker CLI context resolved into a typed [`EngineHost`]
//!   ([`resolve_engine`]): a unix socket, TCP, TCP with TLS (`tls.rs`, rustls)
//!   or ssh (`ssh.rs`, the system ssh running `docker system dial-stdio`);
//!   API-version negotiation, errors that name the engine and say what to do;
//! - whether the engine sees this machine's files ([`EngineMode`], probed
//!   once per engine and cached: `mode.rs`);
//! - which engine it is, Docker or Podman ([`EngineFlavor`]), and the one
//!   place where their differences are handled;
//! - the Engine API's resources, one module each (as bollard has them), with
//!   named option structs in and named structs out; no bollard type leaves
//!   the crate, and the Engine API's own JSON is handed on as [`ApiObject`]
//!   where a caller passes it through (the dashboard, the ddClient bridge):
//!   - `containers.rs`: found by label ([`ContainerInfo`]), listed and
//!     inspected ([`ListContainersOptions`], [`ContainerDetails`]), stats
//!     ([`StatsOptions`]), start, stop, removal by label;
//!   - `images.rs`: inspect ([`ImageSummary`]), list ([`ListImagesOptions`]),
//!     export (`docker save`) and load (`docker load`);
//!   - `volumes.rs` and `networks.rs`: found and removed by label
//!     ([`VolumeInfo`], [`NetworkInfo`]); volumes listed and inspected;
//!   - `logs.rs`: a container's log as lines per stream ([`LogLine`]);
//!   - `exec.rs`: a command collected ([`ExecOutput`]), streamed
//!     ([`ExecStream`]), or attached with input and a terminal
//!     ([`ExecOptions`], [`TerminalSize`]), and inspected
//!     ([`ExecDetails`]); `exec_kill.rs` ends a running exec from inside
//!     its container when the engine is local;
//!   - `system.rs`: ping and version ([`EngineVersion`]);
//!   - `object.rs`: [`ApiObject`];
//! - errors as [`EngineError`]: a missing container or image, a stopped
//!   container, the engine's own 4xx answers with their status
//!   ([`EngineError::Rejected`]), an engine that does not answer;
//! - the compose runner ([`ComposeRunner`], `compose/`): docker compose v2
//!   or docker-compose v1, run as a child process against the given engine;
//! - the override compose file that gives every backend service dockhand's
//!   labels, its socket dir and the engine socket ([`compose_override`]), and
//!   the one-service compose file of a `vm.image` backend ([`vm_image_compose`]);
//! - waiting for a backend's socket ([`wait_for_socket`]);
//! - an error and its causes as one line ([`error_chain`]).
//!
//! It reads no environment variables and prints nothing: everything comes in
//! as arguments.

mod compose;
mod containers;
mod context;
mod error_chain;
mod exec;
mod exec_kill;
mod expose;
mod flavor;
mod host;
mod images;
mod logs;
mod mode;
mod networks;
mod object;
#[path = "override.rs"]
mod overrides;
mod probe_image;
mod readiness;
mod relay;
mod saved_image;
mod ssh;
mod system;
mod tls;
mod volumes;

pub use compose::{
    ComposeChoice, ComposeCli, ComposeEnv, ComposeError, ComposeProject, ComposeRunner,
    DEFAULT_COMPOSE_TIMEOUT, DEFAULT_PATH, SYSTEM_PLUGIN_DIRS, plugin_candidates, project_name,
};
pub use containers::{
    COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, ContainerDetails, ContainerInfo,
    ListContainersOptions, StatsOptions,
};
pub use context::{
    ContextError, DEFAULT_CONTEXT, EngineRequest, EngineSource, ResolvedEngine, TlsRequest,
    context_dir_name, resolve_engine, resolve_host,
};
pub use error_chain::error_chain;
pub use exec::{ExecDetails, ExecInput, ExecOptions, ExecOutput, ExecStream, TerminalSize};
pub use expose::normalize_expose;
pub use flavor::EngineFlavor;
pub use host::{
    CHILD_ENV_NAMES, DEFAULT_SOCKET, DEFAULT_TCP_PORT, DEFAULT_TLS_PORT, EngineHost, HostError,
    SshTarget, TlsConfig,
};
pub use images::{ImageSummary, ListImagesOptions};
pub use logs::{LogLine, OutputChunk, OutputStream, StdStream};
pub use mode::{EngineMode, ModeCache, ModeOptions, ModeReport};
pub use networks::NetworkInfo;
pub use object::ApiObject;
pub use overrides::{
    EXTENSION_LABEL, Override, OverrideError, OverrideInput, RELAY_IMAGE_VAR, RELAY_SERVICE,
    RELAY_VOLUME, REMOTE_ENGINE_SOCKET, ROLE_LABEL, Replaced, ReplacedKind, VERSION_LABEL,
    compose_override, plugin_image_env, relay_image_env, vm_image_compose, vm_image_service,
};
pub use readiness::{NotReady, SocketState, probe_socket, wait_for_socket};
pub use relay::{
    DirectError, ExecIo, RELAY_ARCHES, RELAY_BINARY, RELAY_LABEL, RELAY_REPOSITORY,
    RELAY_SOCKET_DIR, Relay, RelayBinaries, RelayDriver, RelayError, RelayImageError, RelayIo,
    RelayStream, RelayTransport, RelayViolation, StderrTail, relay_image_name, relay_image_tar,
};
pub use system::EngineVersion;
pub use tls::{CA_FILE, CERT_FILE, KEY_FILE, TlsError};
pub use volumes::VolumeInfo;

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
    /// The engine's TLS material cannot be used, or the handshake failed.
    #[error("cannot speak TLS to the Docker engine at {host}: {reason}")]
    Tls {
        /// Where.
        host: String,
        /// What went wrong and what to do.
        reason: String,
    },
    /// An ssh engine does not answer: what ssh or the far side said, and the fix.
    #[error("cannot reach the Docker engine at {host}: {reason}")]
    Ssh {
        /// Where.
        host: String,
        /// What went wrong and what to do.
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
    /// The container exists but is stopped.
    #[error(
        "container {0} is not running: start it first (`dockhand enable` for an extension's backend, `docker start` otherwise)"
    )]
    NotRunning(String),
    /// The engine turned a request down as a client error (4xx: no such
    /// object, a name in use, a request it does not accept); `status` is the
    /// engine's own.
    #[error("{action}: {message}")]
    Rejected {
        /// Where.
        host: String,
        /// What we asked.
        action: String,
        /// The engine's HTTP status (`400`..`499`).
        status: u16,
        /// What it said.
        message: String,
    },
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
    version: EngineVersion,
}

impl Engine {
    /// Connects, negotiates the API version and tells Docker from Podman,
    /// all from one `GET /version` (Podman runs `conmon --version` and
    /// `runc --version` to answer it: about half a second).
    pub async fn connect(host: &EngineHost) -> Result<Self, EngineError> {
        let unreachable = |reason: String| EngineError::Unreachable {
            host: host.describe(),
            reason,
        };
        let make = host.clients()?;
        let probe = make(bollard::API_DEFAULT_VERSION)?;
        let answer = match probe.version().await {
            Ok(answer) => answer,
            Err(e) => return Err(Self::why_unreachable(host, e).await),
        };
        let version = EngineVersion::from(&answer);
        let server = api_version(&version.api_version).ok_or_else(|| {
            unreachable(format!(
                "it answered with API version `{}`, not MAJOR.MINOR",
                version.api_version
            ))
        })?;
        // As bollard's negotiation: the lower of the two versions.
        let docker = if server < *bollard::API_DEFAULT_VERSION {
            make(&server)?
        } else {
            probe
        };
        Ok(Self {
            docker,
            host: host.clone(),
            version,
        })
    }

    /// The error for an engine that did not answer `GET /version`: for ssh,
    /// what ssh and the far side say when run alone; for TLS, a certificate
    /// problem as such.
    async fn why_unreachable(host: &EngineHost, e: bollard::errors::Error) -> EngineError {
        let reason = e.to_string();
        match host {
            EngineHost::Ssh(target) => EngineError::Ssh {
                host: host.to_string(),
                reason: crate::ssh::diagnose(target).await.unwrap_or(reason),
            },
            EngineHost::Tls { tls, .. }
                if reason.contains("certificate")
                    || reason.contains("Certificate")
                    || reason.contains("handshake")
                    || reason.contains("alert") =>
            {
                let hint = if tls.client.is_none() {
                    "; no client certificate was sent (no cert.pem and key.pem in DOCKER_CERT_PATH, no --tlscert/--tlskey)"
                } else {
                    ""
                };
                EngineError::Tls {
                    host: host.describe(),
                    reason: format!(
                        "{reason}{hint}: check that DOCKER_CERT_PATH (or --tlscacert, --tlscert, --tlskey, or the context's TLS material) holds this engine's CA and a client certificate it accepts, and that its certificate names the address you use"
                    ),
                }
            }
            _ => EngineError::Unreachable {
                host: host.describe(),
                reason,
            },
        }
    }

    /// Where the engine is.
    pub fn host(&self) -> &EngineHost {
        &self.host
    }

    /// Which engine it is.
    pub fn flavor(&self) -> EngineFlavor {
        self.version.flavor
    }

    /// The answer to a listing of `what` (`containers`, `volumes`) labelled
    /// `label`; any failure is an [`EngineError::Api`].
    async fn list_labelled<T>(
        &self,
        what: &str,
        label: &str,
        list: impl Future<Output = Result<T, bollard::errors::Error>>,
    ) -> Result<T, EngineError> {
        let action = format!("listing {what} labelled {label}");
        list.await.map_err(|e| self.api_error(&action, e))
    }

    /// The answer to one Engine API request; a failure as
    /// [`Engine::request_error`] tells it (a client error keeps its status).
    async fn request<T>(
        &self,
        action: &str,
        request: impl Future<Output = Result<T, bollard::errors::Error>>,
    ) -> Result<T, EngineError> {
        request.await.map_err(|e| self.request_error(action, e))
    }

    fn api_error(&self, action: &str, e: bollard::errors::Error) -> EngineError {
        EngineError::Api {
            host: self.host.describe(),
            action: action.to_owned(),
            message: e.to_string(),
        }
    }

    /// A failed request as the engine meant it: its client errors (4xx)
    /// with their status ([`EngineError::Rejected`]), its own failures
    /// ([`EngineError::Api`]), and no answer at all ([`EngineError::Unreachable`]).
    fn request_error(&self, action: &str, e: bollard::errors::Error) -> EngineError {
        match e {
            bollard::errors::Error::DockerResponseServerError {
                status_code,
                message,
            } if (400..500).contains(&status_code) => EngineError::Rejected {
                host: self.host.describe(),
                action: action.to_owned(),
                status: status_code,
                message,
            },
            bollard::errors::Error::DockerResponseServerError { message, .. } => EngineError::Api {
                host: self.host.describe(),
                action: action.to_owned(),
                message,
            },
            other => EngineError::Unreachable {
                host: self.host.describe(),
                reason: format!("{action}: {other}"),
            },
        }
    }
}

/// `1.41` as bollard's version type.
fn api_version(text: &str) -> Option<bollard::ClientVersion> {
    let (major, minor) = text.split_once('.')?;
    Some(bollard::ClientVersion {
        major_version: major.parse().ok()?,
        minor_version: minor.parse().ok()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_parse() {
        let v = api_version("1.41").expect("parses");
        assert_eq!((v.major_version, v.minor_version), (1, 41));
        assert!(v < *bollard::API_DEFAULT_VERSION);
        assert!(api_version("1").is_none());
        assert!(api_version("v1.x").is_none());
    }
}
