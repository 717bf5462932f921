//! `doctor`: the checks and repairs, in order; what a report is and says is
//! [`crate::doctor`]'s.

use std::collections::BTreeSet;

use dockhand_spec::ExtensionId;

use crate::doctor::{Report, Status};
use crate::state::ExtensionLock;
use crate::{Manager, Quiet};

impl Manager {
    /// The socket of a running backend: a warning when it is not there (yet),
    /// and its mode fixed when this user may not connect (a socket the
    /// backend created after install, as root, without write for others).
    async fn check_socket(
        &self,
        engine: &dockhand_engine::Engine,
        r: &crate::state::ExtensionRecord,
        summary: String,
    ) -> (Status, String) {
        use dockhand_engine::SocketState;
        let b = match self.backend_on(engine, r).await {
            Ok(Some(b)) => b,
            Ok(None) => return (Status::Ok, summary),
            Err(e) => return (Status::Problem, e.to_string()),
        };
        let Some(state) = crate::backend::socket_state(engine, &b).await else {
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
        let ids: BTreeSet<ExtensionId> = pending.iter().map(|p| p.extension.clone()).collect();
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
                    (Some(engine), true) => self.check_socket(engine, r, summary).await,
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
