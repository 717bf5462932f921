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
use std::io::{BufRead as _, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::net::UnixStream;
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
use crate::measure::{Contender, Plan, Samples, interleaved};
use crate::progress;
use crate::support;
use crate::table::{self, Report, Row, Table};

const EPOCH: &str = "1700000000";
const BASE_IMAGE: &str = support::EXAMPLES_BASE_IMAGE;
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
const IO_TIMEOUT: Duration = Duration::from_secs(30);

// ---------------------------------------------------------------------------
// A small HTTP/1.1 client (keep-alive, Content-Length or chunked bodies)

/// A byte stream: TCP or unix.
trait Stream: Read + Write + Send {}
impl Stream for TcpStream {}
impl Stream for UnixStream {}

struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The value of the cookie `name` this response sets.
    fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(str::to_owned)
    }
}

struct Client {
    r: BufReader<Box<dyn Stream>>,
}

fn tcp(port: u16) -> std::io::Result<TcpStream> {
    let s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_nodelay(true)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(s)
}

fn unix(path: &Path) -> std::io::Result<UnixStream> {
    let s = UnixStream::connect(path)?;
    s.set_read_timeout(Some(IO_TIMEOUT))?;
    s.set_write_timeout(Some(IO_TIMEOUT))?;
    Ok(s)
}

fn bad(msg: impl Into<String>) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, msg.into())
}

impl Client {
    fn new(s: impl Stream + 'static) -> Self {
        Client {
            r: BufReader::with_capacity(16 * 1024, Box::new(s)),
        }
    }

    fn send(&mut self, request: &[u8]) -> std::io::Result<Response> {
        self.r.get_mut().write_all(request)?;
        self.r.get_mut().flush()?;
        self.read_response()
    }

    fn line(&mut self) -> std::io::Result<String> {
        let mut line = String::new();
        if self.r.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        Ok(line.trim_end_matches(['\r', '\n']).to_owned())
    }

    fn read_response(&mut self) -> std::io::Result<Response> {
        let status_line = self.line()?;
        let status = status_line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad(format!("bad status line {status_line:?}")))?;
        let mut headers = Vec::new();
        loop {
            let line = self.line()?;
            if line.is_empty() {
                break;
            }
            let (n, v) = line
                .split_once(':')
                .ok_or_else(|| bad(format!("bad header {line:?}")))?;
            headers.push((n.trim().to_owned(), v.trim().to_owned()));
        }
        let mut response = Response {
            status,
            headers,
            body: Vec::new(),
        };
        let chunked = response
            .header("transfer-encoding")
            .is_some_and(|v| v.eq_ignore_ascii_case("chunked"));
        if chunked {
            loop {
                let size = self.line()?;
                let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
                    .map_err(|_| bad(format!("bad chunk size {size:?}")))?;
                if size == 0 {
                    while !self.line()?.is_empty() {}
                    break;
                }
                let start = response.body.len();
                response.body.resize(start + size, 0);
                self.r.read_exact(&mut response.body[start..])?;
                self.line()?;
            }
        } else if let Some(len) = response.header("content-length") {
            let len: usize = len.parse().map_err(|_| bad("bad content-length"))?;
            response.body.resize(len, 0);
            self.r.read_exact(&mut response.body)?;
        } else if status != 204 && status != 304 && !(100..200).contains(&status) {
            self.r.read_to_end(&mut response.body)?;
        }
        Ok(response)
    }
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut r = format!("{method} {path} HTTP/1.1\r\n");
    for (n, v) in headers {
        r.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        r.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    r.push_str("\r\n");
    let mut bytes = r.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

/// Every byte outside `[A-Za-z0-9._~-]` percent-encoded (a path segment).
fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

// ---------------------------------------------------------------------------
// The environment

/// A running `dockhand serve`, logged in, with a session on the backend's origin.
struct Serve {
    child: Child,
    port: u16,
    session: String,
    /// The dashboard page's key (from the login redirect's fragment).
    key: String,
    /// `<slug>.localhost:PORT`.
    ext_host: String,
    ext_cookie: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        end(&mut self.child);
    }
}

impl Serve {
    fn dashboard_host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    fn ext_origin(&self) -> String {
        format!("http://{}", self.ext_host)
    }

    fn bridge(&self, route: &str, body: &str) -> Vec<u8> {
        let origin = self.ext_origin();
        request(
            "POST",
            route,
            &[
                ("Host", &self.ext_host),
                ("Origin", &origin),
                ("Cookie", &self.ext_cookie),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    }

    fn bridge_get(&self, route: &str) -> Vec<u8> {
        request(
            "GET",
            route,
            &[("Host", &self.ext_host), ("Cookie", &self.ext_cookie)],
            b"",
        )
    }

    fn dashboard_get(&self, path: &str) -> Vec<u8> {
        request(
            "GET",
            path,
            &[
                ("Host", &self.dashboard_host()),
                ("Cookie", &self.session),
                ("X-Dockhand-Key", &self.key),
            ],
            b"",
        )
    }
}

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

/// Ends `child` with SIGTERM (SIGKILL after 5 s) and reaps it.
fn end(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
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
        let bin = support::dockhand_binary().context(
            "no dockhand binary next to dockhand-bench and no DOCKHAND_BIN: run scripts/bench bridge, which builds it",
        )?;
        let docker = support::program("docker", "DOCKHAND_BENCH_DOCKER")?;
        let socat = support::program("socat", "SOCAT")
            .context("socat is needed for the relay baseline: apt-get install -y socat")?;
        let scratch = support::scratch_dir("bridge")?;
        let dockhand = scratch.path().join("bin/dockhand");
        fs_err::create_dir_all(scratch.path().join("bin"))?;
        fs_err::copy(&bin, &dockhand)
            .with_context(|| format!("cannot copy {} to the scratch dir", bin.display()))?;
        let runtime_dir = scratch.path().join("run");
        fs_err::create_dir_all(&runtime_dir)?;
        let home = scratch.path().join("home");
        let rt = support::runtime()?;
        let host = dockhand_engine::resolve_host(Some(&docker_host), None, Path::new(""))?;
        let engine = rt.block_on(Engine::connect(&host))?;
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
        let mut c = Command::new(&self.dockhand);
        c.env("DOCKHAND_HOME", home)
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("NO_COLOR", "1")
            .arg("--quiet");
        c
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
            let mut cmd = self.dockhand(&build_home);
            cmd.arg("build")
                .arg(support::repo_root().join("examples").join(example))
                .args(["-t", &reference.to_string(), "--label", IMAGE_LABEL]);
            if base {
                cmd.args(["--base", &format!("engine:{BASE_IMAGE}")]);
            }
            support::output(cmd.arg("--push"))?;
            Ok(())
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
        let log = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.scratch.path().join("serve.log"))?;
        let start = Instant::now();
        let mut child = self
            .dockhand(&self.home)
            .args(["serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log.into_file())
            .spawn()
            .context("cannot start dockhand serve")?;
        let stdout = child.stdout.take().context("serve: no stdout")?;
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
            let _ = tx.send(r);
        });
        let line = match rx.recv_timeout(IO_TIMEOUT) {
            Ok(Ok(line)) if !line.trim().is_empty() => line,
            other => {
                end(&mut child);
                bail!("dockhand serve printed no URL: {other:?}");
            }
        };
        let url = line.trim();
        let parsed = url
            .strip_prefix("http://localhost:")
            .and_then(|rest| rest.split_once("/?token="))
            .and_then(|(port, token)| Some((port.parse::<u16>().ok()?, token.to_owned())));
        let Some((port, token)) = parsed else {
            end(&mut child);
            bail!("dockhand serve printed {url:?}, not http://localhost:PORT/?token=T");
        };
        Ok((child, port, token, start))
    }

    /// Logs in with `token`: the `dockhand_session` cookie and the page key.
    fn login(port: u16, token: &str) -> Result<(String, String)> {
        let mut c = Client::new(tcp(port)?);
        let r = c.send(&request(
            "GET",
            &format!("/?token={token}"),
            &[("Host", &format!("localhost:{port}"))],
            b"",
        ))?;
        ensure!(
            r.status == 303 || r.status == 200,
            "GET /?token= answered {}",
            r.status
        );
        let key = r
            .header("location")
            .and_then(|l| l.strip_prefix("/#key="))
            .context("the login redirect carries no page key")?
            .to_owned();
        let cookie = r
            .cookie("dockhand_session")
            .context("the login set no dockhand_session cookie")?;
        Ok((cookie, key))
    }

    /// Starts serve, logs in, enters `id`'s origin.
    fn serve(&self, id: &ExtensionId) -> Result<Serve> {
        let (child, port, token, _) = self.spawn_serve()?;
        // Ended when dropped, also on the errors below.
        let mut serve = Serve {
            child,
            port,
            session: String::new(),
            key: String::new(),
            ext_host: String::new(),
            ext_cookie: String::new(),
        };
        (serve.session, serve.key) = Self::login(port, &token)?;
        let dashboard = serve.dashboard_host();
        let origin = format!("http://{dashboard}");
        let mut c = Client::new(tcp(port)?);
        let r = c.send(&request(
            "POST",
            &format!("/api/extensions/{}/ticket", encode_segment(id.as_str())),
            &[
                ("Host", &dashboard),
                ("Origin", &origin),
                ("Cookie", &serve.session),
                ("X-Dockhand-Key", &serve.key),
            ],
            b"",
        ))?;
        ensure!(
            r.status == 200,
            "POST …/ticket answered {}: {}",
            r.status,
            r.text()
        );
        let v: serde_json::Value = serde_json::from_slice(&r.body).context("ticket JSON")?;
        let url = v["url"].as_str().context("ticket: no url")?;
        let (ext_host, path) = url
            .strip_prefix("http://")
            .and_then(|u| u.find('/').map(|i| (u[..i].to_owned(), u[i..].to_owned())))
            .with_context(|| format!("ticket url {url:?}"))?;
        let mut e = Client::new(tcp(port)?);
        let r = e.send(&request("GET", &path, &[("Host", &ext_host)], b""))?;
        ensure!(r.status == 303, "GET {path} answered {}", r.status);
        serve.ext_cookie = r
            .cookie("dockhand_ext")
            .context("entering set no dockhand_ext cookie")?;
        progress(&format!(
            "serve: pid {}, port {port}, extension origin http://{ext_host}",
            serve.child.id()
        ));
        serve.ext_host = ext_host;
        Ok(serve)
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
