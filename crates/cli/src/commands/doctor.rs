//! `dockhand doctor` and `dockhand up`.

use std::process::ExitCode;

use anyhow::Result;
use dockhand_engine::SocketState;
use dockhand_host::backend::{Started, socket_pending_message};
use dockhand_host::doctor::Status;
use serde::Serialize;

use super::lifecycle::manager;
use crate::args::{DoctorArgs, Format, UpArgs};
use crate::settings::{Settings, runtime};

pub fn run(args: &DoctorArgs, settings: &Settings) -> Result<ExitCode> {
    let manager = manager(settings)?;
    let report = runtime()?.block_on(manager.doctor());
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
            error: r.clone().err(),
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
