//! Every way of naming an engine, and the file-sharing probe, against the
//! real engines of `scripts/deps`: the main engine and Podman share this
//! machine's files (local mode); the "VM" engine of `scripts/deps vm` (its
//! own mount namespace) does not (remote mode), whether it is reached over
//! TLS tcp://, https:// or its forwarded unix socket. ssh:// is tested
//! through the binary (`crates/cli/tests/it/engines.rs`), which can be given
//! the ssh wrapper on its PATH.

use std::path::{Path, PathBuf};

use dockhand_engine::{
    Engine, EngineError, EngineHost, EngineMode, EngineRequest, ModeOptions, TlsRequest,
    resolve_engine,
};

use crate::support::{engine_host, skip};

/// The VM engine's addresses (`scripts/deps vm`).
struct Vm {
    tls_host: String,
    cert_path: PathBuf,
    unix_host: String,
}

fn vm(test: &str) -> Option<Vm> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    match (
        var("DOCKHAND_VM_TLS_HOST"),
        var("DOCKHAND_VM_CERT_PATH"),
        var("DOCKHAND_VM_UNIX_HOST"),
    ) {
        (Some(tls_host), Some(cert_path), Some(unix_host)) => Some(Vm {
            tls_host,
            cert_path: cert_path.into(),
            unix_host,
        }),
        _ => {
            skip(
                test,
                "no VM engine from `scripts/deps vm` (DOCKHAND_VM_TLS_HOST unset)",
            );
            None
        }
    }
}

fn tls_request(host: &str, cert_path: &Path) -> EngineRequest {
    EngineRequest {
        host_env: Some(host.to_owned()),
        config_dir: PathBuf::from("/nonexistent/docker-config"),
        tls: TlsRequest {
            verify: true,
            cert_path: Some(cert_path.to_path_buf()),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The probe on `host`, twice (the second answer from the cache) and once
/// more with `refresh`; checks that it leaves no container and no file.
async fn probe_twice(host: &EngineHost) -> (EngineMode, String, String) {
    let engine = Engine::connect(host).await.expect("the engine answers");
    let run = tempfile::tempdir().expect("temp dir");
    let home = tempfile::tempdir().expect("temp dir");
    let cache = home.path().join("engines.json");
    let opts = |refresh| ModeOptions {
        dir: run.path(),
        cache: Some(&cache),
        refresh,
    };
    let first = engine.mode(&opts(false)).await.expect("the probe runs");
    assert!(!first.cached, "{first:?}");
    assert_eq!(first.dir, run.path());
    let second = engine.mode(&opts(false)).await.expect("cached");
    assert!(second.cached, "{second:?}");
    assert_eq!(
        (second.mode, &second.engine_id),
        (first.mode, &first.engine_id)
    );
    let third = engine.mode(&opts(true)).await.expect("probed again");
    assert!(!third.cached, "{third:?}");
    assert_eq!(third.mode, first.mode);
    assert!(
        fs_err::read_dir(run.path()).expect("ls").next().is_none(),
        "the probe left files in {}",
        run.path().display()
    );
    let left = engine
        .containers_by_label("io.dockhand.probe")
        .await
        .expect("ls");
    assert!(left.is_empty(), "probe containers left: {left:?}");
    (first.mode, first.reason, first.engine_id)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_main_engine_and_podman_share_this_machines_files() {
    let Some(host) = engine_host("the_main_engine_and_podman_share_this_machines_files") else {
        return;
    };
    let (mode, reason, _) = probe_twice(&host).await;
    assert_eq!(mode, EngineMode::Local, "{reason}");
    assert!(reason.contains("is visible inside"), "{reason}");
    match std::env::var("DOCKHAND_PODMAN_HOST")
        .ok()
        .filter(|v| !v.is_empty())
    {
        Some(podman) => {
            let podman: EngineHost = podman.parse().expect("parses");
            let (mode, reason, id) = probe_twice(&podman).await;
            assert_eq!(mode, EngineMode::Local, "{reason}");
            // Podman's /info ID changes on every call: the key is stable anyway.
            assert!(id.starts_with("podman:"), "{id}");
        }
        None => skip(
            "the_main_engine_and_podman_share_this_machines_files (Podman)",
            "no Podman service from `scripts/deps podman`",
        ),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_vm_engine_over_tls_https_and_its_socket_is_remote() {
    let Some(vm) = vm("the_vm_engine_over_tls_https_and_its_socket_is_remote") else {
        return;
    };
    // tcp:// with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH.
    let tls = resolve_engine(&tls_request(&vm.tls_host, &vm.cert_path))
        .expect("resolves")
        .host;
    assert!(
        matches!(&tls, EngineHost::Tls { tls, .. } if tls.verify && tls.cert_dir.as_deref() == Some(vm.cert_path.as_path()))
    );
    let engine = Engine::connect(&tls).await.expect("TLS engine answers");
    engine.ping().await.expect("ping over TLS");
    let (mode, reason, tls_id) = probe_twice(&tls).await;
    assert_eq!(mode, EngineMode::Remote, "{reason}");
    assert!(reason.contains("does not exist for the engine"), "{reason}");

    // https://, the same engine.
    let https = vm.tls_host.replacen("tcp://", "https://", 1);
    let https = resolve_engine(&tls_request(&https, &vm.cert_path))
        .expect("resolves")
        .host;
    let engine = Engine::connect(&https).await.expect("https engine answers");
    assert_eq!(engine.identity().await.expect("info"), tls_id);

    // The forwarded unix socket: the same engine, remote although a unix socket.
    let unix: EngineHost = vm.unix_host.parse().expect("parses");
    assert!(unix.is_local(), "a unix socket is on this machine");
    let (mode, reason, unix_id) = probe_twice(&unix).await;
    assert_eq!(mode, EngineMode::Remote, "{reason}");
    assert_eq!(unix_id, tls_id);
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_failures_say_what_to_fix() {
    let Some(vm) = vm("tls_failures_say_what_to_fix") else {
        return;
    };
    let addr = vm.tls_host.trim_start_matches("tcp://").to_owned();
    // The wrong CA: the engine's certificate is not trusted.
    let wrong_ca = EngineHost::Tls {
        addr: addr.clone(),
        tls: dockhand_engine::TlsConfig {
            verify: true,
            ca: Some(vm.cert_path.join("cert.pem")),
            client: Some((vm.cert_path.join("cert.pem"), vm.cert_path.join("key.pem"))),
            cert_dir: None,
        },
    };
    let e = Engine::connect(&wrong_ca).await.expect_err("untrusted");
    assert!(matches!(e, EngineError::Tls { .. }), "{e:?}");
    let text = e.to_string();
    assert!(
        text.contains("certificate") && text.contains("DOCKER_CERT_PATH"),
        "{text}"
    );
    // No client certificate: the engine (--tlsverify) refuses the handshake.
    let no_client = EngineHost::Tls {
        addr: addr.clone(),
        tls: dockhand_engine::TlsConfig {
            verify: true,
            ca: Some(vm.cert_path.join("ca.pem")),
            client: None,
            cert_dir: None,
        },
    };
    let e = Engine::connect(&no_client)
        .await
        .expect_err("no client cert");
    let text = e.to_string();
    assert!(text.contains("no client certificate was sent"), "{text}");
    // Plain HTTP to a TLS port.
    let plain = EngineHost::Tcp(addr);
    let e = Engine::connect(&plain).await.expect_err("plain HTTP");
    assert!(matches!(e, EngineError::Unreachable { .. }), "{e:?}");
    // The CA missing from DOCKER_CERT_PATH is refused before connecting.
    let e = resolve_engine(&tls_request(&vm.tls_host, Path::new("/nonexistent/certs")))
        .expect_err("no ca.pem");
    assert!(e.to_string().contains("/nonexistent/certs/ca.pem"), "{e}");
}
