//! Dev mode in a real browser: the Minimal UI example installed, its tab
//! switched to a dev server written here (a page whose inline script listens
//! on a WebSocket, and pushes a change when a watched file changes, as
//! Vite's hot reload does), the page updated through the extension's origin,
//! a bridge call logged and shown by `dockhand logs ID --bridge` and the
//! dashboard, then `dockhand dev reset` bringing back the installed UI.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use axum::extract::State;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use fantoccini::{Client, Locator};
use serde_json::json;

use crate::dashboard::{
    Serve, browser_env, e2e_runtime, enter, in_browser, ok, open_tab, screenshot, top, wait_js,
};
use crate::lifecycle::{Home, example, publish};
use crate::support::TempDir;

const TEST: &str = "dev_mode_in_chromium";
const TITLE: &str = "Minimal UI";

/// The dev server's page: `#v` shows the watched file's content once an
/// update arrives on `/__hmr`.
const PAGE: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>dev</title></head>
<body><h1>Dev server</h1><p id="v">dev v1</p>
<script>
  const ws = new WebSocket("ws://" + location.host + "/__hmr");
  ws.onopen = () => { window.__hmrOpen = true; };
  ws.onmessage = (ev) => {
    const m = JSON.parse(ev.data);
    if (m.type === "update") document.getElementById("v").textContent = m.content;
  };
</script></body></html>"#;

/// A dev server on 127.0.0.1 watching `file`.
async fn dev_server(file: PathBuf) -> Result<std::net::SocketAddr> {
    async fn page() -> Response {
        ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], PAGE).into_response()
    }
    async fn hmr(State(file): State<PathBuf>, up: WebSocketUpgrade) -> Response {
        up.on_upgrade(move |socket| push_changes(socket, file))
    }
    let app = axum::Router::new()
        .route("/", axum::routing::get(page))
        .route("/__hmr", axum::routing::get(hmr))
        .with_state(file);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(addr)
}

async fn push_changes(mut socket: WebSocket, file: PathBuf) {
    let mut last = fs_err::read_to_string(&file).unwrap_or_default();
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = fs_err::read_to_string(&file).unwrap_or_default();
                if now != last {
                    last = now.clone();
                    let msg = json!({"type": "update", "content": now}).to_string();
                    if socket.send(Message::text(msg)).await.is_err() {
                        return;
                    }
                }
            }
            msg = socket.recv() => if !matches!(msg, Some(Ok(_))) { return },
        }
    }
}

/// Removes the extension, also when the test fails.
struct Remove<'a>(&'a Home, String);

impl Drop for Remove<'_> {
    fn drop(&mut self) {
        let _ = self.0.run(&["rm", &self.1]);
    }
}

#[test]
fn dev_mode_in_chromium() {
    let Some((env, browser)) = browser_env(TEST) else {
        return;
    };
    let started = Instant::now();
    let tmp = TempDir::new("dev-e2e");
    let home = Home::new(&env, "dev-e2e-home");
    let (reference, id) = publish(&env, &example("minimal-ui"), false, &[]);
    home.ok(&["install", &reference, "-y"]);
    let _remove = Remove(&home, id.clone());
    let watched = tmp.0.join("main.js");
    fs_err::write(&watched, "v1").expect("write");

    let runtime = e2e_runtime();
    let addr = runtime
        .block_on(dev_server(watched.clone()))
        .expect("the dev server");
    let dev_url = format!("http://{addr}/");
    home.ok(&["dev", "ui-source", &id, &dev_url]);
    home.ok(&["dev", "debug", &id]);

    let (serve, outcome) = in_browser(
        &runtime,
        &home,
        &browser,
        &tmp.0,
        "dev-failure.png",
        async |client, serve| run(client, serve, &home, &id, &dev_url, &watched).await,
    );
    if let Err(e) = outcome {
        panic!("{e:#}\n--- dockhand serve's stderr:\n{}", serve.stderr());
    }
    eprintln!("{TEST}: passed in {:?}", started.elapsed());
}

async fn run(
    c: &Client,
    serve: &Serve,
    home: &Home,
    id: &str,
    dev_url: &str,
    watched: &PathBuf,
) -> Result<()> {
    crate::dashboard::open_dashboard(c, serve).await?;
    wait_js(
        c,
        "the dev marker in the sidebar",
        &format!(r#"return document.querySelector('#ext-nav a[title="{id}"] .dev-mark') !== null"#),
    )
    .await?;

    // The tab comes from the dev server, on the extension's origin, with ddClient.
    open_tab(c, id, TITLE).await?;
    let origin = ok(c, "return location.origin").await?;
    ensure!(
        origin.as_str().is_some_and(|o| o.contains(".localhost:")),
        "the page is on the extension's origin, not {origin}"
    );
    wait_js(
        c,
        "the dev server's page with its WebSocket open",
        "return document.getElementById('v')?.textContent === 'dev v1' && window.__hmrOpen === true",
    )
    .await?;

    // A file changes: the dev server pushes it through dockhand to the page.
    fs_err::write(watched, "v2 from the dev server").context("write")?;
    wait_js(
        c,
        "the hot update",
        "return document.getElementById('v').textContent === 'v2 from the dev server'",
    )
    .await?;
    screenshot(c, "dev-mode-tab.png").await?;

    // A bridge call, logged.
    enter(c, TITLE).await?;
    let version = ok(
        c,
        "return (await ddClient.docker.cli.exec('version', ['--format', '{{.Server.Version}}'])).stdout.trim()",
    )
    .await?;
    ensure!(
        version.as_str().is_some_and(|v| !v.is_empty()),
        "docker version through the bridge: {version}"
    );
    let logged = home.ok(&["logs", id, "--bridge"]);
    ensure!(
        logged.contains("docker.cli.exec version --format {{.Server.Version}} -> 200"),
        "logs --bridge: {logged}"
    );

    // The dashboard's panel shows it.
    top(c).await?;
    c.goto(&format!(
        "{}#/extensions",
        serve.url.split("/?").next().unwrap_or_default()
    ))
    .await?;
    let card = format!(r#"//article[.//p[contains(., "{id}")]]"#);
    let button = c
        .wait()
        .at_most(Duration::from_secs(20))
        .for_element(Locator::XPath(&format!(
            r#"{card}//button[normalize-space(.)="Bridge log"]"#
        )))
        .await
        .context("the Bridge log button")?;
    button.click().await?;
    wait_js(
        c,
        "the bridge log panel",
        "return [...document.querySelectorAll('table.calls td.call')].some((td) => td.textContent.startsWith('version --format'))",
    )
    .await?;
    let badges = c.find(Locator::XPath(&card)).await?.text().await?;
    ensure!(
        badges.contains(&format!("Dev mode: UI from {dev_url}")),
        "the card: {badges}"
    );
    screenshot(c, "dev-mode-bridge-log.png").await?;

    // Reset: the installed UI again (the server rereads within a second).
    home.ok(&["dev", "reset", id]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // The tab stayed open (hidden): back to it, and its Reload button.
    open_tab(c, id, TITLE).await?;
    top(c).await?;
    c.find(Locator::Css(&format!(
        r#"section.ext-tab[aria-label="{TITLE}"] .ext-head button"#
    )))
    .await
    .context("the tab's Reload button")?
    .click()
    .await?;
    enter(c, TITLE).await?;
    wait_js(
        c,
        "the installed Minimal UI",
        "return document.getElementById('host-platform') !== null && document.getElementById('v') === null",
    )
    .await?;
    Ok(())
}
