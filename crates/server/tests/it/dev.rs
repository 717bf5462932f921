//! Dev mode: an extension's tab from a dev server through its own origin,
//! and the bridge call log.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use dockhand_host::dev::BridgeLog;
use dockhand_host::state::ExtensionRecord;
use futures_util::{SinkExt as _, StreamExt as _};
use http_body_util::BodyExt as _;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tower::ServiceExt as _;

use crate::dev_server::{DevServer, PAGE, SCRIPT};
use crate::support::*;

const TAG: &str = "<script src=\"/.dockhand/ddclient.js\"></script>";

/// An installed extension whose tab comes from `dev`; its host and cookie.
async fn in_dev_mode(f: &Fixture, dev: &DevServer) -> (ExtensionRecord, String, String) {
    let rec = f.add_extension("acme/dev", &[("index.html", "<p>installed</p>")]);
    f.set_dev(&rec, Some(&dev.url("/")), false);
    let (host, cookie) = f.enter(&rec.id).await;
    (rec, host, cookie)
}

fn origin_of(host: &str) -> String {
    format!("http://{host}")
}

#[tokio::test]
async fn paths_queries_bodies_and_headers_reach_the_dev_server() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (_, host, cookie) = in_dev_mode(&f, &dev).await;
    let origin = origin_of(&host);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/echo?a=1&b=%20x")
        .header(header::HOST, &host)
        .header(header::COOKIE, format!("{cookie}; theme=dark"))
        .header(header::ORIGIN, &origin)
        .header(header::REFERER, format!("{origin}/page"))
        .header(header::AUTHORIZATION, "Bearer secret")
        .header(header::ACCEPT_ENCODING, "gzip, br")
        .header("x-custom", "kept")
        .body(Body::from("the body"))
        .unwrap();
    let a = f.send(req).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let echo = a.json();
    assert_eq!(echo["method"], "POST");
    assert_eq!(echo["uri"], "/echo?a=1&b=%20x");
    assert_eq!(echo["body"], "the body");
    assert_eq!(
        echo["host"],
        dev.addr.to_string(),
        "Host is the dev server's"
    );
    assert_eq!(
        echo["cookie"], "theme=dark",
        "dockhand's cookie never leaves"
    );
    assert_eq!(echo["authorization"], "");
    assert_eq!(echo["accept_encoding"], "identity");
    assert_eq!(echo["origin"], dev.url(""));
    assert_eq!(echo["referer"], dev.url("/page"));
    assert_eq!(echo["forwarded_host"], host);
    assert_eq!(echo["custom"], "kept");
}

#[tokio::test]
async fn html_gets_ddclient_and_other_files_are_untouched() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (_, host, cookie) = in_dev_mode(&f, &dev).await;
    let a = f.get(&host, "/", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.text(),
        PAGE.replacen("<head>", &format!("<head>{TAG}"), 1)
    );
    assert!(
        a.header(header::CONTENT_SECURITY_POLICY)
            .unwrap()
            .contains("frame-ancestors")
    );

    let js = f.get(&host, "/app.js", Some(&cookie)).await;
    assert_eq!(js.status, StatusCode::OK);
    assert_eq!(js.text(), SCRIPT, "not HTML: byte for byte");
    assert_eq!(js.header(header::CONTENT_TYPE), Some("text/javascript"));

    // HTML compressed although identity was asked for: undone, then injected.
    let gz = f.get(&host, "/gz", Some(&cookie)).await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(
        gz.text(),
        format!("<html><head>{TAG}</head><body>zipped</body></html>")
    );
    assert!(gz.header(header::CONTENT_ENCODING).is_none());

    // A 304 stays empty.
    let req = Request::builder()
        .uri("/cached.html")
        .header(header::HOST, &host)
        .header(header::COOKIE, &cookie)
        .header(header::IF_NONE_MATCH, "\"v1\"")
        .body(Body::empty())
        .unwrap();
    let a = f.send(req).await;
    assert_eq!(a.status, StatusCode::NOT_MODIFIED);
    assert!(a.body.is_empty(), "{}", a.text());
    let a = f.get(&host, "/cached.html", Some(&cookie)).await;
    assert!(a.text().contains(TAG));
    let head = f.call(Method::HEAD, &host, "/", Some(&cookie), None).await;
    assert_eq!(head.status, StatusCode::OK);

    // The dev server's own 404 passes through.
    let missing = f.get(&host, "/nope.js", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.text(), "dev server: no such file");
}

#[tokio::test]
async fn bridge_paths_stay_dockhands() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (rec, host, cookie) = in_dev_mode(&f, &dev).await;
    let before = dev.hits();
    let info = f.get(&host, "/.dockhand/api/info", Some(&cookie)).await;
    assert_eq!(info.status, StatusCode::OK);
    assert_eq!(info.json()["extension"], rec.id.as_str());
    let js = f.get(&host, "/.dockhand/ddclient.js", Some(&cookie)).await;
    assert_eq!(js.status, StatusCode::OK);
    assert!(js.text().contains("ddClient"));
    let other = f.get(&host, "/.dockhand/other", Some(&cookie)).await;
    assert_eq!(other.status, StatusCode::NOT_FOUND);
    assert_eq!(dev.hits(), before, "none of these reached the dev server");
}

#[tokio::test]
async fn the_tab_opens_at_the_dev_urls_path() {
    let dev = DevServer::start().await;
    let f = fixture();
    let rec = f.add_extension("acme/dev", &[("index.html", "<p>installed</p>")]);
    f.set_dev(&rec, Some(&dev.url("/app/?v=1")), false);
    let session = f.login().await;
    let (host, path) = f.ticket(&session, &rec.id).await;
    let a = f.get(&host, &path, None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    assert_eq!(a.header(header::LOCATION), Some("/app/?v=1"));
    let cookie = a.cookie();
    let page = f.get(&host, "/app/?v=1", Some(&cookie)).await;
    assert!(page.text().contains(TAG), "{}", page.text());
}

#[tokio::test]
async fn sessions_host_and_origin_are_still_checked() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (_, host, cookie) = in_dev_mode(&f, &dev).await;
    let before = dev.hits();
    assert_eq!(
        f.get(&host, "/", None).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        f.get(&host, "/", Some("dockhand_ext=forged")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let other = f.add_extension("acme/other", &[("index.html", "x")]);
    f.state.forget_records();
    let (_, other_cookie) = f.enter(&other.id).await;
    assert_eq!(
        f.get(&host, "/", Some(&other_cookie)).await.status,
        StatusCode::UNAUTHORIZED,
        "another extension's cookie"
    );
    assert_eq!(
        f.get("evil.example:7411", "/", Some(&cookie)).await.status,
        StatusCode::MISDIRECTED_REQUEST
    );
    for origin in [
        None,
        Some("http://evil.example"),
        Some("http://localhost:7411"),
    ] {
        let a = f
            .call(Method::POST, &host, "/echo", Some(&cookie), origin)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin:?}");
    }
    assert_eq!(dev.hits(), before, "nothing refused reached the dev server");
}

#[tokio::test]
async fn climbing_paths_never_reach_the_dev_server() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (_, host, cookie) = in_dev_mode(&f, &dev).await;
    let before = dev.hits();
    for path in [
        "/../etc/passwd",
        "/a/../../etc/passwd",
        "/%2e%2e/etc/passwd",
        "/%2E%2E%2Fetc%2Fpasswd",
        "/a/%252e%252e/%252e%252e/etc/passwd",
        "/..%5c..%5cwindows",
    ] {
        let a = f.get(&host, path, Some(&cookie)).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{path}: {}", a.text());
    }
    // `//host` stays a path on the dev server.
    let a = f.get(&host, "//evil.example/echo", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert_eq!(a.text(), "dev server: no such file");
    assert_eq!(dev.hits(), before + 1);
}

#[tokio::test]
async fn redirects_on_the_dev_server_stay_on_the_extensions_origin() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (_, host, cookie) = in_dev_mode(&f, &dev).await;
    let a = f.get(&host, "/redirect", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::FOUND);
    assert_eq!(a.header(header::LOCATION), Some("/echo?from=redirect"));
}

#[tokio::test]
async fn a_dev_server_that_is_down_gives_a_502_page() {
    let f = fixture();
    let rec = f.add_extension("acme/dev", &[("index.html", "<p>installed</p>")]);
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", closed.local_addr().unwrap());
    drop(closed);
    f.set_dev(&rec, Some(&url), false);
    let (host, cookie) = f.enter(&rec.id).await;
    let a = f.get(&host, "/", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert!(
        a.header(header::CONTENT_TYPE)
            .unwrap()
            .starts_with("text/html")
    );
    let page = a.text();
    assert!(page.contains(&url), "{page}");
    assert!(page.contains("dockhand dev reset acme/dev"), "{page}");
    // The bridge still answers.
    let info = f.get(&host, "/.dockhand/api/info", Some(&cookie)).await;
    assert_eq!(info.status, StatusCode::OK);
}

#[tokio::test]
async fn endless_answers_are_bounded() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (_, host, cookie) = in_dev_mode(&f, &dev).await;
    // HTML is read to inject: it stops at the limit with a 502.
    let a = tokio::time::timeout(
        Duration::from_secs(60),
        f.get(&host, "/huge.html", Some(&cookie)),
    )
    .await
    .expect("the HTML limit ends it");
    assert_eq!(a.status, StatusCode::BAD_GATEWAY);
    assert!(a.text().contains("larger than 16 MiB"), "{}", a.text());
    // Anything else streams: read some, then hang up.
    let req = Request::builder()
        .uri("/endless.bin")
        .header(header::HOST, &host)
        .header(header::COOKIE, &cookie)
        .body(Body::empty())
        .unwrap();
    let r = f.app.clone().oneshot(req).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let mut body = r.into_body();
    let mut got = 0;
    while got < 8 << 20 {
        let frame = body.frame().await.unwrap().unwrap();
        got += frame.data_ref().map_or(0, |d| d.len());
    }
    drop(body);
    // The server carries on.
    let page = f.get(&host, "/", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
}

#[tokio::test]
async fn reset_brings_back_the_installed_ui() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (rec, host, cookie) = in_dev_mode(&f, &dev).await;
    assert!(
        f.get(&host, "/", Some(&cookie))
            .await
            .text()
            .contains("dev v1")
    );
    assert!(f.state.manager().state.reset_dev_settings(&rec.id).unwrap());
    f.state.forget_records();
    let a = f.get(&host, "/", Some(&cookie)).await;
    assert_eq!(a.text(), format!("{TAG}<p>installed</p>"));
}

#[tokio::test]
async fn the_dashboard_marks_extensions_in_dev_mode() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (rec, _, _) = in_dev_mode(&f, &dev).await;
    let plain = f.add_extension("acme/plain", &[("index.html", "x")]);
    let session = f.login().await;
    let list = f.list(&session).await;
    let by_id = |id: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|e| e["id"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_id(rec.id.as_str())["dev"]["ui_source"], dev.url("/"));
    assert_eq!(by_id(rec.id.as_str())["dev"]["debug"], false);
    assert!(by_id(plain.id.as_str())["dev"].is_null());
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(ws: &mut Ws) -> serde_json::Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("a message within 10 s")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(t) = msg {
            return serde_json::from_str(t.as_str()).unwrap();
        }
    }
}

#[tokio::test]
async fn websockets_pass_through_both_ways_for_hot_reload() {
    let dev = DevServer::start().await;
    let f = fixture();
    let (_, host, cookie) = in_dev_mode(&f, &dev).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = f.app.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let connect = |cookie: Option<String>, origin: String| {
        let host = host.clone();
        async move {
            let mut req = format!("ws://{addr}/ws").into_client_request().unwrap();
            let h = req.headers_mut();
            h.insert("host", host.parse().unwrap());
            h.insert("origin", origin.parse().unwrap());
            if let Some(c) = cookie {
                h.insert("cookie", c.parse().unwrap());
            }
            tokio_tungstenite::connect_async(req).await
        }
    };
    // Refused as any other request: no cookie, or a foreign Origin.
    assert!(connect(None, origin_of(&host)).await.is_err());
    assert!(
        connect(Some(cookie.clone()), "http://evil.example".into())
            .await
            .is_err()
    );

    let (mut ws, _) = connect(Some(cookie.clone()), origin_of(&host))
        .await
        .unwrap();
    assert_eq!(next_json(&mut ws).await["type"], "connected");
    fs_err::write(&dev.watched, "v2").unwrap();
    let update = next_json(&mut ws).await;
    assert_eq!(update["type"], "update");
    assert_eq!(update["content"], "v2");
    ws.send(Message::text("hello")).await.unwrap();
    assert_eq!(next_json(&mut ws).await["echo"], "hello");
    ws.close(None).await.unwrap();
}

async fn post_json(
    f: &Fixture,
    host: &str,
    cookie: &str,
    path: &str,
    body: serde_json::Value,
) -> Answer {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::HOST, host)
        .header(header::COOKIE, cookie)
        .header(header::ORIGIN, origin_of(host))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    f.send(req).await
}

#[tokio::test]
async fn debug_logs_bridge_calls_without_secrets() {
    let f = fixture();
    let (rec, host, cookie) = f
        .add_and_enter("acme/dbg", &[("index.html", "<p>installed</p>")])
        .await;
    let log = BridgeLog::of(&f.state.manager().layout, &rec.id);

    // Off: nothing is written.
    f.get(&host, "/.dockhand/api/info", Some(&cookie)).await;
    assert!(!log.path().exists());

    f.set_dev(&rec, None, true);
    let info = f.get(&host, "/.dockhand/api/info", Some(&cookie)).await;
    assert_eq!(info.status, StatusCode::OK);
    let exec = post_json(
        &f,
        &host,
        &cookie,
        "/.dockhand/api/docker/exec",
        serde_json::json!({"cmd": "ps", "args": ["-a", "--format", "{{.Names}}"], "options": {"env": {"API_TOKEN": "hunter2"}}}),
    )
    .await;
    let status = exec.status.as_u16();
    // The installed UI is still served (no ui_source).
    assert_eq!(
        f.get(&host, "/", Some(&cookie)).await.text(),
        format!("{TAG}<p>installed</p>")
    );

    let lines = log.tail(None).unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    let text = lines.join("\n");
    assert!(!text.contains("hunter2"), "{text}");
    assert!(!text.contains(cookie.split('=').nth(1).unwrap()), "{text}");
    let info: serde_json::Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(info["kind"], "info");
    assert_eq!(info["status"], 200);
    assert!(info["bytes_out"].as_u64().unwrap() > 10);
    let exec: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(exec["kind"], "docker.cli.exec");
    assert_eq!(exec["target"], "ps");
    assert_eq!(
        exec["argv"],
        serde_json::json!(["-a", "--format", "{{.Names}}"])
    );
    assert_eq!(exec["env"], serde_json::json!(["API_TOKEN"]));
    assert_eq!(exec["status"], status);
    assert!(exec["duration_ms"].as_f64().is_some());
    assert!(exec["ts"].as_str().unwrap().ends_with('Z'));

    // The dashboard shows it.
    let session = f.login().await;
    let enc = dockhand_server::api::encode_id(&rec.id);
    let a = f
        .dashboard_get(
            &format!("/api/extensions/{enc}/bridge-log?tail=1"),
            &session,
        )
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let v = a.json();
    assert_eq!(v["debug"], true);
    assert_eq!(v["entries"].as_array().unwrap().len(), 1);
    assert_eq!(v["entries"][0]["kind"], "docker.cli.exec");
    let missing = f
        .dashboard_get("/api/extensions/acme%2Fmissing/bridge-log", &session)
        .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_streaming_exec_socket_still_upgrades_when_logged() {
    let f = fixture();
    let rec = f.add_extension("acme/dbg", &[("index.html", "<p>installed</p>")]);
    f.set_dev(&rec, None, true);
    let (host, cookie) = f.enter(&rec.id).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = f.app.clone();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let mut req = format!("ws://{addr}/.dockhand/api/exec/ws")
        .into_client_request()
        .unwrap();
    let h = req.headers_mut();
    h.insert("host", host.parse().unwrap());
    h.insert("origin", origin_of(&host).parse().unwrap());
    h.insert("cookie", cookie.parse().unwrap());
    let (mut ws, _) = tokio_tungstenite::connect_async(req).await.unwrap();
    ws.send(Message::text(
        serde_json::json!({"kind": "host", "cmd": "nope", "args": []}).to_string(),
    ))
    .await
    .unwrap();
    let answer = next_json(&mut ws).await;
    assert!(answer["error"].is_string(), "{answer}");
    let log = BridgeLog::of(&f.state.manager().layout, &rec.id);
    let lines = log.tail(None).unwrap();
    let entry: serde_json::Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(entry["kind"], "exec.stream");
    assert_eq!(entry["status"], 101);
}
