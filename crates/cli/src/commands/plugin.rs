//! `dockhand plugin install|uninstall`: the Docker CLI plugin `docker-extension`.
//!
//! The plugin is a symlink to the running dockhand binary (or, with `--copy`, a copy):
//! called as `docker-extension`, dockhand answers the docker CLI (see
//! [`crate::docker_plugin`]). A symlink follows dockhand's upgrades; a copy would keep
//! running the version it was copied from.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::args::{Cli, PluginCommand, PluginInstallArgs, PluginUninstallArgs};
use crate::docker_plugin::PLUGIN_BINARY;

pub fn run(cmd: &PluginCommand, cli: &Cli) -> Result<ExitCode> {
    match cmd {
        PluginCommand::Install(args) => install(args, cli),
        PluginCommand::Uninstall(args) => uninstall(args, cli),
    }
}

fn plugin_dir(dir: Option<&PathBuf>, cli: &Cli) -> PathBuf {
    dir.cloned()
        .unwrap_or_else(|| crate::settings::docker_config_dir(cli).join("cli-plugins"))
}

/// Whether the file at `path` is dockhand's plugin: a symlink to a program named dockhand,
/// or a program that says it is dockhand's in the handshake.
fn is_ours(path: &Path) -> bool {
    if fs_err::read_link(path).is_ok_and(|target| {
        target
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("dockhand"))
    }) {
        return true;
    }
    std::process::Command::new(path)
        .arg("docker-cli-plugin-metadata")
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .is_some_and(|v| v["Vendor"] == "dockhand")
}

/// Refuses to touch `path` when it is not dockhand's, unless `force`; the
/// refusal is `path` and then `why` (what it is, what to do).
fn refuse_unless_ours(path: &Path, force: bool, why: &str) -> Result<()> {
    if !force && !is_ours(path) {
        bail!("{} {why}", path.display());
    }
    Ok(())
}

fn install(args: &PluginInstallArgs, cli: &Cli) -> Result<ExitCode> {
    let dir = plugin_dir(args.dir.as_ref(), cli);
    let exe = std::env::current_exe()
        .and_then(fs_err::canonicalize)
        .context("cannot find the dockhand binary that is running")?;
    let path = dir.join(PLUGIN_BINARY);
    if fs_err::symlink_metadata(&path).is_ok() {
        if !args.copy && fs_err::read_link(&path).is_ok_and(|t| t == exe) {
            crate::output::data(&format!(
                "{} already links to {}",
                path.display(),
                exe.display()
            ));
            return Ok(ExitCode::SUCCESS);
        }
        refuse_unless_ours(
            &path,
            args.force,
            "exists and is not dockhand's (Docker Desktop's plugin?): remove it, or pass --force to replace it",
        )?;
    }
    fs_err::create_dir_all(&dir)?;
    // Written beside and renamed over, so the plugin is never missing or half-written.
    let staging = dir.join(format!(".{PLUGIN_BINARY}.dockhand-{}", std::process::id()));
    let _ = fs_err::remove_file(&staging);
    if args.copy {
        fs_err::copy(&exe, &staging)?;
    } else {
        fs_err::os::unix::fs::symlink(&exe, &staging)?;
    }
    if let Err(e) = fs_err::rename(&staging, &path) {
        let _ = fs_err::remove_file(&staging);
        return Err(e.into());
    }
    let how = if args.copy {
        "a copy of"
    } else {
        "a symlink to"
    };
    crate::output::data(&format!(
        "installed {} ({how} {}): `docker extension --help` runs dockhand",
        path.display(),
        exe.display()
    ));
    Ok(ExitCode::SUCCESS)
}

fn uninstall(args: &PluginUninstallArgs, cli: &Cli) -> Result<ExitCode> {
    let dir = plugin_dir(args.dir.as_ref(), cli);
    let path = dir.join(PLUGIN_BINARY);
    if fs_err::symlink_metadata(&path).is_err() {
        crate::output::data(&format!(
            "{} is not installed: nothing to do",
            path.display()
        ));
        return Ok(ExitCode::SUCCESS);
    }
    refuse_unless_ours(
        &path,
        args.force,
        "is not dockhand's (Docker Desktop's plugin?): leaving it; pass --force to remove it anyway",
    )?;
    fs_err::remove_file(&path)?;
    crate::output::data(&format!("removed {}", path.display()));
    Ok(ExitCode::SUCCESS)
}
