//! The test harness: a state with one installed extension in a temp home,
//! its host binaries (shell scripts), a real HTTP backend on its unix socket,
//! and helpers to call the router in-process or over a real socket.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{FromRef, FromRequestParts, Path as UrlPath};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, Request, StatusCode, Uri};
use axum::routing::{any, get};
use axum::serve::ListenerExt;
use dockhand_engine::{COMPOSE_PROJECT_LABEL, COMPOSE_SERVICE_LABEL, EngineHost};
use dockhand_host::layout::Layout;
use dockhand_host::state::{BackendRecord, ExtensionRecord};
use dockhand_server::ApiError;
use dockhand_server::auth::check_origin;
use dockhand_server::bridge::exec::resolve_program;
use dockhand_server::bridge::relay::ModeCheck;
use dockhand_server::bridge::{BridgeState, Caller, DashboardAccess, EngineHandle, Limits};
use dockhand_spec::ExtensionId;
use dockhand_testkit::records::record;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

/// The extension's origin in every test.
pub const ORIGIN: &str = "http://acme-test-ext-0123abcd.localhost:4242";
/// The dashboard's origin in every test.
pub const DASHBOARD: &str = "http://localhost:4242";

pub use dockhand_testkit::env::skip;

/// The engine named by `DOCKER_HOST`, or `None` (after saying so).
pub fn engine_host(test: &str) -> Option<EngineHost> {
    dockhand_testkit::env::require_var(
        test,
        "DOCKER_HOST",
        "no engine (DOCKER_HOST is unset; `. /work/main/.state/deps/env` sets it)",
    )
    .map(|h| h.parse().expect("DOCKER_HOST parses"))
}

/// The docker CLI on PATH.
pub fn docker_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    resolve_program("docker", &dirs)
}

/// The server state of the tests.
#[derive(Debug, Clone)]
pub struct TestState {
    pub bridge: Arc<BridgeState>,
    pub caller: Arc<Caller>,
}

impl FromRef<TestState> for Arc<BridgeState> {
    fn from_ref(s: &TestState) -> Self {
        s.bridge.clone()
    }
}

// The adapters do what the server's session layer (`dockhand_server::gate`)
// does before any bridge or resource route: the one `Origin` check.
impl FromRequestParts<TestState> for Caller {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, s: &TestState) -> Result<Self, ApiError> {
        check_origin(&parts.method, &parts.headers, ORIGIN)?;
        Ok((*s.caller).clone())
    }
}

impl FromRequestParts<TestState> for DashboardAccess {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &TestState) -> Result<Self, ApiError> {
        check_origin(&parts.method, &parts.headers, DASHBOARD)?;
        Ok(DashboardAccess {
            origin: DASHBOARD.to_owned(),
        })
    }
}

/// What a test can change about the harness.
#[derive(Debug)]
pub struct Options {
    pub limits: Limits,
    pub engine: Option<EngineHost>,
    pub docker_cli: Option<PathBuf>,
    pub id: String,
    pub backend: bool,
    pub compose_project: Option<String>,
    /// The engine's mode is probed (relay mode on an engine that does not
    /// see this machine's files), and no backend listens on this machine:
    /// the test runs the backend and its relay in the engine.
    pub relay: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            limits: Limits::default(),
            engine: None,
            docker_cli: None,
            id: "acme/test-ext".to_owned(),
            backend: true,
            compose_project: Some("dockhand-acme_test-ext".to_owned()),
            relay: false,
        }
    }
}

impl Options {
    /// The defaults with these limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    /// The defaults for an extension without a backend.
    pub fn without_backend() -> Self {
        Self {
            backend: false,
            ..Self::default()
        }
    }

    /// The defaults with the docker CLI at `cli`, talking to `engine`.
    pub fn docker(cli: PathBuf, engine: EngineHost) -> Self {
        Self {
            docker_cli: Some(cli),
            engine: Some(engine),
            ..Self::default()
        }
    }
}

/// The engine the fake docker CLIs are given: a socket nobody listens on.
pub fn test_engine() -> EngineHost {
    "unix:///run/test-engine.sock"
        .parse()
        .expect("the test engine parses")
}

/// A fake docker CLI: `script` written as `docker` in a new temp dir (which
/// lives as long as the returned handle).
pub fn fake_docker(script: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let fake = tmp.path().join("docker");
    write_executable(&fake, script);
    (tmp, fake)
}

/// The real docker CLI on PATH against the engine of `DOCKER_HOST`, or
/// `None` (after saying which is missing).
pub fn real_docker(test: &str) -> Option<Options> {
    let engine = engine_host(test)?;
    let Some(docker) = docker_on_path() else {
        skip(test, "no docker CLI on PATH");
        return None;
    };
    Some(Options::docker(docker, engine))
}

/// One installed extension in a temp home.
#[derive(Debug)]
pub struct Harness {
    pub tmp: tempfile::TempDir,
    pub state: TestState,
    /// Connections the backend accepted.
    pub connections: Arc<AtomicUsize>,
}

/// Host binaries every harness installs.
pub const SCRIPTS: [(&str, &str); 5] = [
    (
        "tool",
        "#!/bin/sh\nfor a in \"$@\"; do printf '[%s]\\n' \"$a\"; done\n\
         printf 'pwd=%s\\n' \"$PWD\"\nprintf 'FOO=%s\\n' \"$FOO\"\necho oops >&2\nexit 3\n",
    ),
    // Starts `sleep 30` as a child (not exec: killing must reach the group),
    // writes its pid to $1, and waits.
    (
        "sleeper",
        "#!/bin/sh\nsleep 30 &\necho $! > \"$1\"\necho started\nwait\n",
    ),
    (
        "chatty",
        "#!/bin/sh\nhead -c \"$1\" /dev/zero | tr '\\0' x\n",
    ),
    (
        "ticker",
        "#!/bin/sh\nfor i in 1 2 3; do echo \"tick $i\"; done\necho done >&2\n",
    ),
    // Listed but never installed: must be refused like any other name.
    ("missing", ""),
];

/// The bridge's routes the tests call most.
pub const VM_REQUEST: &str = "/.dockhand/api/vm/request";
pub const VM_EXEC: &str = "/.dockhand/api/vm/exec";
pub const HOST_EXEC: &str = "/.dockhand/api/host/exec";
pub const DOCKER_EXEC: &str = "/.dockhand/api/docker/exec";

/// Asserts that `answer` is an error whose message contains `needle`.
pub fn assert_message(answer: &Value, needle: &str) {
    let message = answer["message"]
        .as_str()
        .unwrap_or_else(|| panic!("no message: {answer}"));
    assert!(message.contains(needle), "{answer}");
}

impl Harness {
    pub async fn new() -> Self {
        Self::with(Options::default()).await
    }

    /// A default harness served on a loopback port (for WebSockets); it and
    /// the address.
    pub async fn served() -> (Self, std::net::SocketAddr) {
        let h = Self::new().await;
        let addr = h.serve_tcp().await;
        (h, addr)
    }

    pub async fn with(options: Options) -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let layout = Layout {
            home: tmp.path().join("home"),
            runtime: tmp.path().join("run"),
        };
        let id = ExtensionId::parse(&options.id).expect("id");
        let dir = PathBuf::from("extensions").join(id.fs_name()).join("v1");
        let record = ExtensionRecord {
            compose_project: options.compose_project.clone(),
            backend: options.backend.then(|| BackendRecord {
                socket: Some("backend.sock".into()),
                services: 1,
            }),
            host_binaries: SCRIPTS.iter().map(|(n, _)| (*n).to_owned()).collect(),
            metadata: serde_json::json!({}),
            ..record(&id, "Test", dir)
        };
        let caller = Caller::new(&layout, Arc::new(record), ORIGIN);
        let host_dir = caller.host_dir();
        fs_err::create_dir_all(&host_dir).expect("host dir");
        for (name, text) in SCRIPTS {
            if !text.is_empty() {
                write_executable(&host_dir.join(name), text);
            }
        }
        fs_err::create_dir_all(caller.vm_dir()).expect("vm dir");
        fs_err::write(
            caller.vm_dir().join("compose.yaml"),
            "services:\n  backend:\n    image: x\n  other:\n    image: y\n",
        )
        .expect("compose file");
        let user_home = tmp.path().join("user");
        fs_err::create_dir_all(&user_home).expect("user home");
        let engine = EngineHandle::lazy(
            options
                .engine
                .unwrap_or_else(|| EngineHost::Unix(tmp.path().join("no-engine.sock"))),
        );
        let mut bridge =
            BridgeState::with_limits(engine, options.docker_cli, user_home, options.limits);
        if options.relay {
            bridge = bridge.with_mode(ModeCheck::probe(layout.clone()));
        }
        let bridge = Arc::new(bridge);
        let connections = Arc::new(AtomicUsize::new(0));
        let harness = Self {
            tmp,
            state: TestState {
                bridge,
                caller: Arc::new(caller),
            },
            connections,
        };
        if options.backend && !options.relay {
            harness.start_backend().await;
        }
        harness
    }

    pub fn caller(&self) -> &Caller {
        &self.state.caller
    }

    pub fn socket(&self) -> PathBuf {
        self.caller().socket_dir.join("backend.sock")
    }

    /// The router with both route sets, as the server will merge them.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(dockhand_server::bridge::routes())
            .merge(dockhand_server::resources::routes())
            .with_state(self.state.clone())
    }

    pub async fn start_backend(&self) {
        let path = self.socket();
        fs_err::create_dir_all(path.parent().expect("parent")).expect("socket dir");
        let listener = tokio::net::UnixListener::bind(&path).expect("bind the backend socket");
        let count = self.connections.clone();
        let listener = listener.tap_io(move |_| {
            count.fetch_add(1, Ordering::SeqCst);
        });
        tokio::spawn(async move {
            let _ = axum::serve(listener, backend_app()).await;
        });
    }

    /// Posts `body` to `path` and asserts the answer's status is `want`;
    /// the answer.
    pub async fn post_expect(&self, path: &str, body: Value, want: StatusCode) -> Value {
        let (status, answer) = self.post(path, body).await;
        assert_eq!(status, want, "{path}: {answer}");
        answer
    }

    /// Posts `body` to `path` and asserts the answer is `200 OK`; the answer.
    pub async fn post_ok(&self, path: &str, body: Value) -> Value {
        self.post_expect(path, body, StatusCode::OK).await
    }

    /// Posts `body` to `path` and asserts the answer is an error with status
    /// `want` whose message contains `needle`; the answer.
    pub async fn post_error(
        &self,
        path: &str,
        body: Value,
        want: StatusCode,
        needle: &str,
    ) -> Value {
        let answer = self.post_expect(path, body, want).await;
        assert_message(&answer, needle);
        answer
    }

    /// A POST to the router with the extension's Origin.
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let req = Request::post(path)
            .header("origin", ORIGIN)
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .expect("request");
        self.call(req).await
    }

    /// A GET to the router.
    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let req = Request::get(path).body(Body::empty()).expect("request");
        self.call(req).await
    }

    /// Any request; the answer as JSON (or as a JSON string when it is not JSON).
    pub async fn call(&self, req: Request<Body>) -> (StatusCode, Value) {
        let (status, bytes) = self.call_raw(req).await;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value)
    }

    pub async fn call_raw(&self, req: Request<Body>) -> (StatusCode, Bytes) {
        let resp = self.router().oneshot(req).await.expect("infallible");
        let status = resp.status();
        let bytes = resp.into_body().collect().await.expect("body").to_bytes();
        (status, bytes)
    }

    /// Serves the router on a loopback port (for WebSockets); its address.
    pub async fn serve_tcp(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = self.router();
        tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        addr
    }

    /// A path in the temp dir.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    /// `docker` arguments that make a container or volume the extension's,
    /// as the compose override does: `--label` with each owner label.
    pub fn owner_label_args(&self) -> Vec<String> {
        self.caller()
            .owner_label
            .split(',')
            .flat_map(|label| ["--label".to_owned(), label.to_owned()])
            .collect()
    }

    /// `docker run` arguments that label a container as compose labels one
    /// of `service` in the extension's backend: the owner labels, the
    /// compose project and the service.
    pub fn service_label_args(&self, service: &str) -> Vec<String> {
        let project = self.caller().record.compose_project.clone();
        let mut args = self.owner_label_args();
        for label in [
            format!("{COMPOSE_PROJECT_LABEL}={}", project.unwrap_or_default()),
            format!("{COMPOSE_SERVICE_LABEL}={service}"),
        ] {
            args.extend(["--label".to_owned(), label]);
        }
        args
    }
}

pub fn write_executable(path: &Path, text: &str) {
    use std::os::unix::fs::PermissionsExt;
    fs_err::write(path, text).expect("write script");
    fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// The backend: `/echo` answers what it got, `/status/{code}` answers with
/// that status, `/big/{n}` with n bytes, `/hang` never.
fn backend_app() -> Router {
    async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> axum::Json<Value> {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    Value::from(v.to_str().unwrap_or_default()),
                )
            })
            .collect();
        axum::Json(serde_json::json!({
            "method": method.as_str(),
            "path": uri.path(),
            "query": uri.query(),
            "headers": headers,
            "body": String::from_utf8_lossy(&body),
        }))
    }
    async fn status(
        UrlPath(code): UrlPath<u16>,
    ) -> (StatusCode, [(&'static str, &'static str); 1], &'static str) {
        (
            StatusCode::from_u16(code).unwrap_or(StatusCode::IM_A_TEAPOT),
            [("x-backend", "yes")],
            "{\"message\":\"no such thing\"}",
        )
    }
    async fn big(UrlPath(n): UrlPath<usize>) -> Vec<u8> {
        vec![b'x'; n]
    }
    /// Never answers (a long poll, or a stuck backend).
    async fn hang() -> &'static str {
        std::future::pending::<()>().await;
        "never"
    }
    Router::new()
        .route("/echo", any(echo))
        .route("/status/{code}", get(status))
        .route("/big/{n}", get(big))
        .route("/hang", get(hang))
}

/// True while `pid` is a live (not zombie) process.
pub fn alive(pid: u32) -> bool {
    match fs_err::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => {
            let state = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().next())
                .unwrap_or("");
            state != "Z" && state != "X"
        }
        Err(_) => false,
    }
}

/// Waits up to `secs` for `f` to be true.
pub async fn eventually(secs: u64, mut f: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    while tokio::time::Instant::now() < deadline {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}

/// Reads a pid from a file, waiting for the file to be written.
pub async fn read_pid(path: &Path) -> u32 {
    let mut pid = None;
    eventually(10, || {
        pid = fs_err::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        pid.is_some()
    })
    .await;
    pid.unwrap_or_else(|| panic!("no pid in {}", path.display()))
}
