//! `dockhand ls`.

use std::process::ExitCode;

use anyhow::Result;
use dockhand_host::state::ExtensionRecord;
use serde::Serialize;

use super::lifecycle::manager;
use crate::args::{Format, LsArgs};
use crate::settings::{Settings, runtime};

/// `ls --format json`, as CLI.md fixes it.
#[derive(Serialize)]
pub struct LsJson {
    id: String,
    image: String,
    version: String,
    digest: String,
    title: String,
    vendor: String,
    enabled: bool,
    ui: Option<UiJson>,
    vm: Option<VmJson>,
    host_binaries: Vec<String>,
    update_available: Option<String>,
}

#[derive(Serialize)]
struct UiJson {
    title: String,
}

#[derive(Serialize)]
struct VmJson {
    state: String,
    containers: usize,
}

/// One record as `ls --format json` shows it.
pub fn ls_json(r: &ExtensionRecord, running: usize, containers: usize) -> LsJson {
    LsJson {
        id: r.id.to_string(),
        image: r.image.clone(),
        version: r.version.clone().unwrap_or_default(),
        digest: r.digest.clone(),
        title: r.title.clone(),
        vendor: r.vendor.clone(),
        enabled: r.enabled,
        ui: r.ui_title.clone().map(|title| UiJson { title }),
        vm: r.backend.as_ref().map(|_| VmJson {
            state: vm_state(r.enabled, running, containers),
            containers: running,
        }),
        host_binaries: r.host_binaries.clone(),
        update_available: r.update_available.clone(),
    }
}

fn vm_state(enabled: bool, running: usize, containers: usize) -> String {
    if running > 0 && running == containers {
        "running".into()
    } else if running > 0 {
        "degraded".into()
    } else if enabled {
        "stopped".into()
    } else {
        "disabled".into()
    }
}

pub fn run(args: &LsArgs, settings: &Settings) -> Result<ExitCode> {
    let manager = manager(settings)?;
    let listed = runtime()?.block_on(manager.list())?;
    match args.format {
        Format::Json => {
            let all: Vec<LsJson> = listed
                .iter()
                .map(|l| ls_json(&l.record, l.running, l.containers))
                .collect();
            crate::output::json(&all)?;
        }
        Format::Text => {
            let rows: Vec<[String; 6]> = listed
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
                    ]
                })
                .collect();
            crate::output::data(&crate::output::table(
                &["EXTENSION", "PROVIDER", "VERSION", "UI", "VM", "HOST"],
                &rows,
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
