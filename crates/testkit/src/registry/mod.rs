//! An in-process registry that misbehaves on demand, shared by every crate's
//! tests (one fake, the union of what the client's, the catalog's and the
//! allow-list's tests need).
//!
//! It speaks just enough HTTP/1.1 (one request per connection, then
//! `Connection: close`) and just enough of the distribution API (manifests,
//! blobs, uploads, mounts, tags, a token endpoint) for the tests. It runs on
//! a runtime of its own, so synchronous tests and any async runtime can use
//! it. A test answers some requests its own way with a hook (any request) or
//! a canned answer (one path); [`FakeRegistry::lie`] serves a manifest under
//! a digest that is not its own.

mod images;
mod routes;
mod wire;

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use dockhand_oci::Digest;
use tokio::net::{TcpListener, TcpStream};

pub use images::tar;
pub use wire::{Body, Request, Response};

/// How the fake demands authentication.
#[derive(Debug, Clone, Default)]
pub enum Auth {
    #[default]
    None,
    /// `Bearer` with its own `/token` endpoint; the token endpoint demands
    /// these basic credentials when given.
    Bearer { basic: Option<(String, String)> },
    /// `Basic` with these credentials.
    Basic { user: String, pass: String },
}

pub const TOKEN: &str = "fake-token-123";

/// Answers a request its own way, or `None` to let the registry answer.
pub type Hook = Arc<dyn Fn(&Request) -> Option<Response> + Send + Sync>;

/// What the registry holds and how it behaves; change it with
/// [`FakeRegistry::set`].
#[derive(Default)]
pub struct State {
    /// (repo, digest) → bytes
    pub blobs: HashMap<(String, String), Vec<u8>>,
    /// (repo, tag or digest) → (media type, bytes)
    pub manifests: HashMap<(String, String), (String, Vec<u8>)>,
    /// Tags per repository, listed in order.
    pub tags: BTreeMap<String, Vec<String>>,
    /// Tag page size: paginate with `Link` when set.
    pub page_size: Option<usize>,
    /// Give upload `Location`s as absolute URLs.
    pub absolute_locations: bool,
    /// Refuse mounts (answer 202).
    pub refuse_mounts: bool,
    pub auth: Auth,
    pub hook: Option<Hook>,
    /// Fixed answers by request target (path and query) or path, given
    /// before authentication and routing.
    pub answers: HashMap<String, Response>,
    pub log: Vec<Request>,
    uploads: usize,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("tags", &self.tags)
            .field("auth", &self.auth)
            .field("requests", &self.log.len())
            .finish_non_exhaustive()
    }
}

/// The running registry; stops when dropped.
pub struct FakeRegistry {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for FakeRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeRegistry")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

impl FakeRegistry {
    /// Listens on a free loopback port.
    pub fn start() -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("fake-registry")
            .enable_all()
            .build()
            .expect("the fake registry's runtime");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the fake registry");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the fake registry's address");
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        runtime.spawn(async move {
            let listener = TcpListener::from_std(listener).expect("a tokio listener");
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let st = st.clone();
                tokio::spawn(async move {
                    let _ = serve(stream, st, addr).await;
                });
            }
        });
        Self {
            addr,
            state,
            runtime: Some(runtime),
        }
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    /// `127.0.0.1:PORT/rest`, parsed.
    pub fn reference(&self, rest: &str) -> dockhand_oci::Reference {
        format!("{}/{rest}", self.host())
            .parse()
            .expect("a reference on the fake registry")
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().expect("the fake registry's state")
    }

    pub fn set<F: FnOnce(&mut State)>(&self, f: F) {
        f(&mut self.lock());
    }

    pub fn hook(&self, f: impl Fn(&Request) -> Option<Response> + Send + Sync + 'static) {
        self.lock().hook = Some(Arc::new(f));
    }

    /// Answers `target` (a path, or a path and query) with `response`.
    pub fn answer(&self, target: &str, response: Response) {
        self.lock().answers.insert(target.to_owned(), response);
    }

    pub fn add_blob(&self, repo: &str, bytes: &[u8]) -> Digest {
        let d = Digest::sha256_of(bytes);
        self.lock()
            .blobs
            .insert((repo.to_owned(), d.to_string()), bytes.to_vec());
        d
    }

    pub fn add_manifest(&self, repo: &str, tag: &str, media_type: &str, bytes: &[u8]) -> Digest {
        let d = Digest::sha256_of(bytes);
        let mut s = self.lock();
        for r in [tag.to_owned(), d.to_string()] {
            s.manifests.insert(
                (repo.to_owned(), r),
                (media_type.to_owned(), bytes.to_vec()),
            );
        }
        s.tags
            .entry(repo.to_owned())
            .or_default()
            .push(tag.to_owned());
        d
    }

    /// Publishes a single-platform image `repo:tag` with `labels` and one
    /// (not really a tar) layer; returns the manifest's digest.
    pub fn image(&self, repo: &str, tag: &str, labels: &[(&str, &str)]) -> Digest {
        let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": []}
        }))
        .expect("the config serializes");
        let layer = format!("layer of {repo}:{tag}").into_bytes();
        let (cd, ld) = (self.add_blob(repo, &config), self.add_blob(repo, &layer));
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld.to_string(), "size": layer.len()}]
        }))
        .expect("the manifest serializes");
        self.add_manifest(
            repo,
            tag,
            "application/vnd.oci.image.manifest.v1+json",
            &manifest,
        )
    }

    /// Makes `repo@digest` answer with the manifest of `repo:tag` and no
    /// `Docker-Content-Digest` (a registry that serves something else than
    /// what was asked).
    pub fn lie(&self, repo: &str, digest: &Digest, tag: &str) {
        let (media_type, bytes) = self
            .lock()
            .manifests
            .get(&(repo.to_owned(), tag.to_owned()))
            .cloned()
            .unwrap_or_else(|| panic!("no manifest {repo}:{tag} to lie with"));
        self.answer(
            &format!("/v2/{repo}/manifests/{digest}"),
            Response::new(200)
                .header("Content-Type", media_type)
                .body(bytes),
        );
    }

    /// Requests seen (before the hook's and auth's say), in order.
    pub fn log(&self) -> Vec<Request> {
        self.lock().log.clone()
    }

    /// The requests so far as `METHOD target` lines, and forgets them.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut self.lock().log)
            .into_iter()
            .map(|r| format!("{} {}", r.method, r.target))
            .collect()
    }

    /// How many requests had this method and a path starting with `prefix`.
    pub fn count(&self, method: &str, prefix: &str) -> usize {
        self.log()
            .iter()
            .filter(|r| r.method == method && r.path().starts_with(prefix))
            .count()
    }
}

async fn serve(
    mut stream: TcpStream,
    state: Arc<Mutex<State>>,
    addr: SocketAddr,
) -> std::io::Result<()> {
    let Some(req) = tokio::time::timeout(Duration::from_secs(5), wire::read_request(&mut stream))
        .await
        .ok()
        .flatten()
    else {
        // A TLS ClientHello (the client probing HTTPS), junk or silence.
        return Ok(());
    };
    let resp = {
        let mut s = state.lock().expect("the fake registry's state");
        s.log.push(req.clone());
        let hook = s.hook.clone();
        let canned = s
            .answers
            .get(&req.target)
            .or_else(|| s.answers.get(req.path()))
            .cloned();
        drop(s);
        match hook.and_then(|h| h(&req)).or(canned) {
            Some(r) => r,
            None => routes::route(
                &req,
                &mut state.lock().expect("the fake registry's state"),
                addr,
            ),
        }
    };
    wire::write_response(&mut stream, &req, resp).await
}
