//! The bridge's HTTP routes, called in-process.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::sync::atomic::Ordering;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use dockhand_server::bridge::Limits;
use serde_json::{Value, json};

use crate::bridge_support::{
    DOCKER_EXEC, HOST_EXEC, Harness, ORIGIN, Options, VM_EXEC, VM_REQUEST, assert_message,
    fake_docker, real_docker, test_engine, write_executable,
};

#[tokio::test]
async fn vm_request_get_passes_path_query_and_headers() {
    let h = Harness::new().await;
    let answer = h.post_ok(VM_REQUEST,
            json!({"method": "GET", "url": "/echo?x=1&y=two", "headers": {"X-Api-Key": "k", "Connection": "close", "Host": "evil"}})).await;
    assert_eq!(answer["status"], 200);
    assert!(
        answer["headers"]["content-type"]
            .as_str()
            .unwrap()
            .starts_with("application/json")
    );
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["method"], "GET");
    assert_eq!(body["path"], "/echo");
    assert_eq!(body["query"], "x=1&y=two");
    assert_eq!(body["headers"]["x-api-key"], "k");
    assert_eq!(body["headers"]["host"], "localhost");
    assert!(body["headers"].get("connection").is_none());
}

#[tokio::test]
async fn vm_request_bodies_json_and_text() {
    let h = Harness::new().await;
    let (_, answer) = h
        .post(
            VM_REQUEST,
            json!({"method": "POST", "url": "/echo", "data": {"name": "x", "n": [1, 2]}}),
        )
        .await;
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["method"], "POST");
    assert_eq!(body["headers"]["content-type"], "application/json");
    assert_eq!(
        serde_json::from_str::<Value>(body["body"].as_str().unwrap()).unwrap(),
        json!({"name": "x", "n": [1, 2]})
    );

    let (_, answer) = h
        .post(
            VM_REQUEST,
            json!({"method": "put", "url": "/echo", "data": "plain words"}),
        )
        .await;
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(body["method"], "PUT");
    assert_eq!(body["headers"]["content-type"], "text/plain; charset=utf-8");
    assert_eq!(body["body"], "plain words");

    // DELETE without data sends no body.
    let (_, answer) = h
        .post(VM_REQUEST, json!({"method": "DELETE", "url": "/echo"}))
        .await;
    let body: Value = serde_json::from_str(answer["body"].as_str().unwrap()).unwrap();
    assert_eq!(
        (body["method"].as_str(), body["body"].as_str()),
        (Some("DELETE"), Some(""))
    );
}

#[tokio::test]
async fn vm_request_passes_4xx_and_5xx_through() {
    let h = Harness::new().await;
    for code in [404, 418, 500] {
        let (status, answer) = h
            .post(VM_REQUEST, json!({"url": format!("/status/{code}")}))
            .await;
        assert_eq!(status, StatusCode::OK, "the bridge call itself succeeds");
        assert_eq!(answer["status"], code);
        assert_eq!(answer["headers"]["x-backend"], "yes");
        assert_eq!(answer["body"], "{\"message\":\"no such thing\"}");
    }
}

#[tokio::test]
async fn vm_request_reuses_connections() {
    let h = Harness::new().await;
    for i in 0..50 {
        let (status, answer) = h
            .post(VM_REQUEST, json!({"url": format!("/echo?i={i}")}))
            .await;
        assert_eq!(
            (status, answer["status"].as_u64()),
            (StatusCode::OK, Some(200))
        );
    }
    let n = h.connections.load(Ordering::SeqCst);
    assert_eq!(n, 1, "sequential requests share one keep-alive connection");
}

#[tokio::test]
async fn calls_abandoned_by_their_pages_do_not_hold_the_backend() {
    // More calls than may be in flight to one backend at once, each left
    // waiting on a backend that never answers, then abandoned by its page
    // (the connection closed): the next call must still get through.
    use tokio::io::AsyncWriteExt;
    let (h, addr) = Harness::served().await;
    let body = json!({"url": "/hang"}).to_string();
    let request = format!(
        "POST /.dockhand/api/vm/request HTTP/1.1\r\nHost: x\r\nOrigin: {ORIGIN}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut pages = Vec::new();
    for _ in 0..80 {
        let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
        s.write_all(request.as_bytes()).await.unwrap();
        pages.push(s);
    }
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    drop(pages);
    let answer = tokio::time::timeout(
        std::time::Duration::from_secs(20),
        h.post(VM_REQUEST, json!({"url": "/echo"})),
    )
    .await
    .expect("a call after abandoned ones is answered");
    assert_eq!(answer.0, StatusCode::OK, "{}", answer.1);
    assert_eq!(answer.1["status"], 200);
}

#[tokio::test]
async fn vm_request_size_limits() {
    let h = Harness::with(Options::with_limits(Limits {
        max_body: 4096,
        ..Limits::default()
    }))
    .await;
    h.post_error(
        VM_REQUEST,
        json!({"method": "POST", "url": "/echo", "data": "x".repeat(5000)}),
        StatusCode::PAYLOAD_TOO_LARGE,
        "4096",
    )
    .await;
    // An answer larger than the limit is a bad gateway, not a truncated body.
    h.post_expect(
        VM_REQUEST,
        json!({"url": "/big/10000"}),
        StatusCode::BAD_GATEWAY,
    )
    .await;
    // Under the limit all is well.
    let answer = h.post_ok(VM_REQUEST, json!({"url": "/big/100"})).await;
    assert_eq!(answer["body"].as_str().unwrap().len(), 100);
}

/// An extension without a backend: `vm.service` and `vm.cli.exec` are 404,
/// saying so. (A backend whose socket is missing is 503:
/// `vm_request_waits_for_a_socket_that_appears_later`.)
#[tokio::test]
async fn vm_calls_without_a_backend_are_404() {
    let h = Harness::with(Options::without_backend()).await;
    for (path, body) in [
        (VM_REQUEST, json!({"url": "/echo"})),
        (VM_EXEC, json!({"cmd": "ls"})),
    ] {
        h.post_error(path, body, StatusCode::NOT_FOUND, "no backend")
            .await;
    }
}

#[tokio::test]
async fn bridge_calls_need_the_extension_origin() {
    let h = Harness::new().await;
    for origin in [
        None,
        Some("http://localhost:4242"),
        Some("http://evil.example"),
    ] {
        let mut req = Request::post(HOST_EXEC);
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let req = req
            .body(Body::from(json!({"cmd": "ticker"}).to_string()))
            .unwrap();
        let (status, answer) = h.call(req).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?}: {answer}");
        assert!(answer["message"].is_string());
    }
    h.post_expect(HOST_EXEC, json!("not an object"), StatusCode::BAD_REQUEST)
        .await;
}

#[tokio::test]
async fn info_describes_the_extension() {
    let h = Harness::new().await;
    let (status, info) = h.get("/.dockhand/api/info").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["extension"], "acme/test-ext");
    assert_eq!(info["image"], "acme/test-ext:1.0.0");
    assert_eq!(info["vm"], true);
    assert_eq!(info["host"]["platform"], "linux");
    assert!(["x64", "arm64"].contains(&info["host"]["arch"].as_str().unwrap()));
    assert!(!info["host"]["hostname"].as_str().unwrap().is_empty());
    assert_eq!(info["hostBinaries"][0], "tool");
}

#[tokio::test]
async fn host_exec_runs_own_binaries_with_split_args_cwd_and_env() {
    let h = Harness::new().await;
    let cwd = h.path("work");
    fs_err::create_dir_all(&cwd).unwrap();
    let r = h
        .post_ok(
            HOST_EXEC,
            json!({"cmd": "tool", "args": ["'a b'", "$HOME;", "\"c\""],
                   "options": {"cwd": cwd, "env": {"FOO": "bar"}}}),
        )
        .await;
    assert_eq!(r["code"], 3);
    assert_eq!(
        r["stdout"],
        format!("[a b]\n[$HOME;]\n[c]\npwd={}\nFOO=bar\n", cwd.display())
    );
    assert_eq!(r["stderr"], "oops\n");
    assert_eq!(r["cmd"], "tool 'a b' '$HOME;' c");

    // Without cwd: the user's home.
    let (_, r) = h.post(HOST_EXEC, json!({"cmd": "tool"})).await;
    let home = h.state.bridge.user_home.display().to_string();
    assert!(
        r["stdout"]
            .as_str()
            .unwrap()
            .contains(&format!("pwd={home}\n")),
        "{r}"
    );
}

#[tokio::test]
async fn host_exec_refuses_anything_but_own_binaries() {
    let h = Harness::new().await;
    // A program elsewhere on the machine, with the same file name as nothing listed.
    write_executable(&h.path("evil"), "#!/bin/sh\necho pwned\n");
    let outside = h.path("evil").display().to_string();
    for cmd in [
        "sh",
        "/bin/sh",
        "evil",
        outside.as_str(),
        "../host/tool",
        "./tool",
        "host/tool",
        "tool ",
        "",
        ".",
        "..",
        "missing",
    ] {
        h.post_error(
            HOST_EXEC,
            json!({"cmd": cmd, "args": []}),
            StatusCode::NOT_FOUND,
            "not one of this extension's host binaries",
        )
        .await;
    }
    // A symlink planted in host/ under a listed name is not run either.
    let link = h.caller().host_dir().join("missing");
    fs_err::os::unix::fs::symlink("/bin/sh", &link).unwrap();
    h.post_expect(HOST_EXEC, json!({"cmd": "missing"}), StatusCode::NOT_FOUND)
        .await;
}

/// Requests the bridge cannot carry out as given are 400, saying why.
#[tokio::test]
async fn bad_requests_are_400() {
    let h = Harness::new().await;
    for (path, body, needle) in [
        (VM_REQUEST, json!({"url": "no-slash"}), "starting with /"),
        (
            HOST_EXEC,
            json!({"cmd": "tool", "args": ["'unclosed"]}),
            "unbalanced",
        ),
        (
            HOST_EXEC,
            json!({"cmd": "tool", "options": {"cwd": "/no/such/dir"}}),
            "/no/such/dir",
        ),
    ] {
        h.post_error(path, body, StatusCode::BAD_REQUEST, needle)
            .await;
    }
}

/// A fake docker CLI that prints its arguments: the argv the bridge built.
#[tokio::test]
async fn docker_exec_splits_like_docker_desktop_and_never_uses_a_shell() {
    let (_tmp, fake) = fake_docker(
        "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n\
         printf 'DOCKER_HOST=%s\\n' \"$DOCKER_HOST\"\nprintf 'CTX=%s\\n' \"${DOCKER_CONTEXT-unset}\"\n",
    );
    let h = Harness::with(Options::docker(fake, test_engine())).await;
    let cwd = h.path("cwd");
    fs_err::create_dir_all(&cwd).unwrap();
    let r = h.post_ok(DOCKER_EXEC,
            json!({"cmd": "ps", "args": ["--format", "\"{{json .}}\"", "; rm -rf /", "$(id)", "`id`",
                   "$HOME", "*", "a|b", "&&", ">", "out"],
                   "options": {"cwd": cwd, "env": {"FOO": "x"}}})).await;
    assert_eq!(r["code"], 0);
    let want = [
        "ps",
        "--format",
        "{{json .}}",
        ";",
        "rm",
        "-rf",
        "/",
        "$(id)",
        "`id`",
        "$HOME",
        "*",
        "a|b",
        "&&",
        ">",
        "out",
    ];
    let mut expected: String = want.iter().map(|w| format!("[{w}]\n")).collect();
    expected.push_str("DOCKER_HOST=unix:///run/test-engine.sock\nCTX=unset\n");
    assert_eq!(r["stdout"], expected);
    assert!(
        fs_err::read_dir(&cwd).unwrap().next().is_none(),
        "`> out` created no file"
    );
    assert!(
        r["cmd"]
            .as_str()
            .unwrap()
            .starts_with("docker ps --format '{{json .}}' ';'")
    );
}

/// `docker.cli.exec` cannot be pointed at another engine nor made to load
/// other code: global options before the subcommand and reserved environment
/// names are refused before anything runs (docs/security.md).
#[tokio::test]
async fn docker_exec_cannot_reach_another_engine_or_load_code() {
    // The fake leaves a file `ran` beside itself when it runs.
    let (tmp, fake) = fake_docker("#!/bin/sh\ntouch \"$(dirname \"$0\")/ran\"\n");
    let ran = tmp.path().join("ran");
    let h = Harness::with(Options::docker(fake, test_engine())).await;
    // Global options (the command, its arguments, the option named).
    let globals = [
        ("--context", json!(["prod", "ps"]), "--context"),
        ("-H", json!(["tcp://10.0.0.1:2375", "ps"]), "-H"),
        ("--host=tcp://x:1 ps", json!(null), "--host"),
        ("--config", json!(["/tmp/evil", "ps"]), "--config"),
        ("--tlsverify", json!(["ps"]), "--tlsverify"),
    ]
    .map(|(cmd, args, option)| {
        let body = match args {
            serde_json::Value::Null => json!({"cmd": cmd}),
            args => json!({"cmd": cmd, "args": args}),
        };
        (body, format!("global option `{option}`"))
    });
    // Reserved environment names, each with a value an attacker would give.
    let reserved = [
        ("DOCKER_HOST", "tcp://x:1"),
        ("DOCKER_CONTEXT", "prod"),
        ("DOCKER_CONFIG", "/tmp"),
        ("LD_PRELOAD", "/tmp/x.so"),
        ("PATH", "/tmp"),
        ("HOME", "/tmp"),
    ]
    .map(|(name, value)| {
        let body = json!({"cmd": "ps", "options": {"env": {name: value}}});
        (body, format!("{name} cannot be set"))
    });
    for (body, needle) in globals.into_iter().chain(reserved) {
        let (status, r) = h.post(DOCKER_EXEC, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}: {r}");
        let message = r["message"].as_str().unwrap();
        assert!(message.contains(&needle), "{body}: {message}");
    }
    // The same over the streaming socket, and for host binaries.
    let addr = h.serve_tcp().await;
    for request in [
        json!({"kind": "docker", "cmd": "--context", "args": ["prod", "ps"]}),
        json!({"kind": "docker", "cmd": "ps", "options": {"env": {"LD_PRELOAD": "/x.so"}}}),
        json!({"kind": "host", "cmd": "tool", "options": {"env": {"PATH": "/tmp"}}}),
    ] {
        let messages = crate::ws::exchange(addr, request.clone()).await;
        assert_eq!(messages.len(), 1, "{request}: {messages:?}");
        assert!(messages[0]["error"].is_string(), "{request}: {messages:?}");
    }
    h.post_expect(
        HOST_EXEC,
        json!({"cmd": "tool", "options": {"env": {"LD_PRELOAD": "/tmp/x.so"}}}),
        StatusCode::BAD_REQUEST,
    )
    .await;
    assert!(!ran.exists(), "nothing ran");
}

#[tokio::test]
async fn docker_exec_without_a_docker_cli_is_503() {
    let h = Harness::new().await;
    h.post_error(
        DOCKER_EXEC,
        json!({"cmd": "ps"}),
        StatusCode::SERVICE_UNAVAILABLE,
        "docker CLI",
    )
    .await;
}

#[tokio::test]
async fn docker_exec_runs_the_real_cli_against_the_engine() {
    let Some(options) = real_docker("docker_exec_runs_the_real_cli_against_the_engine") else {
        return;
    };
    let h = Harness::with(options).await;
    let r = h.post_ok(DOCKER_EXEC,
            json!({"cmd": "version", "args": ["--format", "'{{.Client.Version}} {{.Server.Version}}'"]})).await;
    assert_eq!(r["code"], 0, "{r}");
    let out = r["stdout"].as_str().unwrap().trim();
    let parts: Vec<&str> = out.split(' ').collect();
    assert_eq!(parts.len(), 2, "client and server versions: {out}");
    assert!(
        parts
            .iter()
            .all(|p| p.starts_with(|c: char| c.is_ascii_digit())),
        "{out}"
    );
    // A shell operator is an argument: docker refuses it, nothing else runs.
    let (_, r) = h
        .post(
            DOCKER_EXEC,
            json!({"cmd": "version", "args": ["; echo", "pwned"]}),
        )
        .await;
    assert_ne!(r["code"], 0, "{r}");
    assert!(!r["stdout"].as_str().unwrap().contains("pwned"), "{r}");
}

#[tokio::test]
async fn collected_output_is_capped_per_extension() {
    let h = Harness::with(Options::with_limits(Limits {
        max_buffered: 10_000,
        ..Limits::default()
    }))
    .await;
    let r = h
        .post_ok(HOST_EXEC, json!({"cmd": "chatty", "args": ["5000"]}))
        .await;
    assert_eq!(r["stdout"].as_str().unwrap().len(), 5000);
    h.post_error(
        HOST_EXEC,
        json!({"cmd": "chatty", "args": ["200000"]}),
        StatusCode::INSUFFICIENT_STORAGE,
        "stream",
    )
    .await;
    // The budget was given back.
    h.post_ok(HOST_EXEC, json!({"cmd": "chatty", "args": ["5000"]}))
        .await;
    assert_eq!(h.state.bridge.processes.running(h.caller().id()), 0);
}

/// A backend that has not created its socket yet (Docker Desktop installs
/// such extensions): vm.service answers 503 saying so and what to do, and
/// works as soon as the socket appears, with no restart of anything.
#[tokio::test]
async fn vm_request_waits_for_a_socket_that_appears_later() {
    let h = Harness::new().await;
    fs_err::remove_file(h.socket()).unwrap();
    let answer = h
        .post_error(
            VM_REQUEST,
            json!({"url": "/echo"}),
            StatusCode::SERVICE_UNAVAILABLE,
            "has not created its socket backend.sock yet",
        )
        .await;
    assert_message(&answer, "dockhand logs acme/test-ext");
    // A socket file nobody listens on (a backend that stopped) says that.
    drop(std::os::unix::net::UnixListener::bind(h.socket()).unwrap());
    h.post_error(
        VM_REQUEST,
        json!({"url": "/echo"}),
        StatusCode::SERVICE_UNAVAILABLE,
        "nothing listens on the socket backend.sock",
    )
    .await;
    fs_err::remove_file(h.socket()).unwrap();
    h.start_backend().await;
    let answer = h.post_ok(VM_REQUEST, json!({"url": "/echo"})).await;
    assert_eq!(answer["status"], 200);
}
