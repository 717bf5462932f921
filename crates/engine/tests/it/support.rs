//! Shared helpers: the real engine from `scripts/deps`, the example backend
//! image, unique extension ids and a guard that removes everything a test
//! started, even when it fails.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use dockhand_testkit::command::output_ok;

use dockhand_engine::{
    COMPOSE_PROJECT_LABEL, ComposeProject, ComposeRunner, ContainerInfo, EXTENSION_LABEL, Engine,
    EngineHost,
};

/// The image every compose test runs: `FROM scratch` plus the example backend.
pub const BACKEND_IMAGE: &str = "dockhand-engine-it/backend:latest";

pub use dockhand_testkit::env::skip;

pub use dockhand_testkit::vm::engine_host;

/// The engine and a compose CLI, or `None` (after saying so).
pub async fn engine_and_compose(test: &str) -> Option<(Engine, ComposeRunner)> {
    let host = engine_host(test)?;
    with_compose(test, host).await
}

/// Podman's Docker API (`DOCKHAND_PODMAN_HOST`, from `scripts/deps podman`)
/// and a compose CLI, or `None` (after saying so).
pub async fn podman_and_compose(test: &str) -> Option<(Engine, ComposeRunner)> {
    let host = dockhand_testkit::env::require_var(
        test,
        "DOCKHAND_PODMAN_HOST",
        "no Podman service from `scripts/deps podman` (DOCKHAND_PODMAN_HOST is unset)",
    )?;
    with_compose(test, host.parse().expect("DOCKHAND_PODMAN_HOST parses")).await
}

async fn with_compose(test: &str, host: EngineHost) -> Option<(Engine, ComposeRunner)> {
    let engine = Engine::connect(&host).await.expect("the engine answers");
    match ComposeRunner::detect(Path::new("docker"), &host).await {
        Ok(runner) => Some((engine, runner)),
        Err(e) => {
            skip(test, &format!("no compose CLI: {e}"));
            None
        }
    }
}

/// Builds [`BACKEND_IMAGE`] from the example backend (building the backend
/// with scripts/build-examples when it is missing).
pub fn build_backend_image(host: &EngineHost) {
    let bin = dockhand_testkit::examples::example_backend();
    let ctx = tempfile::tempdir().expect("temp dir");
    fs_err::copy(&bin, ctx.path().join("backend")).expect("copy the backend");
    fs_err::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY backend /backend\nSTOPSIGNAL SIGKILL\nCMD [\"/backend\"]\n",
    )
    .expect("write the Dockerfile");
    output_ok(
        Command::new("docker")
            .env("DOCKER_HOST", host.to_string())
            .args(["build", "-q", "-t", BACKEND_IMAGE])
            .arg(ctx.path()),
    );
}

/// An extension id no other test or run uses.
pub fn unique_id(test: &str) -> String {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("dockhand-it/{test}-{}-{n}-{nanos:x}", std::process::id())
}

/// The label selecting everything of one extension.
pub fn extension_label(id: &str) -> String {
    format!("{EXTENSION_LABEL}={id}")
}

/// The containers of extension `id`, in any state.
pub async fn extension_containers(engine: &Engine, id: &str) -> Vec<ContainerInfo> {
    engine
        .containers_by_label(&extension_label(id))
        .await
        .expect("list the extension's containers")
}

/// The label selecting everything of one compose project.
pub fn project_label(name: &str) -> String {
    format!("{COMPOSE_PROJECT_LABEL}={name}")
}

/// Removes, when dropped, every container of the extension and every
/// container, network and volume of its compose project.
pub struct Cleanup {
    pub host: EngineHost,
    pub extension_id: String,
    pub project: String,
    pub compose: Option<(ComposeRunner, ComposeProject)>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let host = self.host.clone();
        let ext = extension_label(&self.extension_id);
        let proj = project_label(&self.project);
        let compose = self.compose.take();
        // A fresh runtime on its own thread: Drop may run inside a test's runtime.
        let done = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                if let Some((runner, project)) = compose {
                    let _ = runner.down(&project, true).await;
                }
                let Ok(engine) = Engine::connect(&host).await else {
                    return;
                };
                for label in [&ext, &proj] {
                    let _ = engine.remove_containers_by_label(label).await;
                }
                let _ = engine.remove_networks_by_label(&proj).await;
                let _ = engine.remove_volumes_by_label(&proj).await;
            });
        })
        .join();
        if done.is_err() {
            eprintln!("cleanup of {} panicked", self.extension_id);
        }
    }
}
