//! `dockhand serve`: the dashboard and every extension's UI.
//!
//! stdout gets exactly one line, the dashboard URL with its one-time token;
//! everything else goes to stderr. SIGINT and SIGTERM stop the server and
//! every process it started; the exit code is then 0.

use std::path::PathBuf;
use std::process::{ExitCode, Stdio};
use std::sync::Arc;

use anyhow::{Context, Result};
use dockhand_server::html::escape as html_escape;
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
    let served = rt.block_on(async {
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
        // Removed when serve stops, if the timer has not done it yet.
        let _page = if args.open {
            open_browser(server.url(), settings)
        } else {
            None
        };
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
    });
    // An update check still talking to a registry runs on a blocking thread:
    // the server has stopped, so it is not waited for.
    rt.shutdown_background();
    served?;
    Ok(ExitCode::SUCCESS)
}

/// How long the redirect page `--open` writes is kept: long enough for a
/// browser to start, short next to the token's 10 minutes.
const PAGE_LIFETIME: std::time::Duration = std::time::Duration::from_secs(60);

/// The redirect page of `--open`, removed when dropped.
struct RedirectPage(PathBuf);

impl Drop for RedirectPage {
    fn drop(&mut self) {
        let _ = fs_err::remove_file(&self.0);
    }
}

/// Opens the dashboard without putting its token in any process's argv
/// (which every local user can read in `ps`): the URL goes into a small
/// HTML page that redirects to it, written `0600` in the private runtime
/// directory, and the browser is given that page's `file://` path. The
/// page is removed after [`PAGE_LIFETIME`] or when serve stops. The
/// browser is `$BROWSER` when set, else `xdg-open`.
fn open_browser(url: &str, settings: &Settings) -> Option<RedirectPage> {
    let launcher = match std::env::var_os("BROWSER").filter(|b| !b.is_empty()) {
        Some(b) => PathBuf::from(b),
        None => {
            let found = std::env::var_os("PATH")
                .map(|p| std::env::split_paths(&p).any(|d| d.join("xdg-open").is_file()))
                .unwrap_or(false);
            if !found {
                settings.say("--open: xdg-open is not installed (and BROWSER is not set); open the URL yourself");
                return None;
            }
            PathBuf::from("xdg-open")
        }
    };
    let page = match write_redirect(url, settings) {
        Ok(p) => RedirectPage(p),
        Err(e) => {
            settings.say(format!("--open: {e:#}; open the URL yourself"));
            return None;
        }
    };
    let spawned = std::process::Command::new(&launcher)
        .arg(format!("file://{}", page.0.display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    match spawned {
        // Reaped in the background so it does not linger as a zombie.
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
        }
        Err(e) => {
            settings.say(format!("--open: {} failed: {e}", launcher.display()));
            return None;
        }
    }
    let path = page.0.clone();
    std::thread::spawn(move || {
        std::thread::sleep(PAGE_LIFETIME);
        let _ = fs_err::remove_file(&path);
    });
    Some(page)
}

/// Writes the page that sends the browser to `url`: in the runtime
/// directory's private `dockhand/` (else `$DOCKHAND_HOME`), a new file only
/// this user may read.
fn write_redirect(url: &str, settings: &Settings) -> Result<PathBuf> {
    use fs_err::os::unix::fs::OpenOptionsExt as _;
    use std::io::Write as _;
    let private = settings.runtime_dir.join("dockhand");
    let dir = match dockhand_host::private_dir::ensure(&settings.runtime_dir)
        .and_then(|()| dockhand_host::private_dir::ensure(&private))
    {
        Ok(()) => private,
        Err(_) => settings.home.clone(),
    };
    let mut nonce = [0u8; 8];
    fs_err::File::open("/dev/urandom")
        .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut nonce))
        .context("cannot read /dev/urandom")?;
    let name: String = nonce.iter().map(|b| format!("{b:02x}")).collect();
    let path = dir.join(format!("open-{name}.html"));
    let href = html_escape(url);
    let html = format!(
        "<!doctype html>\n<meta charset=\"utf-8\">\n<meta name=\"referrer\" content=\"no-referrer\">\n\
         <meta http-equiv=\"refresh\" content=\"0;url={href}\">\n<title>dockhand</title>\n\
         <p><a href=\"{href}\">Open the dockhand dashboard</a></p>\n"
    );
    let mut file = fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .context("cannot write the page that opens the dashboard")?;
    file.write_all(html.as_bytes())
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_escaped_for_the_page() {
        assert_eq!(
            html_escape("http://localhost:1/?token=a&b=\"<x>"),
            "http://localhost:1/?token=a&amp;b=&quot;&lt;x&gt;"
        );
    }
}
