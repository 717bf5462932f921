//! Headless Chromium over WebDriver: the programs found on the machine
//! (Debian's `chromium` and `chromedriver`, or `DOCKHAND_CHROMIUM` and
//! `DOCKHAND_CHROMEDRIVER`), chromedriver started in its own process group
//! (the browsers it starts die with it) and a session with the options every
//! browser test uses.

use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::{CmdError, NewSessionError};
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder};
use serde_json::json;

use crate::env;

/// How long chromedriver may take to listen.
const START: Duration = Duration::from_secs(20);

/// What went wrong starting the browser.
#[derive(Debug, thiserror::Error)]
pub enum BrowserError {
    #[error("cannot start {path}: {source}")]
    Start {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("chromedriver does not listen on {0}")]
    NotListening(u16),
    #[error("a WebDriver session with Chromium: {0}")]
    Session(Box<NewSessionError>),
    #[error("a WebDriver command: {0}")]
    Command(Box<CmdError>),
}

impl From<NewSessionError> for BrowserError {
    fn from(e: NewSessionError) -> Self {
        Self::Session(Box::new(e))
    }
}

impl From<CmdError> for BrowserError {
    fn from(e: CmdError) -> Self {
        Self::Command(Box::new(e))
    }
}

/// Chromium and its WebDriver server.
#[derive(Debug, Clone)]
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
}

impl Browser {
    /// Both programs, or `None` after [`env::skip`]ping `test` naming the
    /// missing one.
    pub fn find(test: &str) -> Option<Self> {
        let pick = |var: &str, default: &str| {
            std::env::var_os(var)
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(default))
        };
        let chromium = pick("DOCKHAND_CHROMIUM", "/usr/bin/chromium");
        let chromedriver = pick("DOCKHAND_CHROMEDRIVER", "/usr/bin/chromedriver");
        env::require_files(
            test,
            &[&chromium, &chromedriver],
            "scripts/deps installs chromium and chromium-driver",
        )
        .then_some(Self {
            chromium,
            chromedriver,
        })
    }
}

/// A free loopback port (free when asked; nothing holds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Sends `signal` (`-KILL`, `-TERM`) to the process group `pgid` (a group
/// the test created).
pub fn kill_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// chromedriver in its own process group, killed with its browsers when
/// dropped.
#[derive(Debug)]
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    /// Starts `path` on a free port logging to `log`, and waits until it
    /// listens.
    pub fn start(path: &Path, log: &Path) -> Result<Self, BrowserError> {
        let port = free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|source| BrowserError::Start {
                path: path.to_owned(),
                source,
            })?;
        let driver = Self { child, port };
        let until = Instant::now() + START;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() >= until {
                return Err(BrowserError::NotListening(port));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// Where the WebDriver API answers.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        kill_group(self.child.id(), "-KILL");
        let _ = self.child.wait();
    }
}

/// The runtime the browser tests drive WebDriver (and their own servers) on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

/// A session with headless Chromium (1280×900, no sandbox, no background
/// traffic, its profile in `profile`), with 30 s script and page-load
/// timeouts.
pub async fn connect(
    driver: &Driver,
    browser: &Browser,
    profile: &Path,
) -> Result<Client, BrowserError> {
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": browser.chromium,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--no-first-run", "--window-size=1280,900",
                format!("--user-data-dir={}", profile.display()),
            ],
        }),
    );
    let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&driver.url())
        .await?;
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(30)),
            Some(Duration::from_secs(30)),
            None,
        ))
        .await?;
    Ok(client)
}
