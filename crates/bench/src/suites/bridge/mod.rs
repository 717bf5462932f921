//! Suite `bridge`: `dockhand serve` and the ddClient bridge on a real
//! backend, against talking to the backend straight and through a socat
//! relay, and the docker CLI run directly.
//!
//! Setup builds `examples/backend-image` (on the base image
//! `dockhand-examples/backend-base:0.1.0`; `scripts/build-examples --docker`
//! builds it when the engine lacks it) and `examples/minimal-ui`, pushes them
//! under `dockhand-bench/bridge-*` and installs the backend and 10 UI-only
//! extensions (a repository each) into a temporary `DOCKHAND_HOME`. Then it
//! starts `dockhand serve --port 0`, logs in with the one-time token, asks for
//! a ticket for the backend extension and enters its origin, as a browser
//! does, with a small HTTP/1.1 client written here. Tables:
//!
//! 1. `vm.service` GET /hello latency (p50/p99, keep-alive, sequential) and
//!    throughput (concurrency 8) against the backend socket and a socat relay;
//! 2. `docker.cli.exec('version')` against `docker version`;
//! 3. `serve` start-up (spawn → first 303 of the login URL) and idle RSS;
//! 4. 1,000 concurrent `vm.service` calls, each on a connection of its own.
//!
//! Everything is removed at the end, also when a step fails ([`Env`]'s
//! `Drop`): serve and socat are ended, the extensions removed.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use dockhand_engine::{EXTENSION_LABEL, Engine};
use dockhand_host::layout::Layout;
use dockhand_oci::Reference;
use dockhand_spec::ExtensionId;
use tokio::runtime::Runtime;

mod cpu;
mod curl;
mod service;
mod tables;

use super::Options;
use crate::http::{Client, Response, bad, request, tcp, unix};
use crate::measure::{Contender, Plan, Samples, interleaved};
use crate::progress;
use crate::serve::{self, Serve, end};
use crate::support;
use crate::table::{self, Report, Row, Table};

const IMAGE_LABEL: &str = "dev.dockhand.bench=bridge";
const REPOSITORY: &str = "dockhand-bench";
const BACKEND_SOCKET: &str = "backend.sock";
/// UI-only extensions installed next to the backend.
const UI_EXTENSIONS: usize = 10;
/// Sequential requests per latency contender (after [`LATENCY_WARMUP`]).
const LATENCY_REQUESTS: usize = 2000;
const LATENCY_WARMUP: usize = 200;
/// Latency requests are taken in this many interleaved rounds.
const LATENCY_ROUNDS: usize = 10;
const LATENCY_RATIO_TARGET: f64 = 1.5;
/// Calls per contender on a new connection each (after [`FRESH_WARMUP`]).
const FRESH_REQUESTS: usize = 1000;
const FRESH_WARMUP: usize = 50;
const THROUGHPUT_CONCURRENCY: usize = 8;
const THROUGHPUT_TIME: Duration = Duration::from_secs(2);
const THROUGHPUT_TARGET: f64 = 5000.0;
const EXEC_MIN_RUNS: usize = 10;
const EXEC_RATIO_TARGET: f64 = 1.2;
const RSS_TARGET_KIB: u64 = 40 * 1024;
const STARTUP_TARGET: Duration = Duration::from_millis(200);
const STARTUP_MIN_RUNS: usize = 10;
const CONCURRENT_CALLS: usize = 1000;
const READY_TIMEOUT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------
// The environment

struct Env {
    registry: String,
    dockhand: PathBuf,
    docker: PathBuf,
    socat: PathBuf,
    engine: Engine,
    rt: Runtime,
    runtime_dir: PathBuf,
    home: PathBuf,
    scratch: tempfile::TempDir,
    /// Extension ids installed into `home`.
    installed: RefCell<BTreeSet<String>>,
    /// Images the backend install may have loaded into the engine.
    images: RefCell<BTreeSet<String>>,
    /// Processes started here (socat), ended at cleanup.
    children: RefCell<Vec<Child>>,
    done: std::cell::Cell<bool>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if !self.done.get() {
            progress("bridge: cleaning up after a failure");
            if let Err(e) = self.clean_up() {
                progress(&format!("bridge: cleanup incomplete: {e:#}"));
            }
        }
    }
}

/// VmRSS of `pid` in KiB.
fn rss_kib(pid: u32) -> Result<u64> {
    let status = fs_err::read_to_string(format!("/proc/{pid}/status"))?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .context("no VmRSS in /proc/PID/status")
}

impl Env {
    fn open() -> Result<Env> {
        let registry = support::require_env("DOCKHAND_TEST_REGISTRY")?;
        let docker_host = support::require_env("DOCKER_HOST")?;
        let bin = support::require_dockhand("bridge")?;
        let docker = support::program("docker", "DOCKHAND_BENCH_DOCKER")?;
        let socat = support::program("socat", "SOCAT")
            .context("socat is needed for the relay baseline: apt-get install -y socat")?;
        let scratch = support::scratch_dir("bridge")?;
        let dockhand = support::copy_dockhand(&bin, scratch.path())?;
        let runtime_dir = scratch.path().join("run");
        fs_err::create_dir_all(&runtime_dir)?;
        let home = scratch.path().join("home");
        let rt = support::runtime()?;
        let engine = support::connect_engine(&rt, &docker_host)?;
        Ok(Env {
            registry,
            dockhand,
            docker,
            socat,
            engine,
            rt,
            runtime_dir,
            home,
            scratch,
            installed: RefCell::default(),
            images: RefCell::default(),
            children: RefCell::default(),
            done: std::cell::Cell::new(false),
        })
    }

    fn dockhand(&self, home: &Path) -> Command {
        support::dockhand_command(&self.dockhand, home, &self.runtime_dir)
    }

    fn reference(&self, name: &str) -> Result<Reference> {
        Ok(Reference::parse(&format!(
            "{}/{REPOSITORY}/{name}:1",
            self.registry
        ))?)
    }

    fn socket(&self, id: &ExtensionId) -> PathBuf {
        Layout {
            home: self.home.clone(),
            runtime: self.runtime_dir.clone(),
        }
        .socket_dir(id)
        .join(BACKEND_SOCKET)
    }

    fn clean_up(&self) -> Result<()> {
        self.done.set(true);
        for mut c in self.children.borrow_mut().drain(..) {
            end(&mut c);
        }
        let ids: Vec<String> = self.installed.borrow().iter().cloned().collect();
        for id in &ids {
            if let Err(e) = support::output(self.dockhand(&self.home).args(["rm", id])) {
                progress(&format!("cleanup: {e:#}"));
            }
        }
        self.installed.borrow_mut().clear();
        let mut left = Vec::new();
        for id in &ids {
            let label = format!("{EXTENSION_LABEL}={id}");
            self.rt
                .block_on(self.engine.remove_containers_by_label(&label))?;
            for c in self.rt.block_on(self.engine.containers_by_label(&label))? {
                left.push(c.name);
            }
        }
        for image in self.images.borrow().iter() {
            if self.rt.block_on(self.engine.image(image))?.is_some()
                && let Err(e) = support::output(Command::new(&self.docker).args(["rmi", image]))
            {
                progress(&format!("cleanup: {e:#}"));
            }
        }
        ensure!(
            left.is_empty(),
            "containers left on the engine: {}",
            left.join(", ")
        );
        Ok(())
    }

    fn finish(self) -> Result<()> {
        self.clean_up()
    }

    /// Builds, pushes and installs the backend and the UI-only extensions;
    /// returns the backend's id.
    fn set_up(&self) -> Result<ExtensionId> {
        support::ensure_examples_base(&self.rt, &self.engine)?;
        let backend = self.reference("bridge-backend")?;
        let uis: Vec<Reference> = (1..=UI_EXTENSIONS)
            .map(|i| self.reference(&format!("bridge-ui-{i:02}")))
            .collect::<Result<_>>()?;
        progress("setup: dockhand build --push of examples/backend-image and examples/minimal-ui");
        let build_home = self.scratch.path().join("build-home");
        let build = |example: &str, reference: &Reference, base: bool| -> Result<()> {
            let cmd = self.dockhand(&build_home);
            support::push_example(cmd, example, &reference.to_string(), IMAGE_LABEL, base)
        };
        build("backend-image", &backend, true)?;
        build("minimal-ui", &uis[0], false)?;
        for r in &uis[1..] {
            support::output(self.dockhand(&build_home).args([
                "push",
                &uis[0].to_string(),
                &r.to_string(),
            ]))?;
        }
        support::remove_dir(&build_home)?;

        progress(&format!(
            "setup: installing {backend} and {UI_EXTENSIONS} UI-only extensions"
        ));
        let id = backend.extension_id();
        for r in std::iter::once(&backend).chain(&uis) {
            let rid = r.extension_id();
            // Leftovers of an interrupted run carry the same label.
            self.rt.block_on(
                self.engine
                    .remove_containers_by_label(&format!("{EXTENSION_LABEL}={rid}")),
            )?;
            self.installed.borrow_mut().insert(rid.to_string());
            if r == &backend {
                self.images.borrow_mut().insert(r.to_string());
            }
            support::output(
                self.dockhand(&self.home)
                    .args(["install", &r.to_string(), "-y"]),
            )?;
        }
        let socket = self.socket(&id);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let answer = unix(&socket).and_then(|s| {
                Client::new(s).send(&request("GET", "/hello", &[("Host", "x")], b""))
            });
            match answer {
                Ok(r) if r.status == 200 => break,
                _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
                Ok(r) => bail!("GET /hello on {} answered {}", socket.display(), r.status),
                Err(e) => bail!("the backend does not answer on {}: {e}", socket.display()),
            }
        }
        Ok(id)
    }

    /// Spawns `dockhand serve --port 0`; returns the child, its port and the
    /// one-time token, and the instant it was spawned.
    fn spawn_serve(&self) -> Result<(Child, u16, String, Instant)> {
        serve::spawn(
            self.dockhand(&self.home),
            &self.scratch.path().join("serve.log"),
        )
    }

    /// Logs in with `token`: the `dockhand_session` cookie and the page key.
    fn login(port: u16, token: &str) -> Result<(String, String)> {
        serve::login(port, token)
    }

    /// Starts serve, logs in, enters `id`'s origin.
    fn serve(&self, id: &ExtensionId) -> Result<Serve> {
        serve::start(
            self.dockhand(&self.home),
            &self.scratch.path().join("serve.log"),
            id,
        )
    }

    /// Starts a socat TCP → unix relay to `socket`; returns its port and pid.
    fn socat(&self, socket: &Path) -> Result<(u16, u32)> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(&self.socat)
            .arg(format!("TCP-LISTEN:{port},bind=127.0.0.1,fork,reuseaddr"))
            .arg(format!("UNIX-CONNECT:{}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("cannot start socat")?;
        let pid = child.id();
        self.children.borrow_mut().push(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            ensure!(Instant::now() < deadline, "socat does not listen on {port}");
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok((port, pid))
    }
}

pub fn run(options: &Options, report: &mut Report) -> Result<()> {
    let env = Env::open()?;
    progress(&format!(
        "bridge: registry {}, scratch {}",
        env.registry,
        env.scratch.path().display()
    ));
    let id = env.set_up()?;

    report.print(&tables::startup_table(&env, options)?);

    progress("serve: idle RSS after login, ticket and a few requests");
    let serve = env.serve(&id)?;
    {
        let mut c = Client::new(tcp(serve.port)?);
        for path in ["/api/info", "/api/extensions", "/"] {
            let r = c.send(&serve.dashboard_get(path))?;
            ensure!(r.status == 200, "GET {path} answered {}", r.status);
        }
        let mut e = Client::new(tcp(serve.port)?);
        let req = serve.bridge(
            "/.dockhand/api/vm/request",
            r#"{"method":"GET","url":"/hello"}"#,
        );
        for _ in 0..5 {
            let r = e.send(&req)?;
            ensure!(
                r.status == 200,
                "vm/request answered {}: {}",
                r.status,
                r.text()
            );
        }
    }
    std::thread::sleep(Duration::from_millis(500));
    let idle = rss_kib(serve.child.id())?;

    report.print(&tables::exec_table(&env, &serve, options)?);
    service::service_tables(&env, &serve, &id, report)?;
    report.print(&curl::curl_table(&env, &serve, &id)?);
    let loaded = rss_kib(serve.child.id())?;

    let mut t = Table::new(format!(
        "bridge: dockhand serve memory, {} extensions installed",
        UI_EXTENSIONS + 1
    ));
    tables::rss_row(
        &mut t,
        "idle RSS after start and a few requests",
        idle,
        true,
    );
    tables::rss_row(&mut t, "RSS after all the tables above", loaded, false);
    t.note(format!(
        "VmRSS of the serve process from /proc/PID/status; idle: after login, a ticket, GET /api/info, /api/extensions, / and 5 vm.service calls, then 500 ms; {UI_EXTENSIONS} UI-only extensions (examples/minimal-ui, a repository each) and examples/backend-image installed"
    ));
    report.print(&t);

    drop(serve);
    env.finish()
}
