//! A `dockhand serve` child for the suites: spawned, logged in with its
//! one-time token, an extension's origin entered with a ticket, as a
//! browser does; the requests the dashboard and an extension page send.

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use dockhand_spec::ExtensionId;

use crate::http::{Client, IO_TIMEOUT, encode_segment, request, tcp};
use crate::progress;

/// A running `dockhand serve`, logged in, with a session on the backend's origin.
pub struct Serve {
    pub child: Child,
    pub port: u16,
    pub session: String,
    /// The dashboard page's key (from the login redirect's fragment).
    pub key: String,
    /// `<slug>.localhost:PORT`.
    pub ext_host: String,
    pub ext_cookie: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        end(&mut self.child);
    }
}

impl Serve {
    pub fn dashboard_host(&self) -> String {
        format!("localhost:{}", self.port)
    }

    pub fn ext_origin(&self) -> String {
        format!("http://{}", self.ext_host)
    }

    pub fn bridge(&self, route: &str, body: &str) -> Vec<u8> {
        let origin = self.ext_origin();
        request(
            "POST",
            route,
            &[
                ("Host", &self.ext_host),
                ("Origin", &origin),
                ("Cookie", &self.ext_cookie),
                ("Content-Type", "application/json"),
            ],
            body.as_bytes(),
        )
    }

    pub fn bridge_get(&self, route: &str) -> Vec<u8> {
        request(
            "GET",
            route,
            &[("Host", &self.ext_host), ("Cookie", &self.ext_cookie)],
            b"",
        )
    }

    pub fn dashboard_get(&self, path: &str) -> Vec<u8> {
        request(
            "GET",
            path,
            &[
                ("Host", &self.dashboard_host()),
                ("Cookie", &self.session),
                ("X-Dockhand-Key", &self.key),
            ],
            b"",
        )
    }
}

/// Ends `child` with SIGTERM (SIGKILL after 5 s) and reaps it.
pub fn end(child: &mut Child) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .stderr(Stdio::null())
        .status();
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Spawns `dockhand serve --port 0` from `dockhand` (a `dockhand` command
/// with its environment), its stderr appended to `log`; returns the child,
/// its port and the one-time token, and the instant it was spawned.
pub fn spawn(mut dockhand: Command, log: &Path) -> Result<(Child, u16, String, Instant)> {
    let log = fs_err::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let start = Instant::now();
    let mut child = dockhand
        .args(["serve", "--port", "0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(log.into_file())
        .spawn()
        .context("cannot start dockhand serve")?;
    let stdout = child.stdout.take().context("serve: no stdout")?;
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let r = BufReader::new(stdout).read_line(&mut line).map(|_| line);
        let _ = tx.send(r);
    });
    let line = match rx.recv_timeout(IO_TIMEOUT) {
        Ok(Ok(line)) if !line.trim().is_empty() => line,
        other => {
            end(&mut child);
            bail!("dockhand serve printed no URL: {other:?}");
        }
    };
    let url = line.trim();
    let parsed = url
        .strip_prefix("http://localhost:")
        .and_then(|rest| rest.split_once("/?token="))
        .and_then(|(port, token)| Some((port.parse::<u16>().ok()?, token.to_owned())));
    let Some((port, token)) = parsed else {
        end(&mut child);
        bail!("dockhand serve printed {url:?}, not http://localhost:PORT/?token=T");
    };
    Ok((child, port, token, start))
}

/// Logs in with `token`: the `dockhand_session` cookie and the page key.
pub fn login(port: u16, token: &str) -> Result<(String, String)> {
    let mut c = Client::new(tcp(port)?);
    let r = c.send(&request(
        "GET",
        &format!("/?token={token}"),
        &[("Host", &format!("localhost:{port}"))],
        b"",
    ))?;
    ensure!(
        r.status == 303 || r.status == 200,
        "GET /?token= answered {}",
        r.status
    );
    let key = r
        .header("location")
        .and_then(|l| l.strip_prefix("/#key="))
        .context("the login redirect carries no page key")?
        .to_owned();
    let cookie = r
        .cookie("dockhand_session")
        .context("the login set no dockhand_session cookie")?;
    Ok((cookie, key))
}

/// Starts serve (see [`spawn`]), logs in, enters `id`'s origin.
pub fn start(dockhand: Command, log: &Path, id: &ExtensionId) -> Result<Serve> {
    let (child, port, token, _) = spawn(dockhand, log)?;
    // Ended when dropped, also on the errors below.
    let mut serve = Serve {
        child,
        port,
        session: String::new(),
        key: String::new(),
        ext_host: String::new(),
        ext_cookie: String::new(),
    };
    (serve.session, serve.key) = login(port, &token)?;
    let dashboard = serve.dashboard_host();
    let origin = format!("http://{dashboard}");
    let mut c = Client::new(tcp(port)?);
    let r = c.send(&request(
        "POST",
        &format!("/api/extensions/{}/ticket", encode_segment(id.as_str())),
        &[
            ("Host", &dashboard),
            ("Origin", &origin),
            ("Cookie", &serve.session),
            ("X-Dockhand-Key", &serve.key),
        ],
        b"",
    ))?;
    ensure!(
        r.status == 200,
        "POST …/ticket answered {}: {}",
        r.status,
        r.text()
    );
    let v: serde_json::Value = serde_json::from_slice(&r.body).context("ticket JSON")?;
    let url = v["url"].as_str().context("ticket: no url")?;
    let (ext_host, path) = url
        .strip_prefix("http://")
        .and_then(|u| u.find('/').map(|i| (u[..i].to_owned(), u[i..].to_owned())))
        .with_context(|| format!("ticket url {url:?}"))?;
    let mut e = Client::new(tcp(port)?);
    let r = e.send(&request("GET", &path, &[("Host", &ext_host)], b""))?;
    ensure!(r.status == 303, "GET {path} answered {}", r.status);
    serve.ext_cookie = r
        .cookie("dockhand_ext")
        .context("entering set no dockhand_ext cookie")?;
    progress(&format!(
        "serve: pid {}, port {port}, extension origin http://{ext_host}",
        serve.child.id()
    ));
    serve.ext_host = ext_host;
    Ok(serve)
}
