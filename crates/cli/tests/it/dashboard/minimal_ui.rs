//! The Minimal UI example: its buttons, the toast, the file picker, the
//! route to the containers page.

use anyhow::{Result, ensure};
use fantoccini::{Client, Locator};
use serde_json::{Value, json};

use super::*;

/// The Minimal UI example: its buttons, the toast, the file picker, the
/// route to the containers page.
pub(crate) async fn minimal_ui(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(MINIMAL), MINIMAL).await?;
    let host = ok(c, "return [document.getElementById('host-platform').textContent, document.getElementById('host-arch').textContent, document.getElementById('host-hostname').textContent]").await?;
    ensure!(host[0] == "linux", "host.platform: {host}");
    let hostname = fs_err::read_to_string("/proc/sys/kernel/hostname")?;
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
