//! The streaming exec WebSocket, over a real socket.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::bridge_support::{
    DOCKER_EXEC, HOST_EXEC, Harness, ORIGIN, Options, alive, eventually, fake_docker, read_pid,
    real_docker, test_engine,
};
use dockhand_server::bridge::Limits;

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn connect(addr: std::net::SocketAddr, origin: &str) -> Result<Ws, String> {
    let mut req = format!("ws://{addr}/.dockhand/api/exec/ws")
        .into_client_request()
        .unwrap();
    req.headers_mut().insert("origin", origin.parse().unwrap());
    tokio_tungstenite::connect_async(req)
        .await
        .map(|(ws, _)| ws)
        .map_err(|e| e.to_string())
}

async fn send(ws: &mut Ws, v: Value) {
    ws.send(Message::text(v.to_string())).await.unwrap();
}

/// The next JSON message; `None` at close.
async fn next(ws: &mut Ws) -> Option<Value> {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .expect("a message within 20 s")?;
        match msg.ok()? {
            Message::Text(t) => return Some(serde_json::from_str(t.as_str()).unwrap()),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// Every message up to the close.
async fn all(ws: &mut Ws) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(v) = next(ws).await {
        out.push(v);
    }
    out
}

/// Connects with the extension's origin, sends `request` and reads every
/// answer up to the close.
pub async fn exchange(addr: std::net::SocketAddr, request: Value) -> Vec<Value> {
    let mut ws = connect(addr, ORIGIN).await.unwrap();
    send(&mut ws, request).await;
    all(&mut ws).await
}

fn text_of(messages: &[Value], key: &str) -> String {
    messages
        .iter()
        .filter_map(|m| m.get(key).and_then(Value::as_str))
        .collect()
}

#[tokio::test]
async fn streams_output_then_exit() {
    let (_h, addr) = Harness::served().await;
    let messages = exchange(addr, json!({"kind": "host", "cmd": "ticker", "args": []})).await;
    assert_eq!(text_of(&messages, "stdout"), "tick 1\ntick 2\ntick 3\n");
    assert_eq!(text_of(&messages, "stderr"), "done\n");
    assert_eq!(messages.last().unwrap(), &json!({"exit": 0}));

    let messages = exchange(addr, json!({"kind": "host", "cmd": "tool", "args": ["x"]})).await;
    assert_eq!(messages.last().unwrap(), &json!({"exit": 3}));
}

#[tokio::test]
async fn errors_are_reported_then_closed() {
    let (_h, addr) = Harness::served().await;
    for (request, needle) in [
        (
            json!({"kind": "host", "cmd": "sh", "args": ["-c", "id"]}),
            "not one of this extension's host binaries",
        ),
        (json!({"kind": "shell", "cmd": "id"}), "not an exec request"),
        (json!({"kind": "docker", "cmd": "ps"}), "docker CLI"),
    ] {
        let messages = exchange(addr, request.clone()).await;
        assert_eq!(messages.len(), 1, "{request}: {messages:?}");
        let error = messages[0]["error"].as_str().unwrap();
        assert!(error.contains(needle), "{request}: {error}");
    }
}

#[tokio::test]
async fn other_origins_cannot_open_the_socket() {
    let (_h, addr) = Harness::served().await;
    for origin in ["http://evil.example", "http://localhost:4242"] {
        let e = connect(addr, origin).await.unwrap_err();
        assert!(e.contains("403"), "{origin}: {e}");
    }
}

async fn start_sleeper(addr: std::net::SocketAddr, pidfile: &std::path::Path) -> (Ws, u32) {
    let mut ws = connect(addr, ORIGIN).await.unwrap();
    send(
        &mut ws,
        json!({"kind": "host", "cmd": "sleeper", "args": [pidfile.display().to_string()]}),
    )
    .await;
    assert_eq!(next(&mut ws).await, Some(json!({"stdout": "started\n"})));
    let pid = read_pid(pidfile).await;
    assert!(alive(pid));
    (ws, pid)
}

/// Asserts that the sleeper `pid` ends within 5 s (`after` what, for the
/// failure message).
async fn assert_ends(pid: u32, after: &str) {
    assert!(
        eventually(5, || !alive(pid)).await,
        "sleep {pid} still runs {after}"
    );
}

/// Asserts that within 5 s the extension has no process left.
async fn assert_none_running(h: &Harness) {
    let running = || h.state.bridge.processes.running(h.caller().id());
    assert!(eventually(5, || running() == 0).await, "{} left", running());
}

#[tokio::test]
async fn close_request_kills_the_process_group() {
    let (h, addr) = Harness::served().await;
    let pidfile = h.path("sleep.pid");
    let (mut ws, pid) = start_sleeper(addr, &pidfile).await;
    send(&mut ws, json!({"close": true})).await;
    let messages = all(&mut ws).await;
    let exit = messages.last().unwrap();
    assert_eq!(exit["killed"], true, "{messages:?}");
    assert_eq!(exit["exit"], 143, "{messages:?}");
    assert_eq!(exit["signal"], "SIGTERM");
    assert_ends(pid, "after the close request").await;
    assert_none_running(&h).await;
}

#[tokio::test]
async fn disconnecting_kills_the_process() {
    let (h, addr) = Harness::served().await;
    // A clean close.
    let pidfile = h.path("a.pid");
    let (mut ws, pid) = start_sleeper(addr, &pidfile).await;
    ws.close(None).await.unwrap();
    assert_ends(pid, "after close").await;
    // The connection just dropped.
    let pidfile = h.path("b.pid");
    let (ws, pid) = start_sleeper(addr, &pidfile).await;
    drop(ws);
    assert_ends(pid, "after a drop").await;
    assert_none_running(&h).await;
}

#[tokio::test]
async fn shutdown_kills_everything() {
    let (h, addr) = Harness::served().await;
    let (_ws, pid) = start_sleeper(addr, &h.path("c.pid")).await;
    assert_eq!(h.state.bridge.processes.kill_all(), 1);
    assert_ends(pid, "after kill_all").await;
}

#[tokio::test]
async fn processes_are_limited_per_extension() {
    let h = Harness::with(Options::with_limits(Limits {
        max_processes: 2,
        ..Limits::default()
    }))
    .await;
    let addr = h.serve_tcp().await;
    let (ws1, pid1) = start_sleeper(addr, &h.path("1.pid")).await;
    let (_ws2, _pid2) = start_sleeper(addr, &h.path("2.pid")).await;
    h.post_expect(
        HOST_EXEC,
        json!({"cmd": "ticker"}),
        axum::http::StatusCode::TOO_MANY_REQUESTS,
    )
    .await;
    let m = exchange(addr, json!({"kind": "host", "cmd": "ticker"})).await;
    assert!(
        m[0]["error"]
            .as_str()
            .unwrap()
            .contains("already runs 2 processes"),
        "{m:?}"
    );
    // Closing one frees its slot.
    drop(ws1);
    assert!(eventually(5, || !alive(pid1)).await);
    assert!(eventually(5, || h.state.bridge.processes.running(h.caller().id()) == 1).await);
    h.post_ok(HOST_EXEC, json!({"cmd": "ticker"})).await;
}

/// As in Docker Desktop (docker/extensions-sdk#303), a streaming exec's
/// arguments are argv elements as given: nothing is split, no quote removed,
/// and still no shell.
#[tokio::test]
async fn streamed_arguments_are_passed_verbatim() {
    let (_tmp, fake) =
        fake_docker("#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n");
    let h = Harness::with(Options::docker(fake, test_engine())).await;
    let addr = h.serve_tcp().await;
    let args = json!([
        "--format",
        "{{json .}}",
        "\"quoted\"",
        "a b",
        "'x'",
        "\"open",
        "$(id)",
        ";",
        ""
    ]);
    let messages = exchange(
        addr,
        json!({"kind": "docker", "cmd": "stats", "args": args}),
    )
    .await;
    assert_eq!(
        text_of(&messages, "stdout"),
        "[stats]\n[--format]\n[{{json .}}]\n[\"quoted\"]\n[a b]\n['x']\n[\"open]\n[$(id)]\n[;]\n[]\n"
    );
    assert_eq!(messages.last().unwrap(), &json!({"exit": 0}));

    // Host binaries too: `tool` prints its arguments one per line.
    let messages = exchange(
        addr,
        json!({"kind": "host", "cmd": "tool", "args": ["{{json .}}", "a b"]}),
    )
    .await;
    let out = text_of(&messages, "stdout");
    assert!(out.starts_with("[{{json .}}]\n[a b]\npwd="), "{out}");

    // The same arguments collected keep Docker Desktop's quote removal.
    let (_, r) = h
        .post(
            DOCKER_EXEC,
            json!({"cmd": "stats", "args": ["--format", "{{json .}}", "\"quoted\""]}),
        )
        .await;
    assert_eq!(
        r["stdout"],
        "[stats]\n[--format]\n[{{json]\n[.}}]\n[quoted]\n"
    );
}

/// With the real docker CLI and engine: a Go template with a space streams
/// JSON, where the collected exec splits it (as Docker Desktop does) and the
/// CLI refuses the pieces.
#[tokio::test]
async fn streamed_go_templates_reach_the_real_cli_whole() {
    let Some(options) = real_docker("streamed_go_templates_reach_the_real_cli_whole") else {
        return;
    };
    let h = Harness::with(options).await;
    let addr = h.serve_tcp().await;
    let messages = exchange(
        addr,
        json!({"kind": "docker", "cmd": "version", "args": ["--format", "{{json .Server}}"]}),
    )
    .await;
    assert_eq!(
        messages.last().unwrap(),
        &json!({"exit": 0}),
        "{messages:?}"
    );
    let out = text_of(&messages, "stdout");
    let server: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(server["ApiVersion"].is_string(), "{out}");

    let (_, r) = h
        .post(
            DOCKER_EXEC,
            json!({"cmd": "version", "args": ["--format", "{{json .Server}}"]}),
        )
        .await;
    assert_ne!(
        r["code"], 0,
        "the split template is refused by the CLI: {r}"
    );
}
