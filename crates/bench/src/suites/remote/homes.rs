//! The whole path's set-up: `examples/backend-image` built and pushed once,
//! and two dockhand homes — one on the main engine (local mode), one on the
//! VM engine over TLS (relay mode) — driven by the dockhand binary.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dockhand_host::layout::Layout;
use dockhand_host::relay::RelaySession;
use dockhand_oci::Reference;
use dockhand_spec::ExtensionId;

use super::Env;
use super::client::{AsyncClient, GET_HELLO};
use crate::progress;
use crate::support;

const EPOCH: &str = "1700000000";
const IMAGE_LABEL: &str = "dev.dockhand.bench=remote";
const REPOSITORY: &str = "dockhand-bench";
pub(super) const BACKEND_SOCKET: &str = "backend.sock";
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Local mode or relay mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Local,
    Relay,
}

impl Mode {
    pub fn name(self) -> &'static str {
        match self {
            Mode::Local => "local",
            Mode::Relay => "relay",
        }
    }
}

/// One dockhand home and the engine it uses.
pub(super) struct Home {
    pub mode: Mode,
    pub layout: Layout,
    /// Installed here (removed at the end).
    installed: RefCell<BTreeSet<ExtensionId>>,
}

/// Both homes, the pushed image, the dockhand binary.
pub(super) struct Homes<'a> {
    pub env: &'a Env,
    pub dockhand: PathBuf,
    pub reference: Reference,
    pub id: ExtensionId,
    pub local: Home,
    pub relay: Home,
}

impl Drop for Homes<'_> {
    fn drop(&mut self) {
        for home in [&self.local, &self.relay] {
            let ids: Vec<ExtensionId> = home.installed.borrow().iter().cloned().collect();
            for id in ids {
                if let Err(e) = self.rm(home, &id) {
                    progress(&format!("cleanup ({}): {e:#}", home.mode.name()));
                }
            }
        }
    }
}

impl<'a> Homes<'a> {
    /// Builds and pushes the backend example and makes the two homes.
    pub fn set_up(env: &'a Env) -> Result<Self> {
        let registry = support::require_env("DOCKHAND_TEST_REGISTRY")?;
        let dockhand = support::dockhand_binary().context(
            "no dockhand binary next to dockhand-bench and no DOCKHAND_BIN: run scripts/bench remote, which builds it",
        )?;
        let reference = Reference::parse(&format!("{registry}/{REPOSITORY}/remote-backend:1"))?;
        let id = reference.extension_id();
        let home = |mode: Mode| -> Result<Home> {
            let dir = env.scratch.path().join(mode.name());
            let runtime = dir.join("run");
            fs_err::create_dir_all(&runtime)?;
            Ok(Home {
                mode,
                layout: Layout {
                    home: dir.join("home"),
                    runtime,
                },
                installed: RefCell::default(),
            })
        };
        let homes = Homes {
            env,
            dockhand,
            reference,
            id,
            local: home(Mode::Local)?,
            relay: home(Mode::Relay)?,
        };
        support::ensure_examples_base(&env.rt, &env.local)?;
        progress("setup: dockhand build --push of examples/backend-image");
        let build_home = env.scratch.path().join("build-home");
        support::output(
            homes
                .dockhand(&homes.local)
                .env("DOCKHAND_HOME", &build_home)
                .arg("build")
                .arg(support::repo_root().join("examples/backend-image"))
                .args(["-t", &homes.reference.to_string(), "--label", IMAGE_LABEL])
                .args([
                    "--base",
                    &format!("engine:{}", support::EXAMPLES_BASE_IMAGE),
                ])
                .arg("--push"),
        )?;
        support::remove_dir(&build_home)?;
        Ok(homes)
    }

    /// A `dockhand --quiet` command for `home` (its engine in the
    /// environment, as a person's shell would have it).
    pub fn dockhand(&self, home: &Home) -> Command {
        let mut c = Command::new(&self.dockhand);
        c.env("DOCKHAND_HOME", &home.layout.home)
            .env("XDG_RUNTIME_DIR", &home.layout.runtime)
            .env("DOCKHAND_RELAY_DIR", &self.env.relay_binaries.dir)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("NO_COLOR", "1");
        match home.mode {
            Mode::Local => {
                c.env_remove("DOCKER_TLS_VERIFY")
                    .env_remove("DOCKER_CERT_PATH");
            }
            Mode::Relay => {
                c.envs(self.env.vm_vars.iter().map(|(k, v)| (k, v)));
            }
        }
        c.arg("--quiet");
        c
    }

    /// `dockhand install REF -y` in `home`.
    pub fn install(&self, home: &Home) -> Result<()> {
        home.installed.borrow_mut().insert(self.id.clone());
        support::output(
            self.dockhand(home)
                .args(["install", &self.reference.to_string(), "-y"]),
        )?;
        Ok(())
    }

    /// `dockhand rm --volumes ID` in `home`.
    pub fn rm(&self, home: &Home, id: &ExtensionId) -> Result<()> {
        support::output(self.dockhand(home).args(["rm", "--volumes", id.as_str()]))?;
        home.installed.borrow_mut().remove(id);
        Ok(())
    }

    /// The backend's socket in local mode.
    pub fn local_socket(&self) -> PathBuf {
        self.local.layout.socket_dir(&self.id).join(BACKEND_SOCKET)
    }

    /// A new relay session to the extension's relay container.
    pub async fn relay_session(&self) -> Result<RelaySession> {
        let owner = self.relay.layout.owner_label(&self.id);
        Ok(dockhand_host::relay::session(&self.env.vm, &self.id, &owner).await?)
    }

    /// The relay container's id.
    pub fn relay_container(&self) -> Result<String> {
        let owner = self.relay.layout.owner_label(&self.id);
        let c = self
            .env
            .rt
            .block_on(dockhand_host::relay::relay_container(&self.env.vm, &owner))?
            .context("no relay container for the extension on the VM engine")?;
        Ok(c.id)
    }

    /// The backend's socket file in its volume on the VM engine (through a
    /// short link: a socket path must fit in 108 bytes), checked to be the
    /// file the VM's mount namespace sees; and that path as the VM sees it.
    pub fn vm_socket(&self) -> Result<(PathBuf, PathBuf)> {
        let owner = self.relay.layout.owner_label(&self.id);
        let volumes = self.env.rt.block_on(self.env.vm.volumes_by_label(&owner))?;
        let [volume] = volumes.as_slice() else {
            bail!(
                "the extension has {} volumes on the VM engine, not one",
                volumes.len()
            );
        };
        let info = self
            .env
            .rt
            .block_on(self.env.vm.inspect_volume(&volume.name))?;
        let dir = PathBuf::from(
            info.get("Mountpoint")
                .and_then(|m| m.as_str())
                .context("the socket volume has no Mountpoint")?,
        );
        let socket = dir.join(BACKEND_SOCKET);
        self.env.check_same_in_vm(&socket)?;
        let short = self.env.scratch.path().join("vm-socket-dir");
        if !short.exists() {
            fs_err::os::unix::fs::symlink(&dir, &short)?;
        }
        Ok((short.join(BACKEND_SOCKET), socket))
    }

    /// Waits (bounded) until `GET /hello` answers in `home`: on the socket
    /// in local mode, through a new relay session in relay mode.
    pub fn wait_for_hello(&self, home: &Home) -> Result<()> {
        let deadline = Instant::now() + READY_TIMEOUT;
        self.env.rt.block_on(async {
            let relay = match home.mode {
                Mode::Relay => Some(self.relay_session().await?),
                Mode::Local => None,
            };
            loop {
                let answer = match &relay {
                    Some(r) => hello(r.connect(BACKEND_SOCKET).await).await,
                    None => hello(tokio::net::UnixStream::connect(self.local_socket()).await).await,
                };
                match answer {
                    Ok(()) => return Ok(()),
                    Err(_) if Instant::now() < deadline => {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                    }
                    Err(e) => bail!("GET /hello never answered ({} mode): {e}", home.mode.name()),
                }
            }
        })
    }
}

async fn hello<S>(s: std::io::Result<S>) -> std::io::Result<()>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    AsyncClient::new(s?).hello(GET_HELLO, false).await
}
