//! `vm.service` in relay mode: the engine does not see this machine's files
//! (a VM, another machine), so a backend's sockets are in a named volume
//! and reached through its relay (`docs/bridge.md`, "Relay mode").
//!
//! - [`ModeCheck`]: whether this server's engine is in relay mode — its
//!   probed mode ([`dockhand_host::engine_mode::uses_relay`]), asked once
//!   and kept for the server's life (one atomic load per call after that).
//! - [`RelaySessions`]: one [`RelaySite`] per extension, kept across reads
//!   of the installed records: its relay session (an exec of
//!   `dockhand-relay serve` in its `dockhand-relay` container, found by the
//!   extension's owner labels and `dev.dockhand.role=relay`
//!   ([`dockhand_host::relay::relay_filter`]), multiplexed by
//!   [`Relay`]) started on the first call, started again when it closed —
//!   at once, then after a pause that doubles with each failure in a row
//!   (a start that failed, a session that ended within 10 s) — and a
//!   [`RelayPool`] of keep-alive HTTP connections over it per socket.
//!
//! Errors name the extension, the container and what the relay last wrote
//! to stderr; a socket that is not there yet is `503`, as in local mode.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use axum::http::{Request, Response};
use bytes::Bytes;
use dockhand_engine::{Engine, EngineError, Relay, StderrTail};
use dockhand_host::layout::Layout;
use dockhand_spec::ExtensionId;
use http_body_util::Full;

use super::context::{Budget, Caller, EngineHandle, Held};
use super::pool::{PoolError, RelayPool};
use super::shared_map::SharedMap;
use crate::error::ApiError;

/// How long the probe of the engine's mode may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(20);
/// After a failed probe, calls take local mode for this long before the
/// next probe.
const PROBE_RETRY: Duration = Duration::from_secs(5);
/// How long a new session's first `PING` may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a session that seems stuck has to answer a `PING`.
const LIVENESS_TIMEOUT: Duration = Duration::from_secs(2);
/// The first pause after a failure; doubled per failure in a row.
const FIRST_PAUSE: Duration = Duration::from_millis(250);
/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_secs(5);
/// A session that lived this long ended normally (the engine restarted,
/// the container was recreated): the next one starts without a pause.
const STABLE: Duration = Duration::from_secs(10);

/// Whether `vm.service` goes through the relay: the engine's mode, probed
/// once (`engines.json` keeps it across servers).
#[derive(Debug)]
pub struct ModeCheck {
    /// Where the probe runs and its cache is; `None`: always local.
    layout: Option<Layout>,
    decided: OnceLock<bool>,
    /// The last failed probe: until [`PROBE_RETRY`] has passed calls take
    /// local mode (a backend socket of this machine needs no engine).
    failed_at: Mutex<Option<Instant>>,
    probing: tokio::sync::Mutex<()>,
}

impl ModeCheck {
    /// Probes the engine for the manager whose directories are `layout`.
    pub fn probe(layout: Layout) -> Self {
        Self {
            layout: Some(layout),
            decided: OnceLock::new(),
            failed_at: Mutex::new(None),
            probing: tokio::sync::Mutex::new(()),
        }
    }

    /// Always `relay` (or always local), without asking the engine.
    pub fn fixed(relay: bool) -> Self {
        let check = Self {
            layout: None,
            decided: OnceLock::new(),
            failed_at: Mutex::new(None),
            probing: tokio::sync::Mutex::new(()),
        };
        let _ = check.decided.set(relay);
        check
    }

    /// True when backends are reached through the relay. Until the engine
    /// answers the probe, false (local mode needs no engine).
    pub async fn uses_relay(&self, engine: &EngineHandle) -> bool {
        if let Some(&relay) = self.decided.get() {
            return relay;
        }
        let Some(layout) = &self.layout else {
            return false;
        };
        let recently_failed = || {
            self.failed_at
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some_and(|at| at.elapsed() < PROBE_RETRY)
        };
        if recently_failed() {
            return false;
        }
        let _turn = self.probing.lock().await;
        if let Some(&relay) = self.decided.get() {
            return relay;
        }
        if recently_failed() {
            return false;
        }
        let probe = async {
            let engine = engine.get().await.ok()?;
            dockhand_host::engine_mode::uses_relay(&engine, layout)
                .await
                .ok()
        };
        match tokio::time::timeout(PROBE_TIMEOUT, probe).await {
            Ok(Some(relay)) => *self.decided.get_or_init(|| relay),
            _ => {
                *self.failed_at.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
                false
            }
        }
    }
}

/// What the relay wrote to stderr, as the end of a message (nothing when
/// it wrote nothing).
#[derive(Debug, Clone, Default)]
pub struct StderrNote(pub String);

impl std::fmt::Display for StderrNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.trim() {
            "" => Ok(()),
            text => write!(f, " (the relay's stderr: {text})"),
        }
    }
}

/// Why the relay of an extension cannot carry a call.
#[derive(Debug, thiserror::Error)]
pub enum RelayUnavailable {
    /// No relay container (compose never made one, or it was removed).
    #[error(
        "extension {id} runs in relay mode but has no relay container (none labelled {label}): `dockhand doctor` creates it again"
    )]
    Missing {
        /// The extension.
        id: ExtensionId,
        /// The label filter searched.
        label: String,
    },
    /// The relay container exists and is not running.
    #[error(
        "the relay container {container} of {id} is {state}: `dockhand enable {id}` starts it, `dockhand doctor` repairs it"
    )]
    NotRunning {
        /// The extension.
        id: ExtensionId,
        /// The container's name.
        container: String,
        /// Its state (`exited`, `created`, …).
        state: String,
    },
    /// Listing the containers failed.
    #[error("cannot look for the relay container of {id}: {source}")]
    List {
        /// The extension.
        id: ExtensionId,
        /// Why.
        source: EngineError,
    },
    /// The exec of `dockhand-relay serve` failed.
    #[error("cannot start the relay in {container} of {id}: {source}")]
    Exec {
        /// The extension.
        id: ExtensionId,
        /// The relay container.
        container: String,
        /// Why.
        source: EngineError,
    },
    /// The new session did not answer its first `PING`.
    #[error("the relay in {container} of {id} did not answer: {source}{stderr}")]
    Handshake {
        /// The extension.
        id: ExtensionId,
        /// The relay container.
        container: String,
        /// Why.
        source: std::io::Error,
        /// What it wrote to stderr.
        stderr: StderrNote,
    },
    /// The previous session ended soon after it started.
    #[error("the relay session of {id} ended after {} ms: {reason}{stderr}", .lived.as_millis())]
    Ended {
        /// The extension.
        id: ExtensionId,
        /// How long it lived.
        lived: Duration,
        /// Why it ended.
        reason: String,
        /// What the relay wrote to stderr.
        stderr: StderrNote,
    },
    /// Attempts failed in a row; the next is not due yet.
    #[error(
        "the relay of {id} failed {failures} time(s) in a row and is tried again in {} ms; last: {last}",
        .wait.as_millis()
    )]
    Pausing {
        /// The extension.
        id: ExtensionId,
        /// Failures in a row.
        failures: u32,
        /// Until the next attempt.
        wait: Duration,
        /// The last failure.
        last: Arc<RelayUnavailable>,
    },
}

impl RelayUnavailable {
    /// `502` when the relay itself failed, `503` when it is not there (yet)
    /// or the engine is not reachable.
    fn to_api(&self) -> ApiError {
        match self {
            Self::Exec { .. } | Self::Handshake { .. } | Self::Ended { .. } => {
                ApiError::bad_gateway(self.to_string())
            }
            Self::Missing { .. }
            | Self::NotRunning { .. }
            | Self::List { .. }
            | Self::Pausing { .. } => ApiError::unavailable(self.to_string()),
        }
    }
}

/// A live session: the handle that opens connections and the relay's stderr.
#[derive(Debug, Clone)]
pub struct Session {
    relay: Relay,
    stderr: StderrTail,
    /// Which session of the site this is (they are counted from 1).
    generation: u64,
}

#[derive(Debug)]
struct Live {
    session: Session,
    started: Instant,
}

/// Failures in a row and when the next attempt is due.
#[derive(Debug, Default)]
struct Restarts {
    /// Sessions started.
    started: u64,
    failures: u32,
    retry_at: Option<Instant>,
    last: Option<Arc<RelayUnavailable>>,
}

impl Restarts {
    /// Counts a failure: the first in a row is tried again at once (a
    /// session that ended with its container, a relay enabled since), the
    /// next after [`FIRST_PAUSE`], doubling up to [`MAX_PAUSE`].
    fn failed(&mut self, why: RelayUnavailable) -> Arc<RelayUnavailable> {
        self.failures = self.failures.saturating_add(1);
        let pause = match self.failures {
            1 => Duration::ZERO,
            n => FIRST_PAUSE
                .saturating_mul(1 << (n - 2).min(16))
                .min(MAX_PAUSE),
        };
        self.retry_at = Some(Instant::now() + pause);
        let why = Arc::new(why);
        self.last = Some(Arc::clone(&why));
        why
    }
}

/// One extension's relay: its session and its connections.
#[derive(Debug, Default)]
pub struct RelaySite {
    live: Mutex<Option<Live>>,
    restarts: tokio::sync::Mutex<Restarts>,
    pools: SharedMap<String, RelayPool>,
}

impl RelaySite {
    /// The live session, if any.
    fn current(&self) -> Option<Session> {
        let live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.as_ref()
            .filter(|l| l.session.relay.closed().is_none())
            .map(|l| l.session.clone())
    }

    /// The session, started when there is none or it closed.
    pub async fn session(
        &self,
        engine: &Engine,
        caller: &Caller,
    ) -> Result<Session, Arc<RelayUnavailable>> {
        if let Some(s) = self.current() {
            return Ok(s);
        }
        let mut restarts = self.restarts.lock().await;
        if let Some(s) = self.current() {
            return Ok(s);
        }
        let ended = self.live.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(ended) = ended {
            let lived = ended.started.elapsed();
            if lived >= STABLE {
                restarts.failures = 0;
                restarts.retry_at = None;
                restarts.last = None;
            } else {
                restarts.failed(RelayUnavailable::Ended {
                    id: caller.id().clone(),
                    lived,
                    reason: ended.session.relay.closed().unwrap_or_default(),
                    stderr: StderrNote(ended.session.stderr.text()),
                });
            }
        }
        if let (Some(at), Some(last)) = (restarts.retry_at, &restarts.last) {
            let now = Instant::now();
            if now < at {
                return Err(Arc::new(RelayUnavailable::Pausing {
                    id: caller.id().clone(),
                    failures: restarts.failures,
                    wait: at - now,
                    last: Arc::clone(last),
                }));
            }
        }
        match start(engine, caller, restarts.started + 1).await {
            Ok(session) => {
                restarts.started = session.generation;
                restarts.retry_at = None;
                restarts.last = None;
                *self.live.lock().unwrap_or_else(|e| e.into_inner()) = Some(Live {
                    session: session.clone(),
                    started: Instant::now(),
                });
                self.pools.for_each(RelayPool::clear_idle);
                Ok(session)
            }
            Err(e) => Err(restarts.failed(e)),
        }
    }

    /// The connections to the socket `name` in the backend's volume.
    pub fn pool(&self, name: &str) -> Arc<RelayPool> {
        self.pools.get_or_make(name, || {
            RelayPool::new(std::path::Path::new(dockhand_engine::RELAY_SOCKET_DIR).join(name))
        })
    }

    /// Drops `session` when it is still the live one, so that the next call
    /// starts another: it stopped answering without ending (a stream the
    /// engine left open after its exec died).
    fn discard(&self, session: &Session) {
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        if live
            .as_ref()
            .is_some_and(|l| l.session.generation == session.generation)
        {
            *live = None;
        }
    }

    /// Whether a session is live (for tests and the dashboard).
    pub fn is_live(&self) -> bool {
        self.current().is_some()
    }
}

/// Finds the relay container of `caller` and starts a session in it.
async fn start(
    engine: &Engine,
    caller: &Caller,
    generation: u64,
) -> Result<Session, RelayUnavailable> {
    let id = caller.id();
    let label = dockhand_host::relay::relay_filter(&caller.owner_label);
    let containers =
        engine
            .containers_by_label(&label)
            .await
            .map_err(|source| RelayUnavailable::List {
                id: id.clone(),
                source,
            })?;
    let project = caller.record.compose_project.as_deref();
    let mut mine = containers
        .into_iter()
        .filter(|c| project.is_none() || c.project.as_deref() == project);
    let mut stopped = None;
    let container = loop {
        match mine.next() {
            Some(c) if c.is_running() => break c,
            Some(c) => stopped = stopped.or(Some(c)),
            None => {
                return Err(match stopped {
                    Some(c) => RelayUnavailable::NotRunning {
                        id: id.clone(),
                        container: c.name,
                        state: c.state,
                    },
                    None => RelayUnavailable::Missing {
                        id: id.clone(),
                        label,
                    },
                });
            }
        }
    };
    let io = engine
        .relay_open(&container.id)
        .await
        .map_err(|source| RelayUnavailable::Exec {
            id: id.clone(),
            container: container.name.clone(),
            source,
        })?;
    let stderr = io.stderr();
    let (relay, driver) = Relay::start(io);
    // The driver ends with the session: every handle and stream gone, or
    // the exec's stream ended; `Relay::closed` then says why.
    tokio::spawn(driver);
    let answered = tokio::time::timeout(HANDSHAKE_TIMEOUT, relay.ping())
        .await
        .unwrap_or_else(|_| {
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                format!("no answer to PING within {} s", HANDSHAKE_TIMEOUT.as_secs()),
            ))
        });
    match answered {
        Ok(_) => Ok(Session {
            relay,
            stderr,
            generation,
        }),
        Err(source) => Err(RelayUnavailable::Handshake {
            id: id.clone(),
            container: container.name,
            source,
            stderr: StderrNote(stderr.text()),
        }),
    }
}

/// The relay session of every extension that used one.
#[derive(Debug, Default)]
pub struct RelaySessions {
    sites: SharedMap<ExtensionId, RelaySite>,
}

impl RelaySessions {
    /// The relay of `id` (nothing is started yet).
    pub fn site(&self, id: &ExtensionId) -> Arc<RelaySite> {
        self.sites.get_or_make(id, RelaySite::default)
    }

    /// Ends the session of `id` and drops its connections (it was disabled
    /// or removed): the relay process ends with its last stream.
    pub fn forget(&self, id: &ExtensionId) {
        self.sites.remove(id);
    }
}

/// Sends `make`'s request to the socket `name` of the caller's backend
/// through its relay, starting the session when needed; a session that
/// ended under the call is started again once.
pub(super) async fn send(
    state: &super::BridgeState,
    caller: &Caller,
    name: &str,
    make: impl Fn() -> Request<Full<Bytes>>,
    budget: Option<&Budget>,
) -> Result<(Response<Bytes>, Held), ApiError> {
    let engine = state.engine.get().await?;
    let site = state.relays.site(caller.id());
    let pool = site.pool(name);
    let mut again = true;
    loop {
        let session = site
            .session(&engine, caller)
            .await
            .map_err(|e| e.to_api())?;
        let result = pool
            .send_via(
                || session.relay.connect(name),
                &make,
                state.limits.max_body,
                budget,
            )
            .await;
        match result {
            Err(PoolError::Connect { source, .. })
                if again && source.kind() == std::io::ErrorKind::ConnectionAborted =>
            {
                again = false;
                pool.clear_idle();
            }
            Err(PoolError::Connect { source, .. })
                if source.kind() == std::io::ErrorKind::TimedOut =>
            {
                // The relay answers no OPEN: is the session itself alive?
                let alive = tokio::time::timeout(LIVENESS_TIMEOUT, session.relay.ping()).await;
                if !matches!(alive, Ok(Ok(_))) {
                    site.discard(&session);
                    pool.clear_idle();
                }
                return Err(pool_error(
                    caller,
                    name,
                    PoolError::Connect {
                        path: pool.path().to_path_buf(),
                        source,
                    },
                    &session.stderr,
                ));
            }
            other => return other.map_err(|e| pool_error(caller, name, e, &session.stderr)),
        }
    }
}

/// A failed call through the relay as the page gets it.
fn pool_error(caller: &Caller, name: &str, e: PoolError, stderr: &StderrTail) -> ApiError {
    let id = caller.id();
    let PoolError::Connect { source, .. } = e else {
        return match e {
            PoolError::Budget(e) => super::vm::busy(caller, e),
            PoolError::TooLarge { .. } => ApiError::bad_gateway(e.to_string()),
            other => ApiError::bad_gateway(format!(
                "the backend of {id} (through its relay): {other}{}",
                StderrNote(stderr.text())
            )),
        };
    };
    let why = match source.kind() {
        std::io::ErrorKind::NotFound => format!(
            "the backend of {id} has not created its socket {name} in its volume yet (seen through its relay): this call works once the backend listens there, with no restart; `dockhand ls` shows whether it runs and `dockhand logs {id}` what it does"
        ),
        std::io::ErrorKind::ConnectionRefused => format!(
            "nothing listens on the socket {name} of the backend of {id} (seen through its relay): is the backend running? `dockhand ls` shows it, `dockhand enable {id}` starts it, `dockhand logs {id}` shows what it did"
        ),
        std::io::ErrorKind::InvalidInput => {
            return ApiError::bad_gateway(format!("the backend of {id} is refused: {source}"));
        }
        std::io::ErrorKind::WouldBlock => format!(
            "the backend of {id} accepts no more connections on {name} (its queue stayed full): retry when fewer calls are running"
        ),
        std::io::ErrorKind::ConnectionAborted => {
            return ApiError::bad_gateway(format!(
                "the relay session of {id} ended: {source}{}; the next call starts a new one",
                StderrNote(stderr.text())
            ));
        }
        _ => format!(
            "the backend of {id} is not reachable through its relay at {name}: {source}{}",
            StderrNote(stderr.text())
        ),
    };
    ApiError::unavailable(why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_double_up_to_the_limit() {
        let mut r = Restarts::default();
        let id = ExtensionId::parse("acme/x").expect("id");
        let mut pauses = Vec::new();
        for _ in 0..8 {
            let before = Instant::now();
            r.failed(RelayUnavailable::Missing {
                id: id.clone(),
                label: "l".into(),
            });
            let at = r.retry_at.expect("a pause");
            pauses.push((at - before).as_millis() / 50 * 50);
        }
        assert_eq!(pauses, [0, 250, 500, 1000, 2000, 4000, 5000, 5000]);
        assert_eq!(r.failures, 8);
    }

    #[test]
    fn stderr_is_shown_only_when_there_is_some() {
        assert_eq!(StderrNote(String::new()).to_string(), "");
        assert_eq!(StderrNote(" \n".into()).to_string(), "");
        assert_eq!(
            StderrNote("dockhand-relay: bad frame".into()).to_string(),
            " (the relay's stderr: dockhand-relay: bad frame)"
        );
    }
}
