//! The examples in `examples/`: they validate, and on the real engine from
//! `scripts/deps` they build, carry the labels dockhand reads from their
//! Dockerfiles, run (the backend answers on its socket) and push to the
//! local registry.

use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{self, TempDir, repo_root, run};

const EXAMPLES: [&str; 4] = [
    "minimal-ui",
    "backend-image",
    "backend-compose",
    "host-binaries",
];

#[test]
fn examples_validate_without_errors() {
    for name in EXAMPLES {
        let dir = repo_root().join("examples").join(name);
        let out = run(&["validate", &dir.display().to_string(), "--format", "json"]);
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        assert_eq!(out.status.code(), Some(0), "{name}: {v}");
        let codes: Vec<&str> = v["diagnostics"]
            .as_array()
            .expect("array")
            .iter()
            .map(|d| d["code"].as_str().expect("code"))
            .collect();
        // The compose example mounts the engine socket on purpose: that is
        // the one finding (a permission notice) an example may carry.
        let allowed: &[&str] = if name == "backend-compose" {
            &["DH310"]
        } else {
            &[]
        };
        assert_eq!(codes, allowed, "{name}");
    }
}

fn ensure_backend_built() {
    let bin = dockhand_testkit::examples::example_backend();
    assert!(
        bin.is_file(),
        "{} missing after scripts/build-examples",
        bin.display()
    );
}

/// One HTTP/1.1 request over a unix socket; returns (status, body).
fn http_unix(sock: &Path, method: &str, path: &str, body: &str) -> (u16, String) {
    let request = dockhand_testkit::http::json_request("backend", method, path, body);
    dockhand_testkit::http::unix_exchange(sock, &request).into_parts()
}

fn wait_for_socket(sock: &Path) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(20) {
        if UnixStream::connect(sock).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn examples_build_run_and_push_on_the_real_engine() {
    let Some(env) = support::real_env("examples_build_run_and_push_on_the_real_engine") else {
        return;
    };
    ensure_backend_built();
    for name in EXAMPLES {
        let dir = repo_root().join("examples").join(name);
        let tag = format!("dockhand-it/{name}:e2e");
        support::docker(
            &env,
            &["build", "-q", "-t", &tag, &dir.display().to_string()],
        );
        // The labels the engine recorded are the ones validate read from the Dockerfile.
        let labels: Value = serde_json::from_str(&support::docker(
            &env,
            &[
                "image",
                "inspect",
                "--format",
                "{{json .Config.Labels}}",
                &tag,
            ],
        ))
        .expect("labels json");
        let text = fs_err::read_to_string(dir.join("Dockerfile")).expect("Dockerfile");
        let ours = dockhand_spec_labels(&text);
        assert_eq!(
            labels, ours,
            "{name}: engine labels differ from dockhand's reading of the Dockerfile"
        );
    }

    // The backend runs from its scratch image and answers on its socket.
    let sockdir = TempDir::new("sock");
    let cid = support::docker(
        &env,
        &[
            "run",
            "-d",
            "--rm",
            "-v",
            &format!("{}:/run/guest-services", sockdir.arg()),
            "dockhand-it/backend-image:e2e",
        ],
    );
    let cid = cid.trim();
    let sock = sockdir.0.join("backend.sock");
    let ready = wait_for_socket(&sock);
    let logs = if ready {
        String::new()
    } else {
        String::from_utf8_lossy(&support::docker_at(&env.docker_host, &["logs", cid]).stderr)
            .into_owned()
    };
    let hello = ready.then(|| http_unix(&sock, "GET", "/hello", ""));
    let echo = ready.then(|| http_unix(&sock, "POST", "/echo", r#"{"x":1}"#));
    let teapot = ready.then(|| http_unix(&sock, "GET", "/status/418", ""));
    support::docker_at(&env.docker_host, &["rm", "-f", cid]);
    assert!(ready, "backend socket never appeared; logs:\n{logs}");
    let (status, body) = hello.expect("hello");
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json body");
    assert_eq!(v["message"], "hello from the backend");
    assert_eq!(echo.expect("echo"), (200, r#"{"x":1}"#.to_owned()));
    assert_eq!(teapot.expect("418").0, 418);

    // The registry takes the image.
    let remote = format!("{}/dockhand-it/minimal-ui:e2e", env.registry);
    support::docker(&env, &["tag", "dockhand-it/minimal-ui:e2e", &remote]);
    support::docker(&env, &["push", "-q", &remote]);
    let tags = http_tcp(&env.registry, "/v2/dockhand-it/minimal-ui/tags/list");
    assert!(tags.contains("\"e2e\""), "registry lists the tag: {tags}");
}

fn dockhand_spec_labels(dockerfile: &str) -> Value {
    let d = dockhand_spec::labels_from_dockerfile(dockerfile, &Default::default(), None)
        .expect("Dockerfile parses");
    serde_json::to_value(&d.labels).expect("labels")
}

fn http_tcp(addr: &str, path: &str) -> String {
    dockhand_testkit::http::tcp_get(addr, path).raw
}
