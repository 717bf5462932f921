//! ddClient's navigate methods and the shell's routes.

use std::time::Duration;

use anyhow::{Context, Result, ensure};
use fantoccini::Client;
use serde_json::json;

use super::*;

/// Every navigate method, v1 and v0: the shell's route follows; an object
/// that does not exist rejects and leaves the route alone.
pub(crate) async fn navigation(c: &Client, ctx: &Ctx) -> Result<()> {
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
