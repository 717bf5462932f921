//! What the lifecycle commands share: the manager built from the settings,
//! and the hooks that print progress, ask for consent on a terminal and run
//! failpoints.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::Result;
use dockhand_host::consent::{CannotConfirm, Summary};
use dockhand_host::error::InstallError;
use dockhand_host::layout::Layout;
use dockhand_host::{Hooks, Manager};
use dockhand_spec::Diagnostic;
use dockhand_spec::ExtensionId;

use crate::settings::Settings;

/// The manager for these settings.
pub fn manager(settings: &Settings) -> Result<Manager> {
    let layout = Layout {
        home: settings.home.clone(),
        runtime: settings.runtime_dir.clone(),
    };
    let search_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let mut manager = Manager::open(
        layout,
        settings.engine.clone(),
        settings.docker_cli.clone(),
        search_path,
    )?;
    if let Some(t) = settings.ready_timeout {
        manager.ready_timeout = t;
    }
    manager.compose_choice = settings.compose.clone();
    manager.relay_binaries = settings.relay_binaries.clone();
    manager.compose_plugins = dockhand_engine::plugin_candidates(&settings.docker_config);
    manager.compose_env = compose_env(settings);
    let config = super::config(settings)?;
    manager.allow = config.allow_list()?;
    manager.max_image_size = config.image_size();
    Ok(manager)
}

/// The whole environment compose runs with, and interpolates compose files
/// with (besides `DOCKER_HOST` and `DESKTOP_PLUGIN_IMAGE`): `PATH` and `HOME`
/// as they are, `DOCKER_CONFIG` as dockhand uses it; nothing else of the
/// user's.
pub fn compose_env(settings: &Settings) -> dockhand_engine::ComposeEnv {
    let var = |name: &str| {
        std::env::var_os(name)
            .and_then(|v| v.into_string().ok())
            .filter(|v| !v.is_empty())
    };
    dockhand_engine::ComposeEnv {
        path: var("PATH"),
        home: var("HOME"),
        docker_config: settings.docker_config.to_str().map(str::to_owned),
    }
}

/// The CLI's hooks.
#[derive(Debug)]
pub struct CliHooks<'a> {
    /// Settings (quiet, failpoint).
    pub settings: &'a Settings,
    /// `-y`: do not ask.
    pub yes: bool,
}

impl Hooks for CliHooks<'_> {
    fn progress(&self, message: &str) {
        self.settings.say(message);
    }

    fn confirm(
        &self,
        id: &ExtensionId,
        summary: &Summary,
        warnings: &[Diagnostic],
    ) -> Result<bool, CannotConfirm> {
        if self.yes {
            return Ok(true);
        }
        let mut err = anstream::stderr();
        // The summary and the findings quote the image: escaped, so that no
        // control sequence in a title or label can rewrite these lines.
        let summary = summary.to_string();
        let _ = writeln!(err, "{id} will get:\n{}", crate::output::clean(&summary));
        for w in warnings {
            let _ = writeln!(
                err,
                "  warning {} {}: {}",
                w.code,
                crate::output::clean_line(&w.location.to_string()),
                crate::output::clean_line(&w.message)
            );
        }
        if !std::io::stdin().is_terminal() {
            return Err(CannotConfirm::NoTerminal { id: id.clone() });
        }
        let _ = write!(err, "Install {id}? [y/N] ");
        let _ = err.flush();
        let mut line = String::new();
        let _ = std::io::stdin().lock().read_line(&mut line);
        Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
    }

    fn step(&self, step: &str) -> Result<(), InstallError> {
        match &self.settings.failpoint {
            Some(fp) if fp == step => {
                // Simulates a crash at this step: no cleanup, no unwinding.
                let _ = std::process::Command::new("kill")
                    .args(["-9", &std::process::id().to_string()])
                    .status();
                Err(InstallError::Failpoint(step.to_owned()))
            }
            _ => Ok(()),
        }
    }
}

/// Parses an extension id argument.
pub fn id(raw: &str) -> Result<ExtensionId> {
    let id = ExtensionId::parse(raw).or_else(|_| {
        // Accept a reference with a tag too (`acme/ext:1.0`), as docker extension does.
        dockhand_oci::Reference::parse(raw).map(|r| r.extension_id())
    });
    id.map_err(|e| anyhow::anyhow!("`{raw}` is not an extension id: {e}"))
}
