//! `dockhand doctor` and `dockhand up`.

use std::process::ExitCode;

use anyhow::Result;
use dockhand_engine::{EngineMode, SocketState};
use dockhand_host::backend::{Started, socket_pending_message};
use dockhand_host::doctor::{Check, Report, Status};
use serde::Serialize;

use super::lifecycle::manager;
use crate::args::{DoctorArgs, Format, UpArgs};
use crate::settings::{Settings, runtime};

pub fn run(args: &DoctorArgs, settings: &Settings) -> Result<ExitCode> {
    let manager = manager(settings)?;
    let rt = runtime()?;
    let mut report = rt.block_on(manager.doctor());
    let mode = rt.block_on(mode_check(&manager));
    add_engine_facts(&mut report, settings, mode);
    match args.format {
        Format::Json => crate::output::json(&report)?,
        Format::Text => {
            let rows: Vec<[String; 3]> = report
                .checks
                .iter()
                .map(|c| {
                    let s = match c.status {
                        Status::Ok => "ok",
                        Status::Repaired => "repaired",
                        Status::Problem => "PROBLEM",
                        Status::Warning => "warning",
                    };
                    [c.name.clone(), s.to_owned(), c.detail.clone()]
                })
                .collect();
            crate::output::data(&crate::output::table(&["CHECK", "STATUS", "DETAIL"], &rows));
        }
    }
    Ok(if report.healthy() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILURE)
    })
}

/// The engine's mode, probed again (doctor refreshes the cached answer);
/// `None` when the engine does not answer (its own check says so).
async fn mode_check(manager: &dockhand_host::Manager) -> Option<Check> {
    let engine = manager.engine().await.ok()?;
    Some(match manager.engine_mode(&engine, true).await {
        Ok(report) => match report.mode {
            EngineMode::Local => Check {
                name: "engine mode".into(),
                status: Status::Ok,
                detail: format!("local: {}", report.reason),
            },
            EngineMode::Remote => Check {
                name: "engine mode".into(),
                status: Status::Ok,
                detail: format!(
                    "remote: {}; backends run in relay mode (remote, through the relay: their sockets in a volume of the extension, reached over the Engine API)",
                    report.reason
                ),
            },
        },
        Err(e) => Check {
            name: "engine mode".into(),
            status: Status::Problem,
            detail: e.to_string(),
        },
    })
}

/// Where the engine's address came from, on the engine line, and the mode
/// line after it.
fn add_engine_facts(report: &mut Report, settings: &Settings, mode: Option<Check>) {
    let at = report.checks.iter().position(|c| c.name == "engine");
    if let Some(i) = at
        && report.checks[i].status == Status::Ok
    {
        let tls = match &settings.engine {
            dockhand_engine::EngineHost::Tls { tls, .. } if tls.verify => ", TLS",
            dockhand_engine::EngineHost::Tls { .. } => ", TLS without verifying the engine",
            _ => "",
        };
        let check = &mut report.checks[i];
        check.detail = format!("{} (from {}{tls})", check.detail, settings.engine_source);
    }
    if let Some(mode) = mode {
        let i = at.map_or(report.checks.len(), |i| i + 1);
        report.checks.insert(i, mode);
    }
}

#[derive(Serialize)]
struct UpJson {
    id: String,
    ok: bool,
    error: Option<String>,
    /// Set when the backend runs but has not created its socket (yet).
    note: Option<String>,
}

pub fn up(args: &UpArgs, settings: &Settings) -> Result<ExitCode> {
    let manager = manager(settings)?;
    let results = runtime()?.block_on(manager.up())?;
    let all: Vec<UpJson> = results
        .iter()
        .map(|(id, r)| UpJson {
            id: id.to_string(),
            ok: r.is_ok(),
            error: r.as_ref().err().map(ToString::to_string),
            note: match r {
                Ok(Started::SocketPending { socket }) => {
                    let name = socket.file_name().unwrap_or_default().to_string_lossy();
                    Some(socket_pending_message(id, &name, SocketState::Missing))
                }
                _ => None,
            },
        })
        .collect();
    match args.format {
        Format::Json => crate::output::json(&all)?,
        Format::Text => {
            let mut text = String::new();
            for u in &all {
                text.push_str(&match (&u.error, &u.note) {
                    (None, None) => format!("{}: backend running\n", u.id),
                    (None, Some(note)) => format!("{}: backend running; {note}\n", u.id),
                    (Some(e), _) => format!("{e}\n"),
                });
            }
            if all.is_empty() {
                text.push_str("no enabled extension has a backend\n");
            }
            crate::output::data(text.trim_end());
        }
    }
    Ok(if all.iter().all(|u| u.ok) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILURE)
    })
}
