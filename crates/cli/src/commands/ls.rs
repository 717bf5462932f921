//! `dockhand ls`.

use std::process::ExitCode;

use anyhow::Result;
use dockhand_engine::SocketState;
pub(super) use dockhand_server::listing::{LsJson, ls_json, ls_json_with_socket};

use super::lifecycle::manager;
use crate::args::{Format, LsArgs};
use crate::settings::{Settings, runtime};

pub fn run(args: &LsArgs, settings: &Settings) -> Result<ExitCode> {
    let manager = manager(settings)?;
    let listing = runtime()?.block_on(manager.list())?;
    if let Some(why) = &listing.engine_error {
        crate::output::warning(&format!("the backends' states are unknown: {why}"));
    }
    let known = listing.engine_error.is_none();
    for l in listing.extensions.iter().filter(|l| l.running > 0) {
        match l.socket {
            Some(state @ (SocketState::Missing | SocketState::NotListening)) => {
                crate::output::warning(&dockhand_host::backend::socket_pending_message(
                    &l.record.id,
                    l.record
                        .backend
                        .as_ref()
                        .and_then(|b| b.socket.as_deref())
                        .unwrap_or_default(),
                    state,
                ));
            }
            Some(SocketState::Denied) => crate::output::warning(&format!(
                "{}: this user may not connect to its backend's socket: `dockhand doctor` fixes its mode",
                l.record.id
            )),
            _ => {}
        }
    }
    let listed = listing.extensions;
    match args.format {
        Format::Json => {
            let all: Vec<LsJson> = listed
                .iter()
                .map(|l| ls_json_with_socket(&l.record, l.running, l.containers, l.socket))
                .collect();
            crate::output::json(&all)?;
        }
        Format::Text => {
            let rows: Vec<[String; 7]> = listed
                .iter()
                .map(|l| {
                    let r = &l.record;
                    let ui = r
                        .ui_title
                        .as_ref()
                        .map_or("-".to_owned(), |t| format!("1 tab({t})"));
                    let vm = match &r.backend {
                        None => "-".to_owned(),
                        // Running, but vm.service cannot reach it (yet).
                        Some(_) if l.running > 0 => match l.socket {
                            Some(SocketState::Missing) => {
                                format!("Running({}), no socket yet", l.running)
                            }
                            Some(SocketState::NotListening) => {
                                format!("Running({}), socket not listening", l.running)
                            }
                            Some(SocketState::Denied) => {
                                format!("Running({}), socket denied", l.running)
                            }
                            _ => format!("Running({})", l.running),
                        },
                        Some(_) if !known => "Unknown".to_owned(),
                        Some(_) if r.enabled => "Stopped".to_owned(),
                        Some(_) => "Disabled".to_owned(),
                    };
                    let host = if r.host_binaries.is_empty() {
                        "-".to_owned()
                    } else {
                        r.host_binaries.join(",")
                    };
                    [
                        r.id.to_string(),
                        r.vendor.clone(),
                        r.version.clone().unwrap_or_default(),
                        ui,
                        vm,
                        host,
                        r.update_available.clone().unwrap_or_else(|| "-".to_owned()),
                    ]
                })
                .collect();
            crate::output::data(&crate::output::table(
                &[
                    "EXTENSION",
                    "PROVIDER",
                    "VERSION",
                    "UI",
                    "VM",
                    "HOST",
                    "UPDATE",
                ],
                &rows,
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
