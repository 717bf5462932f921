//! The extension built with the official `@docker/extension-api-client`
//! package (npm and esbuild at test time), and its checks.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{Context, Result, ensure};
use fantoccini::Client;
use serde_json::{Value, json};

use super::{Ctx, OFFICIAL, expect_toast, open_tab, screenshot, target_dir, wait_js};
use crate::lifecycle::example;
use crate::support::TempDir;

// The extension built with the official client package

/// `npm install @docker/extension-api-client@0.4.2 esbuild` into
/// `<target>/e2e-npm` once; later runs reuse it.
pub(crate) fn npm_packages() -> Result<PathBuf> {
    let dir = target_dir().join("e2e-npm");
    let client = dir.join("node_modules/@docker/extension-api-client/package.json");
    let esbuild = dir.join("node_modules/.bin/esbuild");
    if client.is_file() && esbuild.is_file() {
        return Ok(dir);
    }
    fs_err::create_dir_all(&dir)?;
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
pub(crate) fn official_extension(tmp: &TempDir) -> Result<PathBuf> {
    let npm = npm_packages()?;
    let dir = tmp.0.join("official-client");
    fs_err::create_dir_all(dir.join("ui"))?;
    let entry = npm.join(format!("entry-{}.js", std::process::id()));
    fs_err::write(&entry, OFFICIAL_ENTRY)?;
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
    let _ = fs_err::remove_file(&entry);
    ensure!(
        out.status.success(),
        "esbuild failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs_err::write(dir.join("ui/index.html"), OFFICIAL_HTML)?;
    fs_err::write(
        dir.join("metadata.json"),
        serde_json::to_string_pretty(&json!({
            "icon": "icon.svg",
            "ui": {"dashboard-tab": {"title": OFFICIAL, "root": "/ui", "src": "index.html"}}
        }))?,
    )?;
    let minimal = example("minimal-ui");
    fs_err::copy(minimal.join("icon.svg"), dir.join("icon.svg"))?;
    // The minimal example's labels and COPY lines fit this layout too.
    let dockerfile = fs_err::read_to_string(minimal.join("Dockerfile"))?;
    ensure!(dockerfile.contains("title=\"Minimal UI\""), "{dockerfile}");
    fs_err::write(
        dir.join("Dockerfile"),
        dockerfile.replace("title=\"Minimal UI\"", &format!("title=\"{OFFICIAL}\"")),
    )?;
    Ok(dir)
}

/// The UI built with the official `@docker/extension-api-client`.
pub(crate) async fn official_client(c: &Client, ctx: &Ctx) -> Result<()> {
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
