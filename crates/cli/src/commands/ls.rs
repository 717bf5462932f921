//! `dockhand ls`.

use std::process::ExitCode;

use anyhow::Result;
pub(super) use dockhand_server::listing::{LsJson, ls_json};

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
    let listed = listing.extensions;
    match args.format {
        Format::Json => {
            let all: Vec<LsJson> = listed
                .iter()
                .map(|l| ls_json(&l.record, l.running, l.containers))
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
                        Some(_) if l.running > 0 => format!("Running({})", l.running),
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
