//! The catalog and install routes: listing a file catalog, errors as JSON
//! with their status, the allow-list refusing from the dashboard exactly as
//! from the CLI (before any registry request), the route checks, and an
//! untagged reference installing the version the catalog offers (from a
//! small registry serving real UI-only images).
#![allow(clippy::unwrap_used)] // test helpers

use std::sync::Arc;

use axum::http::{Method, StatusCode};
use dockhand_server::AppState;
use dockhand_server::catalog::CatalogSetup;
use dockhand_testkit::registry::FakeRegistry;

use crate::support::{
    DASHBOARD, Fixture, PORT, catalog_config, client_once, host_arch, manager, post_json,
};

/// A fixture whose config lists `catalog` (extensions.txt text) and, when
/// given, `[allow]` extensions; the registry at 127.0.0.1:9 never answers.
fn fixture(catalog: &str, allow: Option<&str>) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let mut manager = manager(tmp.path(), None);
    let extra = allow
        .map(|allow| format!("\n[allow]\nextensions = [\"{allow}\"]\n"))
        .unwrap_or_default();
    let config = catalog_config(tmp.path(), catalog, &extra);
    manager.allow = config.allow_list().unwrap();
    let setup = CatalogSetup {
        registry: Some(client_once()),
        config,
        options: Default::default(),
    };
    let state = AppState::with_catalog(Arc::new(manager), PORT, "/".into(), setup);
    let app = dockhand_server::router(state.clone());
    Fixture::new(tmp, state, app)
}

#[tokio::test]
async fn the_list_answers_every_entry_and_filters() {
    let f = fixture("127.0.0.1:9/acme/one\n127.0.0.1:9/acme/two:1.0.0\n", None);
    let s = f.login().await;
    let a = f.dashboard_get("/api/catalog", &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], "127.0.0.1:9/acme/one");
    assert_eq!(items[1]["reference"], "127.0.0.1:9/acme/two:1.0.0");
    assert_eq!(items[1]["pinned"], true);
    // The registry does not answer: each entry says why.
    assert!(items[0]["error"].as_str().unwrap().contains("127.0.0.1:9"));
    let a = f.dashboard_get("/api/catalog?q=TWO", &s).await;
    assert_eq!(a.json()["items"].as_array().unwrap().len(), 1);
    let a = f.dashboard_get("/api/catalog?category=volumes", &s).await;
    assert_eq!(a.json()["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn details_of_an_unlisted_extension_are_404() {
    let f = fixture("127.0.0.1:9/acme/one\n", None);
    let s = f.login().await;
    let a = f
        .dashboard_get("/api/catalog/127.0.0.1%3A9%2Facme%2Fnope", &s)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text());
    assert!(a.json()["message"].as_str().unwrap().contains("acme/nope"));
}

#[tokio::test]
async fn install_and_preview_refuse_what_the_allow_list_does_not_list() {
    let f = fixture("127.0.0.1:9/acme/one\n", Some("127.0.0.1:9/acme/one:1.0.0"));
    let s = f.login().await;
    // The install route takes only pinned references (what a preview answered).
    let pin = format!("@sha256:{}", "a".repeat(64));
    for (path, pin) in [("/api/install/preview", ""), ("/api/install", pin.as_str())] {
        let body = format!(r#"{{"reference": "127.0.0.1:9/acme/one:2.0.0{pin}"}}"#);
        let a = post_json(&f, path, &body, &s).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.text());
        let msg = a.json()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains("is not allowed by the allow-list"), "{msg}");
        assert!(msg.contains("config.toml"), "{msg}");
        let body = format!(r#"{{"reference": "127.0.0.1:9/other/x{pin}"}}"#);
        let a = post_json(&f, path, &body, &s).await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.text());
    }
    assert!(f.state.manager().state.list().unwrap().is_empty());
}

#[tokio::test]
async fn install_takes_registry_references_only_and_says_what_is_wrong() {
    let f = fixture("127.0.0.1:9/acme/one\n", None);
    let s = f.login().await;
    let a = post_json(
        &f,
        "/api/install",
        r#"{"reference": "engine:acme/one"}"#,
        &s,
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(a.message().contains("dockhand install"), "{}", a.text());
    let a = post_json(&f, "/api/install", r#"{"reference": "Not A Ref"}"#, &s).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = post_json(&f, "/api/install", r#"{"ref": 1}"#, &s).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    assert!(a.json()["message"].is_string());
    // Only a pinned reference (what a preview answered) is installed.
    let a = post_json(
        &f,
        "/api/install",
        r#"{"reference": "127.0.0.1:9/acme/one:1"}"#,
        &s,
    )
    .await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    // A registry that does not answer: 502 with the registry named.
    let body = format!(
        r#"{{"reference": "127.0.0.1:9/acme/one:1@sha256:{}"}}"#,
        "a".repeat(64)
    );
    let a = post_json(&f, "/api/install", &body, &s).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY, "{}", a.text());
}

#[tokio::test]
async fn the_routes_need_a_session_and_the_origin() {
    let f = fixture("127.0.0.1:9/acme/one\n", None);
    let a = f.get(DASHBOARD, "/api/catalog", None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let s = f.login().await;
    let a = f
        .call(Method::POST, DASHBOARD, "/api/install", Some(&s), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn without_a_registry_client_the_routes_say_so() {
    let f = crate::support::fixture();
    let s = f.login().await;
    let a = f.dashboard_get("/api/catalog", &s).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text());
}

/// A registry serving `acme/ui` as UI-only extension images tagged 1.0.0,
/// 1.1.0 (both for API >= 0.3.0), 1.2.0 (needs API 9) and `latest`, for
/// this host's platform; returns its address.
fn ui_registry() -> FakeRegistry {
    let arch = host_arch();
    let reg = FakeRegistry::start();
    for tag in ["1.0.0", "1.1.0", "1.2.0", "latest"] {
        let api = if tag == "1.2.0" { ">= 9" } else { ">= 0.3.0" };
        let metadata =
            br#"{"ui":{"dashboard-tab":{"title":"UI","root":"/ui","src":"index.html"}}}"#;
        let page = format!("<html><body>version {tag}</body></html>");
        let digest = reg.files_image(
            "acme/ui",
            &arch,
            &[
                ("org.opencontainers.image.title", "UI"),
                ("org.opencontainers.image.vendor", "Acme"),
                ("com.docker.desktop.extension.api.version", api),
                ("org.opencontainers.image.version", tag),
            ],
            &[
                ("ui/", &b""[..]),
                ("metadata.json", &metadata[..]),
                ("ui/index.html", page.as_bytes()),
            ],
        );
        reg.tag("acme/ui", tag, &digest);
    }
    reg
}

#[tokio::test]
async fn an_untagged_reference_installs_the_version_the_catalog_offers() {
    let fake = ui_registry();
    let addr = fake.host();
    let repo = format!("{addr}/acme/ui");
    let f = fixture(&format!("{repo}\n"), None);
    let s = f.login().await;

    // The catalog offers 1.1.0: 1.2.0 needs API 9, latest is not a version.
    let a = f.dashboard_get("/api/catalog", &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let item = a.json()["items"][0].clone();
    assert_eq!(item["latest"], "1.1.0", "{item}");
    assert_eq!(item["reference"], format!("{repo}:1.1.0"));

    // Posting the repository without a tag takes that same version, pinned.
    let body = serde_json::json!({ "reference": repo }).to_string();
    let a = post_json(&f, "/api/install/preview", &body, &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["ui_tab"], "UI");
    let pinned = a.json()["reference"].as_str().unwrap().to_owned();
    assert!(
        pinned.starts_with(&format!("{repo}:1.1.0@sha256:")),
        "{pinned}"
    );
    let body = serde_json::json!({ "reference": pinned }).to_string();
    let a = post_json(&f, "/api/install", &body, &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["version"], "1.1.0", "{}", a.text());
    assert_eq!(a.json()["changed"], true);
    let record = &f.state.manager().state.list().unwrap()[0];
    assert_eq!(record.source, pinned);
    let a = f.dashboard_get("/api/catalog", &s).await;
    assert_eq!(a.json()["items"][0]["installed"], "1.1.0");
    // What the catalog offers, tagged, is the same image: nothing to do.
    let tagged = serde_json::json!({ "reference": item["reference"] }).to_string();
    let a = post_json(&f, "/api/install/preview", &tagged, &s).await;
    assert_eq!(a.json()["installed"], true, "{}", a.text());
}

#[tokio::test]
async fn an_untagged_reference_is_refused_as_a_tagged_one_is() {
    // Not on the allow-list: refused before the (silent) registry is asked.
    let f = fixture("127.0.0.1:9/acme/one\n", Some("127.0.0.1:9/acme/one:1.0.0"));
    let s = f.login().await;
    for (reference, status, needle) in [
        (
            "127.0.0.1:9/other/x",
            StatusCode::FORBIDDEN,
            "is not listed",
        ),
        // Listed, but the registry does not answer: 502 naming it.
        (
            "127.0.0.1:9/acme/one",
            StatusCode::BAD_GATEWAY,
            "cannot list the versions of 127.0.0.1:9/acme/one",
        ),
    ] {
        let body = format!(r#"{{"reference": "{reference}"}}"#);
        let a = post_json(&f, "/api/install/preview", &body, &s).await;
        assert_eq!(a.status, status, "{reference}: {}", a.text());
        assert!(a.message().contains(needle), "{reference}: {}", a.text());
    }
}
