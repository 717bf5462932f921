//! A hand-written dev server for the dev-mode tests: echoes requests, serves
//! HTML and scripts, misbehaves on request (gzip despite `identity`, endless
//! bodies, redirects) and pushes a WebSocket message when a watched file
//! changes, as Vite's or webpack's hot reload does.
#![allow(clippy::unwrap_used)] // test helpers

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use serde_json::json;

/// The page the dev server serves at `/`.
pub const PAGE: &str =
    "<!doctype html><html><head><title>dev</title></head><body><p id=v>dev v1</p></body></html>";
/// The script at `/app.js`.
pub const SCRIPT: &str = "console.log('<head>not html</head>');";

/// A running dev server.
pub struct DevServer {
    pub addr: SocketAddr,
    /// Requests it got.
    pub hits: Arc<AtomicUsize>,
    /// The file whose changes are pushed on `/ws`.
    pub watched: PathBuf,
    _dir: tempfile::TempDir,
}

#[derive(Clone)]
struct Shared {
    hits: Arc<AtomicUsize>,
    watched: PathBuf,
}

impl DevServer {
    pub async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let watched = dir.path().join("main.js");
        fs_err::write(&watched, "v1").unwrap();
        let hits = Arc::new(AtomicUsize::new(0));
        let shared = Shared {
            hits: Arc::clone(&hits),
            watched: watched.clone(),
        };
        let app = Router::new()
            .route("/", get(|| async { html(PAGE) }))
            .route("/app/", get(|| async { html(PAGE) }))
            .route(
                "/app.js",
                get(|| async { ([(header::CONTENT_TYPE, "text/javascript")], SCRIPT) }),
            )
            .route("/echo", any(echo))
            .route("/gz", get(gzipped))
            .route("/huge.html", get(|| async { endless("text/html") }))
            .route(
                "/endless.bin",
                get(|| async { endless("application/octet-stream") }),
            )
            .route("/redirect", get(redirect))
            .route("/cached.html", get(not_modified))
            .route("/ws", get(ws))
            .fallback(|| async { (StatusCode::NOT_FOUND, "dev server: no such file") })
            .layer(axum::middleware::from_fn_with_state(shared.clone(), count))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            addr,
            hits,
            watched,
            _dir: dir,
        }
    }

    /// `http://127.0.0.1:PORT` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

async fn count(State(s): State<Shared>, req: Request, next: axum::middleware::Next) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    next.run(req).await
}

fn html(text: &'static str) -> Response {
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], text).into_response()
}

async fn echo(req: Request) -> axum::Json<serde_json::Value> {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let h = |name: &str| {
        parts
            .headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap_or_default().to_owned())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    axum::Json(json!({
        "method": parts.method.as_str(),
        "uri": parts.uri.to_string(),
        "body": String::from_utf8_lossy(&body),
        "host": h("host"),
        "cookie": h("cookie"),
        "origin": h("origin"),
        "referer": h("referer"),
        "authorization": h("authorization"),
        "accept_encoding": h("accept-encoding"),
        "forwarded_host": h("x-forwarded-host"),
        "custom": h("x-custom"),
    }))
}

async fn gzipped() -> Response {
    use std::io::Write as _;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(b"<html><head></head><body>zipped</body></html>")
        .unwrap();
    (
        [
            (header::CONTENT_TYPE, "text/html"),
            (header::CONTENT_ENCODING, "gzip"),
        ],
        gz.finish().unwrap(),
    )
        .into_response()
}

/// A body that never ends, as fast as it is read.
fn endless(content_type: &'static str) -> Response {
    let chunk = Bytes::from(vec![b'a'; 64 * 1024]);
    let stream = futures_util::stream::repeat_with(move || Ok::<_, std::io::Error>(chunk.clone()));
    (
        [(header::CONTENT_TYPE, content_type)],
        Body::from_stream(stream),
    )
        .into_response()
}

async fn redirect(headers: HeaderMap) -> Response {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (
        StatusCode::FOUND,
        [(
            header::LOCATION,
            format!("http://{host}/echo?from=redirect"),
        )],
    )
        .into_response()
}

/// `304` to a conditional request for an HTML page, as Vite answers for
/// an unchanged index.html.
async fn not_modified(headers: HeaderMap) -> Response {
    if headers.contains_key(header::IF_NONE_MATCH) {
        return (
            StatusCode::NOT_MODIFIED,
            [
                (header::CONTENT_TYPE, "text/html"),
                (header::ETAG, "\"v1\""),
            ],
        )
            .into_response();
    }
    (
        [
            (header::CONTENT_TYPE, "text/html"),
            (header::ETAG, "\"v1\""),
        ],
        PAGE,
    )
        .into_response()
}

/// Hot reload: sends `{"type": "update", "content": …}` whenever the
/// watched file changes; echoes what the client sends as `{"echo": …}`.
async fn ws(State(s): State<Shared>, up: WebSocketUpgrade) -> Response {
    up.on_upgrade(move |socket| hot_reload(socket, s.watched))
}

async fn hot_reload(mut socket: WebSocket, watched: PathBuf) {
    let mut last = fs_err::read_to_string(&watched).unwrap_or_default();
    let _ = socket
        .send(Message::text(json!({"type": "connected"}).to_string()))
        .await;
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    loop {
        tokio::select! {
            _ = tick.tick() => {
                let now = fs_err::read_to_string(&watched).unwrap_or_default();
                if now != last {
                    last = now.clone();
                    let msg = json!({"type": "update", "content": now}).to_string();
                    if socket.send(Message::text(msg)).await.is_err() {
                        return;
                    }
                }
            }
            msg = socket.recv() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let msg = json!({"echo": t.as_str()}).to_string();
                    if socket.send(Message::text(msg)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(_)) => {}
                _ => return,
            },
        }
    }
}
