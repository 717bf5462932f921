//! The normalized model (`compose config`) of hostile compose files, read by
//! dockhand-spec: what the consent summary shows is what compose would run.
//! Needs only the compose CLI (`config` does not reach the engine).

use std::path::Path;

use dockhand_engine::{ComposeEnv, ComposeProject, ComposeRunner, EngineHost};
use dockhand_spec::{ComposeFacts, Grant, ModelContext};

use crate::support::skip;
use dockhand_testkit::compose::{HOSTILE_LINES, hostile};

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
    // The test process has CARGO_PKG_NAME set: it does not reach compose.
    let text = hostile("PID_MODE", "CARGO_PKG_NAME");
    let lines = grants(&runner, &text).await.expect("compose normalizes it");
    for want in HOSTILE_LINES {
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
async fn compose_expands_home_in_host_paths() {
    let test = "compose_expands_home_in_host_paths";
    let Some(runner) = runner(test).await else {
        return;
    };
    let text = "services:\n  b:\n    image: busybox\n    volumes: [\"$HOME/.ssh:/ssh:ro\"]\n";
    let lines = grants(&runner, text).await.expect("compose normalizes it");
    assert_eq!(
        lines,
        ["service b: host path /home/someone/.ssh at /ssh (read-only)"]
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
