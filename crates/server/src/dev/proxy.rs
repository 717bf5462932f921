//! The reverse proxy from an extension's origin to its dev server
//! (`dockhand dev ui-source`).
//!
//! - Only the configured URL's origin is ever reached: the target is that
//!   origin plus the request's path and query, and a path that climbs
//!   (`..`, also percent-encoded, once or twice, or with `\`) is a `400`.
//! - To the dev server go the method, path, query, body (at most
//!   [`REQUEST_BODY_LIMIT`]) and the request's headers except `Host` (the
//!   dev server's own), hop-by-hop headers, `Authorization`, dockhand's
//!   cookies (the dev server's own cookies pass) and `Accept-Encoding`
//!   (`identity` is asked for, so HTML can be rewritten); `Origin` and
//!   `Referer` naming the extension's origin are rewritten to the dev
//!   server's.
//! - From it come the status, the headers except hop-by-hop ones,
//!   `X-Frame-Options` and cookies that are dockhand's or set a `Domain`,
//!   and the body: streamed, except HTML, which is read whole (at most
//!   [`HTML_LIMIT`] within [`HTML_TIMEOUT`], gzip or deflate undone) to get
//!   `ddclient.js` like an installed UI. A `Location` on the dev server's
//!   origin becomes a path on the extension's.
//! - A WebSocket upgrade is passed on, and once both sides switched the
//!   bytes are copied both ways until either closes (or the server stops).
//! - A dev server that does not answer gives a `502` page naming its URL and
//!   `dockhand dev reset ID`.

use std::io::Read as _;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use dockhand_engine::error_chain;
use dockhand_host::dev::DevUiSource;
use futures_util::StreamExt as _;
use hyper_util::rt::TokioIo;

use crate::auth;
use crate::error::ApiError;
use crate::html::escape;
use crate::state::{AppState, ExtensionSite};

/// How long the dev server may take to send its response headers.
pub const HEADERS_TIMEOUT: Duration = Duration::from_secs(60);
/// The largest HTML page read (to inject `ddclient.js`).
pub const HTML_LIMIT: usize = 16 << 20;
/// How long reading an HTML page may take.
pub const HTML_TIMEOUT: Duration = Duration::from_secs(30);
/// The largest request body passed on.
pub const REQUEST_BODY_LIMIT: usize = 32 << 20;

/// Headers about one connection, passed neither way.
const CONNECTION_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Request headers never passed on besides [`CONNECTION_HEADERS`] (and
/// cookies, which are filtered).
const DROP_REQUEST: &[&str] = &[
    "host",
    "cookie",
    "authorization",
    "proxy-authorization",
    "accept-encoding",
    "content-length",
    "origin",
    "referer",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-host",
    "x-forwarded-proto",
];

/// Response headers never passed back besides [`CONNECTION_HEADERS`].
const DROP_RESPONSE: &[&str] = &["x-frame-options"];

/// Sends `req` (on the origin of `site`) to the dev server `source`.
pub async fn forward(
    state: &AppState,
    site: &ExtensionSite,
    source: &DevUiSource,
    mut req: Request,
) -> Response {
    if let Err(e) = check_path(req.uri().path()) {
        return e.into_response();
    }
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or("/", |p| p.as_str())
        .to_owned();
    let url = match target(source, &path_and_query) {
        Ok(url) => url,
        Err(e) => return e.into_response(),
    };
    let client = match state.dev().client(source.is_loopback()) {
        Ok(c) => c,
        Err(e) => return ApiError::internal(e.to_string()).into_response(),
    };
    let ws = auth::is_websocket_upgrade(req.headers());
    let headers = request_headers(req.headers(), site, source, ws);
    let method = req.method().clone();
    if ws {
        let on_client = hyper::upgrade::on(&mut req);
        let sent = client.get(url).headers(headers).send();
        return match tokio::time::timeout(HEADERS_TIMEOUT, sent).await {
            Ok(Ok(resp)) if resp.status() == StatusCode::SWITCHING_PROTOCOLS => {
                switch(state, on_client, resp)
            }
            Ok(Ok(resp)) => respond(site, source, &method, resp).await,
            Ok(Err(e)) => down(site, source, &error_chain(&e)),
            Err(_) => down(site, source, "no answer within 60 s"),
        };
    }
    let body = match axum::body::to_bytes(req.into_body(), REQUEST_BODY_LIMIT).await {
        Ok(b) => b,
        Err(_) => {
            return ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!(
                    "the request body is larger than {} MiB, the most dockhand passes to a dev server",
                    REQUEST_BODY_LIMIT >> 20
                ),
            )
            .into_response();
        }
    };
    let sent = client
        .request(method.clone(), url)
        .headers(headers)
        .body(body)
        .send();
    match tokio::time::timeout(HEADERS_TIMEOUT, sent).await {
        Ok(Ok(resp)) => respond(site, source, &method, resp).await,
        Ok(Err(e)) => down(site, source, &error_chain(&e)),
        Err(_) => down(site, source, "no answer within 60 s"),
    }
}

/// `400` for a path that is not absolute or that climbs, however encoded.
pub fn check_path(path: &str) -> Result<(), ApiError> {
    let refuse = || {
        ApiError::bad_request(format!(
            "{path} is not passed to the dev server: a path must not climb with `..`"
        ))
    };
    if !path.starts_with('/') {
        return Err(refuse());
    }
    let mut current: Vec<u8> = path.as_bytes().to_vec();
    // Decoding three times catches `%252e%252e` that a dev server might
    // decode again.
    for _ in 0..3 {
        if current.contains(&0)
            || current
                .split(|b| *b == b'/' || *b == b'\\')
                .any(|seg| seg == b"..")
        {
            return Err(refuse());
        }
        let decoded: Vec<u8> = percent_encoding::percent_decode(&current).collect();
        if decoded == current {
            break;
        }
        current = decoded;
    }
    Ok(())
}

/// The dev server's URL for `path_and_query`, checked to be on its origin.
fn target(source: &DevUiSource, path_and_query: &str) -> Result<reqwest::Url, ApiError> {
    let url = reqwest::Url::parse(&format!("{}{path_and_query}", source.origin()))
        .map_err(|e| ApiError::bad_request(format!("{path_and_query} is not a valid path: {e}")))?;
    if url.origin().ascii_serialization() != source.origin() {
        return Err(ApiError::bad_request(format!(
            "{path_and_query} would leave the dev server {}",
            source.origin()
        )));
    }
    Ok(url)
}

/// The headers sent to the dev server.
pub fn request_headers(
    incoming: &HeaderMap,
    site: &ExtensionSite,
    source: &DevUiSource,
    ws: bool,
) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (name, value) in incoming {
        let n = name.as_str();
        if !CONNECTION_HEADERS.contains(&n) && !DROP_REQUEST.contains(&n) {
            out.append(name.clone(), value.clone());
        }
    }
    if let Some(cookies) = foreign_cookies(incoming) {
        out.insert(header::COOKIE, cookies);
    }
    out.insert(
        header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let dev_origin = source.origin();
    if let Some(origin) = incoming.get(header::ORIGIN) {
        let value = if origin.as_bytes() == site.origin.as_bytes() {
            HeaderValue::from_str(&dev_origin).unwrap_or_else(|_| origin.clone())
        } else {
            origin.clone()
        };
        out.insert(header::ORIGIN, value);
    }
    if let Some(referer) = incoming.get(header::REFERER).and_then(|v| v.to_str().ok())
        && let Some(rest) = referer.strip_prefix(site.origin.as_str())
        && let Ok(v) = HeaderValue::from_str(&format!("{dev_origin}{rest}"))
    {
        out.insert(header::REFERER, v);
    }
    if let Some(host) = site.origin.strip_prefix("http://")
        && let Ok(v) = HeaderValue::from_str(host)
    {
        out.insert("x-forwarded-host", v);
    }
    out.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if ws {
        out.insert(header::CONNECTION, HeaderValue::from_static("upgrade"));
        out.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    }
    out
}

/// The request's cookies without dockhand's own.
fn foreign_cookies(headers: &HeaderMap) -> Option<HeaderValue> {
    let kept: Vec<&str> = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .map(str::trim)
        .filter(|pair| {
            let name = pair.split_once('=').map_or(*pair, |(n, _)| n).trim();
            !pair.is_empty() && !is_ours(name)
        })
        .collect();
    if kept.is_empty() {
        return None;
    }
    HeaderValue::from_str(&kept.join("; ")).ok()
}

fn is_ours(cookie_name: &str) -> bool {
    cookie_name == auth::EXTENSION_COOKIE
        || cookie_name == auth::SESSION_COOKIE
        || cookie_name.to_ascii_lowercase().starts_with("dockhand_")
}

/// The headers passed back to the browser.
pub fn response_headers(upstream: &HeaderMap, source: &DevUiSource) -> HeaderMap {
    let mut out = HeaderMap::new();
    let dev_origin = source.origin();
    for (name, value) in upstream {
        let n = name.as_str();
        if CONNECTION_HEADERS.contains(&n) || DROP_RESPONSE.contains(&n) {
            continue;
        }
        if name == header::SET_COOKIE {
            let text = value.to_str().unwrap_or_default();
            let cookie_name = text.split_once('=').map_or(text, |(n, _)| n).trim();
            let sets_domain = text
                .split(';')
                .skip(1)
                .any(|a| a.trim().to_ascii_lowercase().starts_with("domain"));
            if is_ours(cookie_name) || sets_domain {
                continue;
            }
        }
        if name == header::LOCATION
            && let Some(rest) = value
                .to_str()
                .ok()
                .and_then(|l| l.strip_prefix(dev_origin.as_str()))
        {
            let path = if rest.starts_with('/') {
                rest.to_owned()
            } else {
                format!("/{rest}")
            };
            if let Ok(v) = HeaderValue::from_str(&path) {
                out.append(header::LOCATION, v);
            }
            continue;
        }
        out.append(name.clone(), value.clone());
    }
    out
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .is_some_and(|v| v.starts_with("text/html") || v.starts_with("application/xhtml+xml"))
}

/// The dev server's answer as ours.
async fn respond(
    site: &ExtensionSite,
    source: &DevUiSource,
    method: &Method,
    resp: reqwest::Response,
) -> Response {
    let status = resp.status();
    let mut headers = response_headers(resp.headers(), source);
    // No body to rewrite: HEAD, 1xx, 204, 304 (a dev server's answer to
    // `If-None-Match` on its index.html), or not HTML.
    let bodiless = *method == Method::HEAD
        || status.is_informational()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::NOT_MODIFIED;
    if bodiless || !is_html(resp.headers()) {
        let body = Body::from_stream(resp.bytes_stream());
        let mut out = Response::new(body);
        *out.status_mut() = status;
        *out.headers_mut() = headers;
        return out;
    }
    let encoding = resp
        .headers()
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let path = resp.url().path().to_owned();
    let bytes = match tokio::time::timeout(HTML_TIMEOUT, read_limited(resp, HTML_LIMIT)).await {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return down(site, source, &e.to_string()),
        Err(_) => {
            return down(
                site,
                source,
                &format!(
                    "the HTML page {path} did not arrive within {} s",
                    HTML_TIMEOUT.as_secs()
                ),
            );
        }
    };
    let html = match decode(&encoding, &bytes) {
        Ok(h) => h,
        Err(e) => return down(site, source, &format!("the HTML page {path}: {e}")),
    };
    headers.remove(header::CONTENT_LENGTH);
    headers.remove(header::CONTENT_ENCODING);
    let mut out = Response::new(Body::from(crate::ui::inject_ddclient(&html)));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// Why an HTML page of the dev server could not be read to add
/// `ddclient.js` to it.
#[derive(Debug, thiserror::Error)]
enum HtmlError {
    /// The body could not be read.
    #[error("reading {path}: {reason}")]
    Read {
        /// The page.
        path: String,
        /// The client's error and its causes.
        reason: String,
    },
    /// The body passed the limit.
    #[error(
        "the HTML page {path} is larger than {mib} MiB, the most dockhand reads to add ddclient.js"
    )]
    TooLarge {
        /// The page.
        path: String,
        /// The limit in MiB.
        mib: usize,
    },
    /// A content coding dockhand did not ask for.
    #[error(
        "it came compressed as `{0}` although dockhand asked for identity: configure the dev server not to compress"
    )]
    Coding(String),
    /// The coding could not be undone.
    #[error("cannot undo its {encoding} coding: {source}")]
    Decode {
        /// The coding.
        encoding: String,
        /// Why.
        source: std::io::Error,
    },
    /// The decompressed body passed the limit.
    #[error("it is larger than {0} MiB once decompressed")]
    TooLargeDecoded(usize),
}

/// The body, or an error once it passes `limit` bytes.
async fn read_limited(resp: reqwest::Response, limit: usize) -> Result<Vec<u8>, HtmlError> {
    let path = resp.url().path().to_owned();
    let mut out = Vec::new();
    let mut stream = resp.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk: Bytes = chunk.map_err(|e| HtmlError::Read {
            path: path.clone(),
            reason: error_chain(&e),
        })?;
        if out.len() + chunk.len() > limit {
            return Err(HtmlError::TooLarge {
                path,
                mib: limit >> 20,
            });
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// `body` without its content coding (identity, gzip, deflate).
fn decode(encoding: &str, body: &[u8]) -> Result<Vec<u8>, HtmlError> {
    let limit = HTML_LIMIT as u64 + 1;
    let mut out = Vec::new();
    let read = match encoding {
        "" | "identity" => return Ok(body.to_vec()),
        "gzip" | "x-gzip" => flate2::read::MultiGzDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
        "deflate" => flate2::read::ZlibDecoder::new(body)
            .take(limit)
            .read_to_end(&mut out),
        other => return Err(HtmlError::Coding(other.to_owned())),
    };
    read.map_err(|source| HtmlError::Decode {
        encoding: encoding.to_owned(),
        source,
    })?;
    if out.len() as u64 >= limit {
        return Err(HtmlError::TooLargeDecoded(HTML_LIMIT >> 20));
    }
    Ok(out)
}

/// The `101` back to the browser; the bytes are copied once both sides
/// have switched.
fn switch(
    state: &AppState,
    on_client: hyper::upgrade::OnUpgrade,
    resp: reqwest::Response,
) -> Response {
    let mut out = Response::new(Body::empty());
    *out.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    for name in [
        header::UPGRADE,
        header::CONNECTION,
        header::SEC_WEBSOCKET_ACCEPT,
        header::SEC_WEBSOCKET_PROTOCOL,
        header::SEC_WEBSOCKET_EXTENSIONS,
    ] {
        if let Some(v) = resp.headers().get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    let state = state.clone();
    tokio::spawn(async move {
        let Ok(mut upstream) = resp.upgrade().await else {
            return;
        };
        let Ok(client) = on_client.await else {
            return;
        };
        let mut client = TokioIo::new(client);
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
            () = state.shutdown_requested() => {}
        }
    });
    out
}

/// The `502` page for a dev server that failed.
fn down(site: &ExtensionSite, source: &DevUiSource, why: &str) -> Response {
    let id = site.record.id.as_str();
    let page = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Dev server not answering</title></head>\
         <body style=\"font-family: system-ui, sans-serif; margin: 2rem; line-height: 1.5\">\
         <h1>The dev server is not answering</h1>\
         <p><b>{title}</b> ({id}) is in dev mode: its tab comes from the dev server at \
         <code>{url}</code>, and that failed: {why}.</p>\
         <p>Start the dev server and reload this tab, or go back to the installed UI with \
         <code>dockhand dev reset {id}</code>.</p></body></html>",
        title = escape(&site.record.title),
        id = escape(id),
        url = escape(source.as_str()),
        why = escape(why),
    );
    let mut r = (StatusCode::BAD_GATEWAY, page).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderName;

    use super::*;
    use crate::test_support::header_map;

    #[test]
    fn climbing_paths_are_refused() {
        for bad in [
            "/../etc/passwd",
            "/a/../../b",
            "/%2e%2e/x",
            "/%2E%2e%2fx",
            "/a/%252e%252e/b",
            "/..\\x",
            "/a\\..\\b",
            "/a%5c..%5cb",
            "/a%00",
            "relative",
        ] {
            assert!(check_path(bad).is_err(), "{bad}");
        }
        for good in [
            "/",
            "/src/main.ts",
            "/@vite/client",
            "/a..b/c",
            "/%E2%9C%93",
            "/.well/x",
        ] {
            assert!(check_path(good).is_ok(), "{good}");
        }
    }

    #[test]
    fn targets_stay_on_the_dev_servers_origin() {
        let source = DevUiSource::parse("http://localhost:5173/app/", false).unwrap();
        assert_eq!(
            target(&source, "/x?y=1").unwrap().as_str(),
            "http://localhost:5173/x?y=1"
        );
        let u = target(&source, "//evil.example/x").unwrap();
        assert_eq!(u.host_str(), Some("localhost"));
        let u = target(&source, "/@evil.example:80/x").unwrap();
        assert_eq!(u.host_str(), Some("localhost"));
    }

    #[test]
    fn only_foreign_cookies_pass() {
        let h = header_map(&[
            (header::COOKIE, "dockhand_ext=secret; theme=dark"),
            (header::COOKIE, "dockhand_session=s2;vite=1"),
        ]);
        assert_eq!(foreign_cookies(&h).unwrap(), "theme=dark; vite=1");
        let h = header_map(&[(header::COOKIE, "dockhand_ext=x")]);
        assert!(foreign_cookies(&h).is_none());
    }

    #[test]
    fn response_headers_are_cleaned() {
        let source = DevUiSource::parse("http://127.0.0.1:3000", false).unwrap();
        let h = header_map(&[
            (header::CONNECTION, "close"),
            (HeaderName::from_static("x-frame-options"), "DENY"),
            (header::SET_COOKIE, "a=1; Path=/"),
            (header::SET_COOKIE, "dockhand_session=evil; Path=/"),
            (header::SET_COOKIE, "b=2; Domain=localhost"),
            (header::LOCATION, "http://127.0.0.1:3000/next?x=1"),
            (header::ETAG, "\"e\""),
        ]);
        let out = response_headers(&h, &source);
        assert!(out.get(header::CONNECTION).is_none());
        assert!(out.get("x-frame-options").is_none());
        let cookies: Vec<_> = out.get_all(header::SET_COOKIE).iter().collect();
        assert_eq!(cookies, vec!["a=1; Path=/"]);
        assert_eq!(out[header::LOCATION], "/next?x=1");
        assert_eq!(out[header::ETAG], "\"e\"");
    }

    #[test]
    fn decoding() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"<html>").unwrap();
        assert_eq!(decode("gzip", &gz.finish().unwrap()).unwrap(), b"<html>");
        assert_eq!(decode("", b"x").unwrap(), b"x");
        assert!(
            decode("br", b"x")
                .unwrap_err()
                .to_string()
                .contains("identity")
        );
    }
}
