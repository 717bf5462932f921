//! An extension's backend on the engine: its compose files, its image in the
//! engine, `up` with dockhand's override, readiness of its socket, access to
//! that socket for this user, and taking it down again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dockhand_engine::{
    ComposeProject, ComposeRunner, ContainerInfo, Engine, EngineHost, OverrideInput,
    RELAY_IMAGE_VAR, RELAY_REPOSITORY, RELAY_SOCKET_DIR, REMOTE_ENGINE_SOCKET, RelayBinaries,
    SocketState, compose_override, normalize_expose, plugin_image_env, probe_socket, project_name,
    relay_image_env, vm_image_compose, wait_for_socket,
};
use dockhand_spec::ExtensionId;
use dockhand_spec::{ComposeFacts, Metadata};

use crate::InstallError;
use crate::error::NotReady;
use crate::relay::{self, RelayModeError};
use crate::socket_dir;

/// How long install (and `enable`, `up`) waits for a backend's socket
/// before going on without it: long enough for most backends to create it
/// (and for one that crashes at start to be seen), short enough that an
/// extension whose backend never creates it installs quickly.
pub const READY_TIMEOUT: Duration = Duration::from_secs(10);
/// Lines of each container's log shown when a backend fails.
const LOG_TAIL: usize = 20;

/// An extension's backend as installed in one version directory.
#[derive(Debug, Clone)]
pub struct Backend {
    /// The extension.
    pub id: ExtensionId,
    /// The compose project (`dockhand-<slug>`).
    pub project: String,
    /// `<version>/vm/`: the compose file and the override.
    pub vm_dir: PathBuf,
    /// The socket directory mounted at `/run/guest-services`.
    pub socket_dir: PathBuf,
    /// The socket the UI talks to, when exposed.
    pub socket: Option<String>,
    /// The image `${DESKTOP_PLUGIN_IMAGE}` names (as the engine knows it).
    pub plugin_image: String,
    /// The home it belongs to ([`crate::layout::Layout::home_id`]).
    pub home_id: String,
    /// Relay mode (the engine does not see this machine's files): where the
    /// relay binaries are. `/run/guest-services` is then the project's
    /// volume, reached through the relay service, and `socket_dir` is not
    /// used ([`crate::relay`]).
    pub relay: Option<RelayBinaries>,
}

impl Backend {
    /// The compose project of this backend.
    pub fn compose_project(&self) -> ComposeProject {
        ComposeProject {
            name: self.project.clone(),
            files: vec![
                self.vm_dir.join("compose.yaml"),
                self.vm_dir.join("override.json"),
            ],
            env: if self.relay.is_some() {
                // The relay image's name needs the engine; `up` sets it.
                vec![
                    plugin_image_env(&self.plugin_image),
                    relay_image_env(RELAY_REPOSITORY),
                ]
            } else {
                vec![plugin_image_env(&self.plugin_image)]
            },
            dir: self.vm_dir.clone(),
        }
    }

    /// The label filter of this home's containers of this extension.
    pub fn label(&self) -> String {
        crate::layout::owner_label(&self.home_id, &self.id)
    }
}

/// Where a backend runs: what the override needs besides the compose file.
#[derive(Debug, Clone, Copy)]
pub struct Placement<'a> {
    /// The socket directory mounted at `/run/guest-services`.
    pub socket_dir: &'a Path,
    /// The engine.
    pub engine: &'a EngineHost,
    /// This home's [`HOME_LABEL`](crate::layout::HOME_LABEL) value.
    pub home_id: &'a str,
    /// Relay mode: the socket directory is the project's volume and the
    /// relay service is added; engine socket mounts get the engine host's
    /// [`REMOTE_ENGINE_SOCKET`].
    pub relay: bool,
}

/// Writes `vm/compose.yaml` (the extension's own file, or the generated one
/// for `vm.image`) and `vm/override.json` into `vm_dir`.
pub fn write_compose_files(
    id: &ExtensionId,
    version: &str,
    metadata: &Metadata,
    root: &Path,
    vm_dir: &Path,
    place: Placement<'_>,
) -> Result<ComposeFacts, InstallError> {
    let Placement {
        socket_dir,
        engine,
        home_id,
        relay,
    } = place;
    let Some(vm) = &metadata.vm else {
        return Err(InstallError::NoVm);
    };
    fs_err::create_dir_all(vm_dir).map_err(InstallError::io(vm_dir))?;
    // With both keys the compose file runs and vm.image is ignored, as in
    // Docker Desktop (validation warns, DH125).
    let text = match (&vm.image, &vm.composefile) {
        (_, Some(file)) => {
            let path = root.join(file.trim_start_matches('/'));
            let text = fs_err::read_to_string(&path).map_err(InstallError::io(&path))?;
            // `expose: ["5317:4317"]` runs as it did with compose v2 (the
            // container port); any other file is written as it is.
            normalize_expose(&text).unwrap_or(text)
        }
        (Some(image), None) => serde_json::to_string_pretty(&vm_image_compose(id.as_str(), image))
            .map_err(InstallError::serialize(
                vm_dir.join("compose.yaml").display(),
            ))?,
        (None, None) => {
            return Err(InstallError::NoVmTarget);
        }
    };
    let compose_path = vm_dir.join("compose.yaml");
    fs_err::write(&compose_path, &text).map_err(InstallError::io(&compose_path))?;
    let facts = ComposeFacts::parse(&text).map_err(InstallError::from)?;
    let input = OverrideInput {
        extension_id: id.to_string(),
        version: version.to_owned(),
        socket_dir: socket_dir.to_path_buf(),
        engine_socket: if relay {
            Some(PathBuf::from(REMOTE_ENGINE_SOCKET))
        } else {
            engine.socket_path().map(Path::to_path_buf)
        },
        extra_labels: vec![(crate::layout::HOME_LABEL.to_owned(), home_id.to_owned())],
        relay,
    };
    let over = compose_override(&facts, &input).map_err(InstallError::Override)?;
    let override_path = vm_dir.join("override.json");
    fs_err::write(&override_path, over.to_json()).map_err(InstallError::io(&override_path))?;
    Ok(facts)
}

/// What [`up`] found once the backend's containers were started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Started {
    /// The backend exposes no socket: nothing to wait for.
    NoSocket,
    /// The socket accepts this user.
    Ready,
    /// The containers run, but the socket did not appear within the wait:
    /// the backend may create it later (or never: Docker Desktop installs
    /// such extensions too). `vm.service` answers 503 until it exists.
    SocketPending {
        /// The socket on the host.
        socket: PathBuf,
    },
}

/// How often the containers are looked at while waiting for the socket.
const CONTAINER_CHECK: Duration = Duration::from_millis(500);

/// Starts the backend and waits up to `socket_wait` for its socket to accept
/// this user (fixing its mode when it does not). A socket that does not
/// appear in that time is not an error ([`Started::SocketPending`]): the
/// containers keep running. A backend whose containers stop, or keep
/// restarting, before the socket appears is ([`InstallError::NotReady`]).
pub async fn up(
    engine: &Engine,
    runner: &ComposeRunner,
    backend: &Backend,
    socket_wait: Duration,
) -> Result<Started, InstallError> {
    let mut project = backend.compose_project();
    match &backend.relay {
        None => socket_dir::prepare(&backend.socket_dir)?,
        Some(binaries) => {
            let image = engine
                .ensure_relay_image(binaries)
                .await
                .map_err(RelayModeError::from)?;
            project.env.retain(|(k, _)| k != RELAY_IMAGE_VAR);
            project.env.push(relay_image_env(&image));
        }
    }
    runner.up(&project).await?;
    let Some(socket) = &backend.socket else {
        return Ok(Started::NoSocket);
    };
    if backend.relay.is_some() {
        return wait_through_relay(engine, backend, socket, socket_wait).await;
    }
    let path = backend.socket_dir.join(socket);
    let deadline = tokio::time::Instant::now() + socket_wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        if wait_for_socket(&path, left.min(CONTAINER_CHECK))
            .await
            .is_ok()
        {
            grant_access(engine, &backend.id, &backend.label(), socket, &path).await?;
            return Ok(Started::Ready);
        }
        let containers = engine.containers_by_label(&backend.label()).await?;
        if let Some((what, detail)) = not_serving(&containers) {
            return Err(InstallError::from(NotReady {
                id: backend.id.to_string(),
                socket: path.display().to_string(),
                what: what.to_owned(),
                detail,
                logs: logs_tail(engine, backend).await,
            }));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Started::SocketPending { socket: path });
        }
    }
}

/// [`up`]'s wait in relay mode: connecting to the socket through a session
/// of the relay until it answers, the backend's containers fail, or the
/// wait ends.
async fn wait_through_relay(
    engine: &Engine,
    backend: &Backend,
    socket: &str,
    socket_wait: Duration,
) -> Result<Started, InstallError> {
    let inside = PathBuf::from(RELAY_SOCKET_DIR).join(socket);
    let deadline = tokio::time::Instant::now() + socket_wait;
    let mut session: Option<relay::RelaySession> = None;
    let mut delay = RELAY_FIRST_RETRY;
    loop {
        if session.as_ref().is_none_or(|r| r.closed().is_some()) {
            session = match relay::session(engine, &backend.id, &backend.label()).await {
                Ok(r) => Some(r),
                Err(e) if tokio::time::Instant::now() >= deadline => return Err(e),
                Err(_) => None,
            };
        }
        if let Some(r) = &session
            && relay::probe(r, socket).await == SocketState::Ready
        {
            return Ok(Started::Ready);
        }
        let containers = engine.containers_by_label(&backend.label()).await?;
        let backends: Vec<ContainerInfo> = containers
            .into_iter()
            .filter(|c| !relay::is_relay(c))
            .collect();
        if let Some((what, detail)) = not_serving(&backends) {
            return Err(InstallError::from(NotReady {
                id: backend.id.to_string(),
                socket: format!("{socket} (in its volume at {RELAY_SOCKET_DIR})"),
                what: what.to_owned(),
                detail,
                logs: logs_tail(engine, backend).await,
            }));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(Started::SocketPending { socket: inside });
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(RELAY_MAX_RETRY);
    }
}

/// How long relay mode's wait sleeps between attempts: from 20 ms,
/// doubling up to 250 ms, as local mode's `wait_for_socket` (a backend
/// usually binds within a few ms of its start).
const RELAY_FIRST_RETRY: Duration = Duration::from_millis(20);
const RELAY_MAX_RETRY: Duration = Duration::from_millis(250);

/// Why the backend's containers cannot be expected to create the socket:
/// one keeps restarting or exited with an error, or none runs any more.
/// A container that exited with 0 beside running ones (a set-up step) is
/// fine.
fn not_serving(containers: &[ContainerInfo]) -> Option<(&'static str, String)> {
    let say = |c: &ContainerInfo| {
        let name = c.service.as_deref().unwrap_or(&c.name);
        format!("{name}: {}", c.status)
    };
    if let Some(c) = containers.iter().find(|c| c.state == "restarting") {
        return Some(("keeps restarting", say(c)));
    }
    if let Some(c) = containers
        .iter()
        .find(|c| matches!(c.state.as_str(), "exited" | "dead") && exit_code(&c.status) != Some(0))
    {
        return Some(("stopped", say(c)));
    }
    if !containers
        .iter()
        .any(|c| c.is_running() || c.state == "created")
    {
        return Some((
            "stopped",
            containers
                .first()
                .map_or_else(|| "no container is left".to_owned(), say),
        ));
    }
    None
}

/// The exit code in an engine's status text (`Exited (137) 2 seconds ago`).
pub(crate) fn exit_code(status: &str) -> Option<i64> {
    let rest = status.split_once('(')?.1;
    rest.split_once(')')?.0.trim().parse().ok()
}

/// What to tell a user whose backend has not created its socket (yet).
pub fn socket_pending_message(id: &ExtensionId, socket: &str, state: SocketState) -> String {
    let now = match state {
        SocketState::NotListening => "its socket {socket} exists but nothing listens on it",
        _ => "it has not created its socket {socket} yet",
    }
    .replace("{socket}", socket);
    format!(
        "the backend of {id} runs, but {now}: vm.service calls answer 503 until it listens there; `dockhand logs {id}` shows what the backend does"
    )
}

/// What connecting to the backend's socket says now (`None` when it exposes
/// none). In relay mode through a session of its relay (`NotListening` when
/// the relay does not run).
pub async fn socket_state(engine: &Engine, backend: &Backend) -> Option<SocketState> {
    let socket = backend.socket.as_deref()?;
    if backend.relay.is_some() {
        return Some(
            match relay::session(engine, &backend.id, &backend.label()).await {
                Ok(r) => relay::probe(&r, socket).await,
                Err(_) => SocketState::NotListening,
            },
        );
    }
    Some(probe_socket(&backend.socket_dir.join(socket)).await)
}

/// When this user may not connect to the backend's socket at `path` (a
/// root-created 0755 socket), fixes the socket's mode from inside a running
/// container of the extension (`chmod 0666`, then `busybox chmod 0666`).
/// Install does this when the socket appears in time; for a socket that
/// appears later, the bridge does it on the first denied `vm.service` call
/// and `doctor` on its run.
pub async fn grant_access(
    engine: &Engine,
    id: &ExtensionId,
    owner: &str,
    socket: &str,
    path: &Path,
) -> Result<(), InstallError> {
    match socket_dir::can_connect(path) {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(e) => return Err(InstallError::io(path)(e)),
    }
    let inside = format!("/run/guest-services/{socket}");
    let containers = engine.containers_by_label(owner).await?;
    for c in containers.iter().filter(|c| c.is_running()) {
        for cmd in [
            vec!["chmod", "0666", &inside],
            vec!["busybox", "chmod", "0666", &inside],
        ] {
            let cmd: Vec<String> = cmd.into_iter().map(str::to_owned).collect();
            if let Ok(out) = engine.exec(&c.id, cmd, Vec::new(), None).await
                && out.code == 0
                && socket_dir::can_connect(path).unwrap_or(false)
            {
                return Ok(());
            }
        }
    }
    Err(InstallError::SocketAccess {
        id: id.to_string(),
        socket: path.display().to_string(),
    })
}

/// The last lines of every container of the backend, for error messages.
pub async fn logs_tail(engine: &Engine, backend: &Backend) -> String {
    use futures_util::StreamExt;
    let mut out = String::new();
    let Ok(containers) = engine.containers_by_label(&backend.label()).await else {
        return out;
    };
    for c in containers {
        out.push_str(&format!(
            "--- {} ({})\n",
            c.service.as_deref().unwrap_or(&c.name),
            c.state
        ));
        let mut stream = engine.logs(&c.id, false, Some(LOG_TAIL));
        while let Some(Ok(chunk)) = stream.next().await {
            out.push_str(&chunk.text());
        }
    }
    out
}

/// Takes the backend down (containers and networks; volumes when asked) and
/// removes whatever else carries the extension's label.
pub async fn down(
    engine: &Engine,
    runner: Option<&ComposeRunner>,
    backend: &Backend,
    volumes: bool,
) -> Result<(), InstallError> {
    if let Some(runner) = runner
        && backend.vm_dir.join("compose.yaml").is_file()
    {
        // A damaged project must not stop the label sweep below.
        let _ = runner.down(&backend.compose_project(), volumes).await;
    }
    sweep(engine, &backend.label(), &backend.project, volumes).await
}

/// Removes every container, network (and with `volumes`, volume) of the
/// extension in this home, found by label (`owner`: the extension's and the
/// home's, see [`crate::layout::owner_label`]) and by compose project: works
/// even when its files are gone, and never touches another home's install
/// of the same extension.
pub async fn sweep(
    engine: &Engine,
    owner: &str,
    project: &str,
    volumes: bool,
) -> Result<(), InstallError> {
    let ours = owner.to_owned();
    let compose = format!("com.docker.compose.project={project}");
    engine.remove_containers_by_label(&ours).await?;
    engine.remove_containers_by_label(&compose).await?;
    engine.remove_networks_by_label(&compose).await?;
    engine.remove_networks_by_label(&ours).await?;
    if volumes {
        engine.remove_volumes_by_label(&compose).await?;
        engine.remove_volumes_by_label(&ours).await?;
    }
    Ok(())
}

/// The compose project name of a new install of `id` in home `home_id`:
/// the home is part of it, so that two homes sharing an engine (two users,
/// two `$DOCKHAND_HOME`s) each have their own project, containers, networks
/// and volumes. An installed extension keeps the project its record names.
pub fn project_of(home_id: &str, id: &ExtensionId) -> String {
    project_name(&format!("{home_id}/{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(service: &str, state: &str, status: &str) -> ContainerInfo {
        ContainerInfo {
            id: format!("id-{service}"),
            name: format!("dockhand-x-{service}-1"),
            image: "x".into(),
            state: state.into(),
            status: status.into(),
            labels: Default::default(),
            service: Some(service.into()),
            project: Some("dockhand-x".into()),
        }
    }

    #[test]
    fn a_set_up_step_that_exited_cleanly_is_no_failure() {
        let running = container("api", "running", "Up 2 seconds");
        let init = container("init", "exited", "Exited (0) 1 second ago");
        assert_eq!(not_serving(&[running.clone(), init.clone()]), None);
        assert_eq!(not_serving(std::slice::from_ref(&running)), None);
        // Created but not started yet (depends_on) is not a failure either.
        assert_eq!(not_serving(&[container("api", "created", "Created")]), None);
        // Alone, a clean exit leaves nothing to create the socket.
        assert_eq!(
            not_serving(&[init]),
            Some(("stopped", "init: Exited (0) 1 second ago".to_owned()))
        );
        assert_eq!(
            not_serving(&[]),
            Some(("stopped", "no container is left".to_owned()))
        );
    }

    #[test]
    fn crashes_and_restart_loops_are_failures() {
        let running = container("api", "running", "Up 2 seconds");
        let crashed = container("db", "exited", "Exited (137) Less than a second ago");
        assert_eq!(
            not_serving(&[running.clone(), crashed]),
            Some((
                "stopped",
                "db: Exited (137) Less than a second ago".to_owned()
            ))
        );
        let looping = container("api", "restarting", "Restarting (1) 1 second ago");
        assert_eq!(
            not_serving(&[looping]).map(|(w, _)| w),
            Some("keeps restarting")
        );
        assert_eq!(exit_code("Exited (2) 3 minutes ago"), Some(2));
        assert_eq!(exit_code("Up 3 minutes"), None);
    }

    #[test]
    fn the_pending_message_says_what_to_do() {
        let id = ExtensionId::parse("acme/ext").unwrap();
        let m = socket_pending_message(&id, "ext.sock", SocketState::Missing);
        assert!(m.contains("has not created its socket ext.sock yet"), "{m}");
        assert!(
            m.contains("503") && m.contains("dockhand logs acme/ext"),
            "{m}"
        );
        let m = socket_pending_message(&id, "ext.sock", SocketState::NotListening);
        assert!(m.contains("exists but nothing listens"), "{m}");
    }
}
