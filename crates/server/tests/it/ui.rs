//! Serving an extension's UI: injection, types, headers, never outside its root.

use axum::http::{StatusCode, header};

use crate::support::*;

const TAG: &str = "<script src=\"/.dockhand/ddclient.js\"></script>";

#[tokio::test]
async fn html_gets_ddclient_before_any_script() {
    let f = fixture();
    let rec = f.add_extension(
        "acme/a",
        &[
            (
                "index.html",
                "<!DOCTYPE html><html><head><script src=app.js></script></head></html>",
            ),
            ("bare.html", "<div>no head</div><script>1</script>"),
            ("upper.htm", "<HTML><HEAD lang=x><SCRIPT>1</SCRIPT>"),
            ("doctype.html", "<!doctype html>\n<body>x</body>"),
            ("sub/index.html", "<head></head>sub"),
        ],
    );
    let (host, cookie) = f.enter(&rec.id).await;
    let cases = [
        (
            "/index.html",
            format!("<!DOCTYPE html><html><head>{TAG}<script src=app.js></script></head></html>"),
        ),
        (
            "/",
            format!("<!DOCTYPE html><html><head>{TAG}<script src=app.js></script></head></html>"),
        ),
        (
            "/bare.html",
            format!("{TAG}<div>no head</div><script>1</script>"),
        ),
        (
            "/upper.htm",
            format!("<HTML><HEAD lang=x>{TAG}<SCRIPT>1</SCRIPT>"),
        ),
        (
            "/doctype.html",
            format!("<!doctype html>{TAG}\n<body>x</body>"),
        ),
        ("/sub/", format!("<head>{TAG}</head>sub")),
        ("/sub", format!("<head>{TAG}</head>sub")),
    ];
    for (path, want) in cases {
        let a = f.get(&host, path, Some(&cookie)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text());
        assert_eq!(a.text(), want, "{path}");
        assert_eq!(
            a.header(header::CONTENT_TYPE),
            Some("text/html; charset=utf-8"),
            "{path}"
        );
    }
}

#[tokio::test]
async fn other_files_are_untouched_with_their_type_and_the_headers() {
    let f = fixture();
    let body = "const s = '<head>'; // not HTML";
    let rec = f.add_extension(
        "acme/a",
        &[
            ("index.html", "<p>"),
            ("app.js", body),
            ("style.css", "p{}"),
            ("data.bin", "\0\u{1}"),
        ],
    );
    let (host, cookie) = f.enter(&rec.id).await;
    for (path, ty) in [
        ("/app.js", "text/javascript; charset=utf-8"),
        ("/style.css", "text/css; charset=utf-8"),
        ("/data.bin", "application/octet-stream"),
    ] {
        let a = f.get(&host, path, Some(&cookie)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}");
        assert_eq!(a.header(header::CONTENT_TYPE), Some(ty), "{path}");
        assert!(!a.text().contains(TAG), "{path}");
    }
    let a = f.get(&host, "/app.js", Some(&cookie)).await;
    assert_eq!(a.text(), body);
    assert_eq!(
        a.header(header::CONTENT_SECURITY_POLICY),
        Some("frame-ancestors http://localhost:7411 http://127.0.0.1:7411")
    );
    assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"));
    let missing = f.get(&host, "/nope.js", Some(&cookie)).await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert!(missing.json()["message"].is_string());
    let unknown = f.get(&host, "/.dockhand/nothing", Some(&cookie)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn paths_never_leave_the_ui_root() {
    let f = fixture();
    let rec = f.add_extension("acme/a", &[("index.html", "<p>"), ("ok/in.txt", "in")]);
    let ui = f.ui_dir(&rec);
    // root/icon.svg is beside ui/, outside the UI root; so is the database.
    fs_err::os::unix::fs::symlink("../icon.svg", ui.join("up.svg")).unwrap();
    fs_err::os::unix::fs::symlink("/etc/passwd", ui.join("passwd")).unwrap();
    fs_err::os::unix::fs::symlink("..", ui.join("parent")).unwrap();
    fs_err::os::unix::fs::symlink("ok/in.txt", ui.join("alias.txt")).unwrap();
    let (host, cookie) = f.enter(&rec.id).await;
    for path in [
        "/../icon.svg",
        "/ok/../../icon.svg",
        "/%2e%2e/icon.svg",
        "/%2E%2E/icon.svg",
        "/ok/%2e%2e%2f%2e%2e%2ficon.svg",
        "/..%2ficon.svg",
        "/../../../../dockhand.db",
        "/up.svg",
        "/passwd",
        "/parent/icon.svg",
        "/parent/",
        "/index.html%00.js",
    ] {
        let a = f.get(&host, path, Some(&cookie)).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{path}: {}", a.text());
        assert!(!a.text().contains("<svg"), "{path}");
    }
    let a = f.get(&host, "/alias.txt", Some(&cookie)).await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "a symlink inside the root is fine"
    );
    assert_eq!(a.text(), "in");
    let a = f.get(&host, "/ok/%69n.txt", Some(&cookie)).await;
    assert_eq!(a.text(), "in", "percent-encoded names are decoded");
}

#[tokio::test]
async fn ddclient_js_carries_the_shell_origin() {
    let f = fixture();
    let (_, host, cookie) = f.add_and_enter("acme/a", &[("index.html", "<p>")]).await;
    let a = f.get(&host, "/.dockhand/ddclient.js", Some(&cookie)).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(
        a.header(header::CONTENT_TYPE),
        Some("text/javascript; charset=utf-8")
    );
    assert!(a.text().contains("http://localhost:7411"), "{}", a.text());
    assert!(!a.text().contains("__DOCKHAND_SHELL_ORIGIN__"));
    // Docker Desktop's page environment comes first: the MUI theme globals
    // are defined before `ddClient`, so before any page script.
    let text = a.text();
    let themes = text
        .find("window.__ddMuiV6Themes =")
        .expect("theme globals");
    let client = text.find("window.ddClient = {").expect("ddClient");
    assert!(themes < client);
    assert!(text.contains("window.__ddMuiV5Themes ="));
}

#[tokio::test]
async fn the_dashboard_serves_web_as_it_is() {
    let (f, session) = logged_in().await;
    let a = f.dashboard_get("/ddclient.js", &session).await;
    assert_eq!(a.status, StatusCode::OK);
    assert!(
        a.text().contains("__DOCKHAND_SHELL_ORIGIN__"),
        "not rewritten here"
    );
    assert_eq!(a.header(header::X_CONTENT_TYPE_OPTIONS), Some("nosniff"));
    let a = f.dashboard_get("/index.html", &session).await;
    if a.status == StatusCode::OK {
        assert!(
            !a.text().contains(TAG),
            "nothing is injected into the dashboard"
        );
    } else {
        assert_eq!(a.status, StatusCode::NOT_FOUND);
    }
    let a = f.dashboard_get("/../Cargo.toml", &session).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    let a = f.dashboard_get("/api/nothing", &session).await;
    assert_eq!(a.status, StatusCode::NOT_FOUND);
    assert!(a.json()["message"].is_string());
}
