//! `doctor`: the checks and repairs, in order; what a report is and says is
//! [`crate::doctor`]'s.

use std::collections::BTreeSet;

use dockhand_spec::ExtensionId;

use crate::doctor::{Report, Status};
use crate::state::ExtensionLock;
use crate::{Manager, Quiet};

/// A running backend to check: the engine it runs on, its extension's
/// record, the backend found for it and the report's line so far.
struct RunningBackend<'a> {
    engine: &'a dockhand_engine::Engine,
    record: &'a crate::state::ExtensionRecord,
    backend: &'a crate::backend::Backend,
    summary: String,
}

impl Manager {
    /// A running backend checked: its relay in relay mode
    /// ([`Manager::check_relay`]), else its socket
    /// ([`Manager::check_socket`]); ok when `r` has no backend.
    async fn check_backend(
        &self,
        engine: &dockhand_engine::Engine,
        r: &crate::state::ExtensionRecord,
        summary: String,
        relay_mode: bool,
    ) -> (Status, String) {
        let b = match self.backend_on(engine, r).await {
            Ok(Some(b)) => b,
            Ok(None) => return (Status::Ok, summary),
            Err(e) => return (Status::Problem, e.to_string()),
        };
        let running = RunningBackend {
            engine,
            record: r,
            backend: &b,
            summary,
        };
        if relay_mode {
            self.check_relay(running).await
        } else {
            self.check_socket(running).await
        }
    }

    /// The socket of a running backend: a warning when it is not there (yet),
    /// and its mode fixed when this user may not connect (a socket the
    /// backend created after install, as root, without write for others).
    async fn check_socket(&self, running: RunningBackend<'_>) -> (Status, String) {
        use dockhand_engine::SocketState;
        let (engine, r, b) = (running.engine, running.record, running.backend);
        let summary = running.summary;
        let Some(state) = crate::backend::socket_state(engine, b).await else {
            return (Status::Ok, summary);
        };
        let socket = b.socket.clone().unwrap_or_default();
        match state {
            SocketState::Ready => (Status::Ok, summary),
            SocketState::Missing | SocketState::NotListening => (
                Status::Warning,
                format!(
                    "{summary}; {}",
                    crate::backend::socket_pending_message(&r.id, &socket, state)
                ),
            ),
            SocketState::Denied => {
                let path = b.socket_dir.join(&socket);
                match crate::backend::grant_access(
                    engine,
                    &r.id,
                    &self.layout.owner_label(&r.id),
                    &socket,
                    &path,
                )
                .await
                {
                    Ok(()) => (
                        Status::Repaired,
                        format!(
                            "{summary}; made its socket {socket} connectable for this user (chmod 0666 inside its container)"
                        ),
                    ),
                    Err(e) => (Status::Problem, e.to_string()),
                }
            }
        }
    }

    /// Runs every check and repair.
    pub async fn doctor(&self) -> Report {
        let mut report = Report::default();
        let engine = match self.engine().await {
            Ok(engine) => match engine.version().await {
                Ok(v) => {
                    report.add(
                        "engine",
                        Status::Ok,
                        format!(
                            "{} {} (API {}) at {}",
                            v.flavor, v.version, v.api_version, self.engine_host
                        ),
                    );
                    Some(engine)
                }
                Err(e) => {
                    report.add("engine", Status::Problem, e.to_string());
                    None
                }
            },
            Err(e) => {
                report.add("engine", Status::Problem, e.to_string());
                None
            }
        };
        match self.compose().await {
            Ok(runner) => report.add(
                "compose",
                Status::Ok,
                format!(
                    "{} {}",
                    if runner.is_v1() {
                        "docker-compose"
                    } else {
                        "docker compose"
                    },
                    runner.version()
                ),
            ),
            Err(e) => report.add(
                "compose",
                Status::Problem,
                format!("{e}; backends cannot start without compose"),
            ),
        }
        match self.state.check() {
            Ok(()) => report.add("state", Status::Ok, self.state.path().display().to_string()),
            Err(e) => report.add("state", Status::Problem, e.to_string()),
        }
        // Interrupted operations.
        let pending = self.state.unfinished().unwrap_or_default();
        let ids: BTreeSet<ExtensionId> =
            pending.iter().map(|p| p.record.extension.clone()).collect();
        for id in ids {
            let Ok(_lock) = ExtensionLock::acquire(&self.layout.home, &id) else {
                report.add(
                    "operations",
                    Status::Ok,
                    format!("{id}: an operation is running in another dockhand process"),
                );
                continue;
            };
            match self.repair_one(&id, &Quiet).await {
                Ok(done) => {
                    for line in done {
                        report.add("operations", Status::Repaired, line);
                    }
                }
                Err(e) => report.add(
                    "operations",
                    Status::Problem,
                    format!("{id}: repair failed: {e}"),
                ),
            }
        }
        let records = self.state.list().unwrap_or_default();
        // Leftovers: containers of extensions that are not installed.
        if let Some(engine) = &engine {
            let installed: BTreeSet<&str> = records.iter().map(|r| r.id.as_str()).collect();
            let label = dockhand_engine::EXTENSION_LABEL;
            if let Ok(containers) = engine.containers_by_label(label).await {
                let home = self.layout.home_id();
                let orphans: BTreeSet<String> = containers
                    .iter()
                    // Only this home's: another DOCKHAND_HOME on the engine owns the rest.
                    .filter(|c| c.labels.get(crate::layout::HOME_LABEL) == Some(&home))
                    .filter_map(|c| c.labels.get(label).cloned())
                    .filter(|id| !installed.contains(id.as_str()))
                    .collect();
                for orphan in orphans {
                    let removed = engine
                        .remove_containers_by_label(&format!("{label}={orphan}"))
                        .await;
                    match removed {
                        Ok(n) => report.add(
                            "leftovers",
                            Status::Repaired,
                            format!("removed {n} container(s) of {orphan}, which is not installed"),
                        ),
                        Err(e) => report.add("leftovers", Status::Problem, e.to_string()),
                    }
                }
            }
        }
        // Installed extensions: files present, backends running.
        let mut running: BTreeSet<String> = BTreeSet::new();
        if let Some(engine) = &engine
            && let Ok(cs) = engine
                .containers_by_label(&format!(
                    "{},{}={}",
                    dockhand_engine::EXTENSION_LABEL,
                    crate::layout::HOME_LABEL,
                    self.layout.home_id()
                ))
                .await
        {
            for c in cs.iter().filter(|c| c.is_running()) {
                if let Some(id) = c.labels.get(dockhand_engine::EXTENSION_LABEL) {
                    running.insert(id.clone());
                }
            }
        }
        let relay_mode = match &engine {
            Some(engine) => self.uses_relay(engine).await.unwrap_or(false),
            None => false,
        };
        for r in &records {
            let dir = self.layout.home.join(&r.dir);
            if !dir.join("root").join("metadata.json").is_file() {
                report.add(
                    r.id.as_str(),
                    Status::Problem,
                    format!(
                        "files missing under {}: run dockhand install {} --force",
                        dir.display(),
                        r.image
                    ),
                );
            } else if let Some(engine) = &engine
                && relay_mode
                && r.enabled
                && r.backend.is_some()
            {
                let summary = format!("{} enabled", r.version.clone().unwrap_or_default());
                let (status, detail) = self.check_backend(engine, r, summary, true).await;
                report.add(r.id.as_str(), status, detail);
            } else if r.enabled
                && r.backend.is_some()
                && engine.is_some()
                && !running.contains(r.id.as_str())
            {
                report.add(
                    r.id.as_str(),
                    Status::Problem,
                    "backend not running: run dockhand up".to_owned(),
                );
            } else {
                let summary = format!(
                    "{} {}",
                    r.version.clone().unwrap_or_default(),
                    if r.enabled { "enabled" } else { "disabled" }
                );
                let (status, detail) = match (&engine, r.enabled) {
                    (Some(engine), true) => self.check_backend(engine, r, summary, false).await,
                    _ => (Status::Ok, summary),
                };
                report.add(r.id.as_str(), status, detail);
            }
        }
        // Staging dirs of dead processes (opening the manager removed
        // those it found; an install that crashed since leaves more).
        for path in crate::staging::remove_stale(&self.layout) {
            report.add(
                "leftovers",
                Status::Repaired,
                format!("removed {}", path.display()),
            );
        }
        report
    }
}

impl Manager {
    /// Relay mode: the backend's containers and its relay running, the relay
    /// on the image of this dockhand's relay binary — started again with
    /// `up` when not (a relay container missing, stopped or on an old tag, a
    /// backend container killed) — then a `PING` through a relay session
    /// and the socket's state.
    async fn check_relay(&self, running: RunningBackend<'_>) -> (Status, String) {
        use crate::backend;
        use crate::relay;
        let (engine, r, b) = (running.engine, running.record, running.backend);
        let summary = running.summary;
        let Some(binaries) = &b.relay else {
            return (Status::Ok, summary);
        };
        let image = match engine.ensure_relay_image(binaries).await {
            Ok(image) => image,
            Err(e) => return (Status::Problem, e.to_string()),
        };
        let containers = match engine.containers_by_label(&b.label()).await {
            Ok(cs) => cs,
            Err(e) => return (Status::Problem, e.to_string()),
        };
        let relay_state = containers.iter().find(|c| relay::is_relay(c));
        let broken = match relay_state {
            None => Some("its relay container was missing".to_owned()),
            Some(c) if !c.is_running() => Some(format!("its relay container was {}", c.state)),
            Some(c) if c.image != image => Some(format!(
                "its relay container ran {} instead of {image}",
                c.image
            )),
            Some(_) => containers
                .iter()
                .filter(|c| !relay::is_relay(c) && !c.is_running())
                .find(|c| backend::exit_code(&c.status) != Some(0))
                .map(|c| {
                    format!(
                        "its container {} was {}",
                        c.service.as_deref().unwrap_or(&c.name),
                        c.status
                    )
                }),
        };
        let mut status = Status::Ok;
        let mut detail = summary;
        if let Some(broken) = broken {
            let started = match self.compose().await {
                Ok(runner) => backend::up(engine, &runner, b, self.ready_timeout).await,
                Err(e) => Err(e),
            };
            if let Err(e) = started {
                return (
                    Status::Problem,
                    format!("{broken}; starting it again failed: {e}"),
                );
            }
            status = Status::Repaired;
            detail = format!("{detail}; {broken}: started again");
        }
        let session = match relay::session(engine, &r.id, &b.label()).await {
            Ok(s) => s,
            Err(e) => return (Status::Problem, e.to_string()),
        };
        match tokio::time::timeout(std::time::Duration::from_secs(10), session.ping()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return (
                    Status::Problem,
                    format!("{}: its relay does not answer: {e}", r.id),
                );
            }
            Err(_) => {
                return (
                    Status::Problem,
                    format!("{}: its relay did not answer a ping within 10 s", r.id),
                );
            }
        }
        if let (Some(socket), Some(state)) =
            (b.socket.as_deref(), backend::socket_state(engine, b).await)
            && matches!(
                state,
                dockhand_engine::SocketState::Missing | dockhand_engine::SocketState::NotListening
            )
        {
            if status == Status::Ok {
                status = Status::Warning;
            }
            detail = format!(
                "{detail}; {}",
                backend::socket_pending_message(&r.id, socket, state)
            );
        }
        (
            status,
            format!("{detail}; relay answers, reached {}", session.describe()),
        )
    }
}
