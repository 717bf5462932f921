//! Routes that need a real engine (`DOCKER_HOST` from `scripts/deps`): vm
//! exec in the backend's first service, the list calls, and the dashboard's
//! containers, logs, stats, terminal, images and volumes. Without an engine
//! they skip (and fail under `DOCKHAND_REQUIRE_ENV=1`).

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dockhand_testkit::command::stdout_ok;
use futures_util::{SinkExt, StreamExt};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tower::ServiceExt;

use crate::bridge_support::{
    DASHBOARD, Harness, ORIGIN, Options, VM_EXEC, assert_message, engine_host, eventually, skip,
};

/// A `FROM scratch` image with a static busybox as sh, sleep, cat, ps, kill.
const IMAGE: &str = "dockhand-server-it/busybox:latest";

fn docker(args: &[&str]) -> String {
    stdout_ok(Command::new("docker").args(args))
}

fn build_image() -> bool {
    static BUILT: OnceLock<bool> = OnceLock::new();
    *BUILT.get_or_init(|| {
        if !std::path::Path::new("/bin/busybox").is_file() {
            return false;
        }
        let ctx = tempfile::tempdir().expect("temp dir");
        let mut dockerfile = String::from("FROM scratch\n");
        for applet in [
            "busybox", "sh", "sleep", "cat", "ps", "kill", "echo", "stty",
        ] {
            fs_err::copy("/bin/busybox", ctx.path().join(applet)).expect("copy busybox");
            dockerfile.push_str(&format!("COPY {applet} /bin/{applet}\n"));
        }
        dockerfile.push_str("ENV PATH=/bin\nSTOPSIGNAL SIGKILL\nCMD [\"sleep\", \"3600\"]\n");
        fs_err::write(ctx.path().join("Dockerfile"), dockerfile).expect("Dockerfile");
        docker(&[
            "build",
            "-q",
            "-t",
            IMAGE,
            &ctx.path().display().to_string(),
        ]);
        true
    })
}

/// Removes the containers and volumes a test made, even when it fails.
#[derive(Debug, Default)]
struct Cleanup {
    containers: Vec<String>,
    volumes: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = Command::new("docker").args(["rm", "-f", c]).output();
        }
        for v in &self.volumes {
            let _ = Command::new("docker")
                .args(["volume", "rm", "-f", v])
                .output();
        }
    }
}

/// A harness for a fresh extension id, with the engine, or `None` (skipped).
async fn setup(test: &str) -> Option<(Harness, Cleanup)> {
    static N: AtomicUsize = AtomicUsize::new(0);
    let host = engine_host(test)?;
    if !build_image() {
        skip(test, "no static busybox at /bin/busybox");
        return None;
    }
    let n = N.fetch_add(1, Ordering::SeqCst);
    let id = format!("dockhand-srv-it/e{}-{n}", std::process::id());
    let h = Harness::with(Options {
        engine: Some(host),
        compose_project: Some(format!("dockhand-srv-it-{}-{n}", std::process::id())),
        id,
        ..Options::default()
    })
    .await;
    Some((h, Cleanup::default()))
}

/// Starts a container of the extension's backend as compose would label it.
fn run_service(h: &Harness, cleanup: &mut Cleanup, service: &str, cmd: &[&str]) -> String {
    let labels = h.service_label_args(service);
    let mut args = vec!["run", "-d"];
    args.extend(labels.iter().map(String::as_str));
    args.push(IMAGE);
    args.extend_from_slice(cmd);
    let id = docker(&args);
    cleanup.containers.push(id.clone());
    id
}

#[tokio::test]
async fn vm_exec_runs_in_the_first_service() {
    let Some((h, mut cleanup)) = setup("vm_exec_runs_in_the_first_service").await else {
        return;
    };
    // No container yet: the backend is not running.
    let r = h
        .post_expect(
            VM_EXEC,
            json!({"cmd": "true"}),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    assert_message(&r, "`backend`");

    let _other = run_service(&h, &mut cleanup, "other", &[]);
    let backend = run_service(&h, &mut cleanup, "backend", &[]);
    let r = h
        .post_ok(VM_EXEC, json!({"cmd": "cat", "args": ["/etc/hostname"]}))
        .await;
    assert_eq!(r["code"], 0);
    assert_eq!(
        r["stdout"].as_str().unwrap().trim(),
        &backend[..12],
        "ran in the first service"
    );

    let (_, r) = h
        .post(
            VM_EXEC,
            json!({"cmd": "sh", "args": ["-c", "'echo $FOO; pwd; echo err >&2; exit 4'"],
                   "options": {"env": {"FOO": "bar"}, "cwd": "/bin"}}),
        )
        .await;
    assert_eq!(r["code"], 4, "{r}");
    assert_eq!(r["stdout"], "bar\n/bin\n");
    assert_eq!(r["stderr"], "err\n");
    assert_eq!(r["cmd"], "sh -c 'echo $FOO; pwd; echo err >&2; exit 4'");
}

async fn ws_connect(
    addr: std::net::SocketAddr,
    path: &str,
    origin: &str,
) -> Result<
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
    String,
> {
    let mut req = format!("ws://{addr}{path}").into_client_request().unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

#[tokio::test]
async fn vm_exec_stream_and_close() {
    let Some((h, mut cleanup)) = setup("vm_exec_stream_and_close").await else {
        return;
    };
    let backend = run_service(&h, &mut cleanup, "backend", &[]);
    let addr = h.serve_tcp().await;
    let mut ws = ws_connect(addr, "/.dockhand/api/exec/ws", ORIGIN)
        .await
        .unwrap();
    // Streamed: each argument is one argv element, as given (no quotes to remove).
    let req = json!({"kind": "vm", "cmd": "sh", "args": ["-c", "echo ready; sleep 31"]});
    ws.send(Message::text(req.to_string())).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(20), ws.next())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(first.to_text().unwrap(), r#"{"stdout":"ready\n"}"#);
    let ps = || docker(&["exec", &backend, "ps"]);
    assert!(ps().contains("sleep 31"));
    ws.send(Message::text(r#"{"close": true}"#)).await.unwrap();
    let mut last = Value::Null;
    while let Ok(Some(Ok(Message::Text(t)))) =
        tokio::time::timeout(Duration::from_secs(20), ws.next()).await
    {
        last = serde_json::from_str(t.as_str()).unwrap();
    }
    assert_eq!(last["killed"], true, "{last}");
    // Ended from inside the container (best effort: needs a local engine and `kill`).
    assert!(
        eventually(10, || !ps().contains("sleep 31")).await,
        "the exec still runs: {}",
        ps()
    );
    assert!(eventually(5, || h.state.bridge.processes.running(h.caller().id()) == 0).await);
}

#[tokio::test]
async fn list_calls_pass_options_through() {
    let Some((h, mut cleanup)) = setup("list_calls_pass_options_through").await else {
        return;
    };
    let backend = run_service(&h, &mut cleanup, "backend", &[]);
    let label = format!("dev.dockhand.extension={}", h.caller().id());
    let filters = json!({"label": [label]}).to_string();
    for options in [
        json!({"all": true, "filters": filters}),
        json!({"all": true, "filters": {"label": [label]}}),
    ] {
        let list = h
            .post_ok(
                "/.dockhand/api/docker/containers",
                json!({"options": options}),
            )
            .await;
        let list = list.as_array().unwrap();
        assert_eq!(list.len(), 1, "{list:?}");
        assert_eq!(list[0]["Id"], backend);
        assert_eq!(list[0]["Labels"]["com.docker.compose.service"], "backend");
    }
    let list = h
        .post_ok(
            "/.dockhand/api/docker/images",
            json!({"options": {"filters": {"reference": [IMAGE]}}}),
        )
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert!(
        list[0]["RepoTags"]
            .as_array()
            .unwrap()
            .contains(&json!(IMAGE))
    );
    h.post_expect(
        "/.dockhand/api/docker/containers",
        json!({"options": {"filters": "{bad"}}),
        StatusCode::BAD_REQUEST,
    )
    .await;
}

#[tokio::test]
async fn dashboard_containers_images_volumes() {
    let Some((h, mut cleanup)) = setup("dashboard_containers_images_volumes").await else {
        return;
    };
    let backend = run_service(&h, &mut cleanup, "backend", &[]);
    let (status, list) = h.get("/api/containers?all=true").await;
    assert_eq!(status, StatusCode::OK);
    let ours = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Id"] == backend)
        .expect("our container is listed");
    assert_eq!(
        ours["Labels"]["dev.dockhand.extension"],
        h.caller().id().as_str()
    );
    let (status, info) = h.get(&format!("/api/containers/{backend}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["Id"], backend);
    let (status, e) = h.get("/api/containers/dockhand-no-such-container").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{e}");
    assert!(e["message"].is_string());

    let (status, list) = h.get("/api/images").await;
    assert_eq!(status, StatusCode::OK);
    assert!(list.as_array().unwrap().iter().any(|i| {
        i["RepoTags"]
            .as_array()
            .is_some_and(|t| t.contains(&json!(IMAGE)))
    }));
    // A reference with a slash, as is and encoded.
    for path in [
        format!("/api/images/{IMAGE}"),
        "/api/images/dockhand-server-it%2Fbusybox:latest".to_owned(),
    ] {
        let (status, info) = h.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {info}");
        assert!(info["RepoTags"].as_array().unwrap().contains(&json!(IMAGE)));
    }
    let (status, _) = h.get("/api/images/dockhand-no-such:image").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let volume = format!("dockhand-srv-it-{}", std::process::id());
    docker(&["volume", "create", &volume]);
    cleanup.volumes.push(volume.clone());
    let (status, list) = h.get("/api/volumes").await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .any(|v| v["Name"] == volume.as_str())
    );
    let (status, info) = h.get(&format!("/api/volumes/{volume}")).await;
    assert_eq!(
        (status, info["Name"].as_str()),
        (StatusCode::OK, Some(volume.as_str()))
    );
    let (status, _) = h.get("/api/volumes/dockhand-no-such-volume").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dashboard_logs_and_stats() {
    let Some((h, mut cleanup)) = setup("dashboard_logs_and_stats").await else {
        return;
    };
    let id = run_service(
        &h,
        &mut cleanup,
        "backend",
        &["sh", "-c", "echo log-line; echo err-line >&2; sleep 3600"],
    );
    let mut text = String::new();
    eventually(10, || {
        text = docker(&["logs", &id]);
        text.contains("log-line")
    })
    .await;
    let (status, bytes) = h
        .call_raw(
            Request::get(format!("/api/containers/{id}/logs?tail=10"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains("log-line\n") && text.contains("err-line\n"),
        "{text}"
    );

    // Following: the first lines arrive while the body stays open.
    let resp = h
        .router()
        .oneshot(
            Request::get(format!("/api/containers/{id}/logs?follow=true"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.headers()["content-type"], "text/plain; charset=utf-8");
    let mut body = resp.into_body();
    let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
        .await
        .expect("a first chunk")
        .unwrap()
        .unwrap();
    assert!(!frame.into_data().unwrap().is_empty());
    let (status, _) = h.get("/api/containers/dockhand-no-such/logs").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (status, stats) = h.get(&format!("/api/containers/{id}/stats")).await;
    assert_eq!(status, StatusCode::OK, "{stats}");
    assert!(
        stats.get("cpu_stats").is_some() && stats.get("memory_stats").is_some(),
        "{stats}"
    );
}

#[tokio::test]
async fn dashboard_terminal() {
    let Some((h, mut cleanup)) = setup("dashboard_terminal").await else {
        return;
    };
    let id = run_service(&h, &mut cleanup, "backend", &[]);
    let addr = h.serve_tcp().await;
    let path = format!("/api/containers/{id}/terminal");
    // Only the dashboard may open a shell.
    let e = ws_connect(addr, &path, ORIGIN).await.unwrap_err();
    assert!(e.contains("403"), "{e}");
    let e = ws_connect(addr, "/api/containers/dockhand-no-such/terminal", DASHBOARD)
        .await
        .unwrap_err();
    assert!(e.contains("404"), "{e}");

    let mut ws = ws_connect(addr, &path, DASHBOARD).await.unwrap();
    ws.send(Message::text(r#"{"resize": [100, 30]}"#))
        .await
        .unwrap();
    ws.send(Message::binary(
        b"echo hello-$((6*7)); stty size\n".to_vec(),
    ))
    .await
    .unwrap();
    let mut seen = Vec::new();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !String::from_utf8_lossy(&seen).contains("30 100") {
        let msg = tokio::time::timeout_at(deadline, ws.next())
            .await
            .unwrap_or_else(|_| panic!("no shell output: {}", String::from_utf8_lossy(&seen)))
            .unwrap()
            .unwrap();
        if let Message::Binary(b) = msg {
            seen.extend_from_slice(&b);
        }
    }
    assert!(String::from_utf8_lossy(&seen).contains("hello-42"));
    ws.send(Message::binary(b"exit\n".to_vec())).await.unwrap();
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(Ok(msg)) = ws.next().await {
            if msg.is_close() {
                return true;
            }
        }
        true
    })
    .await;
    assert_eq!(closed, Ok(true), "the socket closes when the shell exits");
}
