//! Sessions, tickets, the Host allow-list and the Origin check.

use axum::http::{Method, StatusCode, header};
use dockhand_server::api::encode_id;

use crate::support::*;

#[tokio::test]
async fn without_a_cookie_everything_is_401() {
    let f = fixture();
    let rec = f.add_extension("acme/a", &[("index.html", "<p>a")]);
    for path in [
        "/",
        "/api/extensions",
        "/api/info",
        "/ddclient.js",
        "/nothing",
    ] {
        let a = f.get(DASHBOARD, path, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}: {}", a.text());
        assert!(
            a.json()["message"]
                .as_str()
                .unwrap()
                .contains("dockhand serve")
        );
    }
    let a = f
        .dashboard_get("/api/extensions", "dockhand_session=forged")
        .await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    let host = ext_host(&rec.id);
    for path in [
        "/",
        "/index.html",
        "/.dockhand/ddclient.js",
        "/.dockhand/api/info",
    ] {
        let a = f.get(&host, path, None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{path}: {}", a.text());
    }
}

#[tokio::test]
async fn foreign_hosts_are_421() {
    let f = fixture();
    let rec = f.add_extension("acme/a", &[("index.html", "<p>a")]);
    let session = f.login().await;
    let slug = dockhand_server::slug::slug(&rec.id);
    for host in [
        "evil.com:7411".to_owned(),
        "localhost:7412".to_owned(),
        "localhost".to_owned(),
        "0.0.0.0:7411".to_owned(),
        "other-12345678.localhost:7411".to_owned(),
        format!("{slug}.localhost:7412"),
        format!("{slug}.evil.com:7411"),
    ] {
        let a = f.get(&host, "/api/extensions", Some(&session)).await;
        assert_eq!(a.status, StatusCode::MISDIRECTED_REQUEST, "{host}");
        assert!(a.json()["message"].is_string());
    }
    for host in ["127.0.0.1:7411", "[::1]:7411", "LOCALHOST:7411"] {
        // Known hosts, but the cookie was set for localhost only: 401, not 421.
        let a = f.get(host, "/api/extensions", None).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED, "{host}");
    }
}

#[tokio::test]
async fn state_changing_requests_need_the_exact_origin() {
    let f = fixture();
    let rec = f.add_extension("acme/a", &[("index.html", "<p>a")]);
    let session = f.login().await;
    let path = format!("/api/extensions/{}/ticket", encode_id(&rec.id));
    for origin in [
        Some("http://evil.com"),
        Some("http://localhost:7412"),
        Some("https://localhost:7411"),
        Some("null"),
        None,
    ] {
        let a = f
            .call(Method::POST, DASHBOARD, &path, Some(&session), origin)
            .await;
        assert_eq!(a.status, StatusCode::FORBIDDEN, "{origin:?}");
    }
    let a = f.dashboard_call(Method::POST, &path, &session).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());

    // The extension origin: its own origin only, never the dashboard's.
    let (host, cookie) = f.enter(&rec.id).await;
    let a = f
        .call(
            Method::POST,
            &host,
            "/.dockhand/api/x",
            Some(&cookie),
            Some(DASHBOARD_ORIGIN),
        )
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let a = f
        .call(Method::DELETE, &host, "/index.html", Some(&cookie), None)
        .await;
    assert_eq!(a.status, StatusCode::FORBIDDEN);
    let own = format!("http://{host}");
    let a = f
        .call(
            Method::POST,
            &host,
            "/index.html",
            Some(&cookie),
            Some(&own),
        )
        .await;
    assert_eq!(a.status, StatusCode::METHOD_NOT_ALLOWED, "{}", a.text());
}

#[tokio::test]
async fn websocket_upgrades_need_the_origin_too() {
    let (f, session) = logged_in().await;
    let req = axum::http::Request::builder()
        .uri("/api/containers/x/terminal")
        .header(header::HOST, DASHBOARD)
        .header(header::COOKIE, &session)
        .header(header::UPGRADE, "websocket")
        .header(header::ORIGIN, "http://evil.com")
        .body(axum::body::Body::empty())
        .unwrap();
    assert_eq!(f.send(req).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn the_token_becomes_a_strict_cookie_and_a_redirect() {
    let f = fixture();
    let token = f.state.auth().issue_startup_token().unwrap();
    let a = f.get(DASHBOARD, &format!("/?token={token}"), None).await;
    assert_eq!(a.status, StatusCode::SEE_OTHER);
    // The page key rides in the fragment, which no server receives.
    let key = a
        .header(header::LOCATION)
        .and_then(|l| l.strip_prefix("/#key="))
        .unwrap()
        .to_owned();
    assert_eq!(key.len(), 64);
    let set = a.header(header::SET_COOKIE).unwrap();
    let value = a.cookie();
    assert!(!value.contains(&key), "the key is not the cookie");
    f.remember_key(&value, &key);
    assert!(
        value.starts_with("dockhand_session=") && value.len() > 40,
        "{set}"
    );
    assert_eq!(
        set.strip_prefix(&value),
        Some("; HttpOnly; SameSite=Strict; Path=/")
    );
    assert_ne!(
        value,
        format!("dockhand_session={token}"),
        "the token is not the session"
    );

    let a = f.dashboard_get("/api/extensions", &value).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json(), serde_json::json!([]));

    // Used once: a second browser gets 401; the logged-in one is sent home.
    let again = f.get(DASHBOARD, &format!("/?token={token}"), None).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.header(header::SET_COOKIE).is_none());
    let reload = f.dashboard_get(&format!("/?token={token}"), &value).await;
    assert_eq!(reload.status, StatusCode::SEE_OTHER);
    assert!(reload.header(header::SET_COOKIE).is_none());
    let wrong = f.get(DASHBOARD, "/?token=0000", None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_ticket_opens_one_extension_once() {
    let f = fixture();
    let a = f.add_extension("acme/a", &[("index.html", "<p>a")]);
    let b = f.add_extension("127.0.0.1:5000/acme/b", &[("index.html", "<p>b")]);
    let session = f.login().await;

    let (host, path) = f.ticket(&session, &a.id).await;
    assert_eq!(host, ext_host(&a.id));
    assert!(path.starts_with("/.dockhand/enter?ticket="), "{path}");

    // A's ticket on B's origin is refused, and spent.
    let on_b = f.get(&ext_host(&b.id), &path, None).await;
    assert_eq!(on_b.status, StatusCode::UNAUTHORIZED, "{}", on_b.text());
    assert!(on_b.header(header::SET_COOKIE).is_none());
    let spent = f.get(&host, &path, None).await;
    assert_eq!(spent.status, StatusCode::UNAUTHORIZED);

    // A fresh one works once, keeps the query string, sets the cookie.
    let (host, path) = f.ticket(&session, &a.id).await;
    let entered = f.get(&host, &format!("{path}&theme=dark"), None).await;
    assert_eq!(entered.status, StatusCode::SEE_OTHER, "{}", entered.text());
    assert_eq!(
        entered.header(header::LOCATION),
        Some("/index.html?theme=dark")
    );
    let set = entered.header(header::SET_COOKIE).unwrap();
    let cookie = entered.cookie();
    assert!(cookie.starts_with("dockhand_ext="));
    assert_eq!(
        set.strip_prefix(&cookie),
        Some("; HttpOnly; SameSite=None; Secure; Partitioned; Path=/")
    );
    let twice = f.get(&host, &path, None).await;
    assert_eq!(twice.status, StatusCode::UNAUTHORIZED);

    // The cookie opens A's origin only.
    let page = f.get(&host, "/index.html", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    let on_b = f.get(&ext_host(&b.id), "/index.html", Some(&cookie)).await;
    assert_eq!(on_b.status, StatusCode::UNAUTHORIZED);
    let on_dashboard = f.dashboard_get("/api/extensions", &cookie).await;
    assert_eq!(on_dashboard.status, StatusCode::UNAUTHORIZED);
    // And the dashboard's cookie opens no extension.
    let with_session = f.get(&host, "/index.html", Some(&session)).await;
    assert_eq!(with_session.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn tickets_need_a_dashboard_session() {
    let f = fixture();
    let a = f.add_extension("acme/a", &[("index.html", "<p>a")]);
    let path = format!("/api/extensions/{}/ticket", encode_id(&a.id));
    let r = f
        .call(Method::POST, DASHBOARD, &path, None, Some(DASHBOARD_ORIGIN))
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    let none = f.get(&ext_host(&a.id), "/.dockhand/enter", None).await;
    assert_eq!(none.status, StatusCode::UNAUTHORIZED);
}

/// Cookies are shared by every localhost port: a dev server or an
/// extension's published port opened in the browser receives
/// `dockhand_session`. Replayed without the page key (which only the
/// dashboard's page has, from the login redirect's fragment) it opens
/// nothing: every API call is 403, installs included.
#[tokio::test]
async fn a_replayed_cookie_without_the_page_key_is_refused() {
    let f = fixture();
    let rec = f.add_extension("acme/a", &[("index.html", "<p>a")]);
    let session = f.login().await;
    let build = |method: Method, path: &str, key: Option<&str>| {
        let mut b = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, DASHBOARD)
            .header(header::COOKIE, &session)
            .header(header::ORIGIN, DASHBOARD_ORIGIN);
        if let Some(k) = key {
            b = b.header(dockhand_server::auth::PAGE_KEY_HEADER, k);
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    let enc = encode_id(&rec.id);
    for (method, path) in [
        (Method::GET, "/api/extensions".to_owned()),
        (Method::GET, "/api/info".to_owned()),
        (Method::POST, "/api/install".to_owned()),
        (Method::POST, format!("/api/extensions/{enc}/ticket")),
        (Method::DELETE, format!("/api/extensions/{enc}")),
    ] {
        for key in [None, Some("0".repeat(64).as_str()), Some(session.as_str())] {
            let a = f.send_as_is(build(method.clone(), &path, key)).await;
            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{method} {path} {key:?}: {}",
                a.text()
            );
            assert!(a.json()["message"].as_str().unwrap().contains("page's key"));
        }
    }
    assert!(
        f.state.manager().get(&rec.id).is_ok(),
        "nothing was removed"
    );
    // The page's own calls pass; the page itself and an icon need no key.
    let a = f.send(build(Method::GET, "/api/extensions", None)).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    for path in ["/".to_owned(), format!("/api/extensions/{enc}/icon")] {
        let a = f.send_as_is(build(Method::GET, &path, None)).await;
        assert_eq!(a.status, StatusCode::OK, "{path}: {}", a.text());
    }
    // A WebSocket carries it as a query parameter.
    let ws = |key: &str| {
        axum::http::Request::builder()
            .uri(format!("/api/containers/x/terminal?key={key}"))
            .header(header::HOST, DASHBOARD)
            .header(header::COOKIE, &session)
            .header(header::UPGRADE, "websocket")
            .header(header::ORIGIN, DASHBOARD_ORIGIN)
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(f.send_as_is(ws("nope")).await.status, StatusCode::FORBIDDEN);
}

/// Another extension's page (the browser sends this origin's `SameSite=None`
/// cookie along) may not include this extension's `ddclient.js` nor call
/// its bridge: the browser's `Sec-Fetch-Site` must say `same-origin`.
#[tokio::test]
async fn the_bridge_answers_only_its_own_page() {
    let f = fixture();
    let (_, host, cookie) = f.add_and_enter("acme/b", &[("index.html", "<p>b")]).await;
    let with_site = |path: &str, site: Option<&str>| {
        let mut b = axum::http::Request::builder()
            .uri(path)
            .header(header::HOST, &host)
            .header(header::COOKIE, &cookie);
        if let Some(s) = site {
            b = b.header("sec-fetch-site", s);
        }
        b.body(axum::body::Body::empty()).unwrap()
    };
    for path in ["/.dockhand/ddclient.js", "/.dockhand/api/info"] {
        for site in ["cross-site", "same-site", "none"] {
            let a = f.send_as_is(with_site(path, Some(site))).await;
            assert_eq!(
                a.status,
                StatusCode::FORBIDDEN,
                "{path} {site}: {}",
                a.text()
            );
        }
        for site in [Some("same-origin"), None] {
            let a = f.send_as_is(with_site(path, site)).await;
            assert_eq!(a.status, StatusCode::OK, "{path} {site:?}: {}", a.text());
        }
    }
    // The page itself is opened from the dashboard: a cross-site navigation.
    let a = f
        .send_as_is(with_site("/index.html", Some("cross-site")))
        .await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
}

/// Disabling an extension ends an open tab's bridge access at once: from
/// the dashboard (its sessions and tickets end) and from `dockhand disable`
/// in another process (its origin refuses once the records are read again).
#[tokio::test]
async fn disable_ends_an_open_tabs_bridge_access() {
    let f = fixture();
    let a = f.add_extension("acme/c", &[("index.html", "<p>c")]);
    let b = f.add_extension("acme/d", &[("index.html", "<p>d")]);
    let (host_a, cookie_a) = f.enter(&a.id).await;
    let (host_b, cookie_b) = f.enter(&b.id).await;
    assert_eq!(info(&f, &host_a, &cookie_a).await, StatusCode::OK);
    assert_eq!(info(&f, &host_b, &cookie_b).await, StatusCode::OK);

    // From the dashboard.
    let session = f.login().await;
    let path = format!("/api/extensions/{}/disable", encode_id(&a.id));
    let r = f.dashboard_call(Method::POST, &path, &session).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_ne!(info(&f, &host_a, &cookie_a).await, StatusCode::OK);
    assert_ne!(
        f.get(&host_a, "/.dockhand/ddclient.js", Some(&cookie_a))
            .await
            .status,
        StatusCode::OK
    );

    // As `dockhand disable` does it, in another process: the state changes.
    f.state.manager().state.set_enabled(&b.id, false).unwrap();
    f.state.forget_records();
    let status = info(&f, &host_b, &cookie_b).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

async fn info(f: &Fixture, host: &str, cookie: &str) -> StatusCode {
    f.get(host, "/.dockhand/api/info", Some(cookie))
        .await
        .status
}
