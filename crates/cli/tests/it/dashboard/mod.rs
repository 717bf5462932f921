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

mod backends;
mod docker_api;
mod harness;
mod minimal_ui;
mod navigation;
mod official;
mod relay;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

pub(crate) use harness::*;

use backends::{backend_compose, backend_image, host_binaries};
use docker_api::docker_api;
use minimal_ui::minimal_ui;
use navigation::navigation;
use official::{official_client, official_extension};

use crate::lifecycle::{Home, example, publish};
use crate::support::{RealEnv, TempDir, docker};

const TEST: &str = "dashboard_and_ddclient_in_chromium";

/// How long a page, a frame or a result may take to appear.
const WAIT: Duration = Duration::from_secs(20);

/// The titles of the installed extensions (`ui.dashboard-tab.title`).
const MINIMAL: &str = "Minimal UI";
const IMAGE: &str = "Backend Image";
const COMPOSE: &str = "Backend Compose";
const HOSTS: &str = "Host Binaries";
const OFFICIAL: &str = "Official Client";

/// Removes what the test installed and created, also when it fails.
struct Cleanup<'a> {
    home: &'a Home,
    env: &'a RealEnv,
    ids: Vec<String>,
    volume: Option<String>,
}

impl<'a> Cleanup<'a> {
    /// Installs every published `(reference, id)` in `home`, each removed
    /// (with its volumes) when the cleanup is dropped.
    fn install<T>(home: &'a Home, env: &'a RealEnv, published: &[(T, (String, String))]) -> Self {
        let mut cleanup = Self {
            home,
            env,
            ids: Vec::new(),
            volume: None,
        };
        for (_, (reference, id)) in published {
            home.ok(&["install", reference, "-y"]);
            cleanup.ids.push(id.clone());
        }
        cleanup
    }
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
    let Some((env, browser)) = browser_env(TEST) else {
        return;
    };
    if !have_npm() {
        return;
    }
    let started = Instant::now();
    let _ = fs_err::remove_file(target_dir().join("e2e-screenshots/failure.png"));
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
    let mut cleanup = Cleanup::install(&home, &env, &published);
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
    fs_err::create_dir_all(&pick).expect("mkdir");
    fs_err::write(pick.join("chosen.txt"), "picked\n").expect("write");
    fs_err::write(pick.join("other.txt"), "not picked\n").expect("write");

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

    let serve = in_browser_ok(
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
    ensure!(
        engine.contains(&ctx.server_version),
        "the engine's version in the header: {engine}"
    );
    // The engine of `scripts/deps` sees this machine's files.
    let mode = wait_js(
        c,
        "the engine's mode in the top bar",
        "const m = document.getElementById('engine-mode'); \
         return m && !m.hidden && m.textContent ? [m.textContent, m.dataset.mode] : null",
    )
    .await?;
    ensure!(
        mode == json!(["local mode", "local"]),
        "the mode badge: {mode}"
    );
    screenshot(c, "dashboard-extensions.png").await?;
    Ok(())
}
