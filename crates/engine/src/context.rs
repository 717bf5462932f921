//! Which engine to talk to, decided the way the docker CLI decides it.
//!
//! The caller reads the environment (`DOCKER_HOST`, `DOCKER_CONTEXT`,
//! `DOCKER_CONFIG`) and the command line once and passes the values here:
//!
//! 1. an explicit host (`-H` / `DOCKER_HOST`) wins;
//! 2. else the context named by `--context` / `DOCKER_CONTEXT` (pass either
//!    as `docker_context`; the CLI flag, when given, should be passed instead
//!    of the variable);
//! 3. else `currentContext` in `<config>/config.json`;
//! 4. the context `default` (or none at all) is the default socket.
//!
//! A named context's endpoint is `Endpoints.docker.Host` in
//! `<config>/contexts/meta/<sha256 hex of the name>/meta.json`.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::{EngineHost, HostError};

/// The name of the context that means "the default socket".
pub const DEFAULT_CONTEXT: &str = "default";

/// Why the engine address could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// An explicit `DOCKER_HOST` / `-H` value is not usable.
    #[error(transparent)]
    Host(#[from] HostError),
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
    /// The context uses TLS, which dockhand does not support yet.
    #[error(
        "docker context `{name}` uses TLS ({path}), which dockhand does not support yet; use a unix socket or plain tcp:// context, or set DOCKER_HOST"
    )]
    Tls {
        /// The context name.
        name: String,
        /// Its TLS material.
        path: PathBuf,
    },
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
}

/// Resolves the engine address like the docker CLI (see the module docs).
///
/// Empty strings count as unset, as they do for the docker CLI.
pub fn resolve_host(
    docker_host: Option<&str>,
    docker_context: Option<&str>,
    docker_config_dir: &Path,
) -> Result<EngineHost, ContextError> {
    if let Some(host) = docker_host.filter(|h| !h.is_empty()) {
        return Ok(host.parse()?);
    }
    let name = match docker_context.filter(|c| !c.is_empty()) {
        Some(name) => name.to_owned(),
        None => current_context(docker_config_dir)?.unwrap_or_default(),
    };
    if name.is_empty() || name == DEFAULT_CONTEXT {
        return Ok(EngineHost::default_socket());
    }
    context_host(&name, docker_config_dir)
}

/// The directory name the docker CLI uses for a context: the SHA-256 of its name, in hex.
pub fn context_dir_name(name: &str) -> String {
    format!("{:x}", Sha256::digest(name.as_bytes()))
}

fn current_context(config_dir: &Path) -> Result<Option<String>, ContextError> {
    let path = config_dir.join("config.json");
    let text = match std::fs::read_to_string(&path) {
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
    let text = match std::fs::read_to_string(&path) {
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
    let host = meta
        .endpoints
        .docker
        .and_then(|d| d.host)
        .filter(|h| !h.is_empty());
    let Some(host) = host else {
        return Err(ContextError::NoEndpoint {
            name: name.to_owned(),
            path,
        });
    };
    let tls = config_dir
        .join("contexts")
        .join("tls")
        .join(&dir)
        .join("docker");
    if tls.is_dir() {
        return Err(ContextError::Tls {
            name: name.to_owned(),
            path: tls,
        });
    }
    host.parse().map_err(|source| ContextError::Endpoint {
        name: name.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, rel: &str, text: &str) {
        let path = dir.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    fn add_context(dir: &Path, name: &str, host: &str) {
        let meta = serde_json::json!({
            "Name": name,
            "Metadata": {"Description": "test"},
            "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": false}},
        });
        write(
            dir,
            &format!("contexts/meta/{}/meta.json", context_dir_name(name)),
            &meta.to_string(),
        );
    }

    #[test]
    fn context_dir_is_the_sha256_of_the_name() {
        // What `printf default | sha256sum` prints.
        assert_eq!(
            context_dir_name("default"),
            "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
        );
    }

    #[test]
    fn explicit_host_wins() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "config.json", r#"{"currentContext":"remote"}"#);
        add_context(dir.path(), "remote", "tcp://10.0.0.1:2375");
        let host = resolve_host(Some("unix:///run/x.sock"), Some("remote"), dir.path()).unwrap();
        assert_eq!(host, EngineHost::Unix("/run/x.sock".into()));
        assert!(matches!(
            resolve_host(Some("ftp://x"), None, dir.path()),
            Err(ContextError::Host(HostError::Malformed(_)))
        ));
    }

    #[test]
    fn nothing_configured_means_the_default_socket() {
        let dir = tempfile::tempdir().unwrap();
        let host = resolve_host(None, None, dir.path()).unwrap();
        assert_eq!(host, EngineHost::default_socket());
        // Empty values count as unset.
        let host = resolve_host(Some(""), Some(""), dir.path()).unwrap();
        assert_eq!(host, EngineHost::default_socket());
        write(dir.path(), "config.json", r#"{"auths":{}}"#);
        assert_eq!(
            resolve_host(None, None, dir.path()).unwrap(),
            EngineHost::default_socket()
        );
        write(dir.path(), "config.json", r#"{"currentContext":"default"}"#);
        assert_eq!(
            resolve_host(None, None, dir.path()).unwrap(),
            EngineHost::default_socket()
        );
    }

    #[test]
    fn current_context_from_config() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "config.json", r#"{"currentContext":"colima"}"#);
        add_context(dir.path(), "colima", "unix:///home/me/.colima/docker.sock");
        add_context(dir.path(), "other", "tcp://127.0.0.1:2375");
        assert_eq!(
            resolve_host(None, None, dir.path()).unwrap(),
            EngineHost::Unix("/home/me/.colima/docker.sock".into())
        );
        // DOCKER_CONTEXT beats currentContext.
        assert_eq!(
            resolve_host(None, Some("other"), dir.path()).unwrap(),
            EngineHost::Tcp("127.0.0.1:2375".into())
        );
        // DOCKER_CONTEXT=default beats currentContext too.
        assert_eq!(
            resolve_host(None, Some("default"), dir.path()).unwrap(),
            EngineHost::default_socket()
        );
    }

    #[test]
    fn broken_contexts_say_what_is_wrong() {
        let dir = tempfile::tempdir().unwrap();
        let e = resolve_host(None, Some("nope"), dir.path()).unwrap_err();
        assert!(matches!(e, ContextError::NoSuchContext { .. }), "{e:?}");
        assert!(e.to_string().contains("`nope` does not exist"), "{e}");

        write(dir.path(), "config.json", "{not json");
        let e = resolve_host(None, None, dir.path()).unwrap_err();
        assert!(matches!(e, ContextError::Config { .. }), "{e:?}");
        assert!(e.to_string().contains("config.json"), "{e}");

        let name = "bad";
        write(
            dir.path(),
            &format!("contexts/meta/{}/meta.json", context_dir_name(name)),
            r#"{"Name":"bad","Endpoints":{}}"#,
        );
        let e = resolve_host(None, Some(name), dir.path()).unwrap_err();
        assert!(matches!(e, ContextError::NoEndpoint { .. }), "{e:?}");

        add_context(dir.path(), "ssh", "ssh://me@box");
        let e = resolve_host(None, Some("ssh"), dir.path()).unwrap_err();
        assert!(
            matches!(
                e,
                ContextError::Endpoint {
                    source: HostError::Unsupported(_),
                    ..
                }
            ),
            "{e:?}"
        );

        add_context(dir.path(), "secure", "tcp://10.0.0.2:2376");
        write(
            dir.path(),
            &format!("contexts/tls/{}/docker/ca.pem", context_dir_name("secure")),
            "pem",
        );
        let e = resolve_host(None, Some("secure"), dir.path()).unwrap_err();
        assert!(matches!(e, ContextError::Tls { .. }), "{e:?}");
    }
}
