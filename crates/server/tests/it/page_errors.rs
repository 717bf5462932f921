//! `POST /.dockhand/api/page/error`: what the page hook of `ddclient.js`
//! reports (an uncaught exception, an unhandled rejection) is acknowledged
//! with `204`, only from the extension's own origin, and lands in the bridge
//! call log as a `page.error` entry when `dockhand dev debug` is on.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use dockhand_host::dev::BridgeLog;
use serde_json::{Value, json};

use crate::bridge_support::Harness;
use crate::support::*;

const ROUTE: &str = "/.dockhand/api/page/error";

#[tokio::test]
async fn reports_are_acknowledged_only_from_the_extension_and_checked() {
    let h = Harness::new().await;
    let report = json!({"type": "error", "message": "TypeError: x is undefined",
        "source": "http://acme-test-ext-0123abcd.localhost:4242/main.js", "line": 1, "column": 2});
    let (status, body) = h.post(ROUTE, report.clone()).await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");

    for origin in [
        None,
        Some("http://localhost:4242"),
        Some("http://evil.example"),
    ] {
        let mut req = Request::post(ROUTE).header("content-type", "application/json");
        if let Some(o) = origin {
            req = req.header("origin", o);
        }
        let (status, _) = h
            .call(req.body(Body::from(report.to_string())).unwrap())
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{origin:?}");
    }
    let (status, body) = h
        .post(ROUTE, json!({"type": "console", "message": "x"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["message"].as_str().unwrap().contains("`console`"),
        "{body}"
    );
    let (status, _) = h.post(ROUTE, json!({"type": "error"})).await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a report without a message"
    );
    let big = "x".repeat(100 * 1024);
    let (status, _) = h
        .post(ROUTE, json!({"type": "error", "message": big}))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn with_debug_on_reports_land_in_the_bridge_call_log() {
    let f = fixture();
    let (rec, host, cookie) = f
        .add_and_enter("acme/pe", &[("index.html", "<p>page</p>")])
        .await;
    let log = BridgeLog::of(&f.state.manager().layout, &rec.id);
    f.set_dev(&rec, None, true);

    let origin = format!("http://{host}");
    let req = Request::builder()
        .method(Method::POST)
        .uri(ROUTE)
        .header(header::HOST, &host)
        .header(header::COOKIE, &cookie)
        .header(header::ORIGIN, &origin)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(
            json!({"type": "unhandledrejection", "message": "ServiceError: backend answered 503",
                "stack": "ServiceError: backend answered 503\n    at main.js:1:2"})
            .to_string(),
        ))
        .unwrap();
    let answer = f.send(req).await;
    assert_eq!(answer.status, StatusCode::NO_CONTENT, "{}", answer.text());

    let lines = log.tail(None).unwrap();
    assert_eq!(lines.len(), 1, "{lines:?}");
    let entry: Value = serde_json::from_str(&lines[0]).unwrap();
    assert_eq!(entry["kind"], "page.error");
    assert_eq!(entry["target"], "ServiceError: backend answered 503");
    assert_eq!(entry["error"], "unhandledrejection");
    assert_eq!(entry["status"], 204);
    assert!(entry["stack"].as_str().unwrap().contains("main.js:1:2"));
}
