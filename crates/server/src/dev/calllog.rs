//! The bridge call log (`dockhand dev debug ID`): one JSON line per bridge
//! call in `$DOCKHAND_HOME/extensions/<fs-id>/bridge.log`
//! ([`dockhand_host::dev::BridgeLog`]).
//!
//! A line, written when the answer has been sent (or dropped):
//!
//! ```json
//! {"ts": "2026-11-23T15:20:44.123Z", "kind": "docker.cli.exec", "method": "POST",
//!  "path": "/.dockhand/api/docker/exec", "target": "ps", "argv": ["-a"],
//!  "env": ["FOO"], "status": 200, "duration_ms": 12.5, "bytes_in": 40, "bytes_out": 120}
//! ```
//!
//! Never in it: cookies and headers, environment values (only the names),
//! more than [`MAX_TEXT`] characters of any string (a `vm.service` request
//! body included) or more than [`MAX_ARGS`] arguments.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use axum::Router;
use axum::body::{Body, Bytes, HttpBody};
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use dockhand_host::dev::{BridgeLog, rfc3339_millis};
use serde_json::{Map, Value, json};
use tower::ServiceExt as _;

use crate::error::ApiError;
use crate::state::{AppState, ExtensionSite};

/// The bridge's routes start here.
pub const API_PREFIX: &str = "/.dockhand/api/";
/// The longest string kept (in characters).
pub const MAX_TEXT: usize = 256;
/// The most arguments kept.
pub const MAX_ARGS: usize = 64;

/// Runs the bridge call `req` on `router`, logging it.
pub async fn logged(
    state: &AppState,
    site: &ExtensionSite,
    router: Router,
    req: Request,
) -> Response {
    let started = Instant::now();
    let log = BridgeLog::of(&state.manager().layout, &site.record.id);
    let (parts, body) = req.into_parts();
    let limit = state.bridge().limits.max_body;
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        let mut entry = summarize(&parts.method, parts.uri.path(), &[]);
        entry.insert("bytes_in".into(), json!(null));
        let r = ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {} MiB", limit >> 20),
        )
        .into_response();
        finish(&log, entry, r.status(), started, 0);
        return r;
    };
    let mut entry = summarize(&parts.method, parts.uri.path(), &bytes);
    entry.insert("bytes_in".into(), json!(bytes.len()));
    let req = Request::from_parts(parts, Body::from(bytes));
    let response = match router.oneshot(req).await {
        Ok(r) => r,
        Err(never) => match never {},
    };
    let (parts, body) = response.into_parts();
    let counted = Counted {
        inner: body,
        bytes: 0,
        pending: Some(Pending {
            log,
            entry,
            status: parts.status,
            started,
        }),
    };
    Response::from_parts(parts, Body::new(counted))
}

/// What a call was, from its route and request body.
pub fn summarize(method: &Method, path: &str, body: &[u8]) -> Map<String, Value> {
    let route = path.strip_prefix(API_PREFIX).unwrap_or(path);
    let kind = match route {
        "info" => "info",
        "docker/exec" => "docker.cli.exec",
        "host/exec" => "host.cli.exec",
        "vm/exec" => "vm.cli.exec",
        "docker/containers" => "docker.listContainers",
        "docker/images" => "docker.listImages",
        "vm/request" => "vm.service",
        "exec/ws" => "exec.stream",
        "page/error" => "page.error",
        _ => "other",
    };
    let mut m = Map::new();
    m.insert("ts".into(), json!(rfc3339_millis(now_millis())));
    m.insert("kind".into(), json!(kind));
    m.insert("method".into(), json!(method.as_str()));
    m.insert("path".into(), json!(truncate(path)));
    let Ok(Value::Object(req)) = serde_json::from_slice::<Value>(body) else {
        return m;
    };
    match kind {
        "docker.cli.exec" | "host.cli.exec" | "vm.cli.exec" => {
            if let Some(cmd) = req.get("cmd").and_then(Value::as_str) {
                m.insert("target".into(), json!(truncate(cmd)));
            }
            if let Some(args) = req.get("args").and_then(Value::as_array) {
                let argv: Vec<Value> = args
                    .iter()
                    .take(MAX_ARGS)
                    .map(|a| json!(truncate(&text(a))))
                    .collect();
                m.insert("argv".into(), Value::Array(argv));
                if args.len() > MAX_ARGS {
                    m.insert("argv_total".into(), json!(args.len()));
                }
            }
            let options = req.get("options");
            if let Some(cwd) = options.and_then(|o| o.get("cwd")).and_then(Value::as_str) {
                m.insert("cwd".into(), json!(truncate(cwd)));
            }
            if let Some(env) = options
                .and_then(|o| o.get("env"))
                .and_then(Value::as_object)
            {
                // Names only: values are often secrets.
                let names: Vec<Value> = env
                    .keys()
                    .take(MAX_ARGS)
                    .map(|k| json!(truncate(k)))
                    .collect();
                m.insert("env".into(), Value::Array(names));
            }
        }
        "vm.service" => {
            if let Some(method) = req.get("method").and_then(Value::as_str) {
                m.insert(
                    "method".into(),
                    json!(truncate(method).to_ascii_uppercase()),
                );
            }
            if let Some(url) = req.get("url").and_then(Value::as_str) {
                m.insert("target".into(), json!(truncate(url)));
            }
            match req.get("data") {
                None | Some(Value::Null) => {}
                Some(data) => {
                    m.insert("body".into(), json!(truncate(&text(data))));
                }
            }
        }
        "page.error" => {
            // The message is the target, so `logs --bridge` shows it on the line.
            if let Some(message) = req.get("message").and_then(Value::as_str) {
                m.insert("target".into(), json!(truncate(message)));
            }
            if let Some(kind) = req.get("type").and_then(Value::as_str) {
                m.insert("error".into(), json!(truncate(kind)));
            }
            if let Some(source) = req.get("source").and_then(Value::as_str) {
                let at = match (req.get("line"), req.get("column")) {
                    (Some(l), Some(c)) => format!("{source}:{l}:{c}"),
                    (Some(l), None) => format!("{source}:{l}"),
                    _ => source.to_owned(),
                };
                m.insert("source".into(), json!(truncate(&at)));
            }
            if let Some(stack) = req.get("stack").and_then(Value::as_str) {
                m.insert("stack".into(), json!(truncate(stack)));
            }
        }
        "docker.listContainers" | "docker.listImages" => {
            if let Some(options) = req.get("options").filter(|o| !o.is_null()) {
                m.insert("options".into(), json!(truncate(&options.to_string())));
            }
        }
        _ => {}
    }
    m
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// At most [`MAX_TEXT`] characters, `…` marking a cut.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(MAX_TEXT) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}…", &s[..at]),
    }
}

fn now_millis() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

struct Pending {
    log: BridgeLog,
    entry: Map<String, Value>,
    status: StatusCode,
    started: Instant,
}

fn finish(
    log: &BridgeLog,
    mut entry: Map<String, Value>,
    status: StatusCode,
    started: Instant,
    bytes_out: u64,
) {
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    entry.insert("status".into(), json!(status.as_u16()));
    entry.insert("duration_ms".into(), json!((ms * 1000.0).round() / 1000.0));
    entry.insert("bytes_out".into(), json!(bytes_out));
    // A log that cannot be written must not fail the call it describes.
    let _ = log.append(&Value::Object(entry).to_string());
}

/// A response body that counts what it sends and writes the log entry when
/// it ends or is dropped.
struct Counted {
    inner: Body,
    bytes: u64,
    pending: Option<Pending>,
}

impl Counted {
    fn done(&mut self) {
        if let Some(p) = self.pending.take() {
            finish(&p.log, p.entry, p.status, p.started, self.bytes);
        }
    }
}

impl HttpBody for Counted {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Bytes>, axum::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    self.bytes += data.len() as u64;
                }
            }
            Poll::Ready(None) | Poll::Ready(Some(Err(_))) => self.done(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        self.done();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The summary of a POST of `body`, as JSON, to `path`.
    fn summarize_post(path: &str, body: &Value) -> Map<String, Value> {
        summarize(&Method::POST, path, body.to_string().as_bytes())
    }

    #[test]
    fn exec_calls_keep_argv_and_env_names_only() {
        let body = br#"{"cmd":"ps","args":["-a","--format","{{.ID}}"],"options":{"cwd":"/tmp","env":{"TOKEN":"s3cret"}}}"#;
        let m = summarize(&Method::POST, "/.dockhand/api/docker/exec", body);
        assert_eq!(m["kind"], "docker.cli.exec");
        assert_eq!(m["target"], "ps");
        assert_eq!(m["argv"], json!(["-a", "--format", "{{.ID}}"]));
        assert_eq!(m["env"], json!(["TOKEN"]));
        assert!(!Value::Object(m).to_string().contains("s3cret"));
    }

    #[test]
    fn service_calls_keep_method_url_and_a_cut_body() {
        let big = "x".repeat(10_000);
        let body = json!({"method": "post", "url": "/items?x=1", "headers": {"Authorization": "Bearer t0ken"}, "data": {"big": big}});
        let m = summarize_post("/.dockhand/api/vm/request", &body);
        assert_eq!(m["kind"], "vm.service");
        assert_eq!(m["method"], "POST");
        assert_eq!(m["target"], "/items?x=1");
        let cut = m["body"].as_str().unwrap();
        assert!(cut.chars().count() <= MAX_TEXT + 1 && cut.ends_with('…'));
        assert!(!Value::Object(m).to_string().contains("t0ken"));
    }

    #[test]
    fn many_arguments_are_counted_not_kept() {
        let args: Vec<String> = (0..1000).map(|i| i.to_string()).collect();
        let body = json!({"cmd": "tool", "args": args});
        let m = summarize_post("/.dockhand/api/host/exec", &body);
        assert_eq!(m["argv"].as_array().unwrap().len(), MAX_ARGS);
        assert_eq!(m["argv_total"], 1000);
    }

    #[test]
    fn page_errors_keep_message_source_and_a_cut_stack() {
        let stack = format!(
            "TypeError: x is undefined\n{}",
            "    at f (main.js:1:2)\n".repeat(50)
        );
        let body = json!({"type": "unhandledrejection", "message": "TypeError: x is undefined",
            "source": "http://a.localhost:1/main.js", "line": 3, "column": 14, "stack": stack});
        let m = summarize_post("/.dockhand/api/page/error", &body);
        assert_eq!(m["kind"], "page.error");
        assert_eq!(m["target"], "TypeError: x is undefined");
        assert_eq!(m["error"], "unhandledrejection");
        assert_eq!(m["source"], "http://a.localhost:1/main.js:3:14");
        assert!(m["stack"].as_str().unwrap().ends_with('…'));
    }

    #[test]
    fn other_routes_and_bad_bodies() {
        let m = summarize(&Method::GET, "/.dockhand/api/info", b"");
        assert_eq!(m["kind"], "info");
        let m = summarize(&Method::POST, "/.dockhand/api/docker/exec", b"{not json");
        assert_eq!(m["kind"], "docker.cli.exec");
        assert!(m.get("argv").is_none());
        assert_eq!(
            truncate("é".repeat(300).as_str()).chars().count(),
            MAX_TEXT + 1
        );
    }
}
