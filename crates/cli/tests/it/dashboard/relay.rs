//! The dashboard in relay mode: the same browser steps on the "VM" engine of
//! `scripts/deps vm` (a dockerd in its own mount namespace), reached through
//! its forwarded unix socket as colima or OrbStack forward theirs. The
//! engine does not see this machine's files, so the backends' sockets are in
//! their volumes and every `vm.service` call of the tabs goes through the
//! extension's relay; the top bar says which engine and that it is in relay
//! mode.

use std::time::Instant;

use anyhow::{Context, Result, ensure};
use fantoccini::{Client, Locator};

use super::backends::{backend_compose, backend_image};
use super::*;
use crate::lifecycle::{Home, example, publish};
use crate::support::{RealEnv, TempDir};

const RELAY_TEST: &str = "dashboard_in_relay_mode_on_the_vm_engine";

#[test]
fn dashboard_in_relay_mode_on_the_vm_engine() {
    let Some(env) = crate::support::real_env(RELAY_TEST) else {
        return;
    };
    let Some(browser) = browser() else {
        return;
    };
    let Some(vm_host) = dockhand_testkit::env::require_var(
        RELAY_TEST,
        "DOCKHAND_VM_UNIX_HOST",
        "no VM engine from `scripts/deps vm` (DOCKHAND_VM_UNIX_HOST unset)",
    ) else {
        return;
    };
    let started = Instant::now();
    let tmp = TempDir::new("e2e-relay");
    // Published through the main engine and the registry; installed on the
    // VM engine, which gets the images from dockhand's store over the API.
    let published = [
        (IMAGE, publish(&env, &example("backend-image"), true, &[])),
        (
            COMPOSE,
            publish(&env, &example("backend-compose"), true, &[]),
        ),
    ];
    let vm_env = RealEnv {
        docker_host: vm_host.clone(),
        registry: env.registry.clone(),
    };
    let home = Home::new(&vm_env, "e2e-relay-home");
    let cleanup = Cleanup::install(&home, &vm_env, &published);
    let version: serde_json::Value =
        serde_json::from_str(&home.ok(&["version", "--format", "json"])).expect("json");
    assert_eq!(version["engine"]["mode"], "remote", "{version}");
    eprintln!("{RELAY_TEST}: installed in {:?}", started.elapsed());

    let ctx = Ctx {
        ids: published
            .iter()
            .map(|(t, (_, id))| (*t, id.clone()))
            .collect(),
        pick: tmp.0.join("pick"),
        container: String::new(),
        image: String::new(),
        volume: String::new(),
        server_version: String::new(),
    };
    let runtime = e2e_runtime();
    let (serve, outcome) = in_browser(
        &runtime,
        &home,
        &browser,
        &tmp.0,
        "failure-relay.png",
        async |client, serve| {
            open_dashboard(client, serve).await?;
            engine_line(client, &vm_host).await?;
            // The list asks each backend's socket through its relay: wait
            // for it before the tabs are looked up in the sidebar.
            wait_js(
                client,
                "both extensions in the sidebar",
                "return document.querySelectorAll('#ext-nav a[title]').length >= 2 || null",
            )
            .await?;
            backend_image(client, &ctx).await?;
            backend_compose(client, &ctx).await?;
            screenshot(client, "dashboard-relay-mode.png").await?;
            Ok(())
        },
    );
    if let Err(e) = outcome {
        panic!("{e:#}\n--- dockhand serve's stderr:\n{}", serve.stderr());
    }
    drop(serve);
    drop(cleanup);
    eprintln!("{RELAY_TEST}: passed in {:?}", started.elapsed());
}

/// The top bar names the VM engine and says relay mode, with why.
async fn engine_line(c: &Client, host: &str) -> Result<()> {
    let mode = wait_js(
        c,
        "the engine's mode in the top bar",
        "const m = document.getElementById('engine-mode'); \
         return m && !m.hidden && m.textContent ? [m.textContent, m.dataset.mode, m.title] : null",
    )
    .await?;
    ensure!(
        mode[0] == "relay mode" && mode[1] == "relay",
        "the mode badge: {mode}"
    );
    ensure!(
        mode[2].as_str().is_some_and(|t| t.contains("relay")),
        "the mode's reason: {mode}"
    );
    let engine = c
        .find(Locator::Id("engine"))
        .await?
        .text()
        .await
        .context("the engine line")?;
    ensure!(
        engine.contains(&format!("at {host}")) && engine.contains("API 0.4.2"),
        "the engine line: {engine}"
    );
    Ok(())
}
