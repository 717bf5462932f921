//! The relay on its own, without dockhand's server: a compose project of
//! two services on the VM engine — the example backend (`dockhand-examples/
//! backend-base`, loaded over the API) and the relay — sharing a named
//! volume at `/run/guest-services`, and one [`Relay`] session in this
//! process (an exec of `dockhand-relay serve` over the Engine API's TLS
//! endpoint), exactly as `crates/engine/tests/it/relay.rs` sets it up.
//!
//! The baseline is the same client on the backend's socket itself: the
//! socket file in the volume's directory, the same inode the VM engine's
//! mount namespace sees (checked through `/proc/PID/root`). That is what a
//! client inside the VM — or local mode — connects to.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use dockhand_engine::{ComposeProject, ComposeRunner, EXTENSION_LABEL, Relay, RelayStream};
use tokio::io::{AsyncRead, AsyncWrite};

use super::Env;
use super::client::{AsyncClient, GET_HELLO};
use crate::measure::Samples;
use crate::progress;
use crate::table::{self, Goal, Report, Row, Table, quantile_rows};

/// The extension id the project is labelled with.
const ID: &str = "dockhand-bench/remote-engine-level";
/// Sequential requests per contender on one connection (after the warm-up).
pub(super) const LATENCY_REQUESTS: usize = 2000;
pub(super) const LATENCY_WARMUP: usize = 200;
/// Latency requests are taken in this many interleaved rounds.
pub(super) const LATENCY_ROUNDS: usize = 10;
/// Calls per contender on a connection each (after the warm-up).
pub(super) const FRESH_REQUESTS: usize = 1000;
pub(super) const FRESH_WARMUP: usize = 50;
pub(super) const THROUGHPUT_CONNECTIONS: usize = 8;
pub(super) const THROUGHPUT_TIME: Duration = Duration::from_secs(2);
pub(super) const THROUGHPUT_TARGET: f64 = 3000.0;
pub(super) const CONCURRENT_CALLS: usize = 1000;
pub(super) const RSS_TARGET_KIB: u64 = 4 * 1024;
/// Sessions started one after another for the start-up row.
const SESSION_STARTS: usize = 20;
/// Sequential pings per session.
const PINGS: usize = 500;

/// A connection of either kind.
pub(super) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// How a contender reaches the backend.
#[derive(Clone)]
pub(super) enum Way {
    /// A stream of the relay session.
    Relay(Relay),
    /// The socket file itself.
    Socket(PathBuf),
    /// `vm.service` through `dockhand serve` on `port`: `request` is the
    /// bridge's POST with the extension origin's headers.
    Bridge {
        name: &'static str,
        port: u16,
        request: Arc<Vec<u8>>,
    },
}

impl Way {
    fn name(&self) -> &'static str {
        match self {
            Way::Relay(_) => "relay",
            Way::Socket(_) => "socket",
            Way::Bridge { name, .. } => name,
        }
    }

    fn request(&self) -> &[u8] {
        match self {
            Way::Bridge { request, .. } => request,
            _ => GET_HELLO,
        }
    }

    fn bridged(&self) -> bool {
        matches!(self, Way::Bridge { .. })
    }

    /// One call on `c`.
    pub async fn call(&self, c: &mut AsyncClient<Box<dyn Io>>) -> io::Result<()> {
        c.hello(self.request(), self.bridged()).await
    }

    async fn timed(&self, c: &mut AsyncClient<Box<dyn Io>>) -> io::Result<Duration> {
        c.timed(self.request(), self.bridged()).await
    }

    pub async fn connect(&self) -> io::Result<AsyncClient<Box<dyn Io>>> {
        let io: Box<dyn Io> = match self {
            Way::Relay(r) => Box::new(r.connect("backend.sock").await?),
            Way::Socket(p) => Box::new(tokio::net::UnixStream::connect(p).await?),
            Way::Bridge { port, .. } => {
                let s = tokio::net::TcpStream::connect(("127.0.0.1", *port)).await?;
                s.set_nodelay(true)?;
                Box::new(s)
            }
        };
        Ok(AsyncClient::new(io))
    }
}

/// Sequential calls on one kept-alive connection per way, in interleaved
/// rounds after untimed ones.
pub(super) async fn keep_alive(ways: &[Way]) -> io::Result<Vec<Samples>> {
    let mut clients = Vec::new();
    for w in ways {
        let mut c = w.connect().await?;
        for _ in 0..LATENCY_WARMUP {
            w.call(&mut c).await?;
        }
        clients.push(c);
    }
    let mut times = vec![Samples::default(); ways.len()];
    for _ in 0..LATENCY_ROUNDS {
        for ((w, c), s) in ways.iter().zip(&mut clients).zip(&mut times) {
            for _ in 0..LATENCY_REQUESTS / LATENCY_ROUNDS {
                s.push(w.timed(c).await?);
            }
        }
    }
    Ok(times)
}

/// Calls each on a connection of its own (connect, call, close), in
/// interleaved rounds after untimed ones.
pub(super) async fn fresh(ways: &[Way]) -> io::Result<Vec<Samples>> {
    async fn once(w: &Way) -> io::Result<Duration> {
        let start = Instant::now();
        let mut c = w.connect().await?;
        w.call(&mut c).await?;
        drop(c);
        Ok(start.elapsed())
    }
    for w in ways {
        for _ in 0..FRESH_WARMUP {
            once(w).await?;
        }
    }
    let mut times = vec![Samples::default(); ways.len()];
    for _ in 0..LATENCY_ROUNDS {
        for (w, s) in ways.iter().zip(&mut times) {
            for _ in 0..FRESH_REQUESTS / LATENCY_ROUNDS {
                s.push(once(w).await?);
            }
        }
    }
    Ok(times)
}

/// Requests/s with [`THROUGHPUT_CONNECTIONS`] kept-alive connections, a
/// task each, for [`THROUGHPUT_TIME`].
pub(super) async fn throughput(w: &Way) -> io::Result<f64> {
    let done = Arc::new(AtomicUsize::new(0));
    let mut clients = Vec::new();
    for _ in 0..THROUGHPUT_CONNECTIONS {
        let mut c = w.connect().await?;
        w.call(&mut c).await?;
        clients.push(c);
    }
    let start = Instant::now();
    let end = start + THROUGHPUT_TIME;
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut c| {
            let (w, done) = (w.clone(), done.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < end {
                    w.call(&mut c).await?;
                    n += 1;
                }
                done.fetch_add(n, Ordering::Relaxed);
                io::Result::Ok(())
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(io::Error::other)??;
    }
    Ok(done.load(Ordering::Relaxed) as f64 / start.elapsed().as_secs_f64())
}

/// [`CONCURRENT_CALLS`] calls at once, each on a connection of its own;
/// the number of errors, the first few, and the wall time.
/// The throughput row and the two rows of the concurrent calls: ours (the
/// first of `rps`, `ours`: errors and how long all took) against the
/// baseline's; `against` ends the names of the throughput and error rows.
pub(super) fn load_rows(
    t: &mut Table,
    against: &str,
    rps: [f64; 2],
    ours: (usize, Duration),
    base: (usize, Duration),
) {
    let ((errors, took), (base_errors, base_took)) = (ours, base);
    t.row(
        Row::new(
            format!("throughput, {THROUGHPUT_CONNECTIONS} connections{against}"),
            super::per_second(rps[0]),
        )
        .baseline(super::per_second(rps[1]), table::ratio(rps[0], rps[1]))
        .target(
            format!("≥ {}", super::per_second(THROUGHPUT_TARGET)),
            rps[0] >= THROUGHPUT_TARGET,
        ),
    );
    t.row(
        Row::new(
            format!("{CONCURRENT_CALLS} concurrent calls: errors{against}"),
            errors.to_string(),
        )
        .baseline(base_errors.to_string(), None)
        .target("0", errors == 0),
    );
    t.row(
        Row::new(
            format!("{CONCURRENT_CALLS} concurrent calls: all answered after"),
            table::duration(took),
        )
        .baseline(
            table::duration(base_took),
            table::ratio(took.as_secs_f64(), base_took.as_secs_f64()),
        )
        .goal("(none)"),
    );
}

pub(super) async fn concurrent(w: &Way) -> (usize, Vec<String>, Duration) {
    let start = Instant::now();
    let tasks: Vec<_> = (0..CONCURRENT_CALLS)
        .map(|_| {
            let w = w.clone();
            tokio::spawn(async move {
                let mut c = w.connect().await?;
                w.call(&mut c).await
            })
        })
        .collect();
    let mut errors = 0;
    let mut why = Vec::new();
    for t in tasks {
        let e = match t.await {
            Ok(Ok(())) => continue,
            Ok(Err(e)) => e.to_string(),
            Err(e) => e.to_string(),
        };
        errors += 1;
        if why.len() < 3 {
            why.push(e);
        }
    }
    (errors, why, start.elapsed())
}

/// The compose project, taken down (with its volume) when dropped.
struct Project<'a> {
    env: &'a Env,
    runner: ComposeRunner,
    project: ComposeProject,
}

impl Drop for Project<'_> {
    fn drop(&mut self) {
        let label = format!("{EXTENSION_LABEL}={ID}");
        let done = self.env.rt.block_on(async {
            self.runner.down(&self.project, true).await?;
            self.env.vm.remove_containers_by_label(&label).await?;
            self.env.vm.remove_volumes_by_label(&label).await?;
            anyhow::Ok(())
        });
        if let Err(e) = done {
            progress(&format!("cleanup of the engine-level project: {e:#}"));
        }
    }
}

fn compose_file(relay_image: &str) -> String {
    let base = crate::support::EXAMPLES_BASE_IMAGE;
    format!(
        "services:
  backend:
    image: {base}
    network_mode: none
    volumes: [\"guest-services:/run/guest-services\"]
    labels: {{\"{EXTENSION_LABEL}\": \"{ID}\"}}
  relay:
    image: {relay_image}
    network_mode: none
    read_only: true
    volumes: [\"guest-services:/run/guest-services\"]
    labels: {{\"{EXTENSION_LABEL}\": \"{ID}\"}}
volumes:
  guest-services:
    labels: {{\"{EXTENSION_LABEL}\": \"{ID}\"}}
"
    )
}

/// Starts the project, the session, and waits for the backend's socket.
fn set_up<'a>(env: &'a Env) -> Result<(Project<'a>, Relay, PathBuf, String)> {
    let dir = env.scratch.path().join("engine-level");
    fs_err::create_dir_all(&dir)?;
    let relay_image = env.relay_image()?;
    fs_err::write(dir.join("compose.yaml"), compose_file(&relay_image))?;
    let project = ComposeProject {
        name: dockhand_engine::project_name(ID),
        files: vec![dir.join("compose.yaml")],
        env: Vec::new(),
        dir: dir.clone(),
    };
    let runner = env
        .rt
        .block_on(ComposeRunner::detect(
            std::path::Path::new("docker"),
            &env.vm_host,
        ))
        .context("no compose CLI for the VM engine")?;
    progress("engine level: compose up of the backend and the relay on the VM engine");
    let project = Project {
        env,
        runner,
        project,
    };
    env.rt.block_on(project.runner.up(&project.project))?;
    let label = format!("{EXTENSION_LABEL}={ID}");
    let containers = env.rt.block_on(env.vm.containers_by_label(&label))?;
    let relay_container = containers
        .iter()
        .find(|c| c.service.as_deref() == Some("relay") && c.is_running())
        .with_context(|| format!("no running relay container in {containers:?}"))?
        .id
        .clone();
    let (relay, socket) = env.rt.block_on(async {
        let io = env.vm.relay_exec(&relay_container).await?;
        let (relay, driver) = Relay::start(io);
        tokio::spawn(driver);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match relay.connect("backend.sock").await {
                Ok(s) => break drop::<RelayStream>(s),
                Err(e) if Instant::now() < deadline => {
                    ensure!(
                        matches!(
                            e.kind(),
                            io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused
                        ),
                        "connecting to backend.sock through the relay: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => bail!("backend.sock never answered through the relay: {e}"),
            }
        }
        let volume = env
            .vm
            .inspect_volume(&format!("{}_guest-services", project.project.name))
            .await?;
        let dir = volume
            .get("Mountpoint")
            .and_then(|m| m.as_str())
            .context("the socket volume has no Mountpoint")?;
        anyhow::Ok((relay, PathBuf::from(dir).join("backend.sock")))
    })?;
    env.check_same_in_vm(&socket)?;
    // A unix socket's path must fit in 108 bytes: reach it through a short
    // symlink to its directory.
    let short = env.scratch.path().join("vol");
    fs_err::os::unix::fs::symlink(socket.parent().context("a socket in a directory")?, &short)?;
    let socket = short.join("backend.sock");
    Ok((project, relay, socket, relay_container))
}

/// A new session on `engine` through the relay container `container`:
/// the exec created and started, our HELLO, until the first `OPEN` of
/// backend.sock is answered.
async fn new_session(engine: &dockhand_engine::Engine, container: &str) -> Result<Relay> {
    let io = engine.relay_exec(container).await?;
    let (relay, driver) = Relay::start(io);
    tokio::spawn(driver);
    drop(relay.connect("backend.sock").await?);
    Ok(relay)
}

/// [`SESSION_STARTS`] new sessions one after another, each timed.
async fn session_starts(engine: &dockhand_engine::Engine, container: &str) -> Result<Samples> {
    let mut s = Samples::default();
    for _ in 0..SESSION_STARTS {
        let start = Instant::now();
        let relay = new_session(engine, container).await?;
        s.push(start.elapsed());
        drop(relay);
    }
    Ok(s)
}

/// [`PINGS`] sequential `PING`s.
async fn pings(relay: &Relay) -> io::Result<Samples> {
    let mut s = Samples::default();
    for _ in 0..PINGS {
        s.push(relay.ping().await?);
    }
    Ok(s)
}

/// The tables (see the module docs).
pub(super) fn tables(env: &Env, report: &mut Report) -> Result<()> {
    let (project, relay, socket, container) = set_up(env)?;
    progress("engine level: new sessions, pings, over TLS and the VM's forwarded unix socket");
    let starts = env.rt.block_on(session_starts(&env.vm, &container))?;
    let unix_starts = env.rt.block_on(session_starts(&env.vm_unix, &container))?;
    let unix_relay = env.rt.block_on(new_session(&env.vm_unix, &container))?;
    let ping = env.rt.block_on(pings(&relay))?;
    let unix_ping = env.rt.block_on(pings(&unix_relay))?;
    let ways = [Way::Relay(relay.clone()), Way::Socket(socket.clone())];
    progress(&format!(
        "engine level: {LATENCY_REQUESTS} keep-alive GET /hello each (relay over TLS, socket, relay over unix)"
    ));
    let mut all = ways.to_vec();
    all.push(Way::Relay(unix_relay.clone()));
    let kept = env.rt.block_on(keep_alive(&all))?;
    progress(&format!(
        "engine level: {FRESH_REQUESTS} GET /hello each on a connection per call"
    ));
    let fresh = env.rt.block_on(fresh(&ways))?;
    progress("engine level: throughput");
    let mut rps = Vec::new();
    for w in &ways {
        rps.push(
            env.rt
                .block_on(throughput(w))
                .with_context(|| format!("throughput through the {}", w.name()))?,
        );
    }
    progress(&format!(
        "engine level: {CONCURRENT_CALLS} concurrent calls through the relay"
    ));
    let (errors, why, took) = env.rt.block_on(concurrent(&ways[0]));
    let (base_errors, _, base_took) = env.rt.block_on(concurrent(&ways[1]));
    let rss = super::relay_rss(&container);

    let mut t = Table::new("remote: the relay session alone (engine level, VM engine over TLS)");
    quantile_rows(
        &mut t,
        "keep-alive",
        "relay vs the socket in the VM",
        &kept[0],
        &kept[1],
        Goal::Info,
    );
    quantile_rows(
        &mut t,
        "connection per call",
        "relay vs the socket in the VM",
        &fresh[0],
        &fresh[1],
        Goal::Info,
    );
    load_rows(
        &mut t,
        "",
        [rps[0], rps[1]],
        (errors, took),
        (base_errors, base_took),
    );
    quantile_rows(
        &mut t,
        "keep-alive",
        "relay over the VM's unix socket vs the socket in the VM",
        &kept[2],
        &kept[1],
        Goal::Info,
    );
    quantile_rows(
        &mut t,
        "session PING round trip",
        "over TLS vs over the VM's unix socket",
        &ping,
        &unix_ping,
        Goal::Info,
    );
    quantile_rows(
        &mut t,
        "new session (exec, HELLO, first OPEN)",
        "over TLS vs over the VM's unix socket",
        &starts,
        &unix_starts,
        Goal::Info,
    );
    super::rss_rows(&mut t, &rss);
    for w in &why {
        t.note(format!("relay error: {w}"));
    }
    t.note("relay: one session (an exec of `dockhand-relay serve` in the relay container, over the VM engine's TLS endpoint), every call a stream of it; socket: the same client on backend.sock in the volume's directory (the inode the VM's mount namespace sees)");
    t.note(format!(
        "keep-alive: {LATENCY_REQUESTS} sequential GET /hello per contender on one connection (after {LATENCY_WARMUP} untimed), {LATENCY_ROUNDS} interleaved rounds; connection per call: {FRESH_REQUESTS} (after {FRESH_WARMUP}), each opening a stream or socket, calling, closing"
    ));
    t.note(format!(
        "throughput: {THROUGHPUT_CONNECTIONS} kept-alive connections, a task each, back to back for {} s; concurrent: {CONCURRENT_CALLS} tasks each opening its own connection at once; the client is this process (tokio, 2 workers), which also runs the session's driver",
        THROUGHPUT_TIME.as_secs()
    ));
    t.note("targets of the issue are for the whole path (tables below); here for information, except the concurrent calls' errors, the throughput and the relay's memory");
    report.print(&t);
    drop((ways, all));
    drop((relay, unix_relay));
    drop(project);
    Ok(())
}
