//! `dockhand install`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use dockhand_host::Hooks;
use dockhand_host::install::{InstallRequest, Installed};
use dockhand_host::update::untagged::parse_source;
use dockhand_oci::Platform;

use super::lifecycle::{CliHooks, manager};
use crate::args::{Format, InstallArgs};
use crate::settings::{Settings, runtime};

pub fn run(args: &InstallArgs, settings: &Settings) -> Result<ExitCode> {
    // Without a tag, the install resolves the highest compatible version.
    let source = parse_source(&args.reference).context("check REF")?;
    let platform = match &args.platform {
        Some(p) => p.parse::<Platform>()?,
        None => Platform::host(),
    };
    let request = InstallRequest {
        source,
        platform,
        yes: args.yes || args.force,
        force: args.force,
        ignore_api_version: args.ignore_api_version,
        pre: args.pre,
    };
    let manager = manager(settings)?;
    let client = super::registry_client(settings, &args.insecure_registries)?;
    let hooks = CliHooks {
        settings,
        yes: request.yes,
    };
    let no_start = NoStart(&hooks);
    let hooks: &dyn Hooks = if args.no_start { &no_start } else { &hooks };
    let outcome = runtime()?.block_on(manager.install(&request, &client, hooks))?;
    let (record, changed) = match outcome {
        Installed::New(r) => (r, true),
        Installed::Unchanged(r) => (r, false),
    };
    // Installed all the same: the backend may create its socket later.
    if let Some(note) = runtime()?.block_on(manager.socket_note(&record)) {
        crate::output::warning(&note);
    }
    match args.format {
        Format::Json => crate::output::json(&super::ls::ls_json(&record, 0, 0))?,
        Format::Text => crate::output::data(&if changed {
            format!(
                "installed {} {} ({})",
                record.id,
                record.version.clone().unwrap_or_default(),
                record.digest
            )
        } else {
            format!(
                "{} {} is installed already (same image): nothing to do; pass --force to reinstall",
                record.id,
                record.version.clone().unwrap_or_default()
            )
        }),
    }
    Ok(ExitCode::SUCCESS)
}

/// `--no-start`: the CLI's hooks, with the backend left stopped.
struct NoStart<'a>(&'a CliHooks<'a>);

impl Hooks for NoStart<'_> {
    fn progress(&self, message: &str) {
        self.0.progress(message);
    }

    fn confirm(
        &self,
        id: &dockhand_spec::ExtensionId,
        summary: &dockhand_host::consent::Summary,
        warnings: &[dockhand_spec::Diagnostic],
    ) -> Result<bool, dockhand_host::consent::CannotConfirm> {
        self.0.confirm(id, summary, warnings)
    }

    fn step(&self, step: &str) -> Result<(), dockhand_host::InstallError> {
        self.0.step(step)
    }

    fn start_backend(&self) -> bool {
        false
    }
}
