//! Backends whose socket is late or never appears, on the real engine,
//! registry and compose, through a real `dockhand serve`: Docker Desktop
//! installs an extension whose legacy `ui.dashboard-tab.backend.socket` is
//! never created (a published content-platform deployer's backend is `sleep
//! infinity`); dockhand installs it after a short wait, says the socket is
//! not there yet (`ls`, `doctor`, the dashboard's list) and `vm.service`
//! answers 503 until it is, then works with no restart.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::lifecycle::{Home, build_and_push, copy_dir, example};
use crate::support::{self, RealEnv, TempDir, entry};

/// A backend runtime with busybox's `sh` and `sleep` beside the example
/// backend; its command sleeps (built once per test run).
fn base(env: &RealEnv) -> &'static str {
    static BASE: OnceLock<()> = OnceLock::new();
    BASE.get_or_init(|| {
        support::build_backend_image(
            env,
            "dockhand-bs/base:e2e",
            "FROM scratch\nCOPY backend /backend\nCOPY busybox /bin/sh\nCOPY busybox /bin/sleep\n\
             STOPSIGNAL SIGKILL\nCMD [\"/bin/sleep\", \"86400\"]\n",
            &[("/bin/busybox", "busybox")],
        );
    });
    "engine:dockhand-bs/base:e2e"
}

/// An extension directory (the backend-compose example's UI, icon and
/// labels) with this metadata.json and compose file, pushed under a unique
/// name; returns `(reference, id)`.
fn publish(env: &RealEnv, tag: &str, metadata: &str, compose: &str) -> (String, String) {
    let tmp = TempDir::new(tag);
    let root = tmp.0.join("ext");
    let src = example("backend-compose");
    fs_err::create_dir_all(&root).expect("mkdir");
    for f in ["icon.svg", "Dockerfile"] {
        fs_err::copy(src.join(f), root.join(f)).expect("copy");
    }
    copy_dir(&src.join("ui"), &root.join("ui"));
    fs_err::write(root.join("metadata.json"), metadata).expect("write");
    fs_err::write(root.join("docker-compose.yaml"), compose).expect("write");
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    let id = format!("{}/dockhand-bs/{tag}-{nanos}", env.registry);
    let reference = format!("{id}:1.0.0");
    build_and_push(
        env,
        &root,
        &reference,
        &["--base".to_owned(), base(env).to_owned()],
    );
    (reference, id)
}

/// One HTTP/1.1 request on a new connection to 127.0.0.1:`port`: status
/// code, `Set-Cookie` values (name=value) and `Location` (as one list,
/// `location: …` last when there is one) and body.
fn http(port: u16, request: &str) -> (u16, Vec<String>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    s.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full answer");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(&str, &str)> = lines.filter_map(|l| l.split_once(':')).collect();
    let mut cookies: Vec<String> = headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
        .filter_map(|(_, v)| v.trim().split(';').next().map(str::to_owned))
        .collect();
    cookies.extend(
        headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("location"))
            .map(|(_, v)| format!("location: {}", v.trim())),
    );
    (status, cookies, body.to_owned())
}

/// `dockhand serve` logged in, with a way into an extension's origin.
pub(crate) struct Served {
    child: Child,
    port: u16,
    /// The dashboard's credentials as request header lines: the session
    /// cookie, and the page key when the login gave one (`/#key=…`).
    session: String,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Served {
    fn start(home: &Home) -> Self {
        Self::spawn(home.cmd(&["serve", "--port", "0"]))
    }

    /// `serve`, a command that runs `dockhand serve --port 0` (as another
    /// user, say: killing it must kill the server, so no `runuser`), logged in.
    pub(crate) fn spawn(mut serve: Command) -> Self {
        let mut child = serve
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dockhand serve starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the URL");
        let (port, token) = line
            .trim()
            .strip_prefix("http://localhost:")
            .and_then(|rest| rest.split_once("/?token="))
            .unwrap_or_else(|| panic!("serve printed {line:?}"));
        let port: u16 = port.parse().expect("port");
        let (status, cookies, _) = http(
            port,
            &format!(
                "GET /?token={token} HTTP/1.1\r\nHost: localhost:{port}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert_eq!(status, 303, "login");
        let cookie = cookies
            .iter()
            .find(|c| c.starts_with("dockhand_session="))
            .expect("a session cookie");
        let mut session = format!("Cookie: {cookie}\r\n");
        if let Some(key) = cookies
            .iter()
            .find_map(|c| c.strip_prefix("location: /#key="))
        {
            session.push_str(&format!("X-Dockhand-Key: {key}\r\n"));
        }
        Self {
            child,
            port,
            session,
        }
    }

    /// A request to the dashboard with its credentials: `head` is the
    /// request line; a POST comes from the dashboard's origin and carries
    /// `body` (JSON when there is one). The status and the answer's body.
    fn dashboard(&self, head: &str, body: Option<&Value>) -> (u16, String) {
        let port = self.port;
        let origin = if head.starts_with("POST ") {
            format!("Origin: http://localhost:{port}\r\n")
        } else {
            String::new()
        };
        let (content, body) = match body {
            Some(body) => {
                let body = body.to_string();
                let content = format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                    body.len()
                );
                (content, body)
            }
            None if origin.is_empty() => (String::new(), String::new()),
            None => ("Content-Length: 0\r\n".to_owned(), String::new()),
        };
        let (status, _, answer) = http(
            port,
            &format!(
                "{head} HTTP/1.1\r\nHost: localhost:{port}\r\n{origin}{}{content}Connection: close\r\n\r\n{body}",
                self.session
            ),
        );
        (status, answer)
    }

    /// `GET /api/extensions`.
    fn extensions(&self) -> Value {
        let (status, body) = self.dashboard("GET /api/extensions", None);
        assert_eq!(status, 200, "{body}");
        serde_json::from_str(&body).expect("JSON")
    }

    /// `POST path` on the dashboard with the JSON `body`: status and answer.
    pub(crate) fn dashboard_post(&self, path: &str, body: &Value) -> (u16, Value) {
        let (status, answer) = self.dashboard(&format!("POST {path}"), Some(body));
        (
            status,
            serde_json::from_str(&answer).unwrap_or(Value::String(answer)),
        )
    }

    /// A ticket for `id`, redeemed on its origin: `(host, cookie)`.
    pub(crate) fn enter(&self, id: &str) -> (String, String) {
        let port = self.port;
        let encoded: String = id
            .bytes()
            .map(|b| match b {
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        let (status, body) =
            self.dashboard(&format!("POST /api/extensions/{encoded}/ticket"), None);
        assert_eq!(status, 200, "ticket: {body}");
        let v: Value = serde_json::from_str(&body).expect("JSON");
        let url = v["url"].as_str().expect("url");
        let rest = url.strip_prefix("http://").expect("http URL");
        let (host, path) = rest.split_at(rest.find('/').expect("a path"));
        let (status, cookies, body) = http(
            port,
            &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
        );
        assert_eq!(status, 303, "enter: {body}");
        let cookie = cookies
            .into_iter()
            .find(|c| c.starts_with("dockhand_ext"))
            .expect("an extension cookie");
        (host.to_owned(), cookie)
    }

    /// The server's port on 127.0.0.1.
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    /// `ddClient.extension.vm.service.get(path)`: the bridge's status and answer.
    pub(crate) fn vm_get(&self, site: &(String, String), path: &str) -> (u16, Value) {
        self.bridge_post(
            site,
            "/.dockhand/api/vm/request",
            &serde_json::json!({"method": "GET", "url": path}),
        )
    }

    /// `vm.service` GET of `path` on `site`, tried every `pause` until it
    /// answers 200 within `limit`: that answer. A status for which `waiting`
    /// is false, or the end of `limit`, fails the test.
    pub(crate) fn vm_get_when_ready(
        &self,
        site: &(String, String),
        path: &str,
        (limit, pause): (Duration, Duration),
        waiting: fn(u16) -> bool,
    ) -> Value {
        let deadline = Instant::now() + limit;
        loop {
            let (status, answer) = self.vm_get(site, path);
            if status == 200 {
                return answer;
            }
            assert!(
                Instant::now() < deadline && waiting(status),
                "vm.service GET {path} never answered: {status} {answer}"
            );
            std::thread::sleep(pause);
        }
    }

    /// A bridge call from the extension's page: `POST route` with the JSON
    /// `body` on its origin, with its cookie; the status and answer.
    pub(crate) fn bridge_post(
        &self,
        (host, cookie): &(String, String),
        route: &str,
        body: &Value,
    ) -> (u16, Value) {
        let body = body.to_string();
        let (status, _, answer) = http(
            self.port,
            &format!(
                "POST {route} HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nCookie: {cookie}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
        );
        (
            status,
            serde_json::from_str(&answer).unwrap_or(Value::String(answer)),
        )
    }
}

/// Asserts that `answer`, a `vm.service` call's, is the example backend's
/// hello.
#[track_caller]
pub(crate) fn assert_hello(answer: &Value) {
    assert_eq!(answer["status"], 200, "{answer}");
    support::assert_str_contains(&answer["body"], "hello from the backend", answer);
}

#[test]
fn a_backend_without_its_socket_installs_and_vm_service_answers_once_it_exists() {
    let Some(env) = support::real_env(
        "a_backend_without_its_socket_installs_and_vm_service_answers_once_it_exists",
    ) else {
        return;
    };
    let home = Home::new(&env, "bs");
    // The content-platform deployer's shape: a legacy socket, no
    // vm.exposes.socket, a backend that only sleeps.
    let (never_ref, never) = publish(
        &env,
        "never",
        r#"{"icon":"icon.svg","vm":{"composefile":"docker-compose.yaml"},"ui":{"dashboard-tab":{"title":"Never","root":"/ui","src":"index.html","backend":{"socket":"ext.sock"}}}}"#,
        "services:\n  ext:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n",
    );
    // A backend that creates its socket 20 s after it starts.
    let (late_ref, late) = publish(
        &env,
        "late",
        r#"{"icon":"icon.svg","vm":{"composefile":"docker-compose.yaml","exposes":{"socket":"late.sock"}},"ui":{"dashboard-tab":{"title":"Late","root":"/ui","src":"index.html"}}}"#,
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/bin/sh\", \"-c\", \"sleep 20; exec /backend --socket /run/guest-services/late.sock\"]\n",
    );

    // With the default wait (10 s), not the 20 s the other tests give.
    let started = Instant::now();
    let out = home
        .cmd(&["install", &never_ref, "-y"])
        .env_remove("DOCKHAND_READY_TIMEOUT")
        .output()
        .expect("runs");
    let took = started.elapsed();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("has not created its socket ext.sock yet") && err.contains("503"),
        "{err}"
    );
    eprintln!("install of a backend that never creates its socket: {took:?}");
    assert!(
        took < Duration::from_secs(45),
        "installs after the short wait, not the old 60 s: {took:?}"
    );
    let out = home
        .cmd(&["install", &late_ref, "-y"])
        .env("DOCKHAND_READY_TIMEOUT", "1")
        .output()
        .expect("runs");
    support::assert_succeeded("dockhand install", &out);

    // ls, its JSON and doctor say the socket is not there yet.
    let listed = home.ls();
    let vm = &entry(&listed, &never)["vm"];
    assert_eq!(vm["state"], "running", "{vm}");
    assert_eq!(
        vm["socket"],
        serde_json::json!({"name": "ext.sock", "state": "missing"})
    );
    let table = home.run(&["ls"]);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("Running(1), no socket yet"), "{text}");
    assert!(
        String::from_utf8_lossy(&table.stderr).contains("has not created its socket ext.sock"),
        "{}",
        String::from_utf8_lossy(&table.stderr)
    );
    let doctor = home.run(&["doctor", "--format", "json"]);
    assert!(doctor.status.success(), "a missing socket is no problem");
    let report: Value = serde_json::from_slice(&doctor.stdout).expect("json");
    let check = support::doctor_check(&report, &never);
    assert_eq!(check["status"], "warning", "{check}");
    support::assert_str_contains(
        &check["detail"],
        "has not created its socket ext.sock yet",
        check,
    );

    // The dashboard's list and vm.service.
    let served = Served::start(&home);
    let list = served.extensions();
    let list = list.as_array().expect("array");
    assert_eq!(entry(list, &never)["vm"]["socket"]["state"], "missing");
    let never_site = served.enter(&never);
    let (status, answer) = served.vm_get(&never_site, "/hello");
    assert_eq!(status, 503, "{answer}");
    let message = answer["message"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "the backend of {never} has not created its socket ext.sock yet"
        )) && message.contains("dockhand logs"),
        "{message}"
    );

    // The late one answers once its socket exists, through the same server.
    let late_site = served.enter(&late);
    let (status, answer) = served.vm_get(&late_site, "/hello");
    assert_eq!(status, 503, "not there yet: {answer}");
    let answer = served.vm_get_when_ready(
        &late_site,
        "/hello",
        (Duration::from_secs(90), Duration::from_millis(500)),
        |_| true,
    );
    assert_hello(&answer);
    let list = served.extensions();
    assert_eq!(
        entry(list.as_array().expect("array"), &late)["vm"]["socket"]["state"],
        "ready"
    );
    drop(served);
    assert_eq!(entry(&home.ls(), &late)["vm"]["socket"]["state"], "ready");

    for id in [&never, &late] {
        home.ok(&["rm", id]);
        home.assert_gone(id);
    }
}

/// `vm.image` and `vm.composefile` both set (a published Kubernetes
/// inspector ships this; Docker Desktop installs it): `validate` warns
/// (DH125), install runs the compose file — `vm.image` names an image no
/// registry has, so it cannot have been used — and its backend answers
/// `vm.service`.
#[test]
fn both_vm_keys_run_the_compose_file_and_answer_vm_service() {
    let Some(env) = support::real_env("both_vm_keys_run_the_compose_file_and_answer_vm_service")
    else {
        return;
    };
    let metadata = r#"{"icon":"icon.svg","vm":{"image":"127.0.0.1:9/nope/never:1","composefile":"docker-compose.yaml","exposes":{"socket":"api.sock"}},"ui":{"dashboard-tab":{"title":"Both","root":"/ui","src":"index.html"}}}"#;
    let compose = "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n";
    let (reference, id) = publish(&env, "both", metadata, compose);
    let home = Home::new(&env, "bs-both");
    let validate = home.run(&["validate", &reference, "--format", "json"]);
    let report: Value = serde_json::from_slice(&validate.stdout).expect("json");
    assert_eq!(report["valid"], true, "{report}");
    assert!(
        report["diagnostics"]
            .as_array()
            .expect("diagnostics")
            .iter()
            .any(|d| d["code"] == "DH125"),
        "{report}"
    );
    let out = home.run(&["install", &reference, "-y"]);
    support::assert_succeeded("dockhand install", &out);
    let listed = home.ls();
    assert_eq!(entry(&listed, &id)["vm"]["state"], "running");
    assert_eq!(entry(&listed, &id)["vm"]["socket"]["state"], "ready");
    let served = Served::start(&home);
    let site = served.enter(&id);
    let (status, answer) = served.vm_get(&site, "/hello");
    assert_eq!(status, 200, "{answer}");
    assert_hello(&answer);
    drop(served);
    home.ok(&["rm", &id]);
    home.assert_gone(&id);
}
