//! One extension's tab in Chromium: its first screen within the time limit,
//! a screenshot, and the lab fixture's own checks (the Docker MUI theme in
//! light and dark through Chromium's emulated `prefers-color-scheme`, the
//! streamed and collected `docker stats`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use fantoccini::Client;
use fantoccini::wd::WebDriverCompatibleCommand;
use serde_json::{Value, json};

use super::expect::{Expectations, Expected};
use crate::dashboard::{enter, open_tab, top, wait_js_within};

/// What the tab showed.
#[derive(Debug, Default)]
pub(crate) struct Opened {
    /// How long the first screen took, or what was wrong.
    pub first_screen: Option<std::result::Result<Duration, String>>,
    /// The fixture's checks: name and what was seen (or what was wrong).
    pub checks: Vec<(String, std::result::Result<String, String>)>,
    /// The screenshots taken.
    pub screenshots: Vec<PathBuf>,
    /// What is worth knowing but is not a failure.
    pub notes: Vec<String>,
}

impl Opened {
    pub(crate) fn passed(&self) -> bool {
        matches!(self.first_screen, Some(Ok(_))) && self.checks.iter().all(|(_, r)| r.is_ok())
    }
}

/// Opens the tab of `id` and checks what `exp` says.
pub(crate) async fn open(
    c: &Client,
    id: &str,
    exp: &Expected,
    limits: &Expectations,
    shots: &Path,
) -> Opened {
    let mut opened = Opened::default();
    let started = Instant::now();
    let mut first = match open_tab(c, id, &exp.title).await {
        Ok(()) => first_screen(c, &exp.first_screen, limits.time_limit(), started).await,
        Err(e) => Err(format!("the tab did not open: {e:#}")),
    };
    if let Err(why) = &first {
        // Once more after a reload: Chromium aborts the loads in flight when a network
        // interface appears (a compose project of another test creating its network), which
        // can leave a page without its scripts. The row says so.
        opened.notes.push(format!(
            "the first screen appeared only after a reload; the first attempt: {why}"
        ));
        let again = Instant::now();
        first = match reload(c, &exp.title).await {
            Ok(()) => first_screen(c, &exp.first_screen, limits.time_limit(), again).await,
            Err(e) => Err(format!("the tab did not load again: {e:#}")),
        };
        if let Err(second) = &first {
            first = Err(format!(
                "{second} (and before a reload: {})",
                opened.notes.remove(0)
            ));
        }
    }
    let ok = first.is_ok();
    opened.first_screen = Some(first);
    if ok {
        // The calls the page makes while opening: give them time to be answered.
        tokio::time::sleep(limits.settle()).await;
    }
    if let Ok(p) = screenshot(c, shots, &format!("{}.png", exp.name)).await {
        opened.screenshots.push(p);
    }
    if ok {
        for check in &exp.checks {
            let result = match check.as_str() {
                "theme-light-dark" => {
                    theme_light_dark(c, &exp.title, &exp.name, shots, &mut opened.screenshots).await
                }
                "stats-stream" => stats_stream(c, &exp.title).await,
                "lab-detects" => lab_detects(c, &exp.title).await,
                other => Err(anyhow!("unknown check `{other}` in expectations.json")),
            };
            opened
                .checks
                .push((check.clone(), result.map_err(|e| format!("{e:#}"))));
        }
    }
    let _ = top(c).await;
    opened
}

/// Reloads the extension's page in its frame and enters it again.
async fn reload(c: &Client, title: &str) -> Result<()> {
    enter(c, title).await?;
    c.execute("location.reload()", vec![]).await?;
    tokio::time::sleep(Duration::from_millis(300)).await;
    enter(c, title).await
}

/// Waits (in the tab's frame) until the page's visible text holds every one
/// of `texts` (case-insensitively).
async fn first_screen(
    c: &Client,
    texts: &[String],
    limit: Duration,
    started: Instant,
) -> std::result::Result<Duration, String> {
    let script = "const text = (document.body ? document.body.innerText : '').toLowerCase(); \
                  return {missing: arguments[0].filter((t) => !text.includes(t.toLowerCase())), \
                          shown: document.body ? document.body.innerText.slice(0, 400) : ''};";
    let mut last = json!(null);
    loop {
        if let Ok(v) = c.execute(script, vec![json!(texts)]).await {
            if v["missing"].as_array().is_some_and(Vec::is_empty) {
                return Ok(started.elapsed());
            }
            last = v;
        }
        if started.elapsed() > limit {
            let shown = last["shown"]
                .as_str()
                .unwrap_or_default()
                .replace('\n', " ⏎ ");
            return Err(format!(
                "after {} s the tab does not show {}; it shows: \"{}\"",
                limit.as_secs(),
                last["missing"],
                shown.trim()
            ));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

pub(crate) async fn screenshot(c: &Client, dir: &Path, name: &str) -> Result<PathBuf> {
    top(c).await?;
    fs_err::create_dir_all(dir)?;
    let path = dir.join(name);
    fs_err::write(&path, c.screenshot().await?)?;
    Ok(path)
}

/// A Chrome DevTools Protocol command through chromedriver's
/// `goog/cdp/execute`.
#[derive(Debug)]
struct Cdp {
    cmd: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> std::result::Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        (
            http::Method::POST,
            Some(json!({"cmd": self.cmd, "params": self.params}).to_string()),
        )
    }
}

/// Emulates `prefers-color-scheme: scheme` for the whole tab (`""`: the
/// browser's own again).
pub(crate) async fn color_scheme(c: &Client, scheme: &str) -> Result<()> {
    c.issue_cmd(Cdp {
        cmd: "Emulation.setEmulatedMedia",
        params: json!({"features": [{"name": "prefers-color-scheme", "value": scheme}]}),
    })
    .await
    .with_context(|| format!("Emulation.setEmulatedMedia prefers-color-scheme {scheme:?}"))?;
    Ok(())
}

/// Both providers render `theme.palette.docker.grey[100]` of the host's
/// theme globals for the emulated scheme, light then dark.
async fn theme_light_dark(
    c: &Client,
    title: &str,
    name: &str,
    shots: &Path,
    screenshots: &mut Vec<PathBuf>,
) -> Result<String> {
    let mut seen = Vec::new();
    for mode in ["light", "dark"] {
        color_scheme(c, mode).await?;
        enter(c, title).await?;
        let script = format!(
            "const s = (id) => {{ const e = document.getElementById(id); return e ? [e.dataset.mode, e.dataset.grey100] : null; }}; \
             const v6 = s('v6'), v5 = s('v5'); \
             if (!v6 || !v5 || v6[0] !== '{mode}' || v5[0] !== '{mode}') return false; \
             const want = (bag) => {{ try {{ return window[bag]['{mode}'].palette.docker.grey[100]; }} catch (e) {{ return 'missing: ' + e.message; }} }}; \
             return {{v6, v5, want6: want('__ddMuiV6Themes'), want5: want('__ddMuiV5Themes')}};"
        );
        let v = wait_js_within(
            c,
            &format!("both providers in {mode} mode"),
            &script,
            Duration::from_secs(10),
        )
        .await
        .with_context(|| format!("the page did not switch to {mode}"))?;
        for (got, want, provider) in [
            (&v["v6"][1], &v["want6"], "DockerMuiV6ThemeProvider"),
            (&v["v5"][1], &v["want5"], "DockerMuiV5ThemeProvider"),
        ] {
            if got != want || !got.is_string() {
                bail!(
                    "{provider} in {mode} mode shows grey[100] {got}, the host's theme says {want}"
                );
            }
        }
        seen.push(format!(
            "{mode} {}",
            v["v6"][1].as_str().unwrap_or_default()
        ));
        if mode == "dark" {
            screenshots.push(screenshot(c, shots, &format!("{name}-dark.png")).await?);
        }
    }
    color_scheme(c, "").await?;
    enter(c, title).await?;
    Ok(format!(
        "both providers render palette.docker.grey[100]: {}",
        seen.join(", ")
    ))
}

/// The streamed `docker stats` chart gets JSON lines, and the collected
/// `--no-stream` call with a quoted format parses.
async fn stats_stream(c: &Client, title: &str) -> Result<String> {
    enter(c, title).await?;
    let script = "const s = document.getElementById('stream'), o = document.getElementById('once'); \
                  if (!s || !o) return false; \
                  const r = {state: s.dataset.state, lines: +s.dataset.lines, bad: +s.dataset.bad, \
                             error: (document.getElementById('stream-error') || {}).textContent || '', \
                             once: o.dataset.state, count: +o.dataset.count, onceText: o.textContent}; \
                  if (r.state === 'error' || r.bad > 0 || r.once === 'error') return r; \
                  return r.lines >= 2 && r.once === 'ok' ? r : false;";
    let v = wait_js_within(
        c,
        "two streamed docker stats lines",
        script,
        Duration::from_secs(20),
    )
    .await?;
    if v["lines"].as_u64().unwrap_or(0) < 2 || v["once"] != "ok" {
        bail!("docker stats: {v}");
    }
    eprintln!(
        "lab-theme-stats: {} docker stats JSON lines streamed, {} containers collected",
        v["lines"], v["count"]
    );
    Ok("`exec('stats', ['--format', '{{json .}}'], {stream})` delivered JSON lines; `exec('stats', ['--no-stream', '--format', '\"{{json .}}\"'])` parsed with parseJsonLines()".to_owned())
}

/// The fixture's "Fail on purpose" button: an uncaught exception, an
/// unhandled rejection and a call dockhand refuses, each marked with
/// [`DELIBERATE`] (the lab expects them in the call log, and only them).
/// The page's own script makes them: errors of a script WebDriver injects
/// are muted (no error object, no rejection event), as cross-origin ones.
async fn lab_detects(c: &Client, title: &str) -> Result<String> {
    enter(c, title).await?;
    c.find(fantoccini::Locator::Id("fail-on-purpose"))
        .await?
        .click()
        .await?;
    let v = wait_js_within(
        c,
        "the refused call's answer",
        "const e = document.getElementById('failed'); return ['resolved', 'rejected'].includes(e.dataset.state) ? e.dataset.state : false",
        Duration::from_secs(10),
    )
    .await?;
    if v != "rejected" {
        bail!("host.cli.exec of an unknown binary was {v}, not rejected");
    }
    // The reports are sent as the errors happen; give them a moment.
    tokio::time::sleep(Duration::from_millis(500)).await;
    Ok(
        "an uncaught exception, an unhandled rejection and a refused call, made on purpose"
            .to_owned(),
    )
}

/// The marker of the failures `lab-detects` makes.
pub(crate) const DELIBERATE: &str = "lab: deliberate";
/// The host binary `lab-detects` asks for (there is none).
pub(crate) const UNKNOWN_BINARY: &str = "lab-deliberately-unknown-binary";
