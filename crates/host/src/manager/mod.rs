//! The extension manager: installed extensions and their backends.

use std::collections::BTreeMap;

use dockhand_engine::{ComposeChoice, ComposeCli, ComposeEnv, ComposeRunner};
use dockhand_engine::{Engine, EngineHost};
use dockhand_spec::ExtensionId;

use crate::backend::{self, Backend};
use crate::consent::{CannotConfirm, Summary};
use crate::error::InstallError;
use crate::install::plugin_image_of;

mod commit;
mod consent;
mod doctor;
mod engine_mode;
mod install;
mod prepare;
mod transaction;
mod uninstall;
mod update;
use crate::layout::Layout;
use crate::state::{ExtensionLock, ExtensionRecord, State};
use dockhand_spec::Diagnostic;

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

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CachedCompose {
    program: String,
    prefix: Vec<String>,
    version: String,
    stamp: String,
    /// The [`ComposeChoice::key`] it was detected for.
    #[serde(default)]
    choice: String,
    /// The docker CLI's compose plugin files: present or not, size, time.
    #[serde(default)]
    plugins: String,
}

/// Each of `paths` as `path:size:mtime;`, or `path:-;` when it is not there
/// (a plugin that appears changes it).
fn presence_stamp(paths: &[std::path::PathBuf]) -> String {
    let mut out = String::new();
    for p in paths {
        match fs_err::metadata(p) {
            Ok(meta) => {
                let mtime = meta
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
                out.push_str(&format!(
                    "{}:{}:{};",
                    p.display(),
                    meta.len(),
                    mtime.map(|d| d.as_nanos()).unwrap_or(0)
                ));
            }
            Err(_) => out.push_str(&format!("{}:-;", p.display())),
        }
    }
    out
}

/// Size and modification time of each program (found on PATH when bare);
/// empty when one cannot be found.
fn stamp(programs: &[&std::path::Path], search_path: &[std::path::PathBuf]) -> String {
    let mut out = String::new();
    for p in programs {
        let found = if p.components().count() > 1 {
            Some(p.to_path_buf())
        } else {
            search_path.iter().map(|d| d.join(p)).find(|c| c.is_file())
        };
        let Some(meta) = found.and_then(|f| fs_err::metadata(&f).ok()) else {
            return String::new();
        };
        let mtime = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
        out.push_str(&format!(
            "{}:{}:{};",
            p.display(),
            meta.len(),
            mtime.map(|d| d.as_nanos()).unwrap_or(0)
        ));
    }
    out
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
}

/// An installed extension with its backend's live state.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The record.
    pub record: ExtensionRecord,
    /// Running containers of its backend.
    pub running: usize,
    /// All containers of its backend.
    pub containers: usize,
    /// What connecting to its backend's socket says, when it exposes one.
    pub socket: Option<dockhand_engine::SocketState>,
}

/// The installed extensions, and whether the engine told their backends'
/// states.
#[derive(Debug)]
pub struct Listing {
    /// Every installed extension.
    pub extensions: Vec<Listed>,
    /// Why the engine could not be asked, when some extension has a backend
    /// and it could not: the counts are then zero, not known.
    pub engine_error: Option<String>,
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
        })
    }

    /// Connects to the engine.
    pub async fn engine(&self) -> Result<Engine, InstallError> {
        Ok(Engine::connect(&self.engine_host).await?)
    }

    /// Finds compose. Detection runs the candidates (`docker compose`, then
    /// `docker-compose`, a slow Python program), so the answer is kept in
    /// `$DOCKHAND_HOME/compose.json` until the docker CLI, the chosen
    /// program, a compose plugin file (one appearing makes v2 the choice) or
    /// [`Manager::compose_choice`] changes.
    pub async fn compose(&self) -> Result<ComposeRunner, InstallError> {
        let cache_path = self.layout.home.join("compose.json");
        let docker = std::path::Path::new(&self.docker_cli);
        let choice = self.compose_choice.key();
        let plugins = presence_stamp(&self.compose_plugins);
        if let Ok(text) = fs_err::read_to_string(&cache_path)
            && let Ok(cached) = serde_json::from_str::<CachedCompose>(&text)
            && cached.choice == choice
            && cached.plugins == plugins
        {
            let program = std::path::PathBuf::from(&cached.program);
            let now = stamp(&[docker, &program], &self.search_path);
            if !now.is_empty() && cached.stamp == now {
                let cli = ComposeCli {
                    program,
                    prefix: cached.prefix,
                };
                return Ok(
                    ComposeRunner::new(cli, cached.version, self.engine_host.clone())
                        .with_env(self.compose_env.clone()),
                );
            }
        }
        let runner =
            ComposeRunner::detect_choice(docker, &self.engine_host, &self.compose_choice).await?;
        let program = runner.cli().program.clone();
        let cached = CachedCompose {
            program: program.to_string_lossy().into_owned(),
            prefix: runner.cli().prefix.clone(),
            version: runner.version().to_owned(),
            stamp: stamp(&[docker, &program], &self.search_path),
            choice,
            plugins,
        };
        if let Ok(text) = serde_json::to_string(&cached) {
            let _ = fs_err::create_dir_all(&self.layout.home);
            let _ = fs_err::write(&cache_path, text);
        }
        Ok(runner.with_env(self.compose_env.clone()))
    }

    /// The backend of an installed extension.
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
        })
    }

    /// A note for the user when the enabled backend of `record` runs without
    /// its socket (not created yet, or nobody listens on it).
    pub async fn socket_note(&self, record: &ExtensionRecord) -> Option<String> {
        if !record.enabled {
            return None;
        }
        let backend = self.backend_of(record)?;
        let state = backend::socket_state(&backend).await?;
        match state {
            dockhand_engine::SocketState::Missing | dockhand_engine::SocketState::NotListening => {
                // Only about a backend that runs (not one left stopped).
                let engine = self.engine().await.ok()?;
                let containers = engine.containers_by_label(&backend.label()).await.ok()?;
                if !containers.iter().any(|c| c.is_running()) {
                    return None;
                }
                Some(backend::socket_pending_message(
                    &record.id,
                    backend.socket.as_deref().unwrap_or_default(),
                    state,
                ))
            }
            _ => None,
        }
    }

    /// The installed extension `id`.
    pub fn get(&self, id: &ExtensionId) -> Result<ExtensionRecord, InstallError> {
        self.state
            .get(id)?
            .ok_or_else(|| InstallError::NotInstalled(id.to_string()))
    }

    /// Every installed extension with its containers' state (one engine
    /// call); without an engine, the list with why its states are unknown.
    pub async fn list(&self) -> Result<Listing, InstallError> {
        let records = self.state.list()?;
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut engine_error = None;
        if records.iter().any(|r| r.backend.is_some()) {
            match self.engine().await {
                Ok(engine) => {
                    // This home's containers only: another home (user) may
                    // run the same extension on this engine.
                    let mine = format!(
                        "{},{}={}",
                        dockhand_engine::EXTENSION_LABEL,
                        crate::layout::HOME_LABEL,
                        self.layout.home_id()
                    );
                    for c in engine.containers_by_label(&mine).await? {
                        if let Some(id) = c.labels.get(dockhand_engine::EXTENSION_LABEL) {
                            let e = counts.entry(id.clone()).or_default();
                            e.1 += 1;
                            if c.is_running() {
                                e.0 += 1;
                            }
                        }
                    }
                }
                Err(e) => engine_error = Some(e.to_string()),
            }
        }
        let mut extensions = Vec::with_capacity(records.len());
        for record in records {
            let (running, containers) = counts.get(record.id.as_str()).copied().unwrap_or_default();
            let socket = match self.backend_of(&record) {
                Some(b) => backend::socket_state(&b).await,
                None => None,
            };
            extensions.push(Listed {
                record,
                running,
                containers,
                socket,
            });
        }
        Ok(Listing {
            extensions,
            engine_error,
        })
    }

    /// Starts (`true`) or stops the backend and shows or hides the tab.
    pub async fn set_enabled(
        &self,
        id: &ExtensionId,
        enabled: bool,
    ) -> Result<ExtensionRecord, InstallError> {
        let _lock = ExtensionLock::acquire(&self.layout.home, id)?;
        let record = self.get(id)?;
        if let Some(backend) = self.backend_of(&record) {
            let engine = self.engine().await?;
            let runner = self.compose().await?;
            if enabled {
                backend::up(&engine, &runner, &backend, self.ready_timeout).await?;
            } else {
                runner.stop(&backend.compose_project()).await?;
            }
        }
        self.state.set_enabled(id, enabled)?;
        self.get(id)
    }

    /// Starts every enabled backend again (after an engine restart); returns
    /// `(id, result)` for each extension with a backend.
    pub async fn up(
        &self,
    ) -> Result<Vec<(ExtensionId, Result<backend::Started, InstallError>)>, InstallError> {
        let mut out = Vec::new();
        let records = self.state.list()?;
        if !records.iter().any(|r| r.enabled && r.backend.is_some()) {
            return Ok(out);
        }
        let engine = self.engine().await?;
        let runner = self.compose().await?;
        for r in records.iter().filter(|r| r.enabled) {
            let Some(backend) = self.backend_of(r) else {
                continue;
            };
            let result = backend::up(&engine, &runner, &backend, self.ready_timeout).await;
            out.push((r.id.clone(), result));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(path: &std::path::Path, text: &str) {
        fs_err::write(path, text).unwrap();
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// compose.json keeps v1 only until a v2 plugin file appears, and the
    /// choice is part of what it was detected for.
    #[tokio::test]
    async fn a_compose_plugin_that_appears_is_preferred() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        let plugin = tmp.path().join("cli-plugins/docker-compose");
        fs_err::create_dir_all(&bin).unwrap();
        // `docker compose` answers only once the plugin file exists.
        script(
            &bin.join("docker"),
            &format!(
                "#!/bin/sh\n[ \"$1\" = compose ] && [ -e {} ] && echo 5.6.1 && exit 0\nexit 1\n",
                plugin.display()
            ),
        );
        script(&bin.join("docker-compose"), "#!/bin/sh\necho 1.29.2\n");
        let layout = Layout {
            home: tmp.path().join("home"),
            runtime: tmp.path().join("run"),
        };
        let mut m = Manager::open(
            layout,
            "unix:///nonexistent/docker.sock".parse().unwrap(),
            bin.join("docker").display().to_string(),
            vec![bin.clone()],
        )
        .unwrap();
        m.compose_plugins = vec![plugin.clone()];
        let first = m.compose().await.unwrap();
        assert!(first.is_v1(), "{first:?}");
        assert!(m.compose().await.unwrap().is_v1(), "cached");
        fs_err::create_dir_all(plugin.parent().unwrap()).unwrap();
        fs_err::write(&plugin, "").unwrap();
        let now = m.compose().await.unwrap();
        assert!(
            !now.is_v1(),
            "the plugin that appeared is preferred: {now:?}"
        );
        assert_eq!(now.version(), "5.6.1");
        m.compose_choice = ComposeChoice::Standalone(bin.join("docker-compose"));
        assert!(m.compose().await.unwrap().is_v1(), "the choice is obeyed");
        m.compose_choice = ComposeChoice::parse("v2");
        assert!(!m.compose().await.unwrap().is_v1());
    }
}
