//! `vm.service` in relay mode on the "VM" engine of `scripts/deps vm` (its
//! own mount namespace, reached over TLS): the server probes the engine's
//! mode (remote: it does not see this machine's files), finds the
//! extension's relay container by its owner labels and
//! `dev.dockhand.role=relay`, starts one session in it on the first call and
//! carries every call over it; a session that ended is started again, and
//! a stopped relay or backend is a `503` that says what to do.
//!
//! The backend (the example backend, `FROM scratch`) and the relay (its
//! image built by dockhand from `target/relay`) share a named volume at
//! `/run/guest-services`, as the override of relay mode makes them.

use std::process::Command;
use std::time::{Duration, Instant};

use axum::http::StatusCode;
use dockhand_engine::{Engine, EngineHost, RELAY_SERVICE, RELAY_VOLUME, ROLE_LABEL};
use dockhand_testkit::command::stdout_ok;
use dockhand_testkit::vm::{relay_binaries, vm_tls_host as vm_host};
use serde_json::{Value, json};

use crate::bridge_support::{Harness, Options};

const BACKEND_IMAGE: &str = "dockhand-server-it/relay-backend:latest";

/// The docker CLI on the engine at `host`; its output.
fn docker(host: &EngineHost, args: &[&str]) -> String {
    stdout_ok(
        Command::new("docker")
            .env_remove("DOCKER_CONTEXT")
            .envs(host.child_env())
            .args(args),
    )
}

/// Removes the containers and the volume, also when the test fails.
struct Cleanup {
    host: EngineHost,
    containers: Vec<String>,
    volume: String,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        let run = |args: &[&str]| {
            let _ = Command::new("docker")
                .env_remove("DOCKER_CONTEXT")
                .envs(self.host.child_env())
                .args(args)
                .output();
        };
        for c in &self.containers {
            run(&["rm", "-f", "-v", c]);
        }
        run(&["volume", "rm", "-f", &self.volume]);
    }
}

/// One `vm.service` call; its status and answer.
async fn call(h: &Harness, request: Value) -> (StatusCode, Value) {
    h.post("/.dockhand/api/vm/request", request).await
}

/// Calls `GET /hello` until it answers 200 (the backend creates its socket
/// a moment after it starts); every other answer on the way must be a `503`.
async fn hello_when_ready(h: &Harness, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (status, answer) = call(h, json!({"url": "/hello"})).await;
        if status == StatusCode::OK {
            return answer;
        }
        assert!(
            status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::BAD_GATEWAY,
            "{status}: {answer}"
        );
        assert!(
            Instant::now() < deadline,
            "no answer through the relay within {within:?}: {status} {answer}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn vm_service_goes_through_the_relay_on_the_vm_engine() {
    let test = "vm_service_goes_through_the_relay_on_the_vm_engine";
    let Some(host) = vm_host(test) else {
        return;
    };
    let engine = Engine::connect(&host).await.expect("the VM engine answers");
    let relay_image = engine
        .ensure_relay_image(&relay_binaries())
        .await
        .expect("the relay image loads");
    // The backend image, built on the VM engine from the context sent over
    // the API (the engine has none of this machine's files).
    let ctx = tempfile::tempdir().expect("temp dir");
    fs_err::copy(
        dockhand_testkit::examples::example_backend(),
        ctx.path().join("backend"),
    )
    .expect("copy the backend");
    fs_err::write(
        ctx.path().join("Dockerfile"),
        "FROM scratch\nCOPY backend /backend\nSTOPSIGNAL SIGKILL\nCMD [\"/backend\"]\n",
    )
    .expect("Dockerfile");
    docker(
        &host,
        &[
            "build",
            "-q",
            "-t",
            BACKEND_IMAGE,
            &ctx.path().display().to_string(),
        ],
    );

    let n = std::process::id();
    let project = format!("dockhand-srv-relay-{n}");
    let h = Harness::with(Options {
        engine: Some(host.clone()),
        id: format!("dockhand-srv-it/relay-{n}"),
        compose_project: Some(project.clone()),
        relay: true,
        ..Options::default()
    })
    .await;
    let volume = format!("{project}_{RELAY_VOLUME}");
    let mut cleanup = Cleanup {
        host: host.clone(),
        containers: Vec::new(),
        volume: volume.clone(),
    };
    let labels = |service: &str, extra: &[&str]| {
        let mut args = h.service_label_args(service);
        for label in extra {
            args.extend(["--label".to_owned(), (*label).to_owned()]);
        }
        args
    };
    let mut create = vec!["volume".to_owned(), "create".to_owned()];
    create.extend(h.owner_label_args());
    create.push(volume.clone());
    docker(
        &host,
        &create.iter().map(String::as_str).collect::<Vec<_>>(),
    );
    let mount = format!("{volume}:/run/guest-services");
    // The backend without a network, the relay on the engine host's (as
    // relay mode's override runs it: sessions take its loopback port).
    let run = |cleanup: &mut Cleanup, network: &str, mut args: Vec<String>, image: &str| {
        let mut all: Vec<String> = ["run", "-d", "--network", network, "-v", &mount]
            .map(str::to_owned)
            .to_vec();
        all.append(&mut args);
        all.push(image.to_owned());
        let id = docker(&host, &all.iter().map(String::as_str).collect::<Vec<_>>());
        cleanup.containers.push(id.clone());
        id
    };
    let backend = run(&mut cleanup, "none", labels("backend", &[]), BACKEND_IMAGE);
    let role = format!("{ROLE_LABEL}=relay");
    let mut relay_args = labels(RELAY_SERVICE, &[&role]);
    relay_args.push("--read-only".to_owned());
    let relay = run(&mut cleanup, "host", relay_args, &relay_image);

    // The first call starts the session; GET and POST reach the backend.
    let answer = hello_when_ready(&h, Duration::from_secs(20)).await;
    assert_eq!(answer["status"], 200, "{answer}");
    assert!(
        answer["body"]
            .as_str()
            .is_some_and(|b| b.contains("hello from the backend")),
        "{answer}"
    );
    let site = h.state.bridge.relays.site(h.caller().id());
    assert!(site.is_live(), "one session carries the calls");
    let (status, answer) = call(
        &h,
        json!({"method": "POST", "url": "/echo", "data": {"through": "the relay"}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer["body"]
            .as_str()
            .is_some_and(|b| b.contains("the relay")),
        "{answer}"
    );

    // Many calls at once, over the one session.
    let calls: Vec<_> = (0..64)
        .map(|_| {
            let router = h.router();
            tokio::spawn(async move {
                use tower::ServiceExt;
                let req = axum::http::Request::post("/.dockhand/api/vm/request")
                    .header("origin", crate::bridge_support::ORIGIN)
                    .header("content-type", "application/json")
                    .body(axum::body::Body::from(r#"{"url":"/hello"}"#))
                    .expect("request");
                router.oneshot(req).await.expect("infallible").status()
            })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.expect("ran"), StatusCode::OK);
    }

    // The relay container restarts (as with the engine): its session ends
    // and the next calls start a new one (on the relay's new port and token,
    // or through an exec while its log still shows the old ticket).
    docker(&host, &["restart", "-t", "0", &relay]);
    let answer = hello_when_ready(&h, Duration::from_secs(20)).await;
    assert_eq!(answer["status"], 200, "{answer}");
    assert!(site.is_live());

    // No backend listening: a 503 that says so, as in local mode.
    docker(&host, &["stop", "-t", "0", &backend]);
    let (status, answer) = call(&h, json!({"url": "/hello"})).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("backend.sock") && message.contains("through its relay"),
        "{message}"
    );

    // The relay stopped: a 503 naming its container and the fix.
    docker(&host, &["stop", "-t", "0", &relay]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let message = loop {
        let (status, answer) = call(&h, json!({"url": "/hello"})).await;
        let message = answer["message"].as_str().unwrap_or_default().to_owned();
        if status == StatusCode::SERVICE_UNAVAILABLE && message.contains("is exited") {
            break message;
        }
        assert!(
            Instant::now() < deadline,
            "a stopped relay was not reported: {status} {answer}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    assert!(
        message.contains("relay container") && message.contains("dockhand enable"),
        "{message}"
    );
    drop(cleanup);
}
