//! The relay end to end on the real engines of `scripts/deps`: the main
//! engine and the "VM" engine (its own mount namespace, reached over TLS),
//! where no path of this machine exists. A compose project of two services
//! shares a named volume at `/run/guest-services`: the example backend,
//! listening on `backend.sock` there, and the relay (its image built by
//! dockhand from `target/relay/dockhand-relay-amd64` and loaded over the
//! API). dockhand reaches the backend only through the relay — over the
//! direct transport when the relay shares the engine host's network (as
//! dockhand's own relay service does), through an exec when the relay's
//! port is out of reach (its own network namespace) — 1,000 concurrent HTTP
//! GETs over one session, then keep-alive calls on 8 connections — and
//! measures the relay's memory.

use std::io::Read;
use std::path::Path;
use std::time::{Duration, Instant};

use dockhand_engine::{
    ComposeProject, ComposeRunner, EXTENSION_LABEL, Engine, EngineHost, Relay, RelayStream,
    RelayTransport,
};
use dockhand_testkit::vm::{relay_binaries, vm_tls_host as vm_host};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

use crate::support::{Cleanup, skip, unique_id};

/// The example backend (built with scripts/build-examples when missing).
fn backend_binary() -> Vec<u8> {
    let bin = dockhand_testkit::examples::example_backend();
    fs_err::read(bin).expect("read the backend")
}

fn tar_header(path: &str, size: usize, dir: bool, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_size(size as u64);
    h.set_mode(mode);
    h.set_mtime(0);
    h.set_path(path).expect("short path");
    h.set_cksum();
    h
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

/// A `docker save` tar of `FROM scratch` + the backend at `/backend`, so
/// that no engine needs a builder (the VM engine has none of our files).
fn backend_image_tar(name: &str) -> Vec<u8> {
    let binary = backend_binary();
    let mut layer = tar::Builder::new(Vec::new());
    layer
        .append(
            &tar_header("backend", binary.len(), false, 0o755),
            binary.as_slice(),
        )
        .expect("layer");
    let layer = layer.into_inner().expect("layer");
    let layer_hex = sha256_hex(&layer);
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Cmd": ["/backend"], "StopSignal": "SIGKILL"},
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_hex}")]},
    }))
    .expect("json");
    let config_hex = sha256_hex(&config);
    let manifest = serde_json::to_vec(&serde_json::json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": [name],
        "Layers": [format!("{layer_hex}/layer.tar")],
    }]))
    .expect("json");
    let mut out = tar::Builder::new(Vec::new());
    for (path, data) in [
        (format!("{config_hex}.json"), &config),
        (format!("{layer_hex}/layer.tar"), &layer),
        ("manifest.json".to_owned(), &manifest),
    ] {
        out.append(
            &tar_header(&path, data.len(), false, 0o644),
            data.as_slice(),
        )
        .expect("tar");
    }
    out.into_inner().expect("tar")
}

/// Writes the two-service compose file and starts it.
async fn up(
    runner: &ComposeRunner,
    dir: &Path,
    id: &str,
    relay_image: &str,
    backend_image: &str,
    relay_network: &str,
) -> ComposeProject {
    let compose = format!(
        "services:
  backend:
    image: {backend_image}
    network_mode: none
    volumes: [\"guest:/run/guest-services\"]
    labels: {{\"{EXTENSION_LABEL}\": \"{id}\"}}
  relay:
    image: {relay_image}
    network_mode: {relay_network}
    read_only: true
    volumes: [\"guest:/run/guest-services\"]
    labels: {{\"{EXTENSION_LABEL}\": \"{id}\"}}
volumes:
  guest: {{}}
"
    );
    fs_err::write(dir.join("compose.yaml"), compose).expect("write compose.yaml");
    let project = ComposeProject {
        name: dockhand_engine::project_name(id),
        files: vec![dir.join("compose.yaml")],
        env: Vec::new(),
        dir: dir.to_path_buf(),
    };
    runner.up(&project).await.expect("compose up");
    project
}

/// Connects to `backend.sock`, waiting (bounded) for the backend to create it.
async fn connect_when_ready(relay: &Relay) -> RelayStream {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match relay.connect("backend.sock").await {
            Ok(stream) => return stream,
            Err(e) if Instant::now() < deadline => {
                assert!(
                    matches!(
                        e.kind(),
                        std::io::ErrorKind::NotFound | std::io::ErrorKind::ConnectionRefused
                    ),
                    "{e}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("the backend's socket never answered through the relay: {e}"),
        }
    }
}

/// One `GET /hello` on a fresh connection (`Connection: close`).
async fn get_hello(relay: &Relay) -> Result<(), String> {
    let mut stream = relay
        .connect("backend.sock")
        .await
        .map_err(|e| format!("connect: {e}"))?;
    stream
        .write_all(b"GET /hello HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n")
        .await
        .map_err(|e| format!("write: {e}"))?;
    let mut answer = Vec::new();
    stream
        .read_to_end(&mut answer)
        .await
        .map_err(|e| format!("read: {e}"))?;
    let text = String::from_utf8_lossy(&answer);
    if text.starts_with("HTTP/1.1 200") && text.contains("hello") {
        Ok(())
    } else {
        Err(format!("unexpected answer: {text}"))
    }
}

/// `n` keep-alive `GET /hello` calls on one connection; their latencies.
async fn keep_alive(stream: RelayStream, n: usize) -> Vec<Duration> {
    let mut stream = BufReader::new(stream);
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        stream
            .get_mut()
            .write_all(b"GET /hello HTTP/1.1\r\nHost: backend\r\n\r\n")
            .await
            .expect("write");
        let mut length = None;
        let mut status = String::new();
        stream.read_line(&mut status).await.expect("status line");
        assert!(status.starts_with("HTTP/1.1 200"), "{status}");
        loop {
            let mut line = String::new();
            stream.read_line(&mut line).await.expect("header");
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let mut body = vec![0u8; length.expect("a Content-Length")];
        stream.read_exact(&mut body).await.expect("body");
        times.push(started.elapsed());
    }
    times
}

/// The resident memory (KiB) of every `dockhand-relay` process of this
/// machine's process table whose arguments contain `arg`, the engine's
/// containers included (both engines share this machine's pid namespace).
fn relay_rss_kib(arg: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let Ok(procs) = fs_err::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let mut cmdline = Vec::new();
        if fs_err::File::open(p.path().join("cmdline"))
            .and_then(|mut f| f.read_to_end(&mut cmdline))
            .is_err()
        {
            continue;
        }
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        if args.first() != Some(&b"/dockhand-relay".as_slice())
            || args.get(1) != Some(&arg.as_bytes())
        {
            continue;
        }
        let status = fs_err::read_to_string(p.path().join("status")).unwrap_or_default();
        if let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            out.push(kib);
        }
    }
    out
}

fn percentile(times: &mut [Duration], p: f64) -> Duration {
    times.sort();
    times[((times.len() as f64 - 1.0) * p).round() as usize]
}

/// The relay container's network, and the transport dockhand must take.
#[derive(Debug, Clone, Copy)]
struct Case {
    relay_network: &'static str,
    transport: RelayTransport,
}

/// The relay in a network namespace of its own: its port is out of reach.
const OWN_NETWORK: Case = Case {
    relay_network: "none",
    transport: RelayTransport::Exec,
};
/// The relay on the engine host's network, as dockhand runs it.
const HOST_NETWORK: Case = Case {
    relay_network: "host",
    transport: RelayTransport::Direct,
};

async fn relay_end_to_end(test: &str, host: EngineHost, case: Case) {
    let engine = Engine::connect(&host).await.expect("the engine answers");
    let runner = match ComposeRunner::detect(Path::new("docker"), &host).await {
        Ok(runner) => runner,
        Err(e) => {
            skip(test, &format!("no compose CLI: {e}"));
            return;
        }
    };
    let bins = relay_binaries();
    let relay_image = engine
        .ensure_relay_image(&bins)
        .await
        .expect("the relay image loads");
    assert_eq!(
        engine.ensure_relay_image(&bins).await.expect("again"),
        relay_image,
        "the same binary gives the same image"
    );
    let backend_image = "dockhand-engine-it/relay-backend:latest";
    engine
        .load_image_bytes(backend_image_tar(backend_image).into())
        .await
        .expect("the backend image loads");

    let id = unique_id("relay");
    let dir = tempfile::tempdir().expect("temp dir");
    let project = up(
        &runner,
        dir.path(),
        &id,
        &relay_image,
        backend_image,
        case.relay_network,
    )
    .await;
    let _cleanup = Cleanup {
        host: host.clone(),
        extension_id: id.clone(),
        project: project.name.clone(),
        compose: Some((runner.clone(), project.clone())),
    };
    let containers = engine
        .containers_by_label(&format!("{EXTENSION_LABEL}={id}"))
        .await
        .expect("ls");
    let relay_container = containers
        .iter()
        .find(|c| c.service.as_deref() == Some("relay"))
        .unwrap_or_else(|| panic!("no relay container in {containers:?}"));
    assert!(relay_container.is_running(), "{relay_container:?}");

    let io = engine
        .relay_open(&relay_container.id)
        .await
        .expect("the relay session starts");
    assert_eq!(io.transport(), case.transport, "{case:?}");
    let stderr = io.stderr();
    let (relay, driver) = Relay::start(io);
    let driver = tokio::spawn(driver);
    drop(connect_when_ready(&relay).await);
    let rtt = relay.ping().await.expect("ping");

    // 1,000 concurrent calls, each on its own connection.
    let started = Instant::now();
    let calls: Vec<_> = (0..1000)
        .map(|_| {
            let relay = relay.clone();
            tokio::spawn(async move { get_hello(&relay).await })
        })
        .collect();
    let mut errors = Vec::new();
    for call in calls {
        if let Err(e) = call.await.expect("the task ran") {
            errors.push(e);
        }
    }
    let concurrent = started.elapsed();
    assert!(
        errors.is_empty(),
        "{} of 1000 calls failed, first: {} (relay stderr: {})",
        errors.len(),
        errors[0],
        stderr.text()
    );

    // Keep-alive: 8 connections, 250 calls each.
    let started = Instant::now();
    let mut conns = Vec::new();
    for _ in 0..8 {
        let stream = relay.connect("backend.sock").await.expect("connect");
        conns.push(tokio::spawn(keep_alive(stream, 250)));
    }
    let mut times = Vec::new();
    for c in conns {
        times.extend(c.await.expect("ran"));
    }
    let elapsed = started.elapsed();
    let rate = times.len() as f64 / elapsed.as_secs_f64();
    let p50 = percentile(&mut times, 0.5);
    let p99 = percentile(&mut times, 0.99);

    let serve_rss = relay_rss_kib("serve");
    let listen_rss = relay_rss_kib("listen");
    eprintln!(
        "{test}: {} transport; ping {rtt:?}; 1000 concurrent calls in {concurrent:?}, 0 errors; keep-alive on 8 connections: {rate:.0} req/s, p50 {p50:?}, p99 {p99:?}; relay RSS KiB: serve {serve_rss:?}, listen {listen_rss:?}",
        case.transport.name()
    );
    for kib in serve_rss.iter().chain(&listen_rss) {
        assert!(
            *kib <= 4096,
            "a relay process uses {kib} KiB, more than 4 MiB"
        );
    }

    // The end of the session ends the relay process.
    drop(relay);
    let ended = tokio::time::timeout(Duration::from_secs(10), driver)
        .await
        .expect("the driver ends once every handle is gone");
    let result = ended.expect("ran");
    assert!(result.is_ok(), "{result:?}");

    if case.transport == RelayTransport::Direct {
        // The relay restarted (as with the engine): a new port and token,
        // its log still showing the old ticket first; still directly.
        dockhand_testkit::command::stdout_ok(
            std::process::Command::new("docker")
                .env_remove("DOCKER_CONTEXT")
                .envs(host.child_env())
                .args(["restart", "-t", "0", &relay_container.id]),
        );
        let io = engine
            .relay_open(&relay_container.id)
            .await
            .expect("a session with the restarted relay");
        assert_eq!(
            io.transport(),
            RelayTransport::Direct,
            "{:?}",
            io.why_not_direct()
        );
        let (relay, driver) = Relay::start(io);
        tokio::spawn(driver);
        drop(connect_when_ready(&relay).await);
        get_hello(&relay)
            .await
            .expect("GET /hello after the restart");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_relay_reaches_a_backend_on_the_main_engine() {
    let test = "the_relay_reaches_a_backend_on_the_main_engine";
    let Some(host) = crate::support::engine_host(test) else {
        return;
    };
    relay_end_to_end(test, host, OWN_NETWORK).await;
}

/// The VM engine over TLS: a relay in its own network namespace through
/// an exec, then one on the VM host's network directly.
#[tokio::test(flavor = "multi_thread")]
async fn the_relay_reaches_a_backend_on_the_vm_engine_over_tls() {
    let test = "the_relay_reaches_a_backend_on_the_vm_engine_over_tls";
    let Some(host) = vm_host(test) else {
        return;
    };
    for case in [OWN_NETWORK, HOST_NETWORK] {
        relay_end_to_end(test, host.clone(), case).await;
    }
}
