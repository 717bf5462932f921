//! Every process the bridge starts: the per-extension limits (how many at
//! once, how much buffered output), the kill switch of each, and the driver
//! of a local child process (argv only, never a shell, in its own process
//! group so that killing it ends its children too).
//!
//! A started process is a [`Running`]: a channel of [`Event`]s ending with
//! [`Event::Exit`], and a [`KillHandle`]. Dropping the `Running` kills the
//! process as well, so a dropped request or a closed WebSocket never leaves
//! one behind.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::http::StatusCode;
use bytes::Bytes;
use dockhand_spec::ExtensionId;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Child;
use tokio::sync::{Notify, mpsc, watch};

use super::context::Limits;
use crate::error::ApiError;

/// Bytes read from a pipe at a time.
const CHUNK: usize = 64 * 1024;
/// Events queued between a process and its consumer.
const QUEUE: usize = 16;

/// What a running process reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Bytes on standard output.
    Stdout(Bytes),
    /// Bytes on standard error.
    Stderr(Bytes),
    /// Reading its output failed after it started.
    Failed(String),
    /// It ended; always the last event.
    Exit(Exit),
}

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    /// The exit code; for a process ended by a signal, 128 + the signal
    /// number, as shells report it.
    pub code: i64,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// True when dockhand killed it (close, disconnect, shutdown).
    pub killed: bool,
}

impl Exit {
    /// From a local child's status.
    pub fn from_status(status: &ExitStatus, killed: bool) -> Self {
        use std::os::unix::process::ExitStatusExt;
        let signal = status.signal();
        let code = match (status.code(), signal) {
            (Some(code), _) => i64::from(code),
            (None, Some(sig)) => 128 + i64::from(sig),
            (None, None) => -1,
        };
        Self {
            code,
            signal,
            killed,
        }
    }

    /// The signal's name (`SIGTERM`), when a signal ended the process.
    pub fn signal_name(&self) -> Option<String> {
        self.signal.map(|s| match s {
            1 => "SIGHUP".to_owned(),
            2 => "SIGINT".to_owned(),
            3 => "SIGQUIT".to_owned(),
            6 => "SIGABRT".to_owned(),
            9 => "SIGKILL".to_owned(),
            11 => "SIGSEGV".to_owned(),
            13 => "SIGPIPE".to_owned(),
            15 => "SIGTERM".to_owned(),
            n => format!("signal {n}"),
        })
    }
}

/// Kills one process (idempotent). Clones share the switch.
#[derive(Debug, Clone)]
pub struct KillHandle(Arc<watch::Sender<bool>>);

impl KillHandle {
    /// Asks the process's driver to kill it.
    pub fn kill(&self) {
        self.0.send_replace(true);
    }
}

/// A started process.
#[derive(Debug)]
pub struct Running {
    /// Its output and, last, its exit.
    pub events: mpsc::Receiver<Event>,
    /// Its kill switch.
    pub kill: KillHandle,
}

#[derive(Debug, Default)]
struct ExtProcs {
    buffered: usize,
    kills: HashMap<u64, Arc<watch::Sender<bool>>>,
}

/// The registry of every process the server started (the bridge is the only
/// code that starts them), by extension: closing a tab's socket, disabling
/// or removing an extension, or stopping the server ends them through it.
#[derive(Debug)]
pub struct Processes {
    limits: Limits,
    next: AtomicU64,
    inner: Mutex<HashMap<String, ExtProcs>>,
    /// Woken when the last process ends ([`Processes::wait_idle`]).
    idle: Notify,
}

impl Processes {
    /// An empty registry enforcing `limits`.
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            next: AtomicU64::new(1),
            inner: Mutex::new(HashMap::new()),
            idle: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, ExtProcs>> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes one of the extension's process slots; `429` when it already
    /// runs [`Limits::max_processes`].
    pub fn acquire(self: &Arc<Self>, ext: &ExtensionId) -> Result<Slot, ApiError> {
        let mut map = self.lock();
        let procs = map.entry(ext.as_str().to_owned()).or_default();
        if procs.kills.len() >= self.limits.max_processes {
            return Err(ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "extension {ext} already runs {} processes, the most it may run at once: \
                     wait for one to end or close a streaming exec",
                    self.limits.max_processes
                ),
            ));
        }
        let key = self.next.fetch_add(1, Ordering::Relaxed);
        let (tx, _) = watch::channel(false);
        let tx = Arc::new(tx);
        procs.kills.insert(key, tx.clone());
        Ok(Slot {
            procs: self.clone(),
            ext: ext.as_str().to_owned(),
            key,
            kill: tx,
        })
    }

    /// How many processes the extension runs now.
    pub fn running(&self, ext: &ExtensionId) -> usize {
        self.lock().get(ext.as_str()).map_or(0, |p| p.kills.len())
    }

    /// Kills every process of one extension (on disable, uninstall); returns how many.
    pub fn kill_extension(&self, ext: &ExtensionId) -> usize {
        let map = self.lock();
        map.get(ext.as_str()).map_or(0, |p| {
            p.kills.values().for_each(|k| {
                k.send_replace(true);
            });
            p.kills.len()
        })
    }

    /// Kills every process (on shutdown); returns how many. The processes
    /// end within [`Limits::kill_grace`] (SIGTERM, then SIGKILL).
    pub fn kill_all(&self) -> usize {
        let map = self.lock();
        let mut n = 0;
        for p in map.values() {
            for k in p.kills.values() {
                k.send_replace(true);
                n += 1;
            }
        }
        n
    }

    /// How many processes run in all.
    pub fn len(&self) -> usize {
        self.lock().values().map(|p| p.kills.len()).sum()
    }

    /// True when no process runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until no process runs, at most `timeout`; `true` when none is
    /// left (server shutdown, after [`kill_all`](Self::kill_all)).
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.is_empty() {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }

    /// A budget of buffered output for one collected exec.
    pub fn buffer(self: &Arc<Self>, ext: &ExtensionId) -> OutputBudget {
        OutputBudget {
            procs: self.clone(),
            ext: ext.as_str().to_owned(),
            held: 0,
        }
    }

    /// How long a killed process has between SIGTERM and SIGKILL.
    pub fn kill_grace(&self) -> Duration {
        self.limits.kill_grace
    }
}

/// One of an extension's process slots, held by the process's driver until
/// the process has ended.
#[derive(Debug)]
pub struct Slot {
    procs: Arc<Processes>,
    ext: String,
    key: u64,
    kill: Arc<watch::Sender<bool>>,
}

impl Slot {
    /// The switch that kills this process.
    pub fn kill_handle(&self) -> KillHandle {
        KillHandle(self.kill.clone())
    }

    /// Watches the switch.
    pub fn killed(&self) -> watch::Receiver<bool> {
        self.kill.subscribe()
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let idle = {
            let mut map = self.procs.lock();
            if let Some(p) = map.get_mut(&self.ext) {
                p.kills.remove(&self.key);
                if p.kills.is_empty() && p.buffered == 0 {
                    map.remove(&self.ext);
                }
            }
            map.values().all(|p| p.kills.is_empty())
        };
        if idle {
            self.procs.idle.notify_waiters();
        }
    }
}

/// Output held in memory for one collected exec, counted against the
/// extension's [`Limits::max_buffered`]; released when dropped.
#[derive(Debug)]
pub struct OutputBudget {
    procs: Arc<Processes>,
    ext: String,
    held: usize,
}

impl OutputBudget {
    /// Counts `n` more bytes; false when the extension's budget is spent.
    pub fn add(&mut self, n: usize) -> bool {
        let max = self.procs.limits.max_buffered;
        let mut map = self.procs.lock();
        let p = map.entry(self.ext.clone()).or_default();
        if p.buffered.saturating_add(n) > max {
            return false;
        }
        p.buffered += n;
        self.held += n;
        true
    }
}

impl Drop for OutputBudget {
    fn drop(&mut self) {
        let mut map = self.procs.lock();
        if let Some(p) = map.get_mut(&self.ext) {
            p.buffered = p.buffered.saturating_sub(self.held);
            if p.kills.is_empty() && p.buffered == 0 {
                map.remove(&self.ext);
            }
        }
    }
}

/// Waits until the switch is on.
pub async fn switched_on(rx: &mut watch::Receiver<bool>) {
    loop {
        if *rx.borrow_and_update() {
            return;
        }
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// A program to run on this machine, argv only.
#[derive(Debug, Clone)]
pub struct LocalCommand {
    /// An absolute path.
    pub program: PathBuf,
    /// `argv[0]` as the program sees it.
    pub arg0: String,
    /// The arguments after `argv[0]`.
    pub args: Vec<String>,
    /// The working directory.
    pub cwd: PathBuf,
    /// Variables set on top of the server's environment.
    pub env: Vec<(String, String)>,
    /// Variables removed from it.
    pub env_remove: Vec<String>,
}

/// Starts `cmd` (stdin closed, stdout and stderr piped) in a process group
/// of its own; its driver holds `slot` until the process has ended.
pub fn spawn_local(cmd: &LocalCommand, slot: Slot) -> std::io::Result<Running> {
    use std::os::unix::process::CommandExt as _;
    let mut std_cmd = std::process::Command::new(&cmd.program);
    std_cmd.arg0(&cmd.arg0);
    let mut command = tokio::process::Command::from(std_cmd);
    command
        .args(&cmd.args)
        .current_dir(&cmd.cwd)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for name in &cmd.env_remove {
        command.env_remove(name);
    }
    command.envs(cmd.env.iter().map(|(k, v)| (k, v)));
    let child = command.spawn()?;
    let (tx, rx) = mpsc::channel(QUEUE);
    let kill = slot.kill_handle();
    let grace = slot.procs.kill_grace();
    tokio::spawn(drive_child(child, tx, slot, grace));
    Ok(Running { events: rx, kill })
}

async fn read_some(pipe: &mut Option<impl AsyncRead + Unpin>, buf: &mut [u8]) -> usize {
    match pipe {
        Some(p) => p.read(buf).await.unwrap_or(0),
        None => std::future::pending().await,
    }
}

async fn drive_child(mut child: Child, tx: mpsc::Sender<Event>, slot: Slot, grace: Duration) {
    let mut kill = slot.killed();
    let mut stdout = child.stdout.take();
    let mut stderr = child.stderr.take();
    let (mut out_buf, mut err_buf) = (vec![0u8; CHUNK], vec![0u8; CHUNK]);
    let mut killed = false;
    while !killed && (stdout.is_some() || stderr.is_some()) {
        let event = tokio::select! {
            () = switched_on(&mut kill) => { killed = true; continue; }
            () = tx.closed() => { killed = true; continue; }
            n = read_some(&mut stdout, &mut out_buf) => {
                if n == 0 { stdout = None; continue; }
                Event::Stdout(Bytes::copy_from_slice(&out_buf[..n]))
            }
            n = read_some(&mut stderr, &mut err_buf) => {
                if n == 0 { stderr = None; continue; }
                Event::Stderr(Bytes::copy_from_slice(&err_buf[..n]))
            }
        };
        tokio::select! {
            () = switched_on(&mut kill) => killed = true,
            sent = tx.send(event) => killed = sent.is_err(),
        }
    }
    let status = if killed {
        terminate(&mut child, grace).await
    } else {
        tokio::select! {
            status = child.wait() => status,
            () = switched_on(&mut kill) => { killed = true; terminate(&mut child, grace).await }
            () = tx.closed() => { killed = true; terminate(&mut child, grace).await }
        }
    };
    let event = match status {
        Ok(status) => Event::Exit(Exit::from_status(&status, killed)),
        Err(e) => Event::Failed(format!("cannot wait for the process: {e}")),
    };
    let _ = tx.send(event).await;
    drop(slot);
}

/// SIGTERM to the process group, SIGKILL after `grace`.
async fn terminate(child: &mut Child, grace: Duration) -> std::io::Result<ExitStatus> {
    use rustix::process::{Pid, Signal, kill_process_group};
    let group = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(Pid::from_raw);
    match group {
        Some(pgid) => {
            let _ = kill_process_group(pgid, Signal::TERM);
        }
        None => return child.wait().await,
    }
    if let Ok(status) = tokio::time::timeout(grace, child.wait()).await {
        return status;
    }
    if let Some(pgid) = group {
        let _ = kill_process_group(pgid, Signal::KILL);
    }
    let _ = child.start_kill();
    child.wait().await
}

/// Finds `program` the way a shell would: as given when it contains a `/`,
/// else in the first directory of `search_path` that holds an executable
/// file of that name. The server resolves the docker CLI once with it.
pub fn resolve_program(program: &str, search_path: &[PathBuf]) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &std::path::Path| {
        fs_err::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = PathBuf::from(program);
        return (p.is_absolute() && executable(&p)).then_some(p);
    }
    search_path
        .iter()
        .filter(|d| d.is_absolute())
        .map(|d| d.join(program))
        .find(|p| executable(p))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ExtensionId {
        ExtensionId::parse(s).unwrap()
    }

    fn limits(max_processes: usize, max_buffered: usize) -> Limits {
        Limits {
            max_processes,
            max_buffered,
            ..Limits::default()
        }
    }

    #[test]
    fn slots_are_limited_per_extension_and_released() {
        let procs = Arc::new(Processes::new(limits(2, 10)));
        let a = id("acme/a");
        let s1 = procs.acquire(&a).unwrap();
        let _s2 = procs.acquire(&a).unwrap();
        let e = procs.acquire(&a).unwrap_err();
        assert_eq!(e.status, StatusCode::TOO_MANY_REQUESTS);
        // Another extension has its own slots.
        let _b = procs.acquire(&id("acme/b")).unwrap();
        drop(s1);
        assert_eq!(procs.running(&a), 1);
        let _s3 = procs.acquire(&a).unwrap();
    }

    #[test]
    fn output_budget_is_shared_per_extension() {
        let procs = Arc::new(Processes::new(limits(2, 10)));
        let a = id("acme/a");
        let mut b1 = procs.buffer(&a);
        let mut b2 = procs.buffer(&a);
        assert!(b1.add(6));
        assert!(!b2.add(5));
        assert!(b2.add(4));
        drop(b1);
        assert!(b2.add(6));
        assert!(!b2.add(1));
        drop(b2);
        assert!(procs.lock().is_empty());
    }

    #[test]
    fn kill_switches_reach_their_slots() {
        let procs = Arc::new(Processes::new(limits(4, 10)));
        let a = id("acme/a");
        let s = procs.acquire(&a).unwrap();
        let rx = s.killed();
        assert!(!*rx.borrow());
        assert_eq!(procs.kill_extension(&id("acme/other")), 0);
        assert_eq!(procs.kill_extension(&a), 1);
        assert!(*rx.borrow());
        assert_eq!(procs.kill_all(), 1);
    }

    #[tokio::test]
    async fn wait_idle_follows_the_last_slot() {
        let procs = Arc::new(Processes::new(limits(4, 10)));
        assert!(procs.wait_idle(Duration::from_millis(1)).await);
        let a = procs.acquire(&id("acme/a")).unwrap();
        let b = procs.acquire(&id("acme/b")).unwrap();
        assert_eq!(procs.len(), 2);
        drop(a);
        assert!(!procs.wait_idle(Duration::from_millis(20)).await);
        let waiter = {
            let procs = Arc::clone(&procs);
            tokio::spawn(async move { procs.wait_idle(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(b);
        assert!(waiter.await.unwrap());
        assert!(procs.is_empty());
    }

    #[test]
    fn signals_become_shell_codes() {
        use std::os::unix::process::ExitStatusExt;
        let exit = Exit::from_status(&ExitStatus::from_raw(15), true);
        assert_eq!(exit.code, 143);
        assert_eq!(exit.signal_name().as_deref(), Some("SIGTERM"));
        let exit = Exit::from_status(&ExitStatus::from_raw(3 << 8), false);
        assert_eq!((exit.code, exit.signal), (3, None));
    }

    #[test]
    fn programs_resolve_on_the_search_path() {
        let sh = resolve_program(
            "sh",
            &["/nonexistent".into(), "/bin".into(), "/usr/bin".into()],
        );
        assert!(sh.is_some_and(|p| p.is_absolute()));
        assert_eq!(resolve_program("sh", &["relative".into()]), None);
        assert_eq!(resolve_program("no-such-program-x", &["/bin".into()]), None);
        assert_eq!(
            resolve_program("/bin/sh", &[]),
            Some(PathBuf::from("/bin/sh"))
        );
    }
}
