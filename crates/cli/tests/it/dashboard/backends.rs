//! The backend examples (`vm.image`, `vm.composefile`) and host binaries
//! from their pages.

use anyhow::{Result, ensure};
use fantoccini::Client;
use serde_json::{Value, json};

use super::*;

/// The Backend Image example: vm.service and vm.cli, buttons and calls.
pub(crate) async fn backend_image(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(IMAGE), IMAGE).await?;
    let names = ok(
        c,
        "return [typeof ddClient.extension.vm, typeof ddClient.backend, typeof ddClient.backend?.execInVMExtension]",
    )
    .await?;
    ensure!(
        names == json!(["object", "object", "function"]),
        "a backend's ddClient: {names}"
    );
    let hello: Value = serde_json::from_str(&click_ok(c, "hello-button", "hello-result").await?)?;
    ensure!(
        hello == json!({"message": "hello from the backend", "version": "0.1.0"}),
        "/hello: {hello}"
    );
    let echo: Value = serde_json::from_str(&click_ok(c, "echo-button", "echo-result").await?)?;
    ensure!(
        echo == json!({"greeting": "hello", "numbers": [1, 2, 3]}),
        "/echo: {echo}"
    );
    let (state, text) = click_result(c, "status-button", "status-result").await?;
    let status: Value = serde_json::from_str(&text)?;
    ensure!(
        state == "error" && status["statusCode"] == 418 && status["name"] == "ServiceError",
        "/status/418: {state} {status}"
    );
    let version = click_ok(c, "exec-button", "exec-result").await?;
    ensure!(version.contains("0.1.0"), "/backend --version: {version}");
    c.execute("window.scrollTo(0, 0)", vec![]).await?;
    screenshot(c, "extension-backend-image.png").await?;

    // The same as calls, with the v0 names.
    enter(c, IMAGE).await?;
    let v = ok(
        c,
        r#"const vm = ddClient.extension.vm;
           return {
             hello: await vm.service.get('/hello'),
             echo: await vm.service.post('/echo', {a: 'b c', n: [1]}),
             put: await vm.service.put('/echo', 'plain text'),
             v0: await ddClient.backend.get('/hello'),
             v0post: await ddClient.backend.post('/echo', {v0: true}),
             exec: (await vm.cli.exec('/backend', ['--version'])).stdout.trim(),
             v0exec: (await ddClient.backend.execInVMExtension('/backend --version')).stdout.trim(),
           };"#,
    )
    .await?;
    ensure!(
        v["hello"]["message"] == "hello from the backend"
            && v["echo"] == json!({"a": "b c", "n": [1]})
            && v["put"] == "plain text"
            && v["v0"] == v["hello"]
            && v["v0post"] == json!({"v0": true})
            && v["exec"].as_str().is_some_and(|s| s.contains("0.1.0"))
            && v["exec"] == v["v0exec"],
        "vm calls: {v}"
    );
    let e = rejects(c, "await ddClient.extension.vm.service.get('/status/418')").await?;
    ensure!(
        e["statusCode"] == 418 && e["name"] == "ServiceError",
        "a 418: {e}"
    );
    let e = rejects(c, "await ddClient.backend.get('/status/503')").await?;
    ensure!(e["statusCode"] == 503, "a 503 through the v0 name: {e}");
    Ok(())
}

pub(crate) async fn backend_compose(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(COMPOSE), COMPOSE).await?;
    let hello: Value = serde_json::from_str(&click_ok(c, "hello-button", "hello-result").await?)?;
    ensure!(
        hello["message"] == "hello from the backend",
        "/hello: {hello}"
    );
    Ok(())
}

/// The Host Binaries example: host.cli.exec whole and streamed, and v0's
/// execHostCmd.
pub(crate) async fn host_binaries(c: &Client, ctx: &Ctx) -> Result<()> {
    open_tab(c, ctx.id(HOSTS), HOSTS).await?;
    // Arguments are joined and split again as Docker Desktop does
    // (docs/bridge.md, "Exec arguments"): "a b" arrives as two words.
    let stdout = click_ok(c, "hello-button", "hello-stdout").await?;
    ensure!(
        stdout == "hello from a host binary\narg[1]=a\narg[2]=b\narg[3]=c\nargc=3\nkernel=Linux\n",
        "host.cli.exec('hello', ['a b', 'c']): {stdout:?}"
    );
    let streamed = click_ok(c, "stream-button", "stream-result").await?;
    ensure!(
        streamed == "hello from a host binary\narg[1]=streamed\nargc=1\nkernel=Linux\nexit code 0",
        "streamed: {streamed:?}"
    );
    let v = ok(
        c,
        r#"return {
             quoted: (await ddClient.extension.host.cli.exec('hello', ['"a b"', 'c'])).stdout,
             v0: (await ddClient.execHostCmd('hello x')).stdout,
           };"#,
    )
    .await?;
    ensure!(
        v["quoted"]
            .as_str()
            .is_some_and(|s| s.contains("arg[1]=a b\narg[2]=c\nargc=2"))
            && v["v0"]
                .as_str()
                .is_some_and(|s| s.contains("arg[1]=x\nargc=1")),
        "host exec: {v}"
    );
    let e = rejects(
        c,
        "await ddClient.extension.host.cli.exec('sh', ['-c', 'id'])",
    )
    .await?;
    ensure!(
        e["stderr"].as_str().is_some_and(|s| !s.is_empty()),
        "a binary that is not the extension's: {e}"
    );
    Ok(())
}
