//! An extension's backend on the engine: its compose files, its image in the
//! engine, `up` with dockhand's override, readiness of its socket, access to
//! that socket for this user, and taking it down again.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dockhand_engine::{
    ComposeProject, ComposeRunner, EXTENSION_LABEL, Engine, EngineError, EngineHost, OverrideInput,
    compose_override, plugin_image_env, project_name, vm_image_compose, wait_for_socket,
};
use dockhand_oci::ExtensionId;
use dockhand_spec::{ComposeFacts, Metadata};

use crate::InstallError;
use crate::socket_dir;

/// How long a backend may take to create its socket.
pub const READY_TIMEOUT: Duration = Duration::from_secs(60);
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
            env: vec![plugin_image_env(&self.plugin_image)],
            dir: self.vm_dir.clone(),
        }
    }

    /// The label every container of this extension carries.
    pub fn label(&self) -> String {
        format!("{EXTENSION_LABEL}={}", self.id)
    }
}

/// The label filter of an extension's containers.
pub fn extension_label(id: &ExtensionId) -> String {
    format!("{EXTENSION_LABEL}={id}")
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
    } = place;
    let Some(vm) = &metadata.vm else {
        return Err(InstallError::Invalid("metadata.json has no vm".into()));
    };
    std::fs::create_dir_all(vm_dir).map_err(InstallError::io(vm_dir))?;
    // With both keys the compose file runs and vm.image is ignored, as in
    // Docker Desktop (validation warns, DH125).
    let text = match (&vm.image, &vm.composefile) {
        (_, Some(file)) => {
            let path = root.join(file.trim_start_matches('/'));
            std::fs::read_to_string(&path).map_err(InstallError::io(&path))?
        }
        (Some(image), None) => {
            serde_json::to_string_pretty(&vm_image_compose(id.as_str(), image)).unwrap_or_default()
        }
        (None, None) => {
            return Err(InstallError::Invalid(
                "vm has neither image nor composefile".into(),
            ));
        }
    };
    let compose_path = vm_dir.join("compose.yaml");
    std::fs::write(&compose_path, &text).map_err(InstallError::io(&compose_path))?;
    let facts = ComposeFacts::parse(&text)
        .map_err(|e| InstallError::Invalid(format!("compose file: {e}")))?;
    let input = OverrideInput {
        extension_id: id.to_string(),
        version: version.to_owned(),
        socket_dir: socket_dir.to_path_buf(),
        engine_socket: engine.socket_path().map(Path::to_path_buf),
        extra_labels: vec![(crate::layout::HOME_LABEL.to_owned(), home_id.to_owned())],
    };
    let over =
        compose_override(&facts, &input).map_err(|e| InstallError::Invalid(e.to_string()))?;
    let override_path = vm_dir.join("override.json");
    std::fs::write(&override_path, over.to_json()).map_err(InstallError::io(&override_path))?;
    Ok(facts)
}

/// Starts the backend and waits until its socket accepts this user.
/// `sockets` says which sockets of an earlier run to clear first: all of
/// them when the containers are (re)created, only stale ones when a running
/// backend is to be left as it is.
pub async fn up(
    engine: &Engine,
    runner: &ComposeRunner,
    backend: &Backend,
    ready_timeout: Duration,
) -> Result<(), InstallError> {
    socket_dir::prepare(&backend.socket_dir).map_err(InstallError::io(&backend.socket_dir))?;
    runner.up(&backend.compose_project()).await?;
    let Some(socket) = &backend.socket else {
        return Ok(());
    };
    let path = backend.socket_dir.join(socket);
    if wait_for_socket(&path, ready_timeout).await.is_err() {
        let logs = logs_tail(engine, &backend.id).await;
        return Err(InstallError::NotReady {
            id: backend.id.to_string(),
            socket: path.display().to_string(),
            seconds: ready_timeout.as_secs(),
            logs,
        });
    }
    ensure_access(engine, backend, &path).await
}

/// When this user may not connect (a root-created 0755 socket), fixes the
/// socket's mode from inside the container that owns it.
async fn ensure_access(
    engine: &Engine,
    backend: &Backend,
    path: &Path,
) -> Result<(), InstallError> {
    match socket_dir::can_connect(path) {
        Ok(true) => return Ok(()),
        Ok(false) => {}
        Err(e) => return Err(InstallError::io(path)(e)),
    }
    let inside = format!(
        "/run/guest-services/{}",
        backend.socket.as_deref().unwrap_or_default()
    );
    let containers = engine.containers_by_label(&backend.label()).await?;
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
        id: backend.id.to_string(),
        socket: path.display().to_string(),
    })
}

/// The last lines of every container of the extension, for error messages.
pub async fn logs_tail(engine: &Engine, id: &ExtensionId) -> String {
    use futures_util::StreamExt;
    let mut out = String::new();
    let Ok(containers) = engine.containers_by_label(&extension_label(id)).await else {
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
    sweep(engine, &backend.id, &backend.project, volumes).await
}

/// Removes every container, network (and with `volumes`, volume) of the
/// extension, found by label: works even when its files are gone.
pub async fn sweep(
    engine: &Engine,
    id: &ExtensionId,
    project: &str,
    volumes: bool,
) -> Result<(), InstallError> {
    let ours = extension_label(id);
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

/// The compose project name of an extension.
pub fn project_of(id: &ExtensionId) -> String {
    project_name(id.as_str())
}

/// Is this engine able to serve backends (bind mounts need a local engine)?
pub fn require_local(engine: &EngineHost, id: &ExtensionId) -> Result<(), InstallError> {
    if engine.is_local() {
        Ok(())
    } else {
        Err(InstallError::RemoteEngine {
            id: id.to_string(),
            host: engine.to_string(),
        })
    }
}

impl From<EngineError> for InstallError {
    fn from(e: EngineError) -> Self {
        InstallError::Engine(e)
    }
}
