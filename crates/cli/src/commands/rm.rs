//! `dockhand rm` (alias `uninstall`).

use std::process::ExitCode;

use anyhow::Result;

use super::lifecycle::{CliHooks, id, manager};
use crate::args::RmArgs;
use crate::settings::{Settings, runtime};

pub fn run(args: &RmArgs, settings: &Settings) -> Result<ExitCode> {
    let id = id(&args.id)?;
    let manager = manager(settings)?;
    let hooks = CliHooks {
        settings,
        yes: true,
    };
    let removed = runtime()?.block_on(manager.uninstall(&id, args.volumes, &hooks))?;
    crate::output::data(&if removed.was_installed {
        format!(
            "removed {id}{}",
            if args.volumes { " and its volumes" } else { "" }
        )
    } else {
        format!("{id} was not installed; removed what was left of it")
    });
    Ok(ExitCode::SUCCESS)
}
