//! A server over a temporary `$DOCKHAND_HOME` with extensions put straight
//! into its state and UI files written under their directories: no engine.
#![allow(clippy::unwrap_used)] // test helpers

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use dockhand_engine::EngineHost;
use dockhand_host::Manager;
use dockhand_host::config::Config;
use dockhand_host::dev::{DevSettings, DevUiSource};
use dockhand_host::layout::Layout;
use dockhand_host::state::ExtensionRecord;
use dockhand_oci::registry::{RegistryClient, RegistryOptions, RetryPolicy};
use dockhand_server::AppState;
use dockhand_spec::ExtensionId;
use dockhand_testkit::records::record;
use http_body_util::BodyExt as _;
use tower::ServiceExt as _;

/// The port the fixture's clients pretend to use.
pub const PORT: u16 = 7411;

/// A server, its state and its home.
pub struct Fixture {
    pub tmp: tempfile::TempDir,
    pub state: AppState,
    pub app: Router,
    /// The page key of each dashboard session cookie (`name=value`) this
    /// fixture logged in with: [`Fixture::send`] adds it as the dashboard's
    /// page does.
    keys: std::sync::Mutex<std::collections::HashMap<String, String>>,
}

/// An answer, its body read.
#[derive(Debug)]
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The `message` of a JSON error.
    pub fn message(&self) -> String {
        let v = self.json();
        v["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message: {v}"))
            .to_owned()
    }

    pub fn header(&self, name: header::HeaderName) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `name=value` part of the `Set-Cookie` header.
    pub fn cookie(&self) -> String {
        let set = self.header(header::SET_COOKIE).expect("a Set-Cookie");
        set.split(';').next().unwrap().to_owned()
    }
}

pub fn fixture() -> Fixture {
    fixture_at(None)
}

/// A [`fixture`] and a dashboard session in it (its cookie).
pub async fn logged_in() -> (Fixture, String) {
    let f = fixture();
    let session = f.login().await;
    (f, session)
}

/// [`fixture`] on the engine at `host`.
pub fn fixture_on(host: EngineHost) -> Fixture {
    fixture_at(Some(host))
}

fn fixture_at(host: Option<EngineHost>) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let manager = manager(tmp.path(), host);
    let state = AppState::new(Arc::new(manager), PORT);
    let app = dockhand_server::router(state.clone());
    Fixture::new(tmp, state, app)
}

/// A manager with its home and runtime under `dir`, on the engine at `host`
/// or, when `None`, on a socket nothing listens on.
pub fn manager(dir: &Path, host: Option<EngineHost>) -> Manager {
    let layout = Layout {
        home: dir.join("home"),
        runtime: dir.join("run"),
    };
    let host = host.unwrap_or_else(|| EngineHost::Unix(dir.join("no-engine.sock")));
    Manager::open(layout, host, "docker".into(), vec![]).unwrap()
}

/// Writes `catalog` as `dir/extensions.txt` and a config at
/// `dir/config.toml` that lists it as the catalog `team`, followed by
/// `extra`; the config as read.
pub fn catalog_config(dir: &Path, catalog: &str, extra: &str) -> Config {
    fs_err::write(dir.join("extensions.txt"), catalog).unwrap();
    let text = format!("[[catalog]]\nname = \"team\"\nfile = \"extensions.txt\"\n{extra}");
    let path = dir.join("config.toml");
    fs_err::write(&path, &text).unwrap();
    Config::parse(&path, &text).unwrap()
}

/// The last part of this host's platform (`amd64` on `linux/amd64`), as
/// the fake registry's images name it.
pub fn host_arch() -> String {
    dockhand_oci::Platform::host()
        .to_string()
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned()
}

/// A registry client that tries each request once.
pub fn client_once() -> RegistryClient {
    RegistryClient::new(RegistryOptions {
        retry: RetryPolicy {
            max_attempts: 1,
            ..Default::default()
        },
        ..RegistryOptions::default()
    })
    .unwrap()
}

/// Posts `body` (JSON) to the dashboard's `path` in `session`.
pub async fn post_json(f: &Fixture, path: &str, body: &str, session: &str) -> Answer {
    let req = Request::builder()
        .method(Method::POST)
        .uri(path)
        .header(header::HOST, DASHBOARD)
        .header(header::COOKIE, session)
        .header(header::ORIGIN, DASHBOARD_ORIGIN)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .unwrap();
    f.send(req).await
}

pub const DASHBOARD: &str = "localhost:7411";
pub const DASHBOARD_ORIGIN: &str = "http://localhost:7411";

impl Fixture {
    /// A fixture over a server built elsewhere.
    pub fn new(tmp: tempfile::TempDir, state: AppState, app: Router) -> Self {
        Self {
            tmp,
            state,
            app,
            keys: Default::default(),
        }
    }

    pub fn home(&self) -> PathBuf {
        self.tmp.path().join("home")
    }

    /// Installs `id` (no backend) with a UI at `root/ui/` holding `files`.
    pub fn add_extension(&self, id: &str, files: &[(&str, &str)]) -> ExtensionRecord {
        let id = ExtensionId::parse(id).unwrap();
        let dir = self
            .home()
            .join("extensions")
            .join(id.fs_name())
            .join("sha256-ab");
        let ui = dir.join("root/ui");
        fs_err::create_dir_all(&ui).unwrap();
        fs_err::write(dir.join("root/icon.svg"), "<svg/>").unwrap();
        for (path, text) in files {
            let p = ui.join(path);
            fs_err::create_dir_all(p.parent().unwrap()).unwrap();
            fs_err::write(p, text).unwrap();
        }
        let mut record = record(&id, "Test", dir);
        record.metadata = serde_json::json!({
            "icon": "icon.svg",
            "ui": {"dashboard-tab": {"title": "Test", "root": "/ui", "src": "index.html"}}
        });
        self.state.manager().state.put(&record).unwrap();
        record
    }

    /// Installs `id` with a UI holding `files` (as [`Self::add_extension`])
    /// and enters its origin; the record, the host and the extension cookie.
    pub async fn add_and_enter(
        &self,
        id: &str,
        files: &[(&str, &str)],
    ) -> (ExtensionRecord, String, String) {
        let rec = self.add_extension(id, files);
        let (host, cookie) = self.enter(&rec.id).await;
        (rec, host, cookie)
    }

    /// Sets `rec`'s dev settings (its UI from the dev server at `url`, the
    /// bridge call log on with `debug`) and drops the cached records.
    pub fn set_dev(&self, rec: &ExtensionRecord, url: Option<&str>, debug: bool) {
        let settings = DevSettings {
            ui_source: url.map(|u| DevUiSource::parse(u, false).unwrap()),
            debug,
        };
        self.state
            .manager()
            .state
            .set_dev_settings(&rec.id, &settings)
            .unwrap();
        self.state.forget_records();
    }

    /// The dashboard's list of extensions, as `session` reads it.
    pub async fn list(&self, session: &str) -> serde_json::Value {
        self.dashboard_get("/api/extensions", session).await.json()
    }

    /// The directory of `record`'s UI root.
    pub fn ui_dir(&self, record: &ExtensionRecord) -> PathBuf {
        record.dir.join("root/ui")
    }

    /// Sends `req` as the dashboard's page would: a request carrying a
    /// session cookie this fixture logged in with also carries its page key.
    pub async fn send(&self, mut req: Request<Body>) -> Answer {
        let cookie = req
            .headers()
            .get(header::COOKIE)
            .and_then(|c| c.to_str().ok())
            .map(str::to_owned);
        let key = cookie.and_then(|c| self.keys.lock().unwrap().get(&c).cloned());
        if let Some(key) = key
            && !req
                .headers()
                .contains_key(dockhand_server::auth::PAGE_KEY_HEADER)
        {
            req.headers_mut()
                .insert(dockhand_server::auth::PAGE_KEY_HEADER, key.parse().unwrap());
        }
        self.send_as_is(req).await
    }

    /// Remembers `key` as the page key of session `cookie` (`name=value`).
    pub fn remember_key(&self, cookie: &str, key: &str) {
        self.keys
            .lock()
            .unwrap()
            .insert(cookie.to_owned(), key.to_owned());
    }

    /// Sends `req` exactly as it is.
    pub async fn send_as_is(&self, req: Request<Body>) -> Answer {
        let r = self.app.clone().oneshot(req).await.unwrap();
        let status = r.status();
        let headers = r.headers().clone();
        let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// `method path` on `host`, with `cookie` and `origin` when given.
    pub async fn call(
        &self,
        method: Method,
        host: &str,
        path: &str,
        cookie: Option<&str>,
        origin: Option<&str>,
    ) -> Answer {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, host);
        if let Some(c) = cookie {
            b = b.header(header::COOKIE, c);
        }
        if let Some(o) = origin {
            b = b.header(header::ORIGIN, o);
        }
        self.send(b.body(Body::empty()).unwrap()).await
    }

    pub async fn get(&self, host: &str, path: &str, cookie: Option<&str>) -> Answer {
        self.call(Method::GET, host, path, cookie, None).await
    }

    /// `GET path` on the dashboard's host with `cookie` (a session, or
    /// whatever a test sends as one).
    pub async fn dashboard_get(&self, path: &str, cookie: &str) -> Answer {
        self.get(DASHBOARD, path, Some(cookie)).await
    }

    /// `method path` as the dashboard's page sends it: on the dashboard's
    /// host, in `session`, with the dashboard's `Origin`.
    pub async fn dashboard_call(&self, method: Method, path: &str, session: &str) -> Answer {
        self.call(
            method,
            DASHBOARD,
            path,
            Some(session),
            Some(DASHBOARD_ORIGIN),
        )
        .await
    }

    /// Logs in with a fresh startup token; the session cookie (`name=value`).
    pub async fn login(&self) -> String {
        let token = self.state.auth().issue_startup_token().unwrap();
        let a = self.get(DASHBOARD, &format!("/?token={token}"), None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
        let location = a.header(header::LOCATION).unwrap();
        let key = location
            .strip_prefix("/#key=")
            .expect("the page key in the fragment");
        self.keys.lock().unwrap().insert(a.cookie(), key.to_owned());
        a.cookie()
    }

    /// A ticket URL for `id` (as the shell gets it), split into host and path.
    pub async fn ticket(&self, session: &str, id: &ExtensionId) -> (String, String) {
        let enc = dockhand_server::api::encode_id(id);
        let path = format!("/api/extensions/{enc}/ticket");
        let a = self.dashboard_call(Method::POST, &path, session).await;
        assert_eq!(a.status, StatusCode::OK, "{}", a.text());
        let url = a.json()["url"].as_str().unwrap().to_owned();
        let rest = url.strip_prefix("http://").unwrap();
        let (host, path) = rest.split_at(rest.find('/').unwrap());
        (host.to_owned(), path.to_owned())
    }

    /// Enters extension `id`'s origin; its host and the extension cookie.
    pub async fn enter(&self, id: &ExtensionId) -> (String, String) {
        let session = self.login().await;
        let (host, path) = self.ticket(&session, id).await;
        let a = self.get(&host, &path, None).await;
        assert_eq!(a.status, StatusCode::SEE_OTHER, "{}", a.text());
        (host, a.cookie())
    }
}

/// The host of extension `id`'s origin.
pub fn ext_host(id: &ExtensionId) -> String {
    format!("{}.localhost:{PORT}", dockhand_server::slug::slug(id))
}
