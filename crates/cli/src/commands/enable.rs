//! `dockhand enable` and `dockhand disable`.

use std::process::ExitCode;

use anyhow::Result;

use super::lifecycle::{id, manager};
use crate::args::IdArgs;
use crate::settings::{Settings, runtime};

pub fn run(args: &IdArgs, settings: &Settings, enabled: bool) -> Result<ExitCode> {
    let id = id(&args.id)?;
    let manager = manager(settings)?;
    let rt = runtime()?;
    let record = rt.block_on(manager.set_enabled(&id, enabled))?;
    if let Some(note) = rt.block_on(manager.socket_note(&record)) {
        crate::output::warning(&note);
    }
    crate::output::data(&format!(
        "{} {}",
        record.id,
        if enabled { "enabled" } else { "disabled" }
    ));
    Ok(ExitCode::SUCCESS)
}
