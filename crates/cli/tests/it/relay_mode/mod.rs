//! Relay mode end to end, through the binary, on the "VM" engine of
//! `scripts/deps vm` (a dockerd in its own mount namespace, where no path
//! dockhand writes exists): over TLS tcp://, its forwarded unix socket and
//! ssh://. The four examples install; a backend's `/run/guest-services` is
//! its project's volume with a `dockhand-relay` service beside it, and no
//! socket directory is made on this machine; `vm.service` GET and POST go
//! through an exec of the relay (one multiplexed session, as the bridge
//! does), an exec runs in the backend's container; an update keeps the
//! volumes' data; SIGKILL of the relay or the backend is repaired by
//! `doctor`; `rm --volumes` leaves no container, volume or network of the
//! home on the engine. Refusals: relay binaries missing or for another
//! machine.
//!
//! This module is the harness (a home on the VM engine, relay sessions as
//! the bridge opens them); the cases are in `cases`, the bridge through
//! `dockhand serve` in `bridge`, an engine architecture dockhand ships no
//! relay for in `arch`, the consent summary's host paths in `consent`.

mod arch;
mod bridge;
mod cases;
mod consent;

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use dockhand_engine::{Engine, EngineRequest, Relay, TlsRequest, resolve_engine};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::lifecycle::{base_image, build_and_push, example, publish, volume_extension};
use crate::support::{self, RealEnv, TempDir, Vm, repo_root, succeeded};

/// The relay binaries `scripts/build-relay` writes (built here when missing).
fn relay_dir() -> PathBuf {
    let dir = repo_root().join("target/relay");
    if !dir.join("dockhand-relay-amd64").is_file() {
        let status = Command::new(repo_root().join("scripts/build-relay"))
            .arg("amd64")
            .status()
            .expect("scripts/build-relay runs");
        assert!(status.success(), "scripts/build-relay failed");
    }
    dir
}

/// How a test names the VM engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Via {
    Tls,
    Unix,
    Ssh,
}

/// The variables that name an engine: cleared, then set per home.
const ENGINE_VARS: [&str; 5] = [
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_CERT_PATH",
];

/// The real components, the VM engine and a home on it (named as by
/// [`RelayHome::new`]), or `None` (the test skips, or fails under
/// `DOCKHAND_REQUIRE_ENV=1`) when either is missing.
fn relay_test(test: &str, via: Via, tag: &str) -> Option<(RealEnv, Vm, RelayHome)> {
    let (env, vm) = support::real_env_and_vm(test)?;
    let home = RelayHome::new(&vm, via, tag);
    Some((env, vm, home))
}

/// A DOCKHAND_HOME and runtime dir using the VM engine.
struct RelayHome {
    dir: TempDir,
    engine_env: Vec<(&'static str, String)>,
    /// `PATH` with the ssh wrapper first.
    path: String,
    relay_dir: PathBuf,
    /// The TLS view of the same engine, for the docker CLI and the API.
    tls_env: Vec<(&'static str, String)>,
    tls_host: String,
    cert_path: PathBuf,
}

impl RelayHome {
    fn new(vm: &Vm, via: Via, tag: &str) -> Self {
        let certs = vm.cert_path.display().to_string();
        let tls_env = vec![
            ("DOCKER_HOST", vm.tls_host.clone()),
            ("DOCKER_TLS_VERIFY", "1".to_owned()),
            ("DOCKER_CERT_PATH", certs),
        ];
        let engine_env = match via {
            Via::Tls => tls_env.clone(),
            Via::Unix => vec![("DOCKER_HOST", vm.unix_host.clone())],
            Via::Ssh => vec![("DOCKER_HOST", vm.ssh_host.clone())],
        };
        let path = format!(
            "{}:{}",
            vm.ssh_bin,
            std::env::var("PATH").unwrap_or_default()
        );
        Self {
            dir: TempDir::new(tag),
            engine_env,
            path,
            relay_dir: relay_dir(),
            tls_env,
            tls_host: vm.tls_host.clone(),
            cert_path: vm.cert_path.clone(),
        }
    }

    fn home(&self) -> PathBuf {
        self.dir.0.join("home")
    }

    fn runtime(&self) -> PathBuf {
        self.dir.0.join("run")
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = support::dockhand();
        for var in ENGINE_VARS {
            c.env_remove(var);
        }
        c.env("DOCKHAND_HOME", self.home())
            .env("XDG_RUNTIME_DIR", self.runtime())
            .env("DOCKHAND_RELAY_DIR", &self.relay_dir)
            .env("DOCKHAND_READY_TIMEOUT", "20")
            .env("PATH", &self.path)
            .envs(self.engine_env.iter().map(|(k, v)| (*k, v)))
            .args(args);
        let _ = fs_err::create_dir_all(self.runtime());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("dockhand runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        succeeded(&format!("dockhand {args:?}"), self.run(args))
    }

    fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            !out.status.success(),
            "dockhand {args:?} should fail:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&all)).expect("json")
    }

    /// The docker CLI on the VM engine (over TLS).
    fn docker(&self, args: &[&str]) -> String {
        let mut cmd = Command::new("docker");
        for var in ENGINE_VARS {
            cmd.env_remove(var);
        }
        let out = cmd
            .envs(self.tls_env.iter().map(|(k, v)| (*k, v)))
            .args(args)
            .output()
            .expect("docker runs");
        succeeded(&format!("docker {args:?}"), out)
    }

    fn layout(&self) -> dockhand_host::layout::Layout {
        dockhand_host::layout::Layout {
            home: self.home(),
            runtime: self.runtime(),
        }
    }

    fn owner(&self, id: &str) -> String {
        self.layout()
            .owner_label(&dockhand_spec::ExtensionId::parse(id).expect("id"))
    }

    fn home_label(&self) -> String {
        format!("dev.dockhand.home={}", self.layout().home_id())
    }

    /// The compose project of `id` in this home.
    fn project(&self, id: &str) -> String {
        dockhand_host::backend::project_of(
            &self.layout().home_id(),
            &dockhand_spec::ExtensionId::parse(id).expect("id"),
        )
    }

    fn socket_dir(&self, id: &str) -> PathBuf {
        self.layout()
            .socket_dir(&dockhand_spec::ExtensionId::parse(id).expect("id"))
    }

    /// The VM engine through the API (TLS).
    async fn engine(&self) -> Engine {
        let request = EngineRequest {
            host_env: Some(self.tls_host.clone()),
            config_dir: PathBuf::from("/nonexistent/docker-config"),
            tls: TlsRequest {
                verify: true,
                cert_path: Some(self.cert_path.clone()),
                ..Default::default()
            },
            ..Default::default()
        };
        let host = resolve_engine(&request)
            .expect("the VM engine resolves")
            .host;
        Engine::connect(&host).await.expect("the VM engine answers")
    }

    /// Containers of this home labelled `label` (`-a`).
    fn containers(&self, label: &str) -> Vec<String> {
        self.docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label={label}"),
            "--filter",
            &format!("label={}", self.home_label()),
        ])
        .split_whitespace()
        .map(str::to_owned)
        .collect()
    }

    /// The container of the compose service `service` of the extension
    /// `id` (this home's).
    fn service_container(&self, id: &str, service: &str) -> String {
        self.containers(&format!("dev.dockhand.extension={id}"))
            .into_iter()
            .find(|c| {
                let label = "{{index .Config.Labels \"com.docker.compose.service\"}}";
                self.docker(&["inspect", "-f", label, c]).trim() == service
            })
            .unwrap_or_else(|| panic!("no container of {service} for {id}"))
    }

    /// Nothing of this home on the engine: no container, volume or network
    /// carrying its label; no socket directory of `ids` on this machine.
    fn assert_nothing_left(&self, ids: &[&str]) {
        let label = format!("label={}", self.home_label());
        for what in [
            vec!["ps", "-aq", "--filter", &label],
            vec!["volume", "ls", "-q", "--filter", &label],
            vec!["network", "ls", "-q", "--filter", &label],
        ] {
            let left = self.docker(&what);
            assert!(left.trim().is_empty(), "{what:?} left: {left}");
        }
        for id in ids {
            assert!(!self.socket_dir(id).exists(), "a socket dir of {id}");
            // The extension's own volumes carry its project's label.
            let project = format!("label=com.docker.compose.project={}", self.project(id));
            for what in ["volume", "network"] {
                let left = self.docker(&[what, "ls", "-q", "--filter", &project]);
                assert!(left.trim().is_empty(), "{what}s of {id} left: {left}");
            }
        }
    }
}

/// One HTTP request to `socket` through a relay session; the whole answer.
async fn through_relay(relay: &Relay, socket: &str, request: &str) -> String {
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut stream = loop {
        match relay.connect(socket).await {
            Ok(s) => break s,
            Err(e) if Instant::now() < deadline => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => panic!("{socket} never answered through the relay: {e}"),
        }
    };
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the answer within 20 s")
        .expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// A session through the relay container of `owner`, as the bridge opens it.
async fn session(engine: &Engine, owner: &str) -> Relay {
    let filter = format!("{owner},dev.dockhand.role=relay");
    let relays = engine.containers_by_label(&filter).await.expect("list");
    let relay = relays
        .iter()
        .find(|c| c.is_running())
        .unwrap_or_else(|| panic!("no running relay container for {owner}: {relays:?}"));
    let io = engine.relay_exec(&relay.id).await.expect("relay exec");
    let (relay, driver) = Relay::start(io);
    tokio::spawn(driver);
    relay
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n")
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: backend\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// SIGKILLs the main process of the container `id` on the VM engine (a
/// crash, not a `docker kill`: restart policies apply).
fn sigkill(home: &RelayHome, id: &str) {
    let pid = home.docker(&["inspect", "-f", "{{.State.Pid}}", id]);
    let out = Command::new("kill")
        .args(["-KILL", pid.trim()])
        .output()
        .expect("kill runs");
    support::assert_succeeded(&format!("kill {pid}"), &out);
}
