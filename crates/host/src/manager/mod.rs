//! The extension manager: installed extensions and their backends.

use dockhand_engine::{ComposeChoice, ComposeEnv, Engine, EngineHost};
use dockhand_spec::ExtensionId;

use crate::backend::{self, Backend};
use crate::consent::{CannotConfirm, Summary};
use crate::error::InstallError;
use crate::install::plugin_image_of;

mod commit;
mod compose;
mod consent;
mod doctor;
mod enable;
mod engine_mode;
mod install;
mod prepare;
mod query;
mod transaction;
mod uninstall;
mod up;
mod update;
use crate::layout::Layout;
use crate::state::{ExtensionRecord, State};
use dockhand_spec::Diagnostic;

pub use query::{Listed, Listing};

/// What the caller (the CLI, the dashboard) is told and asked along the way.
pub trait Hooks: Send + Sync {
    /// A progress message.
    fn progress(&self, _message: &str) {}
    /// Asks whether to go on, showing what the extension will get.
    /// `Err(why)` when nobody can be asked.
    fn confirm(
        &self,
        id: &ExtensionId,
        summary: &Summary,
        warnings: &[Diagnostic],
    ) -> Result<bool, CannotConfirm>;
    /// A journal step was recorded and is about to happen. Returning an error
    /// stops the operation there (tests use it to simulate crashes).
    fn step(&self, _step: &str) -> Result<(), InstallError> {
        Ok(())
    }
    /// Whether an install starts the extension's backend. `false`
    /// (`dockhand install --no-start`) installs it with the backend stopped:
    /// compose files written and the plugin image in the engine, but no
    /// container until `up` or `enable`; `vm.service` answers 503 meanwhile.
    fn start_backend(&self) -> bool {
        true
    }
    /// `true`: stop once the consent summary is known, before any side
    /// effect (the dashboard's previews): [`Hooks::confirm`] is called with
    /// it whatever `yes` says, and the install ends with
    /// [`InstallError::NotConfirmed`].
    fn preview(&self) -> bool {
        false
    }
}

/// Hooks that say nothing and answer yes.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;

impl Hooks for Quiet {
    fn confirm(
        &self,
        _: &ExtensionId,
        _: &Summary,
        _: &[Diagnostic],
    ) -> Result<bool, CannotConfirm> {
        Ok(true)
    }
}

/// The extension manager.
#[derive(Debug)]
pub struct Manager {
    /// Where things are.
    pub layout: Layout,
    /// The engine.
    pub engine_host: EngineHost,
    /// The docker CLI (for compose v2 detection).
    pub docker_cli: String,
    /// Where programs are looked for (`PATH`), to tell when compose changed.
    pub search_path: Vec<std::path::PathBuf>,
    /// Which compose to run (`DOCKHAND_COMPOSE`; detected by default: the v2
    /// plugin first).
    pub compose_choice: ComposeChoice,
    /// The docker CLI's compose plugin files ([`dockhand_engine::plugin_candidates`]
    /// of the docker config dir): when one appears or changes, compose is
    /// detected again.
    pub compose_plugins: Vec<std::path::PathBuf>,
    /// The environment compose project commands run with (and compose files
    /// are interpolated with): nothing else of the user's ([`ComposeEnv`]).
    /// [`Manager::open`] gives it `PATH` from `search_path`; the CLI adds
    /// `HOME` and `DOCKER_CONFIG`.
    pub compose_env: ComposeEnv,
    /// How long install, `enable` and `up` wait for a backend's socket
    /// before going on without it ([`backend::Started::SocketPending`]).
    pub ready_timeout: std::time::Duration,
    /// The state database.
    pub state: State,
    /// The allow-list every install and update goes through (disabled
    /// unless the caller sets one from the configuration).
    pub allow: crate::allow::AllowList,
    /// The largest image installed: its config and layers for the platform
    /// installed, from its manifest, checked before any layer is
    /// downloaded (`[limits] image_size`; `None`: no limit).
    pub max_image_size: Option<u64>,
    /// Where the relay binaries are (relay mode; the CLI sets it beside its
    /// executable).
    pub relay_binaries: dockhand_engine::RelayBinaries,
}

impl Manager {
    /// Opens the state under `layout.home`.
    pub fn open(
        layout: Layout,
        engine_host: EngineHost,
        docker_cli: String,
        search_path: Vec<std::path::PathBuf>,
    ) -> Result<Self, InstallError> {
        let state = State::open(&layout.home)?;
        // What a crashed install left unpacked; never a running one's.
        crate::staging::remove_stale(&layout);
        let compose_env = ComposeEnv {
            path: std::env::join_paths(&search_path)
                .ok()
                .and_then(|p| p.into_string().ok())
                .filter(|p| !p.is_empty()),
            ..Default::default()
        };
        Ok(Self {
            layout,
            engine_host,
            docker_cli,
            search_path,
            compose_choice: ComposeChoice::Detect,
            compose_plugins: Vec::new(),
            compose_env,
            ready_timeout: backend::READY_TIMEOUT,
            state,
            allow: crate::allow::AllowList::disabled(),
            max_image_size: Some(crate::config::DEFAULT_IMAGE_SIZE),
            relay_binaries: dockhand_engine::RelayBinaries {
                dir: std::path::PathBuf::from("/usr/lib/dockhand/relay"),
            },
        })
    }

    /// Connects to the engine.
    pub async fn engine(&self) -> Result<Engine, InstallError> {
        Ok(Engine::connect(&self.engine_host).await?)
    }

    /// The backend of an installed extension on `engine`: in relay mode when
    /// the engine's mode is remote ([`Manager::uses_relay`]).
    pub async fn backend_on(
        &self,
        engine: &Engine,
        r: &ExtensionRecord,
    ) -> Result<Option<Backend>, InstallError> {
        let Some(mut b) = self.backend_of(r) else {
            return Ok(None);
        };
        if self.uses_relay(engine).await? {
            b.relay = Some(self.relay_binaries.clone());
        }
        Ok(Some(b))
    }

    /// The backend of an installed extension as local mode has it (its
    /// files, project and socket directory); [`Manager::backend_on`] says
    /// which mode it runs in.
    pub fn backend_of(&self, r: &ExtensionRecord) -> Option<Backend> {
        let project = r.compose_project.clone()?;
        Some(Backend {
            home_id: self.layout.home_id(),
            id: r.id.clone(),
            project,
            vm_dir: self.layout.home.join(&r.dir).join("vm"),
            socket_dir: self.layout.socket_dir(&r.id),
            socket: r.backend.as_ref().and_then(|b| b.socket.clone()),
            plugin_image: plugin_image_of(r),
            relay: None,
        })
    }
}
