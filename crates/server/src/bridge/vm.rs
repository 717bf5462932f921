//! The extension's backend: `vm.service` (HTTP proxied to the socket it
//! exposes) and `vm.cli.exec` (a command in its first service's container,
//! through the Engine API).

use std::borrow::Cow;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, Uri, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use dockhand_engine::{Engine, StdStream};
use dockhand_spec::ComposeFacts;
use futures_util::StreamExt;
use http_body_util::Full;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::mpsc;

use super::argv::{self, ArgMode};
use super::context::{BridgeJson, BridgeState, Budget, BudgetExhausted, Caller, Held};
use super::exec::{ExecRequest, ExecResult, collect};
use super::pool::PoolError;
use super::procs::{Event, Exit, Running, Slot, switched_on};
use crate::error::ApiError;

/// The body of `POST /.dockhand/api/vm/request`.
#[derive(Debug, Clone, Deserialize)]
pub struct ServiceRequest {
    /// `GET` when absent.
    #[serde(default)]
    pub method: Option<String>,
    /// A path with its query (`/items?x=1`); `http://host` before it is ignored.
    pub url: String,
    /// Request headers (values strings, numbers or booleans).
    #[serde(default)]
    pub headers: Option<serde_json::Map<String, Value>>,
    /// The body: a string is sent as `text/plain`, anything else but `null` as JSON.
    #[serde(default)]
    pub data: Option<Value>,
}

/// Headers never forwarded: they describe one connection, not the request.
const HOP_BY_HOP: [&str; 9] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn forwarded(name: &HeaderName) -> bool {
    let n = name.as_str();
    !HOP_BY_HOP.contains(&n) && n != "host" && n != "content-length"
}

/// The socket of the caller's backend; `404` when it has none.
pub fn backend_socket(caller: &Caller) -> Result<PathBuf, ApiError> {
    let id = caller.id();
    let Some(backend) = &caller.record.backend else {
        return Err(ApiError::not_found(format!(
            "extension {id} has no backend (its metadata.json has no `vm`), so vm.service is not available"
        )));
    };
    match backend.socket.as_deref() {
        Some(s) if !s.is_empty() && !s.contains('/') && s != "." && s != ".." => {
            Ok(caller.socket_dir.join(s))
        }
        Some(s) => Err(ApiError::not_found(format!(
            "the backend of {id} exposes the socket `{s}`, which is not a file name"
        ))),
        None => Err(ApiError::not_found(format!(
            "the backend of {id} exposes no socket (no `vm.exposes.socket` in metadata.json), so vm.service is not available"
        ))),
    }
}

/// The parts of a backend request, checked once and reusable for a retry.
#[derive(Debug)]
struct Prepared {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

impl Prepared {
    fn request(&self) -> Request<Full<Bytes>> {
        let mut req = Request::new(Full::new(self.body.clone()));
        *req.method_mut() = self.method.clone();
        *req.uri_mut() = self.uri.clone();
        *req.headers_mut() = self.headers.clone();
        req
    }
}

fn prepare(req: ServiceRequest) -> Result<Prepared, ApiError> {
    let method_text = req.method.as_deref().unwrap_or("GET").to_ascii_uppercase();
    let method = Method::from_bytes(method_text.as_bytes())
        .map_err(|_| ApiError::bad_request(format!("`{method_text}` is not an HTTP method")))?;
    let mut path = req.url.as_str();
    for scheme in ["http://", "https://"] {
        if let Some(rest) = path.strip_prefix(scheme) {
            path = rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    if !path.starts_with('/') {
        return Err(ApiError::bad_request(format!(
            "url `{}` must be a path starting with /",
            req.url
        )));
    }
    let uri: Uri = path
        .parse()
        .map_err(|e| ApiError::bad_request(format!("url `{}` is not valid: {e}", req.url)))?;
    let mut headers = HeaderMap::new();
    for (name, value) in req.headers.iter().flatten() {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Bool(b) => b.to_string(),
            Value::Null => continue,
            _ => {
                return Err(ApiError::bad_request(format!(
                    "header {name} must be a string"
                )));
            }
        };
        let name = HeaderName::from_bytes(name.as_bytes())
            .map_err(|_| ApiError::bad_request(format!("`{name}` is not a header name")))?;
        let value = HeaderValue::from_str(&value).map_err(|_| {
            ApiError::bad_request(format!("the value of header {name} is not valid"))
        })?;
        if forwarded(&name) {
            headers.append(name, value);
        }
    }
    let (body, content_type) = match req.data {
        None | Some(Value::Null) => (Bytes::new(), None),
        Some(Value::String(s)) => (Bytes::from(s), Some("text/plain; charset=utf-8")),
        Some(other) => (Bytes::from(other.to_string()), Some("application/json")),
    };
    if let Some(ct) = content_type
        && !headers.contains_key(header::CONTENT_TYPE)
    {
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    }
    if !body.is_empty()
        || !matches!(
            method,
            Method::GET | Method::HEAD | Method::DELETE | Method::OPTIONS
        )
    {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    }
    headers.insert(header::HOST, HeaderValue::from_static("localhost"));
    Ok(Prepared {
        method,
        uri,
        headers,
        body,
    })
}

fn pool_error(caller: &Caller, e: PoolError) -> ApiError {
    let id = caller.id();
    match e {
        PoolError::Connect { path, source } => {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let why = match source.kind() {
                // Docker Desktop installs a backend that never creates its
                // socket; the call works as soon as the socket appears.
                std::io::ErrorKind::NotFound => format!(
                    "the backend of {id} has not created its socket {name} yet ({}): this call works once the backend listens there, with no restart; `dockhand ls` shows whether it runs and `dockhand logs {id}` what it does",
                    path.display()
                ),
                std::io::ErrorKind::ConnectionRefused => format!(
                    "nothing listens on the socket {name} of the backend of {id} ({}): is the backend running? `dockhand ls` shows it, `dockhand enable {id}` starts it, `dockhand logs {id}` shows what it did",
                    path.display()
                ),
                // A symlink or another file where the socket should be.
                std::io::ErrorKind::InvalidInput => {
                    return ApiError::bad_gateway(format!(
                        "the backend of {id} is refused: {source}"
                    ));
                }
                std::io::ErrorKind::PermissionDenied => format!(
                    "this user may not connect to the socket {name} of the backend of {id} ({}) and its mode could not be fixed: `dockhand doctor` says why",
                    path.display()
                ),
                _ => format!(
                    "the backend of {id} is not reachable at {}: {source}; is it running? (`docker ps -a --filter label={}`)",
                    path.display(),
                    caller.label()
                ),
            };
            ApiError::unavailable(why)
        }
        PoolError::TooLarge { .. } => ApiError::bad_gateway(e.to_string()),
        PoolError::Budget(e) => busy(caller, e),
        other => ApiError::bad_gateway(format!("the backend of {id}: {other}")),
    }
}

/// A socket the backend created after install, as root and without write
/// permission for others: its mode is fixed from inside its container (as
/// install does when the socket appears in time). True when it was.
async fn grant_access(state: &BridgeState, caller: &Caller, socket: &std::path::Path) -> bool {
    let Some(name) = socket.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let Ok(engine) = state.engine.get().await else {
        return false;
    };
    dockhand_host::backend::grant_access(&engine, caller.id(), &caller.owner_label, name, socket)
        .await
        .is_ok()
}

/// `POST /.dockhand/api/vm/request`.
///
/// The request body and the backend's answer are held against the server's
/// [`Budget`] from their first chunk until the
/// answer has been sent (`503` when it is used up), and the whole call is
/// cut after [`Limits::service_timeout`](super::context::Limits) (`504`;
/// its connection is closed, not reused).
pub async fn vm_request(
    State(state): State<Arc<BridgeState>>,
    caller: Caller,
    body: Body,
) -> Result<Response, ApiError> {
    let mut held = Held::default();
    let socket = backend_socket(&caller)?;
    let req: ServiceRequest = read_request(body, state.limits.max_body, &state.budget, &mut held)
        .await
        .map_err(|e| e.into_api(&caller))?;
    let prepared = prepare(req)?;
    let budget = Some(&state.budget);
    let call = async {
        if state.mode.uses_relay(&state.engine).await {
            let name = socket.file_name().unwrap_or_default().to_string_lossy();
            // Boxed: relay mode's future (session start, exec) is large, and
            // local mode's call should not carry its size.
            return Box::pin(super::relay::send(
                &state,
                &caller,
                &name,
                || prepared.request(),
                budget,
            ))
            .await;
        }
        let pool = state.pools.get(&socket);
        match pool
            .send_within(|| prepared.request(), state.limits.max_body, budget)
            .await
        {
            Err(PoolError::Connect { source, .. })
                if source.kind() == std::io::ErrorKind::PermissionDenied
                    && grant_access(&state, &caller, &socket).await =>
            {
                pool.send_within(|| prepared.request(), state.limits.max_body, budget)
                    .await
            }
            other => other,
        }
        .map_err(|e| pool_error(&caller, e))
    };
    let (answer, answer_held) = match state.limits.service_timeout {
        Some(limit) => tokio::time::timeout(limit, call)
            .await
            .map_err(|_| timed_out(&caller, limit))?,
        None => call.await,
    }?;
    held.merge(answer_held);
    let encoded = serde_json::to_vec(&ServiceAnswer {
        status: answer.status().as_u16(),
        headers: AnswerHeaders(answer.headers()),
        body: String::from_utf8_lossy(answer.body()),
    })
    .map_err(|e| ApiError::internal(format!("cannot encode the answer: {e}")))?;
    drop(answer);
    // The answer as sent (escaped JSON) may be larger than the bytes read.
    let more = encoded.len().saturating_sub(held.bytes());
    state
        .budget
        .take(&mut held, more)
        .map_err(|e| busy(&caller, e))?;
    Ok((
        axum::http::StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        Body::new(HeldBody {
            data: Some(Bytes::from(encoded)),
            _held: held,
        }),
    )
        .into_response())
}

/// A `vm.service` call that outlived [`Limits::service_timeout`](super::context::Limits).
fn timed_out(caller: &Caller, limit: std::time::Duration) -> ApiError {
    let id = caller.id();
    ApiError::new(
        axum::http::StatusCode::GATEWAY_TIMEOUT,
        format!(
            "the backend of {id} did not answer within {}: the call was cut and its connection closed; \
             if the backend needs longer, raise `[limits] service_timeout` in config.toml \
             (or pass `dockhand serve --service-timeout`; 0 or off: no limit)",
            show_duration(limit)
        ),
    )
}

/// `60s`, `1m30s`, `250ms`.
fn show_duration(d: std::time::Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_millis() != 0 || secs == 0 {
        return format!("{}ms", d.as_millis());
    }
    match (secs / 60, secs % 60) {
        (0, s) => format!("{s}s"),
        (m, 0) => format!("{m}m"),
        (m, s) => format!("{m}m{s}s"),
    }
}

/// The server's budget for bodies in flight is used up.
pub(super) fn busy(caller: &Caller, e: BudgetExhausted) -> ApiError {
    ApiError::unavailable(format!(
        "this call to the backend of {} was refused: {e}: retry when fewer large calls are running, or raise the limit",
        caller.id()
    ))
}

/// Why a `vm.service` request body could not be read.
enum ReadError {
    Api(ApiError),
    Busy(BudgetExhausted),
}

impl ReadError {
    fn into_api(self, caller: &Caller) -> ApiError {
        match self {
            Self::Api(e) => e,
            Self::Busy(e) => busy(caller, e),
        }
    }
}

impl From<ApiError> for ReadError {
    fn from(e: ApiError) -> Self {
        Self::Api(e)
    }
}

/// Reads the request's JSON body, at most `limit` bytes (`413` beyond),
/// each chunk taken from `budget` into `held` as it arrives.
async fn read_request(
    body: Body,
    limit: usize,
    budget: &Budget,
    held: &mut Held,
) -> Result<ServiceRequest, ReadError> {
    use http_body_util::{BodyExt, Limited};
    let mut body = Limited::new(body, limit);
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                ApiError::new(
                    axum::http::StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {limit} bytes"),
                )
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
        if let Ok(data) = frame.into_data() {
            budget.take(held, data.len()).map_err(ReadError::Busy)?;
            bytes.extend_from_slice(&data);
        }
    }
    serde_json::from_slice(&bytes).map_err(|e| {
        ReadError::Api(ApiError::bad_request(format!(
            "the request body is not the expected JSON: {e}"
        )))
    })
}

/// An answer's bytes that keep their share of the [`Budget`] until the
/// server is done with them (the body is dropped once sent, or when the
/// page went away).
struct HeldBody {
    data: Option<Bytes>,
    _held: Held,
}

impl http_body::Body for HeldBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(self.data.take().map(|d| Ok(http_body::Frame::data(d))))
    }

    fn is_end_stream(&self) -> bool {
        self.data.is_none()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.data.as_ref().map_or(0, |d| d.len() as u64))
    }
}

/// The answer of `POST /.dockhand/api/vm/request`: the backend's status,
/// headers and body, encoded straight from the backend's answer.
#[derive(Serialize)]
struct ServiceAnswer<'a> {
    status: u16,
    headers: AnswerHeaders<'a>,
    body: Cow<'a, str>,
}

/// Response headers as a JSON object, a header sent more than once joined
/// with `, `.
struct AnswerHeaders<'a>(&'a HeaderMap);

impl Serialize for AnswerHeaders<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(Some(self.0.keys_len()))?;
        for name in self.0.keys() {
            let mut values = self.0.get_all(name).iter();
            let first = values.next().map(|v| String::from_utf8_lossy(v.as_bytes()));
            let joined = match (first, values.next()) {
                (Some(first), None) => first,
                (first, second) => Cow::Owned(
                    first
                        .into_iter()
                        .chain(second.map(|v| String::from_utf8_lossy(v.as_bytes())))
                        .chain(values.map(|v| String::from_utf8_lossy(v.as_bytes())))
                        .collect::<Vec<_>>()
                        .join(", "),
                ),
            };
            map.serialize_entry(name.as_str(), &joined)?;
        }
        map.end()
    }
}

/// The first service of the caller's backend, from its `vm/compose.yaml`.
pub fn first_service(caller: &Caller) -> Result<String, ApiError> {
    let id = caller.id();
    if caller.record.backend.is_none() {
        return Err(ApiError::not_found(format!(
            "extension {id} has no backend (its metadata.json has no `vm`), so vm.cli.exec is not available"
        )));
    }
    let path = caller.vm_dir().join("compose.yaml");
    let text = fs_err::read_to_string(&path).map_err(|e| {
        ApiError::internal(format!(
            "cannot read the compose file of {id} at {}: {e}; reinstall the extension",
            path.display()
        ))
    })?;
    let facts = ComposeFacts::parse(&text).map_err(|e| {
        ApiError::internal(format!(
            "the compose file {} is not valid: {e}",
            path.display()
        ))
    })?;
    facts
        .first_service()
        .map(|s| s.name.clone())
        .ok_or_else(|| {
            ApiError::internal(format!(
                "the compose file {} has no services",
                path.display()
            ))
        })
}

/// The running container of the backend's first service.
pub async fn first_service_container(
    engine: &Engine,
    caller: &Caller,
    service: &str,
) -> Result<String, ApiError> {
    let containers = engine.containers_by_label(&caller.label()).await?;
    let project = caller.record.compose_project.as_deref();
    containers
        .into_iter()
        .filter(|c| c.service.as_deref() == Some(service))
        .filter(|c| project.is_none() || c.project.as_deref() == project)
        .find(|c| c.is_running())
        .map(|c| c.id)
        .ok_or_else(|| {
            ApiError::unavailable(format!(
                "the backend service `{service}` of {} is not running: start it with `dockhand enable {}`",
                caller.id(),
                caller.id()
            ))
        })
}

/// A command for the backend container: argv, env (`K=V`), working dir, and
/// its command line for answers.
#[derive(Debug, Clone)]
pub struct ContainerCommand {
    /// argv.
    pub argv: Vec<String>,
    /// `NAME=value`.
    pub env: Vec<String>,
    /// An absolute path in the container.
    pub cwd: Option<String>,
}

impl ContainerCommand {
    /// From an exec request, its arguments made argv as `mode` says.
    pub fn from_request(req: &ExecRequest, mode: ArgMode) -> Result<Self, ApiError> {
        let argv = mode
            .command(&req.cmd, &req.arg_strings()?)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        Ok(Self {
            argv,
            env: req
                .env()?
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect(),
            cwd: req.cwd()?.map(str::to_owned),
        })
    }

    /// The command line, for answers.
    pub fn display(&self) -> String {
        argv::display(&self.argv)
    }
}

/// Starts `cmd` in the caller's first backend container.
pub async fn start_in_backend(
    state: &BridgeState,
    caller: &Caller,
    cmd: &ContainerCommand,
) -> Result<Running, ApiError> {
    let service = first_service(caller)?;
    let engine = state.engine.get().await?;
    let container = first_service_container(&engine, caller, &service).await?;
    let slot = state.processes.acquire(caller.id())?;
    let stream = engine
        .exec_stream(
            &container,
            cmd.argv.clone(),
            cmd.env.clone(),
            cmd.cwd.clone(),
        )
        .await?;
    let (tx, rx) = mpsc::channel(16);
    let kill = slot.kill_handle();
    tokio::spawn(drive_exec(engine, container, stream, tx, slot));
    Ok(Running { events: rx, kill })
}

async fn drive_exec(
    engine: Engine,
    container: String,
    mut stream: dockhand_engine::ExecStream,
    tx: mpsc::Sender<Event>,
    slot: Slot,
) {
    let mut kill = slot.killed();
    loop {
        let item = tokio::select! {
            () = switched_on(&mut kill) => None,
            () = tx.closed() => None,
            item = stream.output.next() => Some(item),
        };
        let event = match item {
            // Killed: the Engine API cannot kill an exec; try from inside.
            None => {
                let exec_id = stream.id().to_owned();
                drop(stream);
                engine.kill_exec(&container, &exec_id).await;
                let _ = tx
                    .send(Event::Exit(Exit {
                        code: 128 + 15,
                        signal: Some(15),
                        killed: true,
                    }))
                    .await;
                return;
            }
            Some(None) => break,
            Some(Some(Ok(chunk))) => match chunk.stream {
                StdStream::Stdout => Event::Stdout(chunk.data),
                StdStream::Stderr => Event::Stderr(chunk.data),
            },
            Some(Some(Err(e))) => {
                let _ = tx.send(Event::Failed(e.to_string())).await;
                return;
            }
        };
        if tx.send(event).await.is_err() {
            continue;
        }
    }
    let event = match stream.exit_code().await {
        Ok(code) => Event::Exit(Exit {
            code,
            signal: None,
            killed: false,
        }),
        Err(e) => Event::Failed(e.to_string()),
    };
    let _ = tx.send(event).await;
    drop(slot);
}

/// `POST /.dockhand/api/vm/exec`.
pub async fn vm_exec(
    State(state): State<Arc<BridgeState>>,
    caller: Caller,
    BridgeJson(req): BridgeJson<ExecRequest>,
) -> Result<Json<ExecResult>, ApiError> {
    let cmd = ContainerCommand::from_request(&req, ArgMode::ShellWords)?;
    let running = start_in_backend(&state, &caller, &cmd).await?;
    Ok(Json(
        collect(running, &state.processes, &caller, cmd.display()).await?,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::StatusCode;

    fn prep(v: Value) -> Result<Prepared, ApiError> {
        prepare(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn bodies_get_their_content_type() {
        let p = prep(serde_json::json!({"method": "post", "url": "/x", "data": "hi"})).unwrap();
        assert_eq!(p.method, Method::POST);
        assert_eq!(p.headers[header::CONTENT_TYPE], "text/plain; charset=utf-8");
        assert_eq!(p.body, Bytes::from("hi"));
        let p = prep(serde_json::json!({"method": "PUT", "url": "/x", "data": {"a": 1}})).unwrap();
        assert_eq!(p.headers[header::CONTENT_TYPE], "application/json");
        assert_eq!(p.body, Bytes::from(r#"{"a":1}"#));
        assert_eq!(p.headers[header::CONTENT_LENGTH], "7");
        let p = prep(serde_json::json!({"url": "/x", "data": [1],
            "headers": {"Content-Type": "application/vnd.x+json"}}))
        .unwrap();
        assert_eq!(p.headers[header::CONTENT_TYPE], "application/vnd.x+json");
        let p = prep(serde_json::json!({"url": "/x"})).unwrap();
        assert_eq!(p.method, Method::GET);
        assert!(p.body.is_empty());
        assert!(!p.headers.contains_key(header::CONTENT_LENGTH));
    }

    #[test]
    fn hop_by_hop_and_host_headers_are_dropped() {
        let p = prep(serde_json::json!({"url": "/x", "headers": {
            "Connection": "close", "Host": "evil", "Transfer-Encoding": "chunked",
            "Content-Length": "99", "X-Api-Key": "k", "X-N": 5}}))
        .unwrap();
        assert_eq!(p.headers[header::HOST], "localhost");
        assert!(!p.headers.contains_key(header::CONNECTION));
        assert!(!p.headers.contains_key(header::TRANSFER_ENCODING));
        assert!(!p.headers.contains_key(header::CONTENT_LENGTH));
        assert_eq!(p.headers["x-api-key"], "k");
        assert_eq!(p.headers["x-n"], "5");
    }

    #[test]
    fn urls_are_paths() {
        let p = prep(serde_json::json!({"url": "http://localhost:1234/a/b?c=d"})).unwrap();
        assert_eq!(p.uri, "/a/b?c=d");
        let p = prep(serde_json::json!({"url": "http://backend"})).unwrap();
        assert_eq!(p.uri, "/");
        for bad in ["relative", "", "/a b"] {
            let e = prep(serde_json::json!({"url": bad})).unwrap_err();
            assert_eq!(e.status, StatusCode::BAD_REQUEST, "{bad}");
        }
        let e = prep(serde_json::json!({"url": "/", "method": "GE T"})).unwrap_err();
        assert_eq!(e.status, StatusCode::BAD_REQUEST);
    }

    #[test]
    fn answer_headers_join_repeated_values() {
        let mut headers = HeaderMap::new();
        headers.append("x-multi", HeaderValue::from_static("one"));
        headers.append("x-multi", HeaderValue::from_static("two"));
        headers.append("x-multi", HeaderValue::from_static("three"));
        headers.insert("content-type", HeaderValue::from_static("text/plain"));
        headers.insert(
            "x-bytes",
            HeaderValue::from_bytes(b"caf\xe9").expect("opaque bytes are allowed"),
        );
        let answer = ServiceAnswer {
            status: 418,
            headers: AnswerHeaders(&headers),
            body: Cow::Borrowed("short \"and\" stout"),
        };
        let v = serde_json::to_value(&answer).expect("encodes");
        assert_eq!(
            v,
            serde_json::json!({
                "status": 418,
                "headers": {
                    "x-multi": "one, two, three",
                    "content-type": "text/plain",
                    "x-bytes": "caf\u{fffd}",
                },
                "body": "short \"and\" stout",
            })
        );
    }
}
