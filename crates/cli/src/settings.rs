//! Settings resolved once, at the edge, from flags and the environment.

use std::path::PathBuf;

use anyhow::{Context, Result};
use dockhand_engine::EngineHost;

use crate::args::Cli;

/// The system-wide config file when `DOCKHAND_SYSTEM_CONFIG` does not name another.
pub const SYSTEM_CONFIG: &str = "/etc/dockhand/config.toml";

/// Everything below the CLI gets from the environment, typed.
#[derive(Debug, Clone)]
pub struct Settings {
    /// `$DOCKHAND_HOME`.
    pub home: PathBuf,
    /// The engine (`--context`, `-H`, `DOCKER_HOST`, `DOCKER_CONTEXT`,
    /// `currentContext`, else the default socket; TLS from `--tls*`,
    /// `DOCKER_TLS_VERIFY`, `DOCKER_TLS`, `DOCKER_CERT_PATH` or the context).
    pub engine: EngineHost,
    /// Where the engine's address came from.
    pub engine_source: dockhand_engine::EngineSource,
    /// The docker config directory (`$DOCKER_CONFIG`, else `~/.docker`).
    pub docker_config: PathBuf,
    /// `SOURCE_DATE_EPOCH`, when set.
    pub source_date_epoch: Option<u64>,
    /// Print only data and errors.
    pub quiet: bool,
    /// A short per-user runtime directory for backend sockets.
    pub runtime_dir: PathBuf,
    /// The docker CLI (for `docker compose`).
    pub docker_cli: String,
    /// `DOCKHAND_FAILPOINT`: a journal step at which to simulate a crash (tests).
    pub failpoint: Option<String>,
    /// `DOCKHAND_READY_TIMEOUT`: seconds install waits for a backend's socket
    /// before going on without it.
    pub ready_timeout: Option<std::time::Duration>,
    /// Where the relay binaries are (relay mode): `DOCKHAND_RELAY_DIR`, else
    /// beside this executable ([`dockhand_engine::RelayBinaries::beside`]:
    /// the package's `lib/dockhand/relay`, a checkout's `target/relay`).
    pub relay_binaries: dockhand_engine::RelayBinaries,
    /// `DOCKHAND_COMPOSE`: which compose runs backends (`v2`, `v1`, a
    /// program; unset: the v2 plugin, else `docker-compose`).
    pub compose: dockhand_engine::ComposeChoice,
    /// The system-wide config file: `DOCKHAND_SYSTEM_CONFIG`, else
    /// `/etc/dockhand/config.toml`.
    pub system_config: PathBuf,
}

impl Settings {
    /// Resolves the settings for a parsed command line.
    pub fn resolve(cli: &Cli) -> Result<Self> {
        let home_dir = std::env::var_os("HOME").map(PathBuf::from);
        let home = match &cli.home {
            // Absolute from here on: records, compose files and the socket
            // dir name are derived from it, and a later command may run
            // from another directory.
            Some(h) => std::path::absolute(h)
                .with_context(|| format!("cannot resolve the state directory {}", h.display()))?,
            None => {
                let data = std::env::var_os("XDG_DATA_HOME")
                    .map(PathBuf::from)
                    .filter(|p| p.is_absolute())
                    .or_else(|| home_dir.as_ref().map(|h| h.join(".local/share")))
                    .context("cannot find a state directory: set DOCKHAND_HOME or HOME")?;
                data.join("dockhand")
            }
        };
        let docker_config = docker_config_dir(cli);
        let resolved = resolve_engine(cli, &docker_config, &home)?;
        let (engine, engine_source) = (resolved.host, resolved.source);
        let runtime_dir = match std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from) {
            Some(dir) if dir.is_absolute() && dir.is_dir() => dir,
            _ => PathBuf::from(format!("/tmp/dockhand-{}", current_uid())),
        };
        let source_date_epoch =
            match std::env::var("SOURCE_DATE_EPOCH") {
                Ok(v) if !v.is_empty() => Some(v.parse().with_context(|| {
                    format!("SOURCE_DATE_EPOCH `{v}` is not a number of seconds")
                })?),
                _ => None,
            };
        Ok(Self {
            home,
            engine,
            engine_source,
            docker_config,
            source_date_epoch,
            quiet: cli.quiet,
            runtime_dir,
            docker_cli: "docker".to_owned(),
            failpoint: std::env::var("DOCKHAND_FAILPOINT")
                .ok()
                .filter(|f| !f.is_empty()),
            ready_timeout: match std::env::var("DOCKHAND_READY_TIMEOUT") {
                Ok(v) if !v.is_empty() => {
                    Some(std::time::Duration::from_secs(v.parse().with_context(
                        || format!("DOCKHAND_READY_TIMEOUT `{v}` is not a number of seconds"),
                    )?))
                }
                _ => None,
            },
            relay_binaries: match std::env::var_os("DOCKHAND_RELAY_DIR").filter(|v| !v.is_empty()) {
                Some(dir) => dockhand_engine::RelayBinaries {
                    dir: PathBuf::from(dir),
                },
                None => dockhand_engine::RelayBinaries::beside(
                    &std::env::current_exe().unwrap_or_else(|_| PathBuf::from("dockhand")),
                ),
            },
            compose: dockhand_engine::ComposeChoice::parse(
                &std::env::var("DOCKHAND_COMPOSE").unwrap_or_default(),
            ),
            system_config: std::env::var_os("DOCKHAND_SYSTEM_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(SYSTEM_CONFIG)),
        })
    }

    /// The user's and the system's config files.
    pub fn config_paths(&self) -> dockhand_host::config::ConfigPaths {
        dockhand_host::config::ConfigPaths {
            user: self.home.join("config.toml"),
            system: self.system_config.clone(),
        }
    }

    /// The content store directory.
    pub fn store_dir(&self) -> PathBuf {
        self.home.join("store")
    }

    /// Prints a progress message on stderr unless quiet.
    pub fn say(&self, msg: impl std::fmt::Display) {
        if !self.quiet {
            crate::output::progress(&msg.to_string());
        }
    }
}

/// A variable's value, unless unset or empty (the docker CLI's rule).
fn env_set(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The engine, resolved like the docker CLI from the global options and
/// `DOCKER_HOST`, `DOCKER_CONTEXT`, `DOCKER_TLS_VERIFY`, `DOCKER_TLS` and
/// `DOCKER_CERT_PATH`. TLS files that children (compose, the docker CLI)
/// cannot be given as one `DOCKER_CERT_PATH` get one: a directory of
/// symlinks under `$DOCKHAND_HOME/engine-tls/`.
fn resolve_engine(
    cli: &Cli,
    docker_config: &std::path::Path,
    home: &std::path::Path,
) -> Result<dockhand_engine::ResolvedEngine> {
    let absolute = |p: &Option<PathBuf>| -> Result<Option<PathBuf>> {
        p.as_ref()
            .map(|p| {
                std::path::absolute(p).with_context(|| format!("cannot resolve {}", p.display()))
            })
            .transpose()
    };
    let request = dockhand_engine::EngineRequest {
        host_flag: cli.docker_host.clone(),
        host_env: env_set("DOCKER_HOST"),
        context_flag: cli.docker_context.clone(),
        context_env: env_set("DOCKER_CONTEXT"),
        config_dir: docker_config.to_path_buf(),
        tls: dockhand_engine::TlsRequest {
            tls: cli.tls || env_set("DOCKER_TLS").is_some(),
            verify: cli.tls_verify || env_set("DOCKER_TLS_VERIFY").is_some(),
            ca: absolute(&cli.tls_ca_cert)?,
            cert: absolute(&cli.tls_cert)?,
            key: absolute(&cli.tls_key)?,
            cert_path: env_set("DOCKER_CERT_PATH").map(PathBuf::from),
        },
    };
    let mut resolved = dockhand_engine::resolve_engine(&request)
        .context("check --host, --context, DOCKER_HOST, DOCKER_CONTEXT and the TLS settings")?;
    if let EngineHost::Tls { tls, .. } = &mut resolved.host
        && tls.cert_dir.is_none()
        && (tls.ca.is_some() || tls.client.is_some())
    {
        tls.cert_dir = Some(child_cert_dir(home, tls)?);
    }
    Ok(resolved)
}

/// A directory holding `ca.pem`, `cert.pem` and `key.pem` as symlinks to
/// the files TLS flags named, for the children's `DOCKER_CERT_PATH`.
fn child_cert_dir(home: &std::path::Path, tls: &dockhand_engine::TlsConfig) -> Result<PathBuf> {
    use sha2::{Digest, Sha256};
    let mut links: Vec<(&str, &std::path::Path)> = Vec::new();
    if let Some(ca) = &tls.ca {
        links.push((dockhand_engine::CA_FILE, ca));
    }
    if let Some((cert, key)) = &tls.client {
        links.push((dockhand_engine::CERT_FILE, cert));
        links.push((dockhand_engine::KEY_FILE, key));
    }
    let mut hash = Sha256::new();
    for (name, target) in &links {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update(target.as_os_str().as_encoded_bytes());
        hash.update([0]);
    }
    let hex = format!("{:x}", hash.finalize());
    let dir = home.join("engine-tls").join(&hex[..16]);
    let made = (|| -> std::io::Result<()> {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
        for (name, target) in &links {
            let link = dir.join(name);
            if fs_err::read_link(&link).ok().as_deref() == Some(*target) {
                continue;
            }
            let _ = fs_err::remove_file(&link);
            fs_err::os::unix::fs::symlink(target, &link)?;
        }
        Ok(())
    })();
    made.with_context(|| {
        format!(
            "cannot make {} (the TLS files as DOCKER_CERT_PATH for compose and the docker CLI)",
            dir.display()
        )
    })?;
    Ok(dir)
}

/// Docker's config directory: docker's `--config` (plugin mode), `$DOCKER_CONFIG`, else
/// `~/.docker`.
pub fn docker_config_dir(cli: &Cli) -> PathBuf {
    cli.docker_config
        .clone()
        .or_else(|| std::env::var_os("DOCKER_CONFIG").map(PathBuf::from))
        .filter(|p| !p.as_os_str().is_empty())
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")))
        .unwrap_or_else(|| PathBuf::from(".docker"))
}

/// A runtime for commands that talk to the network or the engine.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// This process's real uid, from procfs (no libc call needed).
fn current_uid() -> u32 {
    fs_err::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Uid:"))
                .and_then(|rest| rest.split_whitespace().next().and_then(|u| u.parse().ok()))
        })
        .unwrap_or(0)
}
