//! The browser tests' harness: what the machine must have, `dockhand serve`
//! and chromedriver as guarded processes, and the WebDriver steps every
//! browser test takes (frames, ddClient calls, toasts, routes, screenshots).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

pub(crate) use dockhand_testkit::browser::{Browser, Driver, connect, runtime as e2e_runtime};

use super::{TEST, WAIT};
use crate::lifecycle::Home;
use crate::support::{self, RealEnv};

// What the machine must have

/// Chromium and chromedriver, or `None` after saying which is missing.
pub(crate) fn browser() -> Option<Browser> {
    Browser::find(TEST)
}

/// The engine and registry, and the browser, or `None` after saying which
/// is missing.
pub(crate) fn browser_env(test: &str) -> Option<(RealEnv, Browser)> {
    let env = support::real_env(test)?;
    Some((env, browser()?))
}

pub(crate) fn have_npm() -> bool {
    dockhand_testkit::env::require_program(
        TEST,
        "npm",
        "npm is missing (scripts/deps installs nodejs and npm)",
    )
}

/// The cargo target dir (`<target>/debug/dockhand` is the binary under test).
pub(crate) fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_dockhand"));
    bin.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

// Processes started here, each stopped by its guard

/// `dockhand serve --port 0` on the test's home.
pub(crate) struct Serve {
    child: Child,
    pub(crate) url: String,
    log: PathBuf,
}

impl Serve {
    pub(crate) fn start(home: &Home, log: PathBuf) -> Result<Self> {
        Self::spawn(home.cmd(&["serve", "--port", "0"]), log)
    }

    /// Runs `cmd` (a `dockhand serve --port 0`, however started) until it
    /// prints its URL; its stderr goes to `log`.
    pub(crate) fn spawn(mut cmd: Command, log: PathBuf) -> Result<Self> {
        let stderr = fs_err::File::create(&log)?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr.into_file())
            .spawn()
            .context("dockhand serve starts")?;
        let stdout = child.stdout.take().context("stdout")?;
        let mut serve = Self {
            child,
            url: String::new(),
            log,
        };
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line)?;
        ensure!(
            line.starts_with("http://localhost:"),
            "serve printed `{line}`; stderr:\n{}",
            serve.stderr()
        );
        serve.url = line.trim_end().to_owned();
        Ok(serve)
    }

    pub(crate) fn stderr(&self) -> String {
        fs_err::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let until = Instant::now() + Duration::from_secs(10);
        while Instant::now() < until {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// WebDriver helpers

/// Runs `f` in headless Chromium against `dockhand serve` on `home`
/// (chromedriver's and serve's logs and the browser profile in `dir`); on
/// failure saves the screenshot `failure_png`. Returns serve (still running,
/// for its stderr) and what `f` said; the browser and chromedriver are gone.
pub(crate) fn in_browser(
    runtime: &tokio::runtime::Runtime,
    home: &Home,
    browser: &Browser,
    dir: &Path,
    failure_png: &str,
    f: impl AsyncFnOnce(&Client, &Serve) -> Result<()>,
) -> (Serve, Result<()>) {
    let serve = Serve::start(home, dir.join("serve.log")).expect("dockhand serve");
    let driver =
        Driver::start(&browser.chromedriver, &dir.join("chromedriver.log")).expect("chromedriver");
    let outcome = runtime.block_on(async {
        let client = connect(&driver, browser, &dir.join("profile")).await?;
        let result = f(&client, &serve).await;
        if result.is_err() {
            let _ = screenshot(&client, failure_png).await;
        }
        let _ = client.close().await;
        result
    });
    drop(driver);
    (serve, outcome)
}

/// [`in_browser`] on a runtime of its own; fails the test with `dockhand
/// serve`'s stderr when `f` fails. Gives serve, still running.
pub(crate) fn in_browser_ok(
    home: &Home,
    browser: &Browser,
    dir: &Path,
    failure_png: &str,
    f: impl AsyncFnOnce(&Client, &Serve) -> Result<()>,
) -> Serve {
    let runtime = e2e_runtime();
    let (serve, outcome) = in_browser(&runtime, home, browser, dir, failure_png, f);
    if let Err(e) = outcome {
        panic!("{e:#}\n--- dockhand serve's stderr:\n{}", serve.stderr());
    }
    serve
}

/// Polls `script` (run in the current frame) until it returns something
/// other than `null`/`false`; errors while a page loads count as not yet.
pub(crate) async fn wait_js(c: &Client, what: &str, script: &str) -> Result<Value> {
    wait_js_within(c, what, script, WAIT).await
}

/// [`wait_js`] for at most `limit`.
pub(crate) async fn wait_js_within(
    c: &Client,
    what: &str,
    script: &str,
    limit: Duration,
) -> Result<Value> {
    let until = Instant::now() + limit;
    let mut last = String::new();
    loop {
        match c.execute(script, vec![]).await {
            Ok(Value::Null | Value::Bool(false)) => {}
            Ok(v) => return Ok(v),
            Err(e) => last = e.to_string(),
        }
        if Instant::now() > until {
            bail!(
                "timed out after {} s waiting for {what} ({script}) {last}",
                limit.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Runs `body` (the body of an async function, in the current frame) and
/// gives what it returned, or what it threw as `Err`.
pub(crate) async fn call(c: &Client, body: &str) -> Result<std::result::Result<Value, Value>> {
    let script = format!(
        r#"const done = arguments[arguments.length - 1];
const describe = (e) => (e && typeof e === "object")
  ? {{name: e.name, message: e.message, statusCode: e.statusCode, code: e.code, stdout: e.stdout, stderr: e.stderr}}
  : {{message: String(e)}};
(async () => {{ {body} }})().then((v) => done({{ok: v === undefined ? null : v}}), (e) => done({{err: describe(e)}}));"#
    );
    let v = c
        .execute_async(&script, vec![])
        .await
        .with_context(|| format!("running {body}"))?;
    Ok(match v.get("ok") {
        Some(ok) => Ok(ok.clone()),
        None => Err(v.get("err").cloned().unwrap_or(v)),
    })
}

/// `call` that must resolve.
pub(crate) async fn ok(c: &Client, body: &str) -> Result<Value> {
    call(c, body)
        .await?
        .map_err(|e| anyhow!("`{body}` rejected: {e}"))
}

/// `call` that must reject.
pub(crate) async fn rejects(c: &Client, body: &str) -> Result<Value> {
    match call(c, body).await? {
        Ok(v) => bail!("`{body}` resolved with {v}, expected a rejection"),
        Err(e) => Ok(e),
    }
}

/// Back to the shell (the top-level document).
pub(crate) async fn top(c: &Client) -> Result<()> {
    c.enter_parent_frame().await?;
    Ok(())
}

/// Into the iframe of the extension tab titled `title`, once its page has
/// `window.ddClient` and has loaded.
pub(crate) async fn enter(c: &Client, title: &str) -> Result<()> {
    top(c).await?;
    let css = format!(r#"section.ext-tab[aria-label="{title}"] iframe.ext-frame"#);
    let frame = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css(&css))
        .await
        .with_context(|| format!("the iframe of {title}"))?;
    frame.enter_frame().await?;
    wait_js(
        c,
        &format!("{title}'s page"),
        "return location.protocol === 'http:' && document.readyState === 'complete' && typeof window.ddClient === 'object'",
    )
    .await?;
    Ok(())
}

/// Opens a tab by clicking its sidebar entry, then enters its iframe.
pub(crate) async fn open_tab(c: &Client, id: &str, title: &str) -> Result<()> {
    top(c).await?;
    let link = c
        .find(Locator::Css(&format!(r#"#ext-nav a[title="{id}"]"#)))
        .await
        .with_context(|| format!("the sidebar entry of {id}"))?;
    ensure!(link.text().await?.trim() == title, "sidebar entry of {id}");
    link.click().await?;
    wait_js(
        c,
        &format!("the tab of {title}"),
        &format!(
            "return decodeURIComponent(location.hash) === '#/ext/{id}' && !document.getElementById('frames').hidden"
        ),
    )
    .await?;
    enter(c, title).await
}

/// Clicks `button` in the current frame and waits for `result` to leave the
/// `idle`/`pending` states; gives `(state, text)`.
pub(crate) async fn click_result(
    c: &Client,
    button: &str,
    result: &str,
) -> Result<(String, String)> {
    c.find(Locator::Id(button)).await?.click().await?;
    let v = wait_js(
        c,
        &format!("#{result}"),
        &format!(
            "const e = document.getElementById('{result}'); \
             return ['ok', 'error'].includes(e.dataset.state) ? [e.dataset.state, e.textContent] : null"
        ),
    )
    .await?;
    Ok((
        v[0].as_str().unwrap_or_default().to_owned(),
        v[1].as_str().unwrap_or_default().to_owned(),
    ))
}

/// `click_result` that must end `ok`; gives the text.
pub(crate) async fn click_ok(c: &Client, button: &str, result: &str) -> Result<String> {
    let (state, text) = click_result(c, button, result).await?;
    ensure!(state == "ok", "#{result} is {state}: {text}");
    Ok(text)
}

/// In the shell: a toast from `source` saying `message` is shown.
pub(crate) async fn expect_toast(c: &Client, source: &str, message: &str) -> Result<()> {
    top(c).await?;
    let script = format!(
        "return [...document.querySelectorAll('#toasts .toast')].some((t) => \
           t.querySelector('.toast-source')?.textContent === {source} && t.textContent.includes({message}))",
        source = json!(source),
        message = json!(message),
    );
    wait_js(c, &format!("the toast `{message}`"), &script).await?;
    Ok(())
}

/// In the shell: the route (decoded `location.hash`) becomes `hash`.
pub(crate) async fn expect_route(c: &Client, hash: &str) -> Result<()> {
    top(c).await?;
    let script = format!(
        "return decodeURIComponent(location.hash) === {}",
        json!(hash)
    );
    wait_js(c, &format!("the route {hash}"), &script)
        .await
        .map(|_| ())
        .with_context(|| format!("not at {hash}"))
}

pub(crate) async fn set_route(c: &Client, hash: &str) -> Result<()> {
    top(c).await?;
    c.execute(&format!("location.hash = {}", json!(hash)), vec![])
        .await?;
    expect_route(c, hash).await
}

pub(crate) async fn screenshot(c: &Client, name: &str) -> Result<PathBuf> {
    top(c).await?;
    let dir = target_dir().join("e2e-screenshots");
    fs_err::create_dir_all(&dir)?;
    let path = dir.join(name);
    fs_err::write(&path, c.screenshot().await?)?;
    eprintln!("{TEST}: screenshot {}", path.display());
    Ok(path)
}

/// Opens the login URL `serve` printed and waits until the page has taken
/// its key from the redirect's fragment (the dashboard's modules load after
/// the page's `load`): only then may a test change the route.
pub(crate) async fn open_dashboard(c: &Client, serve: &Serve) -> Result<()> {
    c.goto(&serve.url).await?;
    let origin = serve.url.split("/?").next().context("the URL")?.to_owned();
    wait_js(
        c,
        "the login URL to lead to the dashboard, the page key taken",
        &format!(
            "return location.href === {:?} && !!localStorage.getItem('dockhand.pageKey') || null",
            format!("{origin}/")
        ),
    )
    .await
    .with_context(|| format!("at {origin}"))?;
    Ok(())
}
