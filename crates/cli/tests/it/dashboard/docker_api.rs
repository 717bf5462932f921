//! ddClient's Docker API from an extension's page.

use std::time::{Duration, Instant};

use anyhow::{Result, ensure};
use fantoccini::Client;
use serde_json::json;

use super::*;

/// docker.cli.exec (whole, streamed, closed), the list calls and the v0
/// names, in the Minimal UI's frame (now hidden behind another page).
pub(crate) async fn docker_api(c: &Client, ctx: &Ctx) -> Result<()> {
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
pub(crate) async fn wait_for_processes(marker: &str, present: bool) -> Result<()> {
    let until = Instant::now() + WAIT;
    loop {
        let found = fs_err::read_dir("/proc")?
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .chars()
                    .all(|c| c.is_ascii_digit())
            })
            .any(|e| {
                fs_err::read(e.path().join("cmdline"))
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
