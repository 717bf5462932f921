//! Updates in the dashboard: `POST /api/updates/check`, `update_available`
//! in `GET /api/extensions`, the periodic check, and
//! `POST /api/extensions/{id}/update`, against a small fake registry.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::time::Duration;

use axum::http::{Method, StatusCode};
use dockhand_host::update::CheckOptions;
use dockhand_oci::registry::{RegistryClient, RegistryOptions};
use dockhand_oci::{Digest, Platform};
use dockhand_server::api::encode_id;
use dockhand_server::updates::UpdateService;
use dockhand_testkit::registry::FakeRegistry;

use crate::support::*;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A registry with `acme/a` tagged 1.0.0, 1.1.0 (compatible), 2.0.0 (needs
/// API 9) and `latest`. Layers are never served.
fn fake_registry() -> FakeRegistry {
    let reg = FakeRegistry::start();
    for (tag, api) in [
        ("1.0.0", ">= 0.3.0"),
        ("1.1.0", ">= 0.3.0"),
        ("2.0.0", ">= 9.0.0"),
        ("latest", ">= 0.3.0"),
    ] {
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64", "os": "linux",
            "config": { "Labels": { "com.docker.desktop.extension.api.version": api, "v": tag } },
            "rootfs": { "type": "layers", "diff_ids": [] }
        }))
        .unwrap();
        let cd = reg.add_blob("acme/a", &config).to_string();
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd, "size": config.len() },
            "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": Digest::sha256_of(tag.as_bytes()).to_string(), "size": 10 }]
        }))
        .unwrap();
        reg.add_manifest("acme/a", tag, OCI_MANIFEST, &manifest);
    }
    reg
}

fn service(interval: Option<Duration>) -> UpdateService {
    UpdateService {
        client: RegistryClient::new(RegistryOptions::default()).unwrap(),
        interval,
        options: CheckOptions {
            platform: Platform::new("linux", "amd64", None),
            ..Default::default()
        },
    }
}

/// A dashboard with `{registry}/acme/a` 1.0.0 installed; the fixture and
/// the id.
fn installed(registry: &str) -> (Fixture, String) {
    let f = fixture();
    let id = format!("{registry}/acme/a");
    f.add_extension(&id, &[("index.html", "<p>")]);
    (f, id)
}

async fn post(f: &Fixture, session: &str, path: &str) -> Answer {
    f.dashboard_call(Method::POST, path, session).await
}

#[tokio::test]
async fn a_check_shows_in_the_extension_list() {
    let fake = fake_registry();
    let registry = fake.host();
    let (f, id) = installed(&registry);
    f.state.set_updates(service(None));
    let session = f.login().await;
    let list = f.list(&session).await;
    assert_eq!(list[0]["update_available"], serde_json::Value::Null);

    let a = post(&f, &session, "/api/updates/check").await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(
        a.json(),
        serde_json::json!([{
            "id": id, "installed": "1.0.0", "latest": "1.1.0",
            "update_available": true, "blocked_by_api": "2.0.0"
        }])
    );
    let list = f.list(&session).await;
    assert_eq!(list[0]["update_available"], "1.1.0");

    // The update route runs the install transaction; this registry serves no
    // layers, so it fails and the installed version stays.
    let path = format!(
        "/api/extensions/{}/update",
        encode_id(&dockhand_spec::ExtensionId::parse(&id).unwrap())
    );
    let a = post(&f, &session, &path).await;
    assert!(!a.status.is_success(), "{}", a.text());
    assert!(a.json()["message"].as_str().is_some(), "{}", a.text());
    let list = f.list(&session).await;
    assert_eq!(list[0]["version"], "1.0.0");
}

#[tokio::test]
async fn the_periodic_check_fills_update_available_and_stops_with_the_server() {
    let fake = fake_registry();
    let registry = fake.host();
    let (f, _) = installed(&registry);
    f.state
        .set_updates(service(Some(Duration::from_millis(50))));
    let task = tokio::spawn(dockhand_server::updates::run_periodic(f.state.clone()));
    let session = f.login().await;
    let mut found = serde_json::Value::Null;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let list = f.list(&session).await;
        found = list[0]["update_available"].clone();
        if !found.is_null() {
            break;
        }
    }
    assert_eq!(found, "1.1.0");
    f.state.request_shutdown();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the task ends at shutdown")
        .unwrap();
}

#[tokio::test]
async fn without_update_checks_the_routes_say_so() {
    let f = fixture();
    let rec = f.add_extension("127.0.0.1:5000/acme/a", &[("index.html", "<p>")]);
    let session = f.login().await;
    let a = post(&f, &session, "/api/updates/check").await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.text().contains("dockhand update"), "{}", a.text());
    let a = post(
        &f,
        &session,
        &format!("/api/extensions/{}/update", encode_id(&rec.id)),
    )
    .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    // Without a session: refused before anything runs.
    let a = f
        .call(
            Method::POST,
            DASHBOARD,
            "/api/updates/check",
            None,
            Some(DASHBOARD_ORIGIN),
        )
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
}
