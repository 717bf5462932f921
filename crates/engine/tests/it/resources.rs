//! The typed operations the dashboard and the bridge use, against the real
//! engine: containers, images and volumes listed and inspected as the
//! Engine API's JSON, a stats sample, an exec with a terminal (input, size,
//! exit code), the end of an exec by `kill_exec`, and a missing object as
//! the engine's own 404.

use std::collections::HashMap;
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use dockhand_engine::{
    COMPOSE_PROJECT_LABEL, Engine, EngineError, EngineHost, ExecOptions, ListContainersOptions,
    ListImagesOptions, StatsOptions, TerminalSize,
};
use dockhand_testkit::command::stdout_ok;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::support::{Cleanup, engine_host, extension_label, skip, unique_id};

/// A `FROM scratch` image with a static busybox as sh, sleep, stty.
const IMAGE: &str = "dockhand-engine-it/busybox:latest";

fn docker(host: &EngineHost, args: &[&str]) -> String {
    stdout_ok(
        Command::new("docker")
            .env("DOCKER_HOST", host.to_string())
            .args(args),
    )
}

/// Builds [`IMAGE`] once; false when the machine has no static busybox.
fn build_image(host: &EngineHost) -> bool {
    static BUILT: OnceLock<bool> = OnceLock::new();
    *BUILT.get_or_init(|| {
        if !std::path::Path::new("/bin/busybox").is_file() {
            return false;
        }
        let ctx = tempfile::tempdir().expect("temp dir");
        let mut dockerfile = String::from("FROM scratch\n");
        for applet in ["busybox", "sh", "sleep", "stty"] {
            fs_err::copy("/bin/busybox", ctx.path().join(applet)).expect("copy busybox");
            dockerfile.push_str(&format!("COPY {applet} /bin/{applet}\n"));
        }
        dockerfile.push_str("ENV PATH=/bin\nSTOPSIGNAL SIGKILL\nCMD [\"sleep\", \"3600\"]\n");
        fs_err::write(ctx.path().join("Dockerfile"), dockerfile).expect("Dockerfile");
        let dir = ctx.path().display().to_string();
        docker(host, &["build", "-q", "-t", IMAGE, &dir]);
        true
    })
}

/// What [`setup`] made for one test.
struct Fixture {
    engine: Engine,
    /// A running container of [`IMAGE`], labelled with `label`.
    container: String,
    /// A volume of the same compose project.
    volume: String,
    /// The extension label (`key=value`) of a fresh extension id.
    label: String,
    /// Removes them all when dropped.
    _cleanup: Cleanup,
}

/// A running container of [`IMAGE`] and a volume, both labelled for a fresh
/// extension id, with the guard that removes them; `None` when skipped.
async fn setup(test: &str) -> Option<Fixture> {
    let host = engine_host(test)?;
    if !build_image(&host) {
        skip(test, "no static busybox at /bin/busybox");
        return None;
    }
    let engine = Engine::connect(&host).await.expect("connect");
    let id = unique_id(test);
    let project = format!("dockhand-engine-it-{}", id.replace(['/', '.'], "-"));
    let cleanup = Cleanup {
        host: host.clone(),
        extension_id: id.clone(),
        project: project.clone(),
        compose: None,
    };
    let label = extension_label(&id);
    let project_label = format!("{COMPOSE_PROJECT_LABEL}={project}");
    let container = docker(
        &host,
        &[
            "run",
            "-d",
            "--label",
            &label,
            "--label",
            &project_label,
            IMAGE,
        ],
    );
    let volume = docker(
        &host,
        &[
            "volume",
            "create",
            "--label",
            &project_label,
            &format!("{project}-data"),
        ],
    );
    Some(Fixture {
        engine,
        container,
        volume,
        label,
        _cleanup: cleanup,
    })
}

fn rejected_404(e: &EngineError) -> bool {
    matches!(e, EngineError::Rejected { status: 404, .. })
}

/// The error of `result`, which must be the engine's 404.
fn expect_404<T: std::fmt::Debug>(result: Result<T, EngineError>) -> EngineError {
    let e = result.expect_err("the engine's 404");
    assert!(rejected_404(&e), "{e:?}");
    e
}

#[tokio::test(flavor = "multi_thread")]
async fn containers_images_and_volumes_are_engine_objects() {
    let test = "containers_images_and_volumes_are_engine_objects";
    let Some(Fixture {
        engine,
        container,
        volume,
        label,
        _cleanup,
    }) = setup(test).await
    else {
        return;
    };

    let filters = HashMap::from([("label".to_owned(), vec![label.clone()])]);
    let listed = engine
        .list_containers(&ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..ListContainersOptions::default()
        })
        .await
        .expect("list containers");
    let ids: Vec<_> = listed.iter().filter_map(|c| c.get("Id")).collect();
    assert_eq!(ids, [&serde_json::json!(container)], "{listed:?}");
    assert_eq!(listed[0].get("Image"), Some(&serde_json::json!(IMAGE)));
    let limited = engine
        .list_containers(&ListContainersOptions {
            all: true,
            limit: Some(1),
            ..ListContainersOptions::default()
        })
        .await
        .expect("list one container");
    assert_eq!(limited.len(), 1, "{limited:?}");

    let details = engine.inspect_container(&container).await.expect("inspect");
    assert!(details.running, "{details:?}");
    assert_eq!(details.id, container);
    assert_eq!(
        details.object.json()["Config"]["Labels"][label.split_once('=').unwrap().0],
        serde_json::json!(label.split_once('=').unwrap().1)
    );
    let e = expect_404(
        engine
            .inspect_container("dockhand-engine-it-no-such-container")
            .await,
    );
    assert!(e.to_string().contains("no-such-container"), "{e}");

    let options = StatsOptions {
        stream: false,
        one_shot: true,
    };
    let samples: Vec<_> = engine.container_stats(&container, options).collect().await;
    assert_eq!(samples.len(), 1, "{samples:?}");
    let sample = samples[0].as_ref().expect("a stats sample");
    assert!(sample.get("memory_stats").is_some(), "{sample:?}");
    let missing: Vec<_> = engine
        .container_stats("dockhand-engine-it-no-such-container", options)
        .collect()
        .await;
    assert!(
        matches!(missing.as_slice(), [Err(e)] if rejected_404(e)),
        "{missing:?}"
    );

    let images = engine
        .list_images(&ListImagesOptions {
            filters: Some(HashMap::from([(
                "reference".to_owned(),
                vec![IMAGE.to_owned()],
            )])),
            ..ListImagesOptions::default()
        })
        .await
        .expect("list images");
    assert_eq!(images.len(), 1, "{images:?}");
    let tags = images[0].get("RepoTags").expect("RepoTags");
    assert!(tags.as_array().unwrap().contains(&serde_json::json!(IMAGE)));
    let image = engine.inspect_image(IMAGE).await.expect("inspect image");
    assert_eq!(image.get("Id"), images[0].get("Id"));
    expect_404(
        engine
            .inspect_image("dockhand-engine-it/no-such:image")
            .await,
    );

    let volumes = engine.list_volumes().await.expect("list volumes");
    assert!(
        volumes
            .iter()
            .any(|v| v.get("Name") == Some(&serde_json::json!(volume))),
        "{volume} not in {volumes:?}"
    );
    let info = engine
        .inspect_volume(&volume)
        .await
        .expect("inspect volume");
    assert_eq!(info.get("Name"), Some(&serde_json::json!(volume)));
    expect_404(
        engine
            .inspect_volume("dockhand-engine-it-no-such-volume")
            .await,
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_exec_with_a_terminal_takes_input_and_a_size() {
    let Some(fixture) = setup("an_exec_with_a_terminal_takes_input_and_a_size").await else {
        return;
    };
    let (engine, container) = (&fixture.engine, &fixture.container);
    let options = ExecOptions {
        cmd: vec!["sh".into()],
        env: vec!["TERM=xterm-256color".into()],
        stdin: true,
        tty: true,
        ..ExecOptions::default()
    };
    let exec = engine.exec_start(container, &options).await.expect("exec");
    let exec_id = exec.id().to_owned();
    // The engine reports the exec running a moment after its start answers:
    // wait (bounded) for that before resizing its terminal.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let details = loop {
        let d = engine.inspect_exec(&exec_id).await.expect("inspect exec");
        if d.running || tokio::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert_eq!(details.id, exec_id);
    assert!(details.running, "{details:?}");
    engine
        .resize_exec(
            &exec_id,
            TerminalSize {
                cols: 101,
                rows: 31,
            },
        )
        .await
        .expect("resize");
    let mut input = exec.input.expect("the exec's input");
    input
        .write_all(b"stty size; exit 7\n")
        .await
        .expect("type into the shell");
    input.flush().await.expect("flush");
    let mut text = String::new();
    let mut output = exec.output;
    let read = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(chunk) = output.next().await {
            text.push_str(&chunk.expect("output").text());
        }
    })
    .await;
    assert!(read.is_ok(), "the shell did not end: {text:?}");
    assert!(text.contains("31 101"), "{text:?}");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let ended = loop {
        let d = engine.inspect_exec(&exec_id).await.expect("inspect exec");
        if !d.running || tokio::time::Instant::now() > deadline {
            break d;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!((ended.running, ended.exit_code), (false, Some(7)));
    expect_404(engine.inspect_exec("no-such-exec").await);
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_exec_ends_an_exec_in_a_local_engine() {
    let Some(fixture) = setup("kill_exec_ends_an_exec_in_a_local_engine").await else {
        return;
    };
    let (engine, container) = (&fixture.engine, &fixture.container);
    assert!(engine.host().is_local(), "scripts/deps' engine is local");
    let exec = engine
        .exec_stream(container, vec!["sleep".into(), "300".into()], vec![], None)
        .await
        .expect("exec");
    let exec_id = exec.id().to_owned();
    // The engine records the pid a moment after the start.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let d = engine.inspect_exec(&exec_id).await.expect("inspect exec");
        assert!(d.running, "{d:?}");
        if d.pid.is_some_and(|p| p > 0) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no pid: {d:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    engine.kill_exec(container, &exec_id).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let d = engine.inspect_exec(&exec_id).await.expect("inspect exec");
        if !d.running {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the exec still runs after kill_exec: {d:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The container itself keeps running.
    assert!(
        engine
            .inspect_container(container)
            .await
            .expect("inspect")
            .running
    );
}
