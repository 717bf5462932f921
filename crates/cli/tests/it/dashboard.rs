//! The dashboard and the ddClient API in a real browser: headless Chromium
//! driven over WebDriver (Debian's `chromium` and `chromedriver`, started
//! here and stopped at the end).
//!
//! The four examples and a UI bundled with the official
//! `@docker/extension-api-client` package (npm + esbuild at test time, cached
//! under the target dir) are built, pushed to the test registry and installed
//! into a temporary home; `dockhand serve --port 0` runs on it; Chromium opens
//! the URL it prints, checks the sidebar, opens every extension's tab and,
//! inside each extension's iframe, clicks the example UIs' buttons and runs
//! ddClient calls, checking what the shell shows for them (toasts, the file
//! picker, its routes). Screenshots go to `<target>/e2e-screenshots/`.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail, ensure};
use fantoccini::wd::TimeoutConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use crate::lifecycle::{Home, example, publish};
use crate::support::{self, RealEnv, TempDir, docker};

const TEST: &str = "dashboard_and_ddclient_in_chromium";

/// How long a page, a frame or a result may take to appear.
const WAIT: Duration = Duration::from_secs(20);

/// The titles of the installed extensions (`ui.dashboard-tab.title`).
const MINIMAL: &str = "Minimal UI";
const IMAGE: &str = "Backend Image";
const COMPOSE: &str = "Backend Compose";
const HOSTS: &str = "Host Binaries";
const OFFICIAL: &str = "Official Client";

// ---------------------------------------------------------------------------
// What the machine must have

/// Chromium and its WebDriver server.
pub(crate) struct Browser {
    chromium: PathBuf,
    pub(crate) chromedriver: PathBuf,
}

pub(crate) fn browser() -> Option<Browser> {
    let pick = |var: &str, default: &str| {
        std::env::var_os(var)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(default))
    };
    let chromium = pick("DOCKHAND_CHROMIUM", "/usr/bin/chromium");
    let chromedriver = pick("DOCKHAND_CHROMEDRIVER", "/usr/bin/chromedriver");
    for p in [&chromium, &chromedriver] {
        if !p.is_file() {
            support::skip(
                TEST,
                &format!(
                    "{} is missing (scripts/deps installs chromium and chromium-driver)",
                    p.display()
                ),
            );
            return None;
        }
    }
    Some(Browser {
        chromium,
        chromedriver,
    })
}

pub(crate) fn have_npm() -> bool {
    let ok = Command::new("npm")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        support::skip(
            TEST,
            "npm is missing (scripts/deps installs nodejs and npm)",
        );
    }
    ok
}

/// The cargo target dir (`<target>/debug/dockhand` is the binary under test).
pub(crate) fn target_dir() -> PathBuf {
    let bin = Path::new(env!("CARGO_BIN_EXE_dockhand"));
    bin.parent()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .unwrap_or_else(std::env::temp_dir)
}

// ---------------------------------------------------------------------------
// Processes started here, each stopped by its guard

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Sends `signal` to the process group `pgid` (a group this test created).
fn kill_group(pgid: u32, signal: &str) {
    let _ = Command::new("kill")
        .args([signal, "--", &format!("-{pgid}")])
        .stderr(Stdio::null())
        .status();
}

/// chromedriver in its own process group: the browsers it starts are killed
/// with it.
pub(crate) struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub(crate) fn start(path: &Path, log: &Path) -> Result<Self> {
        let port = free_port();
        let child = Command::new(path)
            .arg(format!("--port={port}"))
            .arg(format!("--log-path={}", log.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .with_context(|| format!("cannot start {}", path.display()))?;
        let driver = Self { child, port };
        let until = Instant::now() + WAIT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            ensure!(
                Instant::now() < until,
                "chromedriver does not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        kill_group(self.child.id(), "-KILL");
        let _ = self.child.wait();
    }
}

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
        let stderr = std::fs::File::create(&log)?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
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
        std::fs::read_to_string(&self.log).unwrap_or_default()
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

/// Removes what the test installed and created, also when it fails.
struct Cleanup<'a> {
    home: &'a Home,
    env: &'a RealEnv,
    ids: Vec<String>,
    volume: Option<String>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        for id in &self.ids {
            let out = self.home.run(&["rm", id, "--volumes"]);
            if !out.status.success() {
                eprintln!(
                    "{TEST}: cleanup: dockhand rm {id}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        if let Some(v) = &self.volume {
            let _ = Command::new("docker")
                .env("DOCKER_HOST", &self.env.docker_host)
                .args(["volume", "rm", "-f", v])
                .output();
        }
    }
}

// ---------------------------------------------------------------------------
// The extension built with the official client package

/// `npm install @docker/extension-api-client@0.4.2 esbuild` into
/// `<target>/e2e-npm` once; later runs reuse it.
fn npm_packages() -> Result<PathBuf> {
    let dir = target_dir().join("e2e-npm");
    let client = dir.join("node_modules/@docker/extension-api-client/package.json");
    let esbuild = dir.join("node_modules/.bin/esbuild");
    if client.is_file() && esbuild.is_file() {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir)?;
    let out = Command::new("npm")
        .args(["install", "--no-audit", "--no-fund", "--prefix"])
        .arg(&dir)
        .args(["@docker/extension-api-client@0.4.2", "esbuild"])
        .output()
        .context("npm runs")?;
    ensure!(
        out.status.success() && client.is_file() && esbuild.is_file(),
        "npm install failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(dir)
}

/// The UI's entry: the official client, a few calls, the outcome in `#result`.
const OFFICIAL_ENTRY: &str = r#"import { createDockerDesktopClient } from "@docker/extension-api-client";

const out = document.getElementById("result");
const describe = (e) => (e && typeof e === "object" ? { message: e.message, code: e.code, stderr: e.stderr } : { message: String(e) });

async function main() {
  const dd = createDockerDesktopClient();
  const result = { platform: dd.host.platform, arch: dd.host.arch, hasVm: dd.extension.vm !== undefined };
  dd.desktopUI.toast.success("Hello from the official client");
  try {
    const version = await dd.docker.cli.exec("version", ["--format", '"{{json .}}"']);
    result.serverVersion = version.parseJsonObject().Server.Version;
  } catch (e) {
    result.versionError = describe(e);
  }
  try {
    result.containers = (await dd.docker.listContainers({ all: true })).length;
  } catch (e) {
    result.containersError = describe(e);
  }
  return result;
}

main().then(
  (r) => { out.textContent = JSON.stringify(r); out.dataset.state = "ok"; },
  (e) => { out.textContent = JSON.stringify(describe(e)); out.dataset.state = "error"; },
);
"#;

const OFFICIAL_HTML: &str = r#"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Official Client</title>
</head>
<body>
  <h1>Official Client</h1>
  <p>Bundled with esbuild from <code>@docker/extension-api-client@0.4.2</code>.</p>
  <pre id="result" data-state="pending">running…</pre>
  <script src="bundle.js"></script>
</body>
</html>
"#;

/// Writes the extension directory (image-root layout, as the examples are)
/// with the bundle built by esbuild.
fn official_extension(tmp: &TempDir) -> Result<PathBuf> {
    let npm = npm_packages()?;
    let dir = tmp.0.join("official-client");
    std::fs::create_dir_all(dir.join("ui"))?;
    let entry = npm.join(format!("entry-{}.js", std::process::id()));
    std::fs::write(&entry, OFFICIAL_ENTRY)?;
    let out = Command::new(npm.join("node_modules/.bin/esbuild"))
        .arg(&entry)
        .args([
            "--bundle",
            "--format=iife",
            "--target=es2020",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", dir.join("ui/bundle.js").display()))
        .output()
        .context("esbuild runs")?;
    let _ = std::fs::remove_file(&entry);
    ensure!(
        out.status.success(),
        "esbuild failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(dir.join("ui/index.html"), OFFICIAL_HTML)?;
    std::fs::write(
        dir.join("metadata.json"),
        serde_json::to_string_pretty(&json!({
            "icon": "icon.svg",
            "ui": {"dashboard-tab": {"title": OFFICIAL, "root": "/ui", "src": "index.html"}}
        }))?,
    )?;
    let minimal = example("minimal-ui");
    std::fs::copy(minimal.join("icon.svg"), dir.join("icon.svg"))?;
    // The minimal example's labels and COPY lines fit this layout too.
    let dockerfile = std::fs::read_to_string(minimal.join("Dockerfile"))?;
    ensure!(dockerfile.contains("title=\"Minimal UI\""), "{dockerfile}");
    std::fs::write(
        dir.join("Dockerfile"),
        dockerfile.replace("title=\"Minimal UI\"", &format!("title=\"{OFFICIAL}\"")),
    )?;
    Ok(dir)
}

// ---------------------------------------------------------------------------
// WebDriver helpers

/// The runtime the browser tests drive WebDriver (and their own servers) on.
pub(crate) fn e2e_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

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

pub(crate) async fn connect(driver: &Driver, browser: &Browser, profile: &Path) -> Result<Client> {
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
        .await
        .context("a WebDriver session with Chromium")?;
    client
        .update_timeouts(TimeoutConfiguration::new(
            Some(Duration::from_secs(30)),
            Some(Duration::from_secs(30)),
            None,
        ))
        .await?;
    Ok(client)
}

/// Polls `script` (run in the current frame) until it returns something
/// other than `null`/`false`; errors while a page loads count as not yet.
pub(crate) async fn wait_js(c: &Client, what: &str, script: &str) -> Result<Value> {
    let until = Instant::now() + WAIT;
    let mut last = String::new();
    loop {
        match c.execute(script, vec![]).await {
            Ok(Value::Null | Value::Bool(false)) => {}
            Ok(v) => return Ok(v),
            Err(e) => last = e.to_string(),
        }
        if Instant::now() > until {
            bail!("timed out waiting for {what} ({script}) {last}");
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
async fn rejects(c: &Client, body: &str) -> Result<Value> {
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
async fn click_ok(c: &Client, button: &str, result: &str) -> Result<String> {
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
async fn expect_route(c: &Client, hash: &str) -> Result<()> {
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
    std::fs::create_dir_all(&dir)?;
    let path = dir.join(name);
    std::fs::write(&path, c.screenshot().await?)?;
    eprintln!("{TEST}: screenshot {}", path.display());
    Ok(path)
}

// ---------------------------------------------------------------------------
// The test

/// What the checks need to know.
struct Ctx {
    /// The ids by title.
    ids: Vec<(&'static str, String)>,
    /// A folder with `chosen.txt` for the file picker.
    pick: PathBuf,
    /// A backend container, its image id, and a volume, for navigate.
    container: String,
    image: String,
    volume: String,
    /// What the engine says its version is.
    server_version: String,
}

impl Ctx {
    fn id(&self, title: &str) -> &str {
        self.ids
            .iter()
            .find(|(t, _)| *t == title)
            .map(|(_, id)| id.as_str())
            .unwrap_or_default()
    }
}

#[test]
fn dashboard_and_ddclient_in_chromium() {
    let Some(env) = support::real_env(TEST) else {
        return;
    };
    let Some(browser) = browser() else {
        return;
    };
    if !have_npm() {
        return;
    }
    let started = Instant::now();
    let _ = std::fs::remove_file(target_dir().join("e2e-screenshots/failure.png"));
    let tmp = TempDir::new("e2e");
    let home = Home::new(&env, "e2e-home");

    // Build and push the five extensions at once, then install them.
    let official = official_extension(&tmp).expect("the official client's extension");
    let published: Vec<(&'static str, (String, String))> = std::thread::scope(|s| {
        let jobs = [
            (MINIMAL, example("minimal-ui"), false),
            (IMAGE, example("backend-image"), true),
            (COMPOSE, example("backend-compose"), true),
            (HOSTS, example("host-binaries"), false),
            (OFFICIAL, official.clone(), false),
        ]
        .map(|(title, dir, backend)| {
            let env = &env;
            (title, s.spawn(move || publish(env, &dir, backend, &[])))
        });
        jobs.into_iter()
            .map(|(title, job)| (title, job.join().expect("publish")))
            .collect()
    });
    eprintln!("{TEST}: published in {:?}", started.elapsed());
    let mut cleanup = Cleanup {
        home: &home,
        env: &env,
        ids: Vec::new(),
        volume: None,
    };
    for (_, (reference, id)) in &published {
        home.ok(&["install", reference, "-y"]);
        cleanup.ids.push(id.clone());
    }
    eprintln!("{TEST}: installed in {:?}", started.elapsed());

    let volume = format!("dockhand-e2e-{}", std::process::id());
    docker(&env, &["volume", "create", &volume]);
    cleanup.volume = Some(volume.clone());
    let image_id = published
        .iter()
        .find(|(t, _)| *t == IMAGE)
        .map(|(_, (_, id))| id.clone())
        .unwrap_or_default();
    let container = docker(
        &env,
        &[
            "ps",
            "-q",
            "--no-trunc",
            "--filter",
            &format!("label=dev.dockhand.extension={image_id}"),
        ],
    )
    .trim()
    .to_owned();
    assert!(!container.is_empty(), "the backend of {image_id} runs");
    let image = docker(&env, &["inspect", "--format", "{{.Image}}", &container])
        .trim()
        .to_owned();
    let server_version = docker(&env, &["version", "--format", "{{.Server.Version}}"])
        .trim()
        .to_owned();
    let pick = tmp.0.join("pick");
    std::fs::create_dir_all(&pick).expect("mkdir");
    std::fs::write(pick.join("chosen.txt"), "picked\n").expect("write");
    std::fs::write(pick.join("other.txt"), "not picked\n").expect("write");

    let ctx = Ctx {
        ids: published
            .iter()
            .map(|(t, (_, id))| (*t, id.clone()))
            .collect(),
        pick,
        container,
        image,
        volume,
        server_version,
    };

    let runtime = e2e_runtime();
    let (serve, outcome) = in_browser(
        &runtime,
        &home,
        &browser,
        &tmp.0,
        "failure.png",
        async |client, serve| match run(client, serve, &ctx).await {
            Err(e) => {
                let page = page_state(client).await;
                Err(e.context(format!("the shell: {page:#}")))
            }
            ok => ok,
        },
    );
    if let Err(e) = outcome {
        panic!("{e:#}\n--- dockhand serve's stderr:\n{}", serve.stderr());
    }
    drop(serve);
    drop(cleanup);
    eprintln!("{TEST}: passed in {:?}", started.elapsed());
}

/// Where the page is and what it loaded, for a failure's message.
async fn page_state(c: &Client) -> Value {
    c.execute(
        "return {url: location.href, ready: document.readyState, \
         body: document.body ? document.body.innerText.slice(0, 1500) : null, \
         failed: performance.getEntriesByType('resource').filter((r) => r.responseStatus !== 200).map((r) => [r.name, r.responseStatus]), all: performance.getEntriesByType('resource').map((r) => [r.name, r.responseStatus, Math.round(r.startTime), Math.round(r.duration), r.transferSize, r.initiatorType])}",
        vec![],
    )
    .await
    .unwrap_or_else(|e| json!(e.to_string()))
}

async fn run(c: &Client, serve: &Serve, ctx: &Ctx) -> Result<()> {
    dashboard(c, serve, ctx).await?;
    minimal_ui(c, ctx).await?;
    docker_api(c, ctx).await?;
    navigation(c, ctx).await?;
    backend_image(c, ctx).await?;
    backend_compose(c, ctx).await?;
    host_binaries(c, ctx).await?;
    official_client(c, ctx).await?;
    Ok(())
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

/// The login URL, the sidebar, the extensions page.
async fn dashboard(c: &Client, serve: &Serve, ctx: &Ctx) -> Result<()> {
    open_dashboard(c, serve).await?;
    let sidebar = wait_js(
        c,
        "the sidebar's five extensions",
        "const a = [...document.querySelectorAll('#ext-nav a')]; \
         return a.length === 5 ? a.map((x) => [x.title, x.textContent.trim()]) : null",
    )
    .await?;
    let mut listed: Vec<(String, String)> = sidebar
        .as_array()
        .context("array")?
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap_or_default().to_owned(),
                p[1].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    listed.sort();
    let mut expected: Vec<(String, String)> = ctx
        .ids
        .iter()
        .map(|(t, id)| (id.clone(), (*t).to_owned()))
        .collect();
    expected.sort();
    ensure!(
        listed == expected,
        "sidebar {listed:?}, expected {expected:?}"
    );

    // The extensions page: one card per extension, the backends running.
    wait_js(
        c,
        "five extension cards",
        "return document.querySelectorAll('#view article.card').length === 5",
    )
    .await?;
    let cards = c.find(Locator::Id("view")).await?.text().await?;
    for (title, id) in &ctx.ids {
        ensure!(
            cards.contains(title) && cards.contains(id.as_str()),
            "no card for {title}: {cards}"
        );
    }
    ensure!(
        cards.matches("Backend running").count() == 2,
        "two backends running: {cards}"
    );
    let engine = c.find(Locator::Id("engine")).await?.text().await?;
    ensure!(engine.contains("API 0.4.2"), "header: {engine}");
    screenshot(c, "dashboard-extensions.png").await?;
    Ok(())
}

/// The Minimal UI example: its buttons, the toast, the file picker, the
/// route to the containers page.
async fn minimal_ui(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(MINIMAL), MINIMAL).await?;
    let host = ok(c, "return [document.getElementById('host-platform').textContent, document.getElementById('host-arch').textContent, document.getElementById('host-hostname').textContent]").await?;
    ensure!(host[0] == "linux", "host.platform: {host}");
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname")?;
    ensure!(
        ["x64", "arm64"].contains(&host[1].as_str().unwrap_or_default()),
        "host.arch: {host}"
    );
    ensure!(host[2] == hostname.trim(), "host.hostname: {host}");

    let version: Value =
        serde_json::from_str(&click_ok(c, "version-button", "version-result").await?)?;
    ensure!(
        version["Server"]["Version"] == ctx.server_version.as_str(),
        "docker version: {version}"
    );
    let containers: Value =
        serde_json::from_str(&click_ok(c, "containers-button", "containers-result").await?)?;
    let short = &ctx.container[..12];
    ensure!(
        containers
            .as_array()
            .is_some_and(|a| a.iter().any(|x| x["id"] == short)),
        "listContainers lacks the backend {short}: {containers}"
    );

    ensure!(click_ok(c, "toast-button", "toast-result").await? == "toast shown");
    expect_toast(c, MINIMAL, "Hello from the Minimal UI example").await?;
    enter(c, MINIMAL).await?;
    c.execute("window.scrollTo(0, 0)", vec![]).await?;
    screenshot(c, "extension-minimal-ui.png").await?;

    // The shell's file picker: go to the folder, pick a file, open it.
    enter(c, MINIMAL).await?;
    c.find(Locator::Id("dialog-button")).await?.click().await?;
    top(c).await?;
    let path = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::Css("dialog.fp-dialog input.fp-path"))
        .await?;
    wait_js(
        c,
        "the picker's first folder",
        "return document.querySelector('dialog.fp-dialog input.fp-path').value !== ''",
    )
    .await?;
    path.clear().await?;
    path.send_keys(&format!("{}\u{E007}", ctx.pick.display()))
        .await?;
    let chosen = c
        .wait()
        .at_most(WAIT)
        .for_element(Locator::XPath(
            "//dialog[contains(@class,'fp-dialog')]//button[contains(@class,'fp-item')][contains(., 'chosen.txt')]",
        ))
        .await?;
    chosen.click().await?;
    screenshot(c, "file-picker.png").await?;
    c.find(Locator::Css("dialog.fp-dialog button[type=submit]"))
        .await?
        .click()
        .await?;
    enter(c, MINIMAL).await?;
    let picked = wait_js(
        c,
        "the dialog's result",
        "const e = document.getElementById('dialog-result'); return e.dataset.state === 'ok' ? e.textContent : null",
    )
    .await?;
    let picked: Value = serde_json::from_str(picked.as_str().unwrap_or_default())?;
    let want = ctx.pick.join("chosen.txt").display().to_string();
    ensure!(
        picked == json!({"canceled": false, "filePaths": [want]}),
        "showOpenDialog: {picked}"
    );
    // Cancel: canceled, no paths.
    c.execute(
        "window.__dialog = ddClient.desktopUI.dialog.showOpenDialog({properties: ['openDirectory']})",
        vec![],
    )
    .await?;
    top(c).await?;
    c.wait()
        .at_most(WAIT)
        .for_element(Locator::Css("dialog.fp-dialog"))
        .await?;
    c.find(Locator::XPath(
        "//dialog[contains(@class,'fp-dialog')]//button[normalize-space()='Cancel']",
    ))
    .await?
    .click()
    .await?;
    enter(c, MINIMAL).await?;
    let canceled = ok(c, "return await window.__dialog").await?;
    ensure!(
        canceled == json!({"canceled": true, "filePaths": []}),
        "a dismissed dialog: {canceled}"
    );

    // The example's navigate button: the shell goes to its containers page.
    enter(c, MINIMAL).await?;
    ensure!(click_ok(c, "navigate-button", "navigate-result").await? == "navigated to containers");
    expect_route(c, "#/containers").await?;
    wait_js(
        c,
        "the containers page",
        "return document.querySelector('#view h1')?.textContent === 'Containers' && document.getElementById('frames').hidden",
    )
    .await?;
    Ok(())
}

/// docker.cli.exec (whole, streamed, closed), the list calls and the v0
/// names, in the Minimal UI's frame (now hidden behind another page).
async fn docker_api(c: &Client, ctx: &Ctx) -> Result<()> {
    enter(c, MINIMAL).await?;
    // v0 toast names reach the shell too.
    ok(c, "ddClient.toastSuccess('v0 success'); ddClient.toastWarning('v0 warning'); ddClient.toastError('v0 error');").await?;
    for m in ["v0 success", "v0 warning", "v0 error"] {
        expect_toast(c, MINIMAL, m).await?;
    }
    enter(c, MINIMAL).await?;
    let names = ok(
        c,
        "return ['backend','execDockerCmd','spawnDockerCmd','listContainers','listImages','navigateToContainers','navigateToContainer','navigateToImages','navigateToVolumes','toastSuccess','execHostCmd','openExternal'].filter((n) => ddClient[n] === undefined)",
    )
    .await?;
    // A UI-only extension has no backend: ddClient.backend is undefined.
    ensure!(names == json!(["backend"]), "missing v0 names: {names}");

    let v = ok(
        c,
        r#"const r = await ddClient.docker.cli.exec('version', ['--format', '"{{json .}}"']);
           const o = r.parseJsonObject();
           return {code: r.code, server: o.Server.Version, lines: r.lines().length, stderr: r.stderr};"#,
    )
    .await?;
    ensure!(
        v["code"] == 0 && v["server"] == ctx.server_version.as_str() && v["lines"] == 1,
        "docker.cli.exec: {v}"
    );
    // A failing command rejects with its ExecResult.
    let e = rejects(
        c,
        "await ddClient.docker.cli.exec('inspect', ['dockhand-e2e-no-such-object'])",
    )
    .await?;
    ensure!(
        e["code"].as_i64().is_some_and(|c| c != 0)
            && e["stderr"]
                .as_str()
                .is_some_and(|s| s.contains("dockhand-e2e-no-such-object")),
        "a failing docker command: {e}"
    );
    // The v0 names.
    let v0 = ok(
        c,
        r#"const r = await ddClient.execDockerCmd('version', '--format', '"{{json .}}"');
           const cs = await ddClient.listContainers({all: true});
           const is = await ddClient.docker.listImages();
           return {server: r.parseJsonObject().Server.Version, containers: cs.length, images: is.length};"#,
    )
    .await?;
    ensure!(
        v0["server"] == ctx.server_version.as_str()
            && v0["containers"].as_u64().is_some_and(|n| n >= 1)
            && v0["images"].as_u64().is_some_and(|n| n >= 1),
        "v0 calls: {v0}"
    );
    // Streamed: lines, then onClose(0). As in Docker Desktop, each argument
    // is one argv element as given: a Go template with a space needs no quotes.
    let streamed = ok(
        c,
        r#"return await new Promise((resolve, reject) => {
             const lines = [];
             ddClient.docker.cli.exec('version', ['--format', '{{ .Server.Version }}'], {stream: {
               splitOutputLines: true,
               onOutput: (d) => lines.push(d),
               onError: reject,
               onClose: (code) => resolve({lines, code}),
             }});
           });"#,
    )
    .await?;
    ensure!(
        streamed == json!({"lines": [{"stdout": ctx.server_version}], "code": 0}),
        "streamed exec: {streamed}"
    );
    // A process that never ends on its own: close() kills it, and no
    // callback follows.
    let marker = format!("dockhand-e2e-close-{}", std::process::id());
    c.execute(
        &format!(
            r#"window.__events = [];
               window.__proc = ddClient.docker.cli.exec('events', ['--filter', 'label={marker}'], {{stream: {{
                 onOutput: (d) => window.__events.push(['output', d]),
                 onError: (e) => window.__events.push(['error', String(e)]),
                 onClose: (code) => window.__events.push(['close', code]),
               }}}});"#
        ),
        vec![],
    )
    .await?;
    wait_for_processes(&marker, true).await?;
    c.execute("window.__proc.close()", vec![]).await?;
    wait_for_processes(&marker, false).await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let events = c.execute("return window.__events", vec![]).await?;
    ensure!(events == json!([]), "callbacks after close(): {events}");
    // The v0 spawn name streams through the same socket.
    let spawned = ok(
        c,
        r#"return await new Promise((resolve) => {
             const seen = [];
             ddClient.spawnDockerCmd('version', ['--format', '"{{.Client.Version}}"'], (data, error) => {
               if (error) resolve({error: String(error)});
               else if (data.code !== undefined) resolve({seen, code: data.code});
               else seen.push(data);
             });
           });"#,
    )
    .await?;
    ensure!(spawned["code"] == 0, "spawnDockerCmd: {spawned}");
    Ok(())
}

/// Waits until a process whose command line contains `marker` exists
/// (`present`) or is gone.
async fn wait_for_processes(marker: &str, present: bool) -> Result<()> {
    let until = Instant::now() + WAIT;
    loop {
        let found = std::fs::read_dir("/proc")?
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .chars()
                    .all(|c| c.is_ascii_digit())
            })
            .any(|e| {
                std::fs::read(e.path().join("cmdline"))
                    .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
            });
        if found == present {
            return Ok(());
        }
        ensure!(
            Instant::now() < until,
            "the process with {marker} {}",
            if present {
                "never started"
            } else {
                "still runs after close()"
            }
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every navigate method, v1 and v0: the shell's route follows; an object
/// that does not exist rejects and leaves the route alone.
async fn navigation(c: &Client, ctx: &Ctx) -> Result<()> {
    let (id, image, volume) = (&ctx.container, &ctx.image, &ctx.volume);
    let mut cases: Vec<(String, String)> = vec![
        (
            "desktopUI.navigate.viewContainers()".into(),
            "#/containers".into(),
        ),
        ("desktopUI.navigate.viewImages()".into(), "#/images".into()),
        (
            "desktopUI.navigate.viewVolumes()".into(),
            "#/volumes".into(),
        ),
        ("navigateToContainers()".into(), "#/containers".into()),
        ("navigateToImages()".into(), "#/images".into()),
        ("navigateToVolumes()".into(), "#/volumes".into()),
    ];
    let with_id: [(&str, String); 14] = [
        (
            "desktopUI.navigate.viewContainer",
            format!("#/container/{id}"),
        ),
        (
            "desktopUI.navigate.viewContainerLogs",
            format!("#/container/{id}"),
        ),
        (
            "desktopUI.navigate.viewContainerInspect",
            format!("#/container/{id}/inspect"),
        ),
        (
            "desktopUI.navigate.viewContainerTerminal",
            format!("#/container/{id}/terminal"),
        ),
        (
            "desktopUI.navigate.viewContainerStats",
            format!("#/container/{id}/stats"),
        ),
        ("desktopUI.navigate.viewImage", format!("#/image/{image}")),
        (
            "desktopUI.navigate.viewVolume",
            format!("#/volume/{volume}"),
        ),
        ("navigateToContainer", format!("#/container/{id}")),
        ("navigateToContainerLogs", format!("#/container/{id}")),
        (
            "navigateToContainerInspect",
            format!("#/container/{id}/inspect"),
        ),
        (
            "navigateToContainerStats",
            format!("#/container/{id}/stats"),
        ),
        ("navigateToImage", format!("#/image/{image}")),
        ("navigateToVolume", format!("#/volume/{volume}")),
        (
            "desktopUI.navigate.viewImage",
            format!("#/image/{image}/e2e-tag"),
        ),
    ];
    for (i, (method, hash)) in with_id.into_iter().enumerate() {
        let arg = if method.ends_with("Volume") {
            json!(volume).to_string()
        } else if method.ends_with("Image") {
            if i == 13 {
                format!("{}, 'e2e-tag'", json!(image))
            } else {
                json!(image).to_string()
            }
        } else {
            json!(id).to_string()
        };
        cases.push((format!("{method}({arg})"), hash));
    }
    for (call_text, hash) in &cases {
        set_route(c, "#/extensions").await?;
        enter(c, MINIMAL).await?;
        let v = ok(c, &format!("return await ddClient.{call_text}"))
            .await
            .with_context(|| call_text.clone())?;
        ensure!(v.is_null(), "{call_text} resolved with {v}");
        expect_route(c, hash).await.context(call_text.clone())?;
    }
    // The containers page lists the backend; a container's page shows it.
    set_route(c, &format!("#/container/{id}/inspect")).await?;
    wait_js(
        c,
        "the container's inspect view",
        &format!(
            "return document.getElementById('view').textContent.includes({})",
            json!(id)
        ),
    )
    .await?;
    for missing in [
        "desktopUI.navigate.viewContainer('dockhand-e2e-missing')",
        "desktopUI.navigate.viewContainerLogs('dockhand-e2e-missing')",
        "desktopUI.navigate.viewImage('dockhand-e2e-missing')",
        "desktopUI.navigate.viewVolume('dockhand-e2e-missing')",
        "navigateToContainer('dockhand-e2e-missing')",
    ] {
        set_route(c, "#/extensions").await?;
        enter(c, MINIMAL).await?;
        let e = rejects(c, &format!("await ddClient.{missing}")).await?;
        ensure!(
            e["message"]
                .as_str()
                .is_some_and(|m| m.contains("does not exist")),
            "{missing}: {e}"
        );
        top(c).await?;
        tokio::time::sleep(Duration::from_millis(200)).await;
        expect_route(c, "#/extensions").await.context(missing)?;
    }
    set_route(c, "#/extensions").await
}

/// The Backend Image example: vm.service and vm.cli, buttons and calls.
async fn backend_image(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(IMAGE), IMAGE).await?;
    let names = ok(
        c,
        "return [typeof ddClient.extension.vm, typeof ddClient.backend, typeof ddClient.backend?.execInVMExtension]",
    )
    .await?;
    ensure!(
        names == json!(["object", "object", "function"]),
        "a backend's ddClient: {names}"
    );
    let hello: Value = serde_json::from_str(&click_ok(c, "hello-button", "hello-result").await?)?;
    ensure!(
        hello == json!({"message": "hello from the backend", "version": "0.1.0"}),
        "/hello: {hello}"
    );
    let echo: Value = serde_json::from_str(&click_ok(c, "echo-button", "echo-result").await?)?;
    ensure!(
        echo == json!({"greeting": "hello", "numbers": [1, 2, 3]}),
        "/echo: {echo}"
    );
    let (state, text) = click_result(c, "status-button", "status-result").await?;
    let status: Value = serde_json::from_str(&text)?;
    ensure!(
        state == "error" && status["statusCode"] == 418 && status["name"] == "ServiceError",
        "/status/418: {state} {status}"
    );
    let version = click_ok(c, "exec-button", "exec-result").await?;
    ensure!(version.contains("0.1.0"), "/backend --version: {version}");
    c.execute("window.scrollTo(0, 0)", vec![]).await?;
    screenshot(c, "extension-backend-image.png").await?;

    // The same as calls, with the v0 names.
    enter(c, IMAGE).await?;
    let v = ok(
        c,
        r#"const vm = ddClient.extension.vm;
           return {
             hello: await vm.service.get('/hello'),
             echo: await vm.service.post('/echo', {a: 'b c', n: [1]}),
             put: await vm.service.put('/echo', 'plain text'),
             v0: await ddClient.backend.get('/hello'),
             v0post: await ddClient.backend.post('/echo', {v0: true}),
             exec: (await vm.cli.exec('/backend', ['--version'])).stdout.trim(),
             v0exec: (await ddClient.backend.execInVMExtension('/backend --version')).stdout.trim(),
           };"#,
    )
    .await?;
    ensure!(
        v["hello"]["message"] == "hello from the backend"
            && v["echo"] == json!({"a": "b c", "n": [1]})
            && v["put"] == "plain text"
            && v["v0"] == v["hello"]
            && v["v0post"] == json!({"v0": true})
            && v["exec"].as_str().is_some_and(|s| s.contains("0.1.0"))
            && v["exec"] == v["v0exec"],
        "vm calls: {v}"
    );
    let e = rejects(c, "await ddClient.extension.vm.service.get('/status/418')").await?;
    ensure!(
        e["statusCode"] == 418 && e["name"] == "ServiceError",
        "a 418: {e}"
    );
    let e = rejects(c, "await ddClient.backend.get('/status/503')").await?;
    ensure!(e["statusCode"] == 503, "a 503 through the v0 name: {e}");
    Ok(())
}

async fn backend_compose(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(COMPOSE), COMPOSE).await?;
    let hello: Value = serde_json::from_str(&click_ok(c, "hello-button", "hello-result").await?)?;
    ensure!(
        hello["message"] == "hello from the backend",
        "/hello: {hello}"
    );
    Ok(())
}

/// The Host Binaries example: host.cli.exec whole and streamed, and v0's
/// execHostCmd.
async fn host_binaries(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(HOSTS), HOSTS).await?;
    // Arguments are joined and split again as Docker Desktop does
    // (docs/bridge.md, "Exec arguments"): "a b" arrives as two words.
    let stdout = click_ok(c, "hello-button", "hello-stdout").await?;
    ensure!(
        stdout == "hello from a host binary\narg[1]=a\narg[2]=b\narg[3]=c\nargc=3\nkernel=Linux\n",
        "host.cli.exec('hello', ['a b', 'c']): {stdout:?}"
    );
    let streamed = click_ok(c, "stream-button", "stream-result").await?;
    ensure!(
        streamed == "hello from a host binary\narg[1]=streamed\nargc=1\nkernel=Linux\nexit code 0",
        "streamed: {streamed:?}"
    );
    let v = ok(
        c,
        r#"return {
             quoted: (await ddClient.extension.host.cli.exec('hello', ['"a b"', 'c'])).stdout,
             v0: (await ddClient.execHostCmd('hello x')).stdout,
           };"#,
    )
    .await?;
    ensure!(
        v["quoted"]
            .as_str()
            .is_some_and(|s| s.contains("arg[1]=a b\narg[2]=c\nargc=2"))
            && v["v0"]
                .as_str()
                .is_some_and(|s| s.contains("arg[1]=x\nargc=1")),
        "host exec: {v}"
    );
    let e = rejects(
        c,
        "await ddClient.extension.host.cli.exec('sh', ['-c', 'id'])",
    )
    .await?;
    ensure!(
        e["stderr"].as_str().is_some_and(|s| !s.is_empty()),
        "a binary that is not the extension's: {e}"
    );
    Ok(())
}

/// The UI built with the official `@docker/extension-api-client`.
async fn official_client(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(OFFICIAL), OFFICIAL).await?;
    let text = wait_js(
        c,
        "the official client's result",
        "const e = document.getElementById('result'); return e.dataset.state === 'pending' ? null : [e.dataset.state, e.textContent]",
    )
    .await?;
    ensure!(text[0] == "ok", "official client: {text}");
    let r: Value = serde_json::from_str(text[1].as_str().unwrap_or_default())?;
    ensure!(
        r["platform"] == "linux" && r["hasVm"] == false,
        "official client: {r}"
    );
    expect_toast(c, OFFICIAL, "Hello from the official client").await?;
    ensure!(
        r["serverVersion"] == ctx.server_version.as_str()
            && r["containers"].as_u64().is_some_and(|n| n >= 1),
        "official client: {r}"
    );
    screenshot(c, "extension-official-client.png").await?;
    Ok(())
}
