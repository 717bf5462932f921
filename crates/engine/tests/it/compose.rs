//! Compose projects with dockhand's override, run for real: labels, the socket
//! dir, the engine socket, logs, exec, stop/start, down and remove-by-label.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dockhand_engine::{
    ComposeError, ComposeProject, ComposeRunner, EXTENSION_LABEL, Engine, EngineError,
    EngineFlavor, OverrideInput, ReplacedKind, StdStream, VERSION_LABEL, compose_override,
    plugin_image_env, project_name, vm_image_compose, vm_image_service, wait_for_socket,
};
use dockhand_spec::ComposeFacts;
use futures_util::StreamExt;

use crate::support::{
    BACKEND_IMAGE, Cleanup, build_backend_image, engine_and_compose, extension_containers,
    extension_label, podman_and_compose, project_label, unique_id,
};
use dockhand_testkit::http::unix_get;

const SOCKET_WAIT: Duration = Duration::from_secs(30);

/// The command line of the example backend (the scratch image's only
/// program) with `args`.
fn backend(args: &[&str]) -> Vec<String> {
    let mut cmd = vec!["/backend".to_owned()];
    cmd.extend(args.iter().map(|a| (*a).to_owned()));
    cmd
}

/// `GET path` from the backend on `backend.sock` in `socket_dir` (on a
/// blocking thread): the status and the body.
async fn backend_get(socket_dir: &Path, path: &'static str) -> (u16, String) {
    let sock = socket_dir.join("backend.sock");
    tokio::task::spawn_blocking(move || unix_get(&sock, path).into_parts())
        .await
        .expect("join")
}

/// The extension's compose file: one service reaching the engine through
/// Docker Desktop's socket path, one mounting a VM-only path.
const COMPOSE: &str = r#"
services:
  api:
    image: ${DESKTOP_PLUGIN_IMAGE}
    volumes:
      - /var/run/docker.sock.raw:/var/run/docker.sock
      - data:/data
  second:
    image: ${DESKTOP_PLUGIN_IMAGE}
    command: ["/backend", "--socket", "/run/guest-services/second.sock"]
    labels:
      - "own.label=kept"
    volumes:
      - /run/host-services/backend.sock:/host-backend.sock
volumes:
  data: {}
"#;

/// A project written to a temp dir: the compose file and dockhand's override.
struct Written {
    _dir: tempfile::TempDir,
    socket_dir: PathBuf,
    project: ComposeProject,
}

fn write_project(
    engine: &Engine,
    id: &str,
    compose_text: &str,
    image: &str,
) -> (Written, dockhand_engine::Override) {
    let dir = tempfile::tempdir().expect("temp dir");
    let socket_dir = dir.path().join("sock");
    fs_err::create_dir(&socket_dir).expect("socket dir");
    let facts = ComposeFacts::parse(compose_text).expect("compose parses");
    let input = OverrideInput {
        extension_id: id.to_owned(),
        version: "1.0.0".into(),
        socket_dir: socket_dir.clone(),
        engine_socket: engine.host().socket_path().map(Path::to_path_buf),
        extra_labels: vec![],
        relay: false,
    };
    let ov = compose_override(&facts, &input).expect("override");
    let vm = dir.path().join("vm");
    fs_err::create_dir(&vm).expect("vm dir");
    fs_err::write(vm.join("docker-compose.yaml"), compose_text).expect("write compose");
    fs_err::write(vm.join("dockhand.override.json"), ov.to_json()).expect("write override");
    let project = ComposeProject {
        name: project_name(id),
        files: vec![
            vm.join("docker-compose.yaml"),
            vm.join("dockhand.override.json"),
        ],
        env: vec![plugin_image_env(image)],
        dir: vm,
    };
    (
        Written {
            _dir: dir,
            socket_dir,
            project,
        },
        ov,
    )
}

fn cleanup(engine: &Engine, runner: &ComposeRunner, id: &str, w: &Written) -> Cleanup {
    Cleanup {
        host: engine.host().clone(),
        extension_id: id.to_owned(),
        project: w.project.name.clone(),
        compose: Some((runner.clone(), w.project.clone())),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_backend_runs_with_the_override() {
    let test = "a_backend_runs_with_the_override";
    let Some((engine, runner)) = engine_and_compose(test).await else {
        return;
    };
    backend_runs_with_the_override(engine, runner).await;
}

/// The same on Podman's Docker API (`scripts/deps podman`), where image
/// names, log frames and the error for exec in a stopped container differ
/// (see `EngineFlavor`).
#[tokio::test(flavor = "multi_thread")]
async fn a_backend_runs_with_the_override_on_podman() {
    let test = "a_backend_runs_with_the_override_on_podman";
    let Some((engine, runner)) = podman_and_compose(test).await else {
        return;
    };
    assert_eq!(engine.flavor(), EngineFlavor::Podman);
    backend_runs_with_the_override(engine, runner).await;
}

async fn backend_runs_with_the_override(engine: Engine, runner: ComposeRunner) {
    build_backend_image(engine.host());
    let id = unique_id("backend");
    let (w, ov) = write_project(&engine, &id, COMPOSE, BACKEND_IMAGE);
    let _cleanup = cleanup(&engine, &runner, &id, &w);
    assert_eq!(
        ov.replaced.iter().map(|r| r.kind).collect::<Vec<_>>(),
        [ReplacedKind::EngineSocket, ReplacedKind::Unavailable]
    );

    runner.up(&w.project).await.expect("compose up");

    // Both backends create their sockets in the socket dir on the host.
    wait_for_socket(&w.socket_dir.join("backend.sock"), SOCKET_WAIT)
        .await
        .expect("api socket");
    wait_for_socket(&w.socket_dir.join("second.sock"), SOCKET_WAIT)
        .await
        .expect("second socket");

    // Our labels on every container, the service's own kept.
    let mut containers = extension_containers(&engine, &id).await;
    containers.sort_by(|a, b| a.service.cmp(&b.service));
    assert_eq!(containers.len(), 2, "{containers:?}");
    for c in &containers {
        assert_eq!(c.labels[EXTENSION_LABEL], id);
        assert_eq!(c.labels[VERSION_LABEL], "1.0.0");
        assert_eq!(c.project.as_deref(), Some(w.project.name.as_str()));
        assert!(c.is_running(), "{c:?}");
        assert_eq!(c.image, BACKEND_IMAGE);
    }
    let (api, second) = (&containers[0], &containers[1]);
    assert_eq!(api.service.as_deref(), Some("api"));
    assert_eq!(second.service.as_deref(), Some("second"));
    assert_eq!(second.labels["own.label"], "kept");

    // `/var/run/docker.sock.raw:/var/run/docker.sock` reaches the real engine.
    let (status, body) = backend_get(&w.socket_dir, "/engine/version").await;
    assert_eq!(status, 200, "{body}");
    let version = engine.version().await.expect("version");
    assert!(
        body.contains(&format!("\"ApiVersion\":\"{}\"", version.api_version)),
        "{body}"
    );

    // Logs, stderr told apart from stdout.
    let lines: Vec<_> = engine
        .logs(&api.id, false, None)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("logs");
    // Whole lines, though the backend writes this one in pieces.
    assert!(
        lines.iter().any(|l| l.stream == StdStream::Stderr
            && l.text().starts_with("backend ")
            && l.text()
                .ends_with(": listening on /run/guest-services/backend.sock\n")),
        "{lines:?}"
    );
    let tail: Vec<_> = engine.logs(&api.id, false, Some(0)).collect().await;
    assert!(tail.is_empty(), "{tail:?}");

    // Exec: the scratch image has only /backend.
    let out = engine
        .exec(&api.id, backend(&["--version"]), vec![], None)
        .await
        .expect("exec");
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("backend "), "{out:?}");
    let out = engine
        .exec(
            &api.id,
            backend(&["--bogus"]),
            vec!["BACKEND_SOCKET=/tmp/x.sock".into()],
            Some("/".into()),
        )
        .await
        .expect("exec");
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("unexpected argument --bogus"),
        "{out:?}"
    );
    let mut run = engine
        .exec_stream(&second.id, backend(&["--help"]), vec![], None)
        .await
        .expect("exec stream");
    let mut text = String::new();
    while let Some(chunk) = run.output.next().await {
        let chunk = chunk.expect("chunk");
        assert_eq!(chunk.stream, StdStream::Stdout);
        text.push_str(&chunk.text());
    }
    assert!(text.contains("usage: backend"), "{text}");
    assert_eq!(run.exit_code().await.expect("exit code"), 0);

    // Stop and start, through compose and through the API.
    runner.stop(&w.project).await.expect("compose stop");
    let stopped = extension_containers(&engine, &id).await;
    assert!(stopped.iter().all(|c| !c.is_running()), "{stopped:?}");
    let e = engine
        .exec(&api.id, backend(&[]), vec![], None)
        .await
        .expect_err("exec in a stopped container");
    assert!(
        matches!(&e, EngineError::NotRunning(c) if *c == api.id),
        "{e:?}"
    );
    assert!(e.to_string().contains("is not running"), "{e}");
    runner.start(&w.project).await.expect("compose start");
    engine
        .stop_container(&second.id, Some(Duration::from_secs(1)))
        .await
        .expect("stop");
    engine.start_container(&second.id).await.expect("start");
    engine
        .start_container(&second.id)
        .await
        .expect("start again is a no-op");
    let running = extension_containers(&engine, &id).await;
    assert!(running.iter().all(|c| c.is_running()), "{running:?}");

    // down keeps volumes unless asked.
    let proj = project_label(&w.project.name);
    assert_eq!(
        engine.networks_by_label(&proj).await.expect("nets").len(),
        1
    );
    runner.down(&w.project, false).await.expect("down");
    assert!(extension_containers(&engine, &id).await.is_empty());
    assert!(
        engine
            .networks_by_label(&proj)
            .await
            .expect("nets")
            .is_empty()
    );
    let vols = engine.volumes_by_label(&proj).await.expect("vols");
    assert_eq!(vols.len(), 1, "{vols:?}");
    assert!(vols[0].name.ends_with("_data"), "{vols:?}");
    runner.down(&w.project, true).await.expect("down -v");
    assert!(
        engine
            .volumes_by_label(&proj)
            .await
            .expect("vols")
            .is_empty()
    );

    // Remove-by-label, for when the compose files are gone.
    runner.up(&w.project).await.expect("compose up again");
    let ext = extension_label(&id);
    assert_eq!(
        engine.remove_containers_by_label(&ext).await.expect("rm"),
        2
    );
    assert_eq!(engine.remove_networks_by_label(&proj).await.expect("rm"), 1);
    assert_eq!(engine.remove_volumes_by_label(&proj).await.expect("rm"), 1);
    assert!(
        engine
            .containers_by_label(&ext)
            .await
            .expect("ls")
            .is_empty()
    );
    assert!(
        engine
            .containers_by_label(&proj)
            .await
            .expect("ls")
            .is_empty()
    );
    assert!(
        engine
            .networks_by_label(&proj)
            .await
            .expect("ls")
            .is_empty()
    );
    assert!(engine.volumes_by_label(&proj).await.expect("ls").is_empty());
    assert_eq!(
        engine.remove_containers_by_label(&ext).await.expect("rm"),
        0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_vm_image_backend_is_a_one_service_project() {
    let test = "a_vm_image_backend_is_a_one_service_project";
    let Some((engine, runner)) = engine_and_compose(test).await else {
        return;
    };
    build_backend_image(engine.host());
    let id = unique_id("vm-image");
    let text = serde_json::to_string_pretty(&vm_image_compose(&id, "${DESKTOP_PLUGIN_IMAGE}"))
        .expect("json");
    let (w, ov) = write_project(&engine, &id, &text, BACKEND_IMAGE);
    let _cleanup = cleanup(&engine, &runner, &id, &w);
    assert!(ov.replaced.is_empty());

    runner.up(&w.project).await.expect("compose up");
    wait_for_socket(&w.socket_dir.join("backend.sock"), SOCKET_WAIT)
        .await
        .expect("socket");
    let (status, body) = backend_get(&w.socket_dir, "/hello").await;
    assert_eq!(status, 200, "{body}");
    let containers = extension_containers(&engine, &id).await;
    assert_eq!(containers.len(), 1, "{containers:?}");
    assert_eq!(
        containers[0].service.as_deref(),
        Some(vm_image_service(&id).as_str())
    );
    // Without the engine socket mount, the backend cannot reach the engine.
    let (status, _) = backend_get(&w.socket_dir, "/engine/version").await;
    assert_eq!(status, 502);
    runner.down(&w.project, false).await.expect("down");
    assert!(extension_containers(&engine, &id).await.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failing_up_reports_compose_stderr() {
    let test = "a_failing_up_reports_compose_stderr";
    let Some((engine, runner)) = engine_and_compose(test).await else {
        return;
    };
    let id = unique_id("failing");
    // Nothing listens on port 9 of loopback: the pull fails at once
    // (docker-compose v1 ignores `pull_policy: never`; v2 fails without pulling).
    let text = "services:\n  api:\n    image: 127.0.0.1:9/dockhand-it/does-not-exist:1\n    pull_policy: never\n";
    let (w, _) = write_project(&engine, &id, text, BACKEND_IMAGE);
    let _cleanup = cleanup(&engine, &runner, &id, &w);
    let e = runner
        .up(&w.project)
        .await
        .expect_err("up of a missing image");
    let ComposeError::Failed {
        command,
        stderr_tail,
        project,
        ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(project, &w.project.name);
    assert!(command.contains(" up -d"), "{command}");
    assert!(command.contains(&w.project.name), "{command}");
    assert!(stderr_tail.contains("does-not-exist"), "{stderr_tail}");
    assert!(stderr_tail.lines().count() <= 20, "{stderr_tail}");
}

#[tokio::test(flavor = "multi_thread")]
async fn compose_without_files_is_refused() {
    let test = "compose_without_files_is_refused";
    let Some((_engine, runner)) = engine_and_compose(test).await else {
        return;
    };
    let project = ComposeProject {
        name: "dockhand-nothing".into(),
        files: vec![],
        env: vec![],
        dir: std::env::temp_dir(),
    };
    assert!(matches!(
        runner.up(&project).await,
        Err(ComposeError::NoFiles { .. })
    ));
}
