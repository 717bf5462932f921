//! The normalized model (`compose config`) of hostile compose files, read by
//! dockhand-spec: what the consent summary shows is what compose would run.
//! Needs only the compose CLI (`config` does not reach the engine).

use std::path::Path;

use dockhand_engine::{ComposeEnv, ComposeProject, ComposeRunner, EngineHost};
use dockhand_spec::{ComposeFacts, Grant, ModelContext};

use crate::support::skip;

async fn runner(test: &str) -> Option<ComposeRunner> {
    let host: EngineHost = "unix:///nonexistent/docker.sock".parse().expect("a host");
    match ComposeRunner::detect(Path::new("docker"), &host).await {
        Ok(r) => Some(r.with_env(ComposeEnv {
            path: None,
            home: Some("/home/someone".into()),
            docker_config: None,
        })),
        Err(e) => {
            skip(test, &format!("no compose CLI: {e}"));
            None
        }
    }
}

/// The grant lines of `text` as compose normalizes it.
async fn grants(runner: &ComposeRunner, text: &str) -> Result<Vec<String>, String> {
    let dir = tempfile::tempdir().expect("a temp dir");
    fs_err::write(dir.path().join("compose.yaml"), text).expect("write");
    // A `.env` beside the file would be read by compose: dockhand's project
    // directories never have one, and this test shows the reason.
    let project = ComposeProject {
        name: "dockhand-normalized-it".into(),
        files: vec![dir.path().join("compose.yaml")],
        env: vec![("DESKTOP_PLUGIN_IMAGE".into(), "acme/ext:1.0.0".into())],
        dir: dir.path().to_owned(),
    };
    let out = runner
        .normalized(&project)
        .await
        .map_err(|e| e.to_string())?;
    let context = ModelContext {
        project: project.name.clone(),
        plugin_image: "acme/ext:1.0.0".into(),
        project_dir: dir.path().display().to_string(),
        home: String::new(),
    };
    let facts = ComposeFacts::from_config_output(out.as_bytes(), &context).expect("a model");
    Ok(facts.all_grants().map(Grant::line).collect())
}

#[tokio::test]
async fn compose_normalizes_merge_keys_truthy_spellings_and_defaults() {
    let test = "compose_normalizes_merge_keys_truthy_spellings_and_defaults";
    let Some(runner) = runner(test).await else {
        return;
    };
    let text = r#"
x-base: &base
  privileged: true
  volumes:
    - /:/host
services:
  a:
    <<: *base
    image: ${DESKTOP_PLUGIN_IMAGE}
    network_mode: ${NET_MODE:-host}
    pid: "${PID_MODE:-host}"
    cap_add: ["${CARGO_PKG_NAME:-SYS_ADMIN}"]
  b:
    image: busybox
    privileged: "on"
    volumes: ["$HOME/.ssh:/ssh:ro", "root:/r"]
    secrets: [s]
volumes:
  root:
    driver_opts: {type: none, o: bind, device: /}
secrets:
  s: {file: /etc/shadow}
"#;
    let lines = grants(&runner, text).await.expect("compose normalizes it");
    for want in [
        "service a: privileged (full access to the host)",
        "service a: host network",
        "service a: host process namespace (sees every process)",
        // The test process has CARGO_PKG_NAME set: it does not reach compose.
        "service a: capabilities SYS_ADMIN",
        "service a: host path / at /host",
        "service b: privileged (full access to the host)",
        "service b: host path /home/someone/.ssh at /ssh (read-only)",
        "volume root: host path / (bound by driver options)",
        "secret s: host file /etc/shadow",
    ] {
        assert!(
            lines.iter().any(|l| l == want),
            "missing {want:?} in {lines:#?}"
        );
    }
    assert!(
        std::env::var("CARGO_PKG_NAME").is_ok(),
        "cargo sets it for the test"
    );
}

#[tokio::test]
async fn compose_rejections_are_errors() {
    let test = "compose_rejections_are_errors";
    let Some(runner) = runner(test).await else {
        return;
    };
    let e = grants(
        &runner,
        "services:\n  a:\n    image: x\n    network_mode: ${MODE:?set MODE}\n",
    )
    .await
    .unwrap_err();
    assert!(e.contains("MODE"), "{e}");
}
