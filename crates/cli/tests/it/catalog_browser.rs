//! The Catalog page in real Chromium: a registry-namespace catalog with two
//! examples pushed to the real registry, one of them allowed. The page lists
//! both, shows details (screenshots, links, sanitized HTML), refuses to
//! install the one the allow-list does not list (the refusal names the
//! policy file), and installs the allowed one after showing its consent
//! summary.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use fantoccini::Client;
use serde_json::{Value, json};

use crate::dashboard::{
    Serve, browser_env, e2e_runtime, in_browser, screenshot, set_route, top, wait_js,
};
use crate::lifecycle::{Home, example};
use crate::support::{self, RealEnv, TempDir};

const TEST: &str = "catalog_page_in_chromium";

/// Builds `examples/minimal-ui` as `repo:1.0.0` on the registry.
fn push(env: &RealEnv, repo: &str) {
    let tmp = TempDir::new("catb-build");
    let out = support::dockhand()
        .env("DOCKHAND_HOME", &tmp.0)
        .env("DOCKER_HOST", &env.docker_host)
        .args(["build", "-q", "--push", "-t"])
        .arg(format!("{repo}:1.0.0"))
        .arg(example("minimal-ui"))
        .output()
        .expect("build runs");
    support::assert_succeeded("dockhand build --push", &out);
}

#[test]
fn catalog_page_in_chromium() {
    let Some((env, browser)) = browser_env(TEST) else {
        return;
    };
    let started = Instant::now();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let ns = format!(
        "{}/dockhand-catb-{}-{nanos}",
        env.registry,
        std::process::id()
    );
    let allowed = format!("{ns}/allowed");
    let blocked = format!("{ns}/blocked");
    std::thread::scope(|s| {
        s.spawn(|| push(&env, &allowed));
        s.spawn(|| push(&env, &blocked));
    });
    let home = Home::new(&env, "catb-home");
    let config = home.path("home/config.toml");
    fs_err::create_dir_all(config.parent().expect("parent")).expect("home");
    fs_err::write(
        &config,
        format!(
            "[[catalog]]\nname = \"team\"\nurl = \"{ns}\"\n\n[allow]\nextensions = [\"{allowed}\"]\n"
        ),
    )
    .expect("config");

    let tmp = TempDir::new("catb");
    let runtime = e2e_runtime();
    let config_path = config.display().to_string();
    let (serve, outcome) = in_browser(
        &runtime,
        &home,
        &browser,
        &tmp.0,
        "catalog-failure.png",
        async |client, serve| run(client, serve, &allowed, &blocked, &config_path).await,
    );
    let _ = home.run(&["rm", &allowed]);
    if let Err(e) = outcome {
        panic!("{e:#}\n--- dockhand serve's stderr:\n{}", serve.stderr());
    }
    drop(serve);
    eprintln!("{TEST}: passed in {:?}", started.elapsed());
}

/// `document.querySelector` of the catalog card of `id`.
fn card(id: &str) -> String {
    format!(
        "document.querySelector('article.catalog-item[data-id={}]')",
        json!(id)
    )
}

/// Clicks the button of `id`'s card whose text starts with `label`.
async fn click(c: &Client, id: &str, label: &str) -> Result<()> {
    let script = format!(
        "const card = {}; const b = card && [...card.querySelectorAll('button')].find((b) => b.textContent.startsWith({})); if (b) b.click(); return !!b",
        card(id),
        json!(label)
    );
    wait_js(c, &format!("the {label} button of {id}"), &script).await?;
    Ok(())
}

/// Clicks Install on the card of `id` and waits for the dialog's element
/// `selector`: its text.
async fn install_dialog(c: &Client, id: &str, selector: &str) -> Result<String> {
    click(c, id, "Install").await?;
    let text = wait_js(
        c,
        selector,
        &format!("const d = document.querySelector('{selector}'); return d ? d.textContent : null"),
    )
    .await?;
    Ok(text.as_str().unwrap_or_default().to_owned())
}

async fn run(c: &Client, serve: &Serve, allowed: &str, blocked: &str, policy: &str) -> Result<()> {
    crate::dashboard::open_dashboard(c, serve).await?;
    set_route(c, "#/catalog").await?;
    let titles = wait_js(
        c,
        "both catalog entries",
        "const cards = [...document.querySelectorAll('article.catalog-item')]; \
         return cards.length === 2 ? cards.map((c) => [c.dataset.id, c.querySelector('h2').textContent, c.textContent]) : null",
    )
    .await?;
    let text = titles.to_string();
    ensure!(text.contains(allowed) && text.contains(blocked), "{text}");
    ensure!(text.contains("Minimal UI"), "{text}");
    ensure!(text.contains("latest 1.0.0"), "{text}");
    ensure!(text.contains("Not installed"), "{text}");

    // Search and the category filter.
    c.execute(
        "const s = document.getElementById('catalog-search'); s.value = 'blocked'; s.dispatchEvent(new Event('input'));",
        vec![],
    )
    .await?;
    wait_js(
        c,
        "the search",
        "return document.querySelectorAll('article.catalog-item').length === 1",
    )
    .await?;
    c.execute(
        "const s = document.getElementById('catalog-search'); s.value = ''; s.dispatchEvent(new Event('input')); \
         const k = document.getElementById('catalog-category'); k.value = 'utility-tools'; k.dispatchEvent(new Event('change'));",
        vec![],
    )
    .await?;
    wait_js(
        c,
        "the category filter",
        "return document.querySelectorAll('article.catalog-item').length === 2",
    )
    .await?;

    // Details: sanitized description, screenshots, links.
    click(c, allowed, "Details").await?;
    let details = wait_js(
        c,
        "the details",
        &format!(
            "const d = {}.querySelector('.details'); return d && d.querySelector('img.screenshot') ? \
             {{html: d.querySelector('.label-html').innerHTML, shots: d.querySelectorAll('img.screenshot').length, \
               links: [...d.querySelectorAll('ul a')].map((a) => a.href), scripts: d.querySelectorAll('script').length}} : null",
            card(allowed)
        ),
    )
    .await?;
    ensure!(details["shots"] == 2, "{details}");
    ensure!(details["scripts"] == 0, "{details}");
    ensure!(
        details["html"]
            .as_str()
            .unwrap_or_default()
            .contains("<li>"),
        "{details}"
    );
    ensure!(
        details["links"]
            .to_string()
            .contains("https://example.com/dockhand"),
        "{details}"
    );
    screenshot(c, "catalog-details.png").await?;

    // The blocked one: the refusal names the policy file.
    let msg = install_dialog(c, blocked, "dialog .install-refused .refusal").await?;
    ensure!(msg.contains("is not allowed by the allow-list"), "{msg}");
    ensure!(msg.contains(policy), "{msg} should name {policy}");
    screenshot(c, "catalog-refused.png").await?;
    c.execute(
        "[...document.querySelectorAll('dialog button')].find((b) => b.textContent === 'Close').click()",
        vec![],
    )
    .await?;

    // The allowed one: the consent summary, then the install.
    let consent = install_dialog(c, allowed, "dialog .install-consent").await?;
    ensure!(
        consent.contains("a dashboard tab \"Minimal UI\""),
        "{consent}"
    );
    ensure!(consent.contains("Backendnone"), "{consent}");
    // The dialog names the exact image it is about: the install takes that
    // pinned reference, never the tag resolved again.
    ensure!(
        consent.contains(&format!("Image {allowed}:1.0.0@sha256:")),
        "{consent}"
    );
    screenshot(c, "catalog-consent.png").await?;
    c.execute(
        "document.querySelector('dialog .install-consent button[type=submit]').click()",
        vec![],
    )
    .await?;
    expect_toast_shell(c, "installed").await?;
    let installed = wait_js(
        c,
        "the installed badge",
        &format!(
            "const c = {}; return c && c.textContent.includes('Installed 1.0.0') ? c.textContent : null",
            card(allowed)
        ),
    )
    .await?;
    ensure!(installed != Value::Null);
    wait_js(
        c,
        "the sidebar entry",
        &format!(
            "return !!document.querySelector('#ext-nav a[title={}]')",
            json!(allowed)
        ),
    )
    .await
    .context("the installed extension in the sidebar")?;
    let blocked_installed = c
        .execute(
            &format!(
                "return !!document.querySelector('#ext-nav a[title={}]')",
                json!(blocked)
            ),
            vec![],
        )
        .await?;
    ensure!(blocked_installed == Value::Bool(false));
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}

/// A success toast of the shell (no source) containing `text`.
async fn expect_toast_shell(c: &Client, text: &str) -> Result<()> {
    top(c).await?;
    let script = format!(
        "return [...document.querySelectorAll('#toasts .toast')].some((t) => t.textContent.includes({}))",
        json!(text)
    );
    wait_js(c, &format!("a toast saying {text}"), &script).await?;
    Ok(())
}
