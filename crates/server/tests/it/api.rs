//! The dashboard's extension routes, without an engine.

use axum::http::{Method, StatusCode, header};
use dockhand_server::api::encode_id;

use crate::support::*;

#[tokio::test]
async fn extensions_are_listed_with_slug_and_icon() {
    let f = fixture();
    let rec = f.add_extension("127.0.0.1:5000/acme/a", &[("index.html", "<p>")]);
    let session = f.login().await;
    let a = f.dashboard_get("/api/extensions", &session).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let list = a.json();
    let e = &list[0];
    assert_eq!(e["id"], "127.0.0.1:5000/acme/a");
    assert_eq!(e["version"], "1.0.0");
    assert_eq!(e["enabled"], true);
    assert_eq!(e["ui"]["title"], "Test");
    assert_eq!(e["vm"], serde_json::Value::Null);
    assert_eq!(e["slug"], dockhand_server::slug::slug(&rec.id));
    let icon = e["icon"].as_str().unwrap();
    assert_eq!(icon, "/api/extensions/127.0.0.1%3A5000%2Facme%2Fa/icon");

    let a = f.dashboard_get(icon, &session).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.text(), "<svg/>");
    assert_eq!(a.header(header::CONTENT_TYPE), Some("image/svg+xml"));
    assert_eq!(
        a.header(header::CONTENT_SECURITY_POLICY),
        Some("sandbox; default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'self'")
    );
    assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"));
}

/// An extension's icon is served on the dashboard's origin only when its
/// bytes are an image, whatever its name says, and always sandboxed: an HTML
/// "icon" is refused, a scripted SVG runs nothing (checked in Chromium by the
/// CLI's browser tests).
#[tokio::test]
async fn icons_are_images_only_and_sandboxed() {
    let (f, session) = logged_in().await;
    let cases: [(&str, &[u8], Option<&str>); 5] = [
        (
            "acme/html",
            b"<!doctype html><script>fetch('/api/install')</script>",
            None,
        ),
        ("acme/js", b"alert(document.cookie)", None),
        (
            "acme/png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
            Some("image/png"),
        ),
        (
            "acme/svgscript",
            b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>",
            Some("image/svg+xml"),
        ),
        (
            "acme/gif-named-html",
            b"GIF89a\x01\0\x01\0",
            Some("image/gif"),
        ),
    ];
    for (id, bytes, want) in cases {
        let rec = f.add_extension(id, &[("index.html", "<p>")]);
        // Every name is misleading on purpose: the type comes from the bytes.
        fs_err::write(rec.dir.join("root/icon.svg"), bytes).unwrap();
        let path = format!("/api/extensions/{}/icon", encode_id(&rec.id));
        let a = f.dashboard_get(&path, &session).await;
        match want {
            None => {
                assert_eq!(a.status, StatusCode::UNSUPPORTED_MEDIA_TYPE, "{id}");
                assert!(
                    a.json()["message"].as_str().unwrap().contains("not a png"),
                    "{id}"
                );
            }
            Some(ty) => {
                assert_eq!(a.status, StatusCode::OK, "{id}");
                assert_eq!(a.header(header::CONTENT_TYPE), Some(ty), "{id}");
                let csp = a.header(header::CONTENT_SECURITY_POLICY).unwrap();
                assert!(
                    csp.starts_with(dockhand_server::api::ICON_CSP),
                    "{id}: {csp}"
                );
            }
        }
    }
}

#[tokio::test]
async fn info_names_the_api_version() {
    let (f, session) = logged_in().await;
    let a = f.dashboard_get("/api/info", &session).await;
    assert_eq!(a.status, StatusCode::OK);
    let info = a.json();
    assert_eq!(info["api_version"], "0.4.2");
    assert_eq!(info["version"], env!("CARGO_PKG_VERSION"));
    assert!(
        info["engine"].as_str().unwrap().contains("unreachable"),
        "{info}"
    );
}

#[tokio::test]
async fn unknown_extensions_and_bad_ids() {
    let (f, session) = logged_in().await;
    let post = |path: String| {
        let session = session.clone();
        let f = &f;
        async move { f.dashboard_call(Method::POST, &path, &session).await }
    };
    let a = post("/api/extensions/acme%2Fnone/ticket".into()).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND, "{}", a.text());
    assert!(a.json()["message"].as_str().unwrap().contains("acme/none"));
    let a = post("/api/extensions/Not%20An%20Id/ticket".into()).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    let a = f
        .dashboard_get("/api/extensions/acme%2Fnone/icon", &session)
        .await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = f
        .dashboard_get("/api/extensions/acme%2Fnone/ticket", &session)
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED);
    assert!(a.json()["message"].is_string());
}

#[tokio::test]
async fn logs_of_an_extension_without_backend_are_404() {
    let f = fixture();
    let rec = f.add_extension("acme/a", &[("index.html", "<p>")]);
    let session = f.login().await;
    let path = format!("/api/extensions/{}/logs?tail=5", encode_id(&rec.id));
    let a = f.dashboard_get(&path, &session).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["message"].as_str().unwrap().contains("no backend"));
    let bad = format!("/api/extensions/{}/logs?tail=many", encode_id(&rec.id));
    let a = f.dashboard_get(&bad, &session).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST);
    assert!(
        a.json()["message"].is_string(),
        "errors are JSON: {}",
        a.text()
    );
}

#[tokio::test]
async fn disable_and_enable_answer_the_entry() {
    let f = fixture();
    let rec = f.add_extension("acme/a", &[("index.html", "<p>")]);
    let session = f.login().await;
    let id = encode_id(&rec.id);
    for (verb, enabled) in [("disable", false), ("enable", true)] {
        let path = format!("/api/extensions/{id}/{verb}");
        let a = f.dashboard_call(Method::POST, &path, &session).await;
        assert_eq!(a.status, StatusCode::OK, "{verb}: {}", a.text());
        assert_eq!(a.json()["enabled"], enabled);
        assert_eq!(a.json()["id"], "acme/a");
        assert_eq!(f.state.manager().get(&rec.id).unwrap().enabled, enabled);
    }
}

#[tokio::test]
async fn delete_removes_and_ends_its_sessions() {
    let f = fixture();
    let (rec, host, cookie) = f.add_and_enter("acme/a", &[("index.html", "<p>")]).await;
    let session = f.login().await;
    let path = format!("/api/extensions/{}", encode_id(&rec.id));
    let a = f.dashboard_call(Method::DELETE, &path, &session).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), serde_json::json!({"removed": true}));
    assert!(f.state.manager().state.get(&rec.id).unwrap().is_none());
    let gone = f.get(&host, "/index.html", Some(&cookie)).await;
    assert_eq!(gone.status, StatusCode::MISDIRECTED_REQUEST);
}

/// `GET /api/info` says which engine the dashboard works on (its address as
/// the CLI names it, flavor, version) and its mode, field by field: nothing
/// reachable here, and the real engine when `scripts/deps` started one.
#[tokio::test]
async fn info_says_which_engine_and_which_mode() {
    let (f, session) = logged_in().await;
    let info = f.dashboard_get("/api/info", &session).await.json();
    let status = &info["engine_status"];
    let socket = f.tmp.path().join("no-engine.sock");
    assert_eq!(
        status["host"],
        format!("unix://{}", socket.display()),
        "{info}"
    );
    assert_eq!(status["kind"], "unix");
    assert_eq!(status["reachable"], false);
    assert_eq!(status["mode"], serde_json::Value::Null);
    assert!(
        status["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{info}"
    );

    let test = "info_says_which_engine_and_which_mode";
    let Some(host) = crate::bridge_support::engine_host(test) else {
        return;
    };
    let f = fixture_on(host.clone());
    let session = f.login().await;
    let info = f.dashboard_get("/api/info", &session).await.json();
    let status = &info["engine_status"];
    assert_eq!(status["host"], host.to_string(), "{info}");
    assert_eq!(status["reachable"], true, "{info}");
    let flavor = status["flavor"].as_str().expect("a flavor");
    assert!(["Docker Engine", "Podman"].contains(&flavor), "{info}");
    assert!(
        status["version"].as_str().is_some_and(|v| !v.is_empty()),
        "{info}"
    );
    // The engine of `scripts/deps` shares this machine's files.
    assert_eq!(status["mode"], "local", "{info}");
    assert!(
        status["mode_reason"]
            .as_str()
            .is_some_and(|r| !r.is_empty()),
        "{info}"
    );
    let line = info["engine"].as_str().expect("the one-line engine");
    assert!(
        line.starts_with(flavor) && line.ends_with(&format!("at {host}")),
        "{line}"
    );
}
