//! The catalog and install routes: listing a file catalog, errors as JSON
//! with their status, the allow-list refusing from the dashboard exactly as
//! from the CLI (before any registry request), and the route checks.
#![allow(clippy::unwrap_used)] // test helpers

use std::sync::Arc;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use dockhand_engine::EngineHost;
use dockhand_host::Manager;
use dockhand_host::config::Config;
use dockhand_host::layout::Layout;
use dockhand_oci::registry::{RegistryClient, RegistryOptions};
use dockhand_server::AppState;
use dockhand_server::catalog::CatalogSetup;

use crate::support::{Answer, DASHBOARD, DASHBOARD_ORIGIN, Fixture, PORT};

/// A fixture whose config lists `catalog` (extensions.txt text) and, when
/// given, `[allow]` extensions; the registry at 127.0.0.1:9 never answers.
fn fixture(catalog: &str, allow: Option<&str>) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let layout = Layout {
        home: tmp.path().join("home"),
        runtime: tmp.path().join("run"),
    };
    let mut manager = Manager::open(
        layout,
        EngineHost::Unix(tmp.path().join("no-engine.sock")),
        "docker".into(),
        vec![],
    )
    .unwrap();
    std::fs::write(tmp.path().join("extensions.txt"), catalog).unwrap();
    let mut text = "[[catalog]]\nname = \"team\"\nfile = \"extensions.txt\"\n".to_owned();
    if let Some(allow) = allow {
        text.push_str(&format!("\n[allow]\nextensions = [\"{allow}\"]\n"));
    }
    let path = tmp.path().join("config.toml");
    std::fs::write(&path, &text).unwrap();
    let config = Config::parse(&path, &text).unwrap();
    manager.allow = config.allow_list().unwrap();
    let registry = RegistryClient::new(RegistryOptions {
        retry: dockhand_oci::registry::RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        },
        ..RegistryOptions::default()
    })
    .unwrap();
    let setup = CatalogSetup {
        registry: Some(registry),
        config,
        options: Default::default(),
    };
    let state = AppState::with_catalog(Arc::new(manager), PORT, "/".into(), setup);
    let app = dockhand_server::router(state.clone());
    Fixture { tmp, state, app }
}

async fn post_json(f: &Fixture, path: &str, body: &str, session: &str) -> Answer {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::HOST, DASHBOARD)
        .header(header::COOKIE, session)
        .header(header::ORIGIN, DASHBOARD_ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    f.send(req).await
}

#[tokio::test]
async fn the_list_answers_every_entry_and_filters() {
    let f = fixture("127.0.0.1:9/acme/one\n127.0.0.1:9/acme/two:1.0.0\n", None);
    let s = f.login().await;
    let a = f.get(DASHBOARD, "/api/catalog", Some(&s)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    let items = v["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], "127.0.0.1:9/acme/one");
    assert_eq!(items[1]["reference"], "127.0.0.1:9/acme/two:1.0.0");
    assert_eq!(items[1]["pinned"], true);
    // The registry does not answer: each entry says why.
    assert!(items[0]["error"].as_str().unwrap().contains("127.0.0.1:9"));
    let a = f.get(DASHBOARD, "/api/catalog?q=TWO", Some(&s)).await;
    assert_eq!(a.json()["items"].as_array().unwrap().len(), 1);
    let a = f
        .get(DASHBOARD, "/api/catalog?category=volumes", Some(&s))
        .await;
    assert_eq!(a.json()["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn details_of_an_unlisted_extension_are_404() {
    let f = fixture("127.0.0.1:9/acme/one\n", None);
    let s = f.login().await;
    let a = f
        .get(
            DASHBOARD,
            "/api/catalog/127.0.0.1%3A9%2Facme%2Fnope",
            Some(&s),
        )
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text());
    assert!(a.json()["message"].as_str().unwrap().contains("acme/nope"));
}

#[tokio::test]
async fn install_and_preview_refuse_what_the_allow_list_does_not_list() {
    let f = fixture("127.0.0.1:9/acme/one\n", Some("127.0.0.1:9/acme/one:1.0.0"));
    let s = f.login().await;
    for path in ["/api/install/preview", "/api/install"] {
        let a = post_json(
            &f,
            path,
            r#"{"reference": "127.0.0.1:9/acme/one:2.0.0"}"#,
            &s,
        )
        .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{path}: {}", a.text());
        let msg = a.json()["message"].as_str().unwrap().to_owned();
        assert!(msg.contains("is not allowed by the allow-list"), "{msg}");
        assert!(msg.contains("config.toml"), "{msg}");
        let a = post_json(&f, path, r#"{"reference": "127.0.0.1:9/other/x"}"#, &s).await;
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
    assert!(
        a.json()["message"]
            .as_str()
            .unwrap()
            .contains("dockhand install")
    );
    let a = post_json(&f, "/api/install", r#"{"reference": "Not A Ref"}"#, &s).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    let a = post_json(&f, "/api/install", r#"{"ref": 1}"#, &s).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", a.text());
    assert!(a.json()["message"].is_string());
    // A registry that does not answer: 502 with the registry named.
    let a = post_json(
        &f,
        "/api/install",
        r#"{"reference": "127.0.0.1:9/acme/one:1"}"#,
        &s,
    )
    .await;
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
    let a = f.get(DASHBOARD, "/api/catalog", Some(&s)).await;
    assert_eq!(a.status, StatusCode::SERVICE_UNAVAILABLE, "{}", a.text());
}
