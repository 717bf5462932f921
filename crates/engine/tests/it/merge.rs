//! How compose merges dockhand's override into an extension's file, checked
//! with the real compose CLI (`config`): service volumes are merged by
//! container path, so an override entry replaces the base entry with the
//! same target, whatever syntax either uses; labels merge by key.

use std::path::Path;

use dockhand_engine::{
    ComposeProject, ComposeRunner, EngineHost, OverrideInput, compose_override, plugin_image_env,
};
use dockhand_spec::ComposeFacts;
use serde_norway::Value;

use crate::support::skip;

const BASE: &str = r#"
version: "3"
services:
  api:
    image: ${DESKTOP_PLUGIN_IMAGE}
    labels:
      - "own.label=kept"
    volumes:
      - /var/run/docker.sock.raw:/var/run/docker.sock
      - data:/data
      - /run/guest-services:/run/guest-services
      - type: bind
        source: /var/run/docker.raw.sock
        target: /raw.sock
        read_only: true
  tools:
    image: busybox
    labels:
      own.label: also-kept
    volumes:
      - "/run/host-services/backend.sock:/backend.sock"
      - "/var/run/docker.sock:/var/run/docker.sock:ro"
volumes:
  data: {}
"#;

/// `(type, source, target, read_only)` of a volume entry in `config` output.
fn entry(v: &Value) -> (String, String, String, bool) {
    match v {
        Value::String(s) => {
            let parts: Vec<&str> = s.split(':').collect();
            let (ty, source, target) = if parts.len() == 1 {
                ("volume", "", parts[0])
            } else if parts[0].starts_with('/') {
                ("bind", parts[0], parts[1])
            } else {
                ("volume", parts[0], parts[1])
            };
            let ro = parts
                .get(2)
                .is_some_and(|m| m.split(',').any(|o| o == "ro"));
            (ty.into(), source.into(), target.into(), ro)
        }
        Value::Mapping(m) => {
            let s = |k: &str| m.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
            let ro = m.get("read_only").and_then(Value::as_bool).unwrap_or(false);
            (s("type"), s("source"), s("target"), ro)
        }
        other => panic!("unexpected volume entry {other:?}"),
    }
}

fn volumes(config: &Value, service: &str) -> Vec<(String, String, String, bool)> {
    let mut v: Vec<_> = config["services"][service]["volumes"]
        .as_sequence()
        .expect("volumes")
        .iter()
        .map(entry)
        .collect();
    v.sort_by(|a, b| a.2.cmp(&b.2));
    v
}

fn t(ty: &str, source: &str, target: &str, ro: bool) -> (String, String, String, bool) {
    (ty.into(), source.into(), target.into(), ro)
}

#[tokio::test(flavor = "multi_thread")]
async fn override_volumes_replace_base_volumes_by_target() {
    let test = "override_volumes_replace_base_volumes_by_target";
    let host: EngineHost = std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.is_empty())
        .map_or_else(EngineHost::default_socket, |h| {
            h.parse().expect("DOCKER_HOST parses")
        });
    let runner = match ComposeRunner::detect(Path::new("docker"), &host).await {
        Ok(r) => r,
        Err(e) => return skip(test, &format!("no compose CLI: {e}")),
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let facts = ComposeFacts::parse(BASE).expect("parses");
    let input = OverrideInput {
        extension_id: "acme/merge-test".into(),
        version: "2.0.0".into(),
        socket_dir: "/srv/dockhand/sock".into(),
        engine_socket: Some("/srv/engine/docker.sock".into()),
        extra_labels: vec![],
        relay: false,
    };
    let ov = compose_override(&facts, &input).expect("override");
    fs_err::write(dir.path().join("compose.yaml"), BASE).expect("write");
    fs_err::write(dir.path().join("override.json"), ov.to_json()).expect("write");
    let project = ComposeProject {
        name: "dockhand-merge-test".into(),
        files: vec![
            dir.path().join("compose.yaml"),
            dir.path().join("override.json"),
        ],
        env: vec![plugin_image_env("acme/merge-test:2.0.0")],
        dir: dir.path().to_owned(),
    };
    let text = runner.config(&project).await.expect("compose config");
    let config: Value = serde_norway::from_str(&text).expect("config is YAML");

    assert_eq!(
        config["services"]["api"]["image"].as_str(),
        Some("acme/merge-test:2.0.0"),
        "{text}"
    );
    // What the override mounts into every service: the socket directory,
    // and the engine's socket where the service expects Docker's.
    let sockets = t("bind", "/srv/dockhand/sock", "/run/guest-services", false);
    let engine = "/srv/engine/docker.sock";
    let engine_socket = |ro| t("bind", engine, "/var/run/docker.sock", ro);
    for (service, want) in [
        (
            "api",
            vec![
                t("volume", "data", "/data", false),
                t("bind", engine, "/raw.sock", true),
                sockets.clone(),
                engine_socket(false),
            ],
        ),
        (
            "tools",
            vec![
                t("tmpfs", "", "/backend.sock", false),
                sockets.clone(),
                engine_socket(true),
            ],
        ),
    ] {
        assert_eq!(
            volumes(&config, service),
            want,
            "compose {} merged {service}:\n{text}",
            runner.version()
        );
    }
    for (svc, own) in [("api", "kept"), ("tools", "also-kept")] {
        let labels = &config["services"][svc]["labels"];
        assert_eq!(labels["own.label"].as_str(), Some(own), "{text}");
        assert_eq!(
            labels["dev.dockhand.extension"].as_str(),
            Some("acme/merge-test")
        );
        assert_eq!(labels["dev.dockhand.version"].as_str(), Some("2.0.0"));
    }
}
