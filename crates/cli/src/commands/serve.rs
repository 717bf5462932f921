//! `dockhand serve`: the dashboard and every extension's UI.
//!
//! stdout gets exactly one line, the dashboard URL with its one-time token;
//! everything else goes to stderr. SIGINT and SIGTERM stop the server and
//! every process it started; the exit code is then 0.

use std::process::{ExitCode, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result};
use dockhand_server::{ServeOptions, Server};
use tokio::signal::unix::{SignalKind, signal};

use super::lifecycle::manager;
use crate::args::ServeArgs;
use crate::settings::Settings;

pub fn run(args: &ServeArgs, settings: &Settings) -> Result<ExitCode> {
    let manager = Arc::new(manager(settings)?);
    let mut config = super::load_config(settings)?;
    // The flag wins over `[limits] service_timeout`; zero means no limit.
    if let Some(flag) = args.service_timeout {
        config.limits.service_timeout = Some(flag.0.unwrap_or_default());
    }
    // The flag wins over `[updates] check_interval`; zero means never.
    let check_interval = match args.check_interval {
        Some(flag) => flag.0,
        None => Some(config.update_interval()).filter(|d| !d.is_zero()),
    };
    let catalog = dockhand_server::catalog::CatalogSetup {
        registry: Some(super::registry_client(settings, &args.insecure_registries)?),
        config,
        options: Default::default(),
    };
    let options = ServeOptions {
        bind: args.bind,
        port: args.port,
        allow_non_loopback: args.allow_non_loopback,
        user_home: std::env::var_os("HOME")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/".into()),
        catalog,
    };
    // One thread runs every task: a bridge call hops between the server's
    // connection, the handler and the backend client's connection, and on a
    // multi-threaded runtime each hop can be a cross-thread wake-up.
    // Blocking work (SQLite, processes) goes to tokio's blocking pool anyway.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    rt.block_on(async {
        let mut interrupt =
            signal(SignalKind::interrupt()).context("cannot listen for SIGINT")?;
        let mut terminate =
            signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        let server = Server::bind(manager, &options).await?;
        server.state().set_updates(dockhand_server::updates::UpdateService {
            client: super::registry_client(settings, &args.insecure_registries)?,
            interval: check_interval,
            options: Default::default(),
        });
        tokio::spawn(dockhand_server::updates::run_periodic(server.state().clone()));
        if !options.bind.is_loopback() {
            crate::output::warning(&format!(
                "listening on {}, which other machines may reach (the dashboard still answers only to Host localhost:PORT, as through an SSH tunnel): keep the URL secret",
                server.local_addr()
            ));
        }
        crate::output::data(server.url());
        settings.say(format!(
            "dockhand serve: listening on {}; open the URL above (its token works once, for 10 minutes); Ctrl-C stops",
            server.local_addr()
        ));
        if args.open {
            open_browser(server.url(), settings);
        }
        let shutdown = async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        };
        let stopped = server.run(shutdown).await?;
        if stopped.forced {
            settings.say("dockhand serve: requests still running were cut");
        }
        if stopped.processes_left > 0 {
            crate::output::warning(&format!(
                "{} processes the dashboard started had not ended when dockhand stopped",
                stopped.processes_left
            ));
        }
        settings.say("dockhand serve: stopped");
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Opens `url` with `xdg-open` when it is on `PATH`; says so when it is not.
fn open_browser(url: &str, settings: &Settings) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join("xdg-open").is_file()))
        .unwrap_or(false);
    if !found {
        settings.say("--open: xdg-open is not installed; open the URL yourself");
        return;
    }
    let spawned = std::process::Command::new("xdg-open")
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        // Reaped in the background so it does not linger as a zombie.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => settings.say(format!("--open: xdg-open failed: {e}")),
    }
}
