//! An extension's icon opened as a page in real Chromium, on the dashboard's
//! origin: a scripted SVG runs nothing (its answer is sandboxed), an HTML
//! "icon" is not served at all, and neither reaches the dashboard API.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use fantoccini::Client;

use crate::dashboard::{Serve, browser_env, in_browser_ok, open_dashboard, wait_js};
use crate::lifecycle::Home;
use crate::support::TempDir;

const TEST: &str = "hostile_icons_run_nothing_in_chromium";

/// What the icons try: mark the page, then install through the API.
const PAYLOAD: &str = "document.title = 'ran'; \
    fetch('/api/extensions', {credentials: 'include'}).then((r) => { document.title = 'reached ' + r.status; });";

/// Builds a UI-only extension whose `icon.svg` holds `icon`, into the home's
/// store, and installs it.
fn install_with_icon(home: &Home, name: &str, icon: &str) -> String {
    let src = TempDir::new(&format!("icon-{name}"));
    src.write(
        "metadata.json",
        r#"{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"Icons","root":"/ui","src":"index.html"}}}"#,
    );
    src.write(
        "labels.json",
        r#"{"org.opencontainers.image.title":"Icons","org.opencontainers.image.description":"d","org.opencontainers.image.vendor":"Acme","com.docker.desktop.extension.api.version":">= 0.3.0"}"#,
    );
    src.write("icon.svg", icon);
    src.write("ui/index.html", "<p>icons</p>");
    let out = home.path("layout");
    let reference = format!("acme/icon-{name}:1.0.0");
    home.ok(&[
        "build",
        &src.arg(),
        "-t",
        &reference,
        "--output",
        &format!("oci:{}", out.display()),
    ]);
    home.ok(&[
        "install",
        "-y",
        &format!("oci:{}:{reference}", out.display()),
    ]);
    format!("acme/icon-{name}")
}

#[test]
fn hostile_icons_run_nothing_in_chromium() {
    let Some((env, browser)) = browser_env(TEST) else {
        return;
    };
    let started = Instant::now();
    let home = Home::new(&env, "icons-home");
    let svg = install_with_icon(
        &home,
        "svg",
        &format!("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>{PAYLOAD}</script></svg>"),
    );
    let html = install_with_icon(
        &home,
        "html",
        &format!("<!doctype html><title>icon</title><script>{PAYLOAD}</script>"),
    );
    let tmp = TempDir::new("icons");
    let _serve = in_browser_ok(
        &home,
        &browser,
        &tmp.0,
        "icons-failure.png",
        async |c, serve| run(c, serve, &svg, &html).await,
    );
    eprintln!("{TEST}: passed in {:?}", started.elapsed());
}

async fn run(c: &Client, serve: &Serve, svg: &str, html: &str) -> Result<()> {
    open_dashboard(c, serve).await?;
    let origin = serve.url.split("/?").next().unwrap_or_default().to_owned();
    for (id, served) in [(svg, true), (html, false)] {
        let url = format!("{origin}/api/extensions/{}/icon", id.replace('/', "%2F"));
        c.goto(&url).await?;
        // Give a script every chance to run and its request to answer.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let title = c.title().await?;
        ensure!(
            !title.contains("ran") && !title.contains("reached"),
            "{id}: the icon ran as a page (title {title:?})"
        );
        let text: serde_json::Value = c
            .execute("return document.documentElement.outerHTML", vec![])
            .await?;
        let text = text.as_str().unwrap_or_default().to_owned();
        if served {
            ensure!(text.contains("<svg"), "{id}: the SVG is shown: {text}");
        } else {
            ensure!(
                text.contains("not a png"),
                "{id}: the HTML is refused: {text}"
            );
        }
    }
    // The dashboard itself still works after all that.
    c.goto(&format!("{origin}/")).await?;
    wait_js(
        c,
        "the sidebar",
        "return document.querySelectorAll('#ext-nav a').length === 2 || null",
    )
    .await?;
    Ok(())
}
