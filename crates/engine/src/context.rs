//! Which engine to talk to, decided the way the docker CLI decides it.
//!
//! The caller reads the command line and the environment once and passes
//! the values in an [`EngineRequest`]:
//!
//! 1. `--context` and `-H` together are refused, as the docker CLI does;
//! 2. `--context NAME` wins;
//! 3. else `-H`, else `DOCKER_HOST` (with the TLS settings below);
//! 4. else the context named by `DOCKER_CONTEXT`;
//! 5. else `currentContext` in `<config>/config.json`;
//! 6. the context `default` (or none at all) is the default socket, or
//!    `tcp://localhost:2376` when TLS is asked for.
//!
//! A named context's endpoint is `Endpoints.docker.Host` (and
//! `SkipTLSVerify`) in `<config>/contexts/meta/<sha256 hex of the
//! name>/meta.json`, its TLS material `ca.pem`, `cert.pem` and `key.pem` in
//! `<config>/contexts/tls/<same>/docker/`.
//!
//! TLS for an address given by `-H` / `DOCKER_HOST`: `--tlsverify` or
//! `DOCKER_TLS_VERIFY` (verify the engine), `--tls` or `DOCKER_TLS` (TLS
//! without verifying), the files from `--tlscacert`, `--tlscert`,
//! `--tlskey`, else `ca.pem`, `cert.pem` and `key.pem` in `DOCKER_CERT_PATH`
//! (default: the config dir). `https://` is TLS, verified, the CA optional
//! (the public roots without one). A file named explicitly must exist, and
//! so must the CA when a `tcp://` engine is verified.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::tls::{CA_FILE, CERT_FILE, KEY_FILE};
use crate::{EngineHost, HostError, TlsConfig};

/// The name of the context that means "the default socket".
pub const DEFAULT_CONTEXT: &str = "default";

/// Why the engine address could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// An explicit `DOCKER_HOST` / `-H` value, or its TLS settings, is not usable.
    #[error(transparent)]
    Host(#[from] HostError),
    /// `--context` and `--host` together.
    #[error(
        "conflicting options: either --host or --context, not both (the docker CLI refuses them together too)"
    )]
    Conflict,
    /// `config.json` exists but cannot be read or parsed.
    #[error("cannot read the docker CLI config {path}: {reason}; fix or remove the file")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The named context has no metadata.
    #[error(
        "docker context `{name}` does not exist (no {path}); list contexts with `docker context ls`, or unset DOCKER_CONTEXT"
    )]
    NoSuchContext {
        /// The context name.
        name: String,
        /// Where its metadata should be.
        path: PathBuf,
    },
    /// The context's metadata cannot be read or parsed.
    #[error("cannot read docker context `{name}` from {path}: {reason}")]
    Meta {
        /// The context name.
        name: String,
        /// Its meta.json.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// The context has no docker endpoint.
    #[error(
        "docker context `{name}` has no docker endpoint in {path}; recreate it with `docker context create {name} --docker host=…`"
    )]
    NoEndpoint {
        /// The context name.
        name: String,
        /// Its meta.json.
        path: PathBuf,
    },
    /// The context's endpoint is not usable.
    #[error("docker context `{name}`: {source}")]
    Endpoint {
        /// The context name.
        name: String,
        /// Why its host is not usable.
        source: HostError,
    },
}

/// What the caller read from its command line and environment.
#[derive(Debug, Clone, Default)]
pub struct EngineRequest {
    /// `-H` / `--host`.
    pub host_flag: Option<String>,
    /// `DOCKER_HOST`.
    pub host_env: Option<String>,
    /// `--context`.
    pub context_flag: Option<String>,
    /// `DOCKER_CONTEXT`.
    pub context_env: Option<String>,
    /// The docker CLI's config directory (`--config`, `DOCKER_CONFIG`, `~/.docker`).
    pub config_dir: PathBuf,
    /// TLS for an engine named by `-H` / `DOCKER_HOST` (a context has its own).
    pub tls: TlsRequest,
}

/// The TLS settings of the command line and environment.
#[derive(Debug, Clone, Default)]
pub struct TlsRequest {
    /// `--tls`, or `DOCKER_TLS` set: TLS, the engine's certificate not verified.
    pub tls: bool,
    /// `--tlsverify`, or `DOCKER_TLS_VERIFY` set: TLS, verified.
    pub verify: bool,
    /// `--tlscacert`.
    pub ca: Option<PathBuf>,
    /// `--tlscert`.
    pub cert: Option<PathBuf>,
    /// `--tlskey`.
    pub key: Option<PathBuf>,
    /// `DOCKER_CERT_PATH`; unset: the config directory.
    pub cert_path: Option<PathBuf>,
}

impl TlsRequest {
    /// True when TLS is asked for at all.
    pub fn wanted(&self) -> bool {
        self.tls || self.verify
    }
}

/// How a context was chosen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContextFrom {
    /// `--context`.
    Flag,
    /// `DOCKER_CONTEXT`.
    Env,
    /// `currentContext` in this config file.
    Config(PathBuf),
}

/// Where the engine address came from, for `doctor` and `version`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineSource {
    /// `-H` / `--host`.
    HostFlag,
    /// `DOCKER_HOST`.
    HostEnv,
    /// A docker CLI context.
    Context {
        /// Its name.
        name: String,
        /// How it was chosen.
        from: ContextFrom,
    },
    /// Nothing named an engine: the default socket (or `tcp://localhost:2376`
    /// with TLS).
    Default,
}

impl fmt::Display for EngineSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineSource::HostFlag => f.write_str("--host"),
            EngineSource::HostEnv => f.write_str("DOCKER_HOST"),
            EngineSource::Context { name, from } => {
                write!(f, "docker context `{name}` (")?;
                match from {
                    ContextFrom::Flag => f.write_str("--context")?,
                    ContextFrom::Env => f.write_str("DOCKER_CONTEXT")?,
                    ContextFrom::Config(path) => {
                        write!(f, "currentContext in {}", path.display())?;
                    }
                }
                f.write_str(")")
            }
            EngineSource::Default => f.write_str("the default (nothing names an engine)"),
        }
    }
}

/// The engine and where its address came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedEngine {
    /// The engine.
    pub host: EngineHost,
    /// Where its address came from.
    pub source: EngineSource,
}

#[derive(Deserialize)]
struct ConfigFile {
    #[serde(rename = "currentContext", default)]
    current_context: Option<String>,
}

#[derive(Deserialize)]
struct MetaFile {
    #[serde(rename = "Endpoints", default)]
    endpoints: Endpoints,
}

#[derive(Deserialize, Default)]
struct Endpoints {
    docker: Option<DockerEndpoint>,
}

#[derive(Deserialize)]
struct DockerEndpoint {
    #[serde(rename = "Host", default)]
    host: Option<String>,
    #[serde(rename = "SkipTLSVerify", default)]
    skip_tls_verify: bool,
}

fn set(value: &Option<String>) -> Option<&str> {
    value.as_deref().filter(|v| !v.is_empty())
}

/// Resolves the engine like the docker CLI (see the module docs). Empty
/// strings count as unset, as they do for the docker CLI.
pub fn resolve_engine(req: &EngineRequest) -> Result<ResolvedEngine, ContextError> {
    let context_flag = set(&req.context_flag);
    if context_flag.is_some() && set(&req.host_flag).is_some() {
        return Err(ContextError::Conflict);
    }
    let (name, from) = if let Some(name) = context_flag {
        (name.to_owned(), ContextFrom::Flag)
    } else if let Some(host) = set(&req.host_flag) {
        return Ok(ResolvedEngine {
            host: with_tls(host.parse()?, &req.tls, &req.config_dir)?,
            source: EngineSource::HostFlag,
        });
    } else if let Some(host) = set(&req.host_env) {
        return Ok(ResolvedEngine {
            host: with_tls(host.parse()?, &req.tls, &req.config_dir)?,
            source: EngineSource::HostEnv,
        });
    } else if let Some(name) = set(&req.context_env) {
        (name.to_owned(), ContextFrom::Env)
    } else {
        match current_context(&req.config_dir)? {
            Some(name) if !name.is_empty() => (
                name,
                ContextFrom::Config(req.config_dir.join("config.json")),
            ),
            _ => (DEFAULT_CONTEXT.to_owned(), ContextFrom::Env),
        }
    };
    if name == DEFAULT_CONTEXT {
        // The default context is DOCKER_HOST when set (`--context default`
        // with DOCKER_HOST), else the default socket.
        if let Some(host) = set(&req.host_env) {
            return Ok(ResolvedEngine {
                host: with_tls(host.parse()?, &req.tls, &req.config_dir)?,
                source: EngineSource::HostEnv,
            });
        }
        let host = if req.tls.wanted() {
            // The docker CLI's default with TLS and no host.
            with_tls(
                EngineHost::Tcp(format!("localhost:{}", crate::DEFAULT_TLS_PORT)),
                &req.tls,
                &req.config_dir,
            )?
        } else {
            EngineHost::default_socket()
        };
        return Ok(ResolvedEngine {
            host,
            source: EngineSource::Default,
        });
    }
    Ok(ResolvedEngine {
        host: context_host(&name, &req.config_dir)?,
        source: EngineSource::Context { name, from },
    })
}

/// Resolves the engine from `DOCKER_HOST` (winning) and `DOCKER_CONTEXT`
/// without TLS settings: [`resolve_engine`] with those two.
pub fn resolve_host(
    docker_host: Option<&str>,
    docker_context: Option<&str>,
    docker_config_dir: &Path,
) -> Result<EngineHost, ContextError> {
    resolve_engine(&EngineRequest {
        host_env: docker_host.map(str::to_owned),
        context_env: docker_context.map(str::to_owned),
        config_dir: docker_config_dir.to_path_buf(),
        ..Default::default()
    })
    .map(|r| r.host)
}

/// The directory name the docker CLI uses for a context: the SHA-256 of its name, in hex.
pub fn context_dir_name(name: &str) -> String {
    format!("{:x}", Sha256::digest(name.as_bytes()))
}

/// `host` with the TLS settings of the command line and environment applied.
fn with_tls(
    host: EngineHost,
    req: &TlsRequest,
    config_dir: &Path,
) -> Result<EngineHost, HostError> {
    let (addr, https) = match host {
        EngineHost::Tcp(addr) if req.wanted() => (addr, false),
        EngineHost::Tls { addr, .. } => (addr, true),
        other => return Ok(other),
    };
    let dir = req
        .cert_path
        .clone()
        .unwrap_or_else(|| config_dir.to_path_buf());
    let verify = req.verify || https;
    let ca = if verify {
        let (path, explicit) = match &req.ca {
            Some(ca) => (ca.clone(), true),
            None => (dir.join(CA_FILE), false),
        };
        if path.is_file() {
            Some(path)
        } else if explicit || !https {
            return Err(HostError::NoTlsCa { path, https });
        } else {
            None
        }
    } else {
        None
    };
    let client = client_pair(
        (req.cert.clone(), dir.join(CERT_FILE)),
        (req.key.clone(), dir.join(KEY_FILE)),
    )?;
    let mut tls = TlsConfig {
        verify,
        ca,
        client,
        cert_dir: None,
    };
    tls.cert_dir = tls.standard_dir();
    Ok(EngineHost::Tls { addr, tls })
}

/// The client certificate and key: a file named by a flag must exist; a
/// default one may be missing (no client certificate), but not only one of
/// the two.
fn client_pair(
    cert: (Option<PathBuf>, PathBuf),
    key: (Option<PathBuf>, PathBuf),
) -> Result<Option<(PathBuf, PathBuf)>, HostError> {
    let pick = |(flag, default): (Option<PathBuf>, PathBuf),
                what: &'static str,
                option: &'static str| match flag {
        Some(path) if path.is_file() => Ok(Some(path)),
        Some(path) => Err(HostError::NoTlsFile { what, option, path }),
        None => Ok(default.is_file().then_some(default)),
    };
    let cert_path = cert.0.clone().unwrap_or_else(|| cert.1.clone());
    let key_path = key.0.clone().unwrap_or_else(|| key.1.clone());
    match (
        pick(cert, "client certificate", "--tlscert")?,
        pick(key, "client key", "--tlskey")?,
    ) {
        (Some(cert), Some(key)) => Ok(Some((cert, key))),
        (None, None) => Ok(None),
        (Some(_), None) => Err(HostError::NoTlsKey {
            cert: cert_path,
            key: key_path,
        }),
        (None, Some(_)) => Err(HostError::NoTlsCert {
            key: key_path,
            cert: cert_path,
        }),
    }
}

fn current_context(config_dir: &Path) -> Result<Option<String>, ContextError> {
    let path = config_dir.join("config.json");
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(ContextError::Config {
                path,
                reason: e.to_string(),
            });
        }
    };
    let config: ConfigFile = serde_json::from_str(&text).map_err(|e| ContextError::Config {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    Ok(config.current_context)
}

fn context_host(name: &str, config_dir: &Path) -> Result<EngineHost, ContextError> {
    let dir = context_dir_name(name);
    let path = config_dir
        .join("contexts")
        .join("meta")
        .join(&dir)
        .join("meta.json");
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(ContextError::NoSuchContext {
                name: name.to_owned(),
                path,
            });
        }
        Err(e) => {
            return Err(ContextError::Meta {
                name: name.to_owned(),
                path,
                reason: e.to_string(),
            });
        }
    };
    let meta: MetaFile = serde_json::from_str(&text).map_err(|e| ContextError::Meta {
        name: name.to_owned(),
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let Some(endpoint) = meta.endpoints.docker else {
        return Err(ContextError::NoEndpoint {
            name: name.to_owned(),
            path,
        });
    };
    let Some(host) = endpoint.host.filter(|h| !h.is_empty()) else {
        return Err(ContextError::NoEndpoint {
            name: name.to_owned(),
            path,
        });
    };
    let endpoint_error = |source| ContextError::Endpoint {
        name: name.to_owned(),
        source,
    };
    let host: EngineHost = host.parse().map_err(endpoint_error)?;
    let tls_dir = config_dir
        .join("contexts")
        .join("tls")
        .join(&dir)
        .join("docker");
    let addr = match &host {
        EngineHost::Tcp(addr) | EngineHost::Tls { addr, .. } => addr.clone(),
        _ => return Ok(host),
    };
    let ca = tls_dir.join(CA_FILE);
    let ca = ca.is_file().then_some(ca);
    let client = client_pair(
        (None, tls_dir.join(CERT_FILE)),
        (None, tls_dir.join(KEY_FILE)),
    )
    .map_err(endpoint_error)?;
    let has_material = ca.is_some() || client.is_some();
    if matches!(host, EngineHost::Tcp(_)) && !has_material && !endpoint.skip_tls_verify {
        return Ok(host);
    }
    Ok(EngineHost::Tls {
        addr,
        tls: TlsConfig {
            verify: !endpoint.skip_tls_verify,
            ca,
            client,
            cert_dir: has_material.then_some(tls_dir),
        },
    })
}

#[cfg(test)]
#[path = "context_tests.rs"]
mod tests;
