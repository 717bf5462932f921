//! An in-process registry on raw tokio TCP that can misbehave on demand.
//!
//! It speaks just enough HTTP/1.1 (one request per connection, then
//! `Connection: close`) and just enough of the distribution API (manifests,
//! blobs, uploads, mounts, tags, a token endpoint) for the client's tests. A
//! test installs a hook to answer some requests its own way.

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use dockhand_oci::Digest;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request as the fake saw it.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// Lowercase names.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub fn query(&self, key: &str) -> Option<String> {
        self.query_all(key).into_iter().next()
    }

    pub fn query_all(&self, key: &str) -> Vec<String> {
        let Some((_, q)) = self.target.split_once('?') else {
            return Vec::new();
        };
        q.split('&')
            .filter_map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k == key).then(|| percent_decode(v))
            })
            .collect()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// How a response body is sent.
#[derive(Debug, Clone)]
pub enum Body {
    /// With a correct Content-Length.
    Full(Vec<u8>),
    /// Declares `declared` bytes, sends these, then closes.
    Truncated { declared: u64, sent: Vec<u8> },
    /// No Content-Length; sends this chunk forever (until the client goes away).
    Endless(Vec<u8>),
    /// Declares `declared` bytes, sends these, then goes silent for a minute.
    Stall { declared: u64, sent: Vec<u8> },
}

#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

impl Response {
    pub fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Body::Full(Vec::new()),
        }
    }

    pub fn header(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.to_owned(), v.into()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Self {
        self.body = Body::Full(body.into());
        self
    }

    pub fn with_body(mut self, body: Body) -> Self {
        self.body = body;
        self
    }

    pub fn json(self, v: serde_json::Value) -> Self {
        self.header("Content-Type", "application/json")
            .body(v.to_string())
    }

    fn error(status: u16, code: &str, message: &str) -> Self {
        Self::new(status).json(serde_json::json!({"errors":[{"code":code,"message":message}]}))
    }
}

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

pub type Hook = Arc<dyn Fn(&Request) -> Option<Response> + Send + Sync>;

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
    pub log: Vec<Request>,
    uploads: usize,
}

pub struct FakeRegistry {
    pub addr: SocketAddr,
    pub state: Arc<Mutex<State>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FakeRegistry {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FakeRegistry {
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let task = tokio::spawn(async move {
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
        Self { addr, state, task }
    }

    /// `127.0.0.1:PORT`
    pub fn host(&self) -> String {
        self.addr.to_string()
    }

    pub fn reference(&self, rest: &str) -> dockhand_oci::Reference {
        format!("{}/{rest}", self.host()).parse().unwrap()
    }

    pub fn set<F: FnOnce(&mut State)>(&self, f: F) {
        f(&mut self.state.lock().unwrap());
    }

    pub fn hook(&self, f: impl Fn(&Request) -> Option<Response> + Send + Sync + 'static) {
        self.state.lock().unwrap().hook = Some(Arc::new(f));
    }

    pub fn add_blob(&self, repo: &str, bytes: &[u8]) -> Digest {
        let d = Digest::sha256_of(bytes);
        self.state
            .lock()
            .unwrap()
            .blobs
            .insert((repo.to_owned(), d.to_string()), bytes.to_vec());
        d
    }

    pub fn add_manifest(&self, repo: &str, tag: &str, media_type: &str, bytes: &[u8]) -> Digest {
        let d = Digest::sha256_of(bytes);
        let mut s = self.state.lock().unwrap();
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

    /// Requests seen (after the hook's and auth's say), in order.
    pub fn log(&self) -> Vec<Request> {
        self.state.lock().unwrap().log.clone()
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
    let Some(req) = tokio::time::timeout(Duration::from_secs(5), read_request(&mut stream))
        .await
        .ok()
        .flatten()
    else {
        // A TLS ClientHello (the client probing HTTPS), junk or silence.
        return Ok(());
    };
    let resp = {
        let mut s = state.lock().unwrap();
        s.log.push(req.clone());
        let hook = s.hook.clone();
        drop(s);
        match hook.and_then(|h| h(&req)) {
            Some(r) => r,
            None => route(&req, &mut state.lock().unwrap(), addr),
        }
    };
    write_response(&mut stream, &req, resp).await
}

async fn read_request(stream: &mut TcpStream) -> Option<Request> {
    let mut buf = Vec::new();
    let mut tmp = [0u8; 8192];
    let head_end = loop {
        let n = stream.read(&mut tmp).await.ok()?;
        if n == 0 {
            return None;
        }
        if buf.is_empty() && tmp[0] == 0x16 {
            return None; // TLS handshake
        }
        buf.extend_from_slice(&tmp[..n]);
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).ok()?;
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut rest = buf[head_end + 4..].to_vec();
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let body = if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        while rest.len() < len {
            let n = stream.read(&mut tmp).await.ok()?;
            if n == 0 {
                return None;
            }
            rest.extend_from_slice(&tmp[..n]);
        }
        rest.truncate(len);
        rest
    } else if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let mut body = Vec::new();
        loop {
            while find(&rest, b"\r\n").is_none() {
                let n = stream.read(&mut tmp).await.ok()?;
                if n == 0 {
                    return None;
                }
                rest.extend_from_slice(&tmp[..n]);
            }
            let i = find(&rest, b"\r\n")?;
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..i]).ok()?.trim(), 16).ok()?;
            while rest.len() < i + 2 + size + 2 {
                let n = stream.read(&mut tmp).await.ok()?;
                if n == 0 {
                    return None;
                }
                rest.extend_from_slice(&tmp[..n]);
            }
            body.extend_from_slice(&rest[i + 2..i + 2 + size]);
            rest.drain(..i + 2 + size + 2);
            if size == 0 {
                break body;
            }
        }
    } else {
        Vec::new()
    };
    Some(Request {
        method,
        target,
        headers,
        body,
    })
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn write_response(
    stream: &mut TcpStream,
    req: &Request,
    resp: Response,
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {} X\r\nConnection: close\r\n", resp.status);
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let head_only = req.method == "HEAD";
    match resp.body {
        Body::Full(b) => {
            head.push_str(&format!("Content-Length: {}\r\n\r\n", b.len()));
            stream.write_all(head.as_bytes()).await?;
            if !head_only {
                stream.write_all(&b).await?;
            }
        }
        Body::Truncated { declared, sent } => {
            head.push_str(&format!("Content-Length: {declared}\r\n\r\n"));
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&sent).await?;
        }
        Body::Stall { declared, sent } => {
            head.push_str(&format!("Content-Length: {declared}\r\n\r\n"));
            stream.write_all(head.as_bytes()).await?;
            stream.write_all(&sent).await?;
            stream.flush().await?;
            tokio::time::sleep(Duration::from_secs(60)).await;
        }
        Body::Endless(chunk) => {
            head.push_str("\r\n");
            stream.write_all(head.as_bytes()).await?;
            loop {
                stream.write_all(&chunk).await?;
            }
        }
    }
    stream.flush().await?;
    stream.shutdown().await
}

/// The well-behaved registry.
fn route(req: &Request, s: &mut State, addr: SocketAddr) -> Response {
    if req.path() == "/token" {
        return token(req, s);
    }
    if let Some(challenge) = check_auth(req, s, addr) {
        return challenge;
    }
    let path = req.path();
    if path == "/v2/" {
        return Response::new(200).json(serde_json::json!({}));
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Response::new(404);
    };
    for marker in ["/manifests/", "/blobs/uploads/", "/blobs/", "/tags/list"] {
        if let Some(i) = rest.find(marker) {
            let repo = rest[..i].to_owned();
            let tail = rest[i + marker.len()..].to_owned();
            return match marker {
                "/manifests/" => manifests(req, s, &repo, &tail),
                "/blobs/uploads/" => uploads(req, s, &repo, &tail, addr),
                "/blobs/" => blobs(req, s, &repo, &tail),
                _ => tags(req, s, &repo),
            };
        }
    }
    Response::new(404)
}

fn check_auth(req: &Request, s: &State, addr: SocketAddr) -> Option<Response> {
    let got = req.header("authorization");
    match &s.auth {
        Auth::None => None,
        Auth::Bearer { .. } => {
            if got == Some(&format!("Bearer {TOKEN}")) {
                return None;
            }
            let repo = req
                .path()
                .strip_prefix("/v2/")
                .and_then(|r| r.split("/manifests/").next())
                .unwrap_or("");
            Some(
                Response::error(401, "UNAUTHORIZED", "authentication required").header(
                    "WWW-Authenticate",
                    format!(
                        r#"Bearer realm="http://{addr}/token",service="fake",scope="repository:{repo}:pull""#
                    ),
                ),
            )
        }
        Auth::Basic { user, pass } => {
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
            );
            if got == Some(want.as_str()) {
                return None;
            }
            Some(
                Response::error(401, "UNAUTHORIZED", "authentication required")
                    .header("WWW-Authenticate", r#"Basic realm="fake""#),
            )
        }
    }
}

fn token(req: &Request, s: &State) -> Response {
    if req.method == "POST" {
        // OAuth2 with a refresh token: the basic password is the refresh token.
        let form = Request {
            target: format!("/?{}", String::from_utf8_lossy(&req.body)),
            ..req.clone()
        };
        let ok = matches!(&s.auth, Auth::Bearer { basic: Some((_, p)) }
            if form.query("refresh_token").as_deref() == Some(p.as_str())
                && form.query("grant_type").as_deref() == Some("refresh_token"));
        if !ok {
            return Response::error(401, "UNAUTHORIZED", "bad refresh token");
        }
        return Response::new(200).json(serde_json::json!({"access_token": TOKEN}));
    }
    if let Auth::Bearer {
        basic: Some((u, p)),
    } = &s.auth
    {
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        );
        if req.header("authorization") != Some(want.as_str()) {
            return Response::error(401, "UNAUTHORIZED", "bad credentials");
        }
    }
    Response::new(200).json(serde_json::json!({"access_token": TOKEN, "expires_in": 300}))
}

fn manifests(req: &Request, s: &mut State, repo: &str, reference: &str) -> Response {
    match req.method.as_str() {
        "GET" | "HEAD" => match s.manifests.get(&(repo.to_owned(), reference.to_owned())) {
            Some((mt, bytes)) => Response::new(200)
                .header("Content-Type", mt.clone())
                .header(
                    "Docker-Content-Digest",
                    Digest::sha256_of(bytes).to_string(),
                )
                .body(bytes.clone()),
            None => Response::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
        },
        "PUT" => {
            let mt = req.header("content-type").unwrap_or("").to_owned();
            let d = Digest::sha256_of(&req.body);
            for r in [reference.to_owned(), d.to_string()] {
                s.manifests
                    .insert((repo.to_owned(), r), (mt.clone(), req.body.clone()));
            }
            if !reference.starts_with("sha256:") {
                s.tags
                    .entry(repo.to_owned())
                    .or_default()
                    .push(reference.to_owned());
            }
            Response::new(201)
                .header("Docker-Content-Digest", d.to_string())
                .header("Location", format!("/v2/{repo}/manifests/{d}"))
        }
        _ => Response::new(405),
    }
}

fn blobs(req: &Request, s: &State, repo: &str, digest: &str) -> Response {
    match s.blobs.get(&(repo.to_owned(), digest.to_owned())) {
        Some(bytes) if req.method == "GET" || req.method == "HEAD" => Response::new(200)
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest)
            .body(bytes.clone()),
        _ => Response::error(404, "BLOB_UNKNOWN", "blob unknown to registry"),
    }
}

fn uploads(req: &Request, s: &mut State, repo: &str, tail: &str, addr: SocketAddr) -> Response {
    match req.method.as_str() {
        "POST" => {
            if let (Some(d), Some(from)) = (req.query("mount"), req.query("from"))
                && !s.refuse_mounts
                && let Some(b) = s.blobs.get(&(from, d.clone())).cloned()
            {
                s.blobs.insert((repo.to_owned(), d.clone()), b);
                return Response::new(201)
                    .header("Location", format!("/v2/{repo}/blobs/{d}"))
                    .header("Docker-Content-Digest", d);
            }
            s.uploads += 1;
            let loc = format!("/v2/{repo}/blobs/uploads/u{}?_state=x", s.uploads);
            let loc = if s.absolute_locations {
                format!("http://{addr}{loc}")
            } else {
                loc
            };
            Response::new(202).header("Location", loc)
        }
        "PUT" if !tail.is_empty() => {
            let Some(d) = req.query("digest") else {
                return Response::error(400, "DIGEST_INVALID", "no digest");
            };
            if req.query("_state").is_none() {
                return Response::error(400, "BLOB_UPLOAD_INVALID", "lost the upload state");
            }
            if Digest::sha256_of(&req.body).to_string() != d {
                return Response::error(400, "DIGEST_INVALID", "digest mismatch");
            }
            s.blobs
                .insert((repo.to_owned(), d.clone()), req.body.clone());
            Response::new(201)
                .header("Location", format!("/v2/{repo}/blobs/{d}"))
                .header("Docker-Content-Digest", d)
        }
        _ => Response::new(405),
    }
}

fn tags(req: &Request, s: &State, repo: &str) -> Response {
    let Some(all) = s.tags.get(repo) else {
        return Response::error(404, "NAME_UNKNOWN", "repository name not known to registry");
    };
    let Some(size) = s.page_size else {
        return Response::new(200).json(serde_json::json!({"name": repo, "tags": all}));
    };
    let start = match req.query("last") {
        Some(last) => all
            .iter()
            .position(|t| *t == last)
            .map_or(all.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<_> = all.iter().skip(start).take(size).cloned().collect();
    let mut resp = Response::new(200).json(serde_json::json!({"name": repo, "tags": page}));
    if start + size < all.len()
        && let Some(last) = page.last()
    {
        resp = resp.header(
            "Link",
            format!(r#"</v2/{repo}/tags/list?last={last}&n={size}>; rel="next""#),
        );
    }
    resp
}
