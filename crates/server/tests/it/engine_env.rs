//! `docker.cli.exec` reaches the engine dockhand uses, however it is named:
//! a TLS engine's certificates travel with `DOCKER_HOST`
//! (`DOCKER_TLS_VERIFY`, `DOCKER_CERT_PATH`), and the server's own engine
//! variables never reach the docker CLI.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use axum::http::StatusCode;
use dockhand_engine::{EngineHost, TlsConfig};
use serde_json::json;

use crate::bridge_support::{DOCKER_EXEC, Harness, Options, docker_on_path, fake_docker, skip};

fn tls_engine(addr: &str, certs: &std::path::Path) -> EngineHost {
    EngineHost::Tls {
        addr: addr.to_owned(),
        tls: TlsConfig {
            verify: true,
            ca: Some(certs.join("ca.pem")),
            client: Some((certs.join("cert.pem"), certs.join("key.pem"))),
            cert_dir: Some(certs.to_path_buf()),
        },
    }
}

#[tokio::test]
async fn docker_exec_gets_a_tls_engines_certificates() {
    let (_tmp, fake) = fake_docker(
        "#!/bin/sh\nfor v in DOCKER_HOST DOCKER_TLS_VERIFY DOCKER_TLS DOCKER_CERT_PATH DOCKER_CONTEXT; do\n\
         eval \"printf '%s=%s\\n' $v \\\"\\${$v-unset}\\\"\"\ndone\n",
    );
    let engine = tls_engine("127.0.0.1:2376", std::path::Path::new("/certs"));
    let h = Harness::with(Options::docker(fake, engine)).await;
    let r = h.post_ok(DOCKER_EXEC, json!({"cmd": "ps"})).await;
    assert_eq!(
        r["stdout"],
        "DOCKER_HOST=tcp://127.0.0.1:2376\nDOCKER_TLS_VERIFY=1\nDOCKER_TLS=unset\n\
         DOCKER_CERT_PATH=/certs\nDOCKER_CONTEXT=unset\n"
    );
    // An extension cannot send the docker CLI elsewhere with these names.
    for name in ["DOCKER_CERT_PATH", "DOCKER_TLS_VERIFY", "DOCKER_TLS"] {
        let (status, r) = h
            .post(
                DOCKER_EXEC,
                json!({"cmd": "ps", "options": {"env": {name: "/tmp/mine"}}}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{name}: {r}");
    }
}

/// The real docker CLI against the TLS engine of `scripts/deps vm`.
#[tokio::test]
async fn docker_exec_runs_the_real_cli_against_a_tls_engine() {
    let test = "docker_exec_runs_the_real_cli_against_a_tls_engine";
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let (Some(host), Some(certs)) = (var("DOCKHAND_VM_TLS_HOST"), var("DOCKHAND_VM_CERT_PATH"))
    else {
        skip(
            test,
            "no VM engine from `scripts/deps vm` (DOCKHAND_VM_TLS_HOST unset)",
        );
        return;
    };
    let Some(docker) = docker_on_path() else {
        skip(test, "no docker CLI on PATH");
        return;
    };
    let addr = host.trim_start_matches("tcp://");
    let engine = tls_engine(addr, std::path::Path::new(&certs));
    let h = Harness::with(Options::docker(docker, engine)).await;
    let r = h
        .post_ok(
            DOCKER_EXEC,
            json!({"cmd": "version", "args": ["--format", "'{{.Server.Version}}'"]}),
        )
        .await;
    assert_eq!(r["code"], 0, "{r}");
    assert!(
        r["stdout"]
            .as_str()
            .unwrap()
            .trim()
            .starts_with(|c: char| c.is_ascii_digit()),
        "{r}"
    );
}
