//! HTTP/1.1 to a backend's socket, with keep-alive connections kept per
//! socket so that `vm.service` calls do not pay a connect each.
//!
//! A [`Pool`] is generic over the connection's byte stream: a [`UnixPool`]
//! connects to the socket in its directory on this machine (local mode), a
//! [`RelayPool`] opens a [`RelayStream`] through the extension's relay
//! session (relay mode, `super::relay`). Each is its own monomorphic code,
//! so local mode's path has no dispatch it did not have before.

use std::future::{Future, poll_fn};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::pin::{Pin, pin};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use axum::http::{Request, Response};
use bytes::Bytes;
use dockhand_engine::RelayStream;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::UnixStream;
use tokio::sync::Semaphore;

use super::context::{Budget, BudgetExhausted, Held};
use super::shared_map::SharedMap;

/// Idle connections kept per socket.
const MAX_IDLE: usize = 64;
/// Calls in flight to one socket at once; more wait for one to end. A page
/// may fire hundreds of calls together, and a backend that listens with a
/// short queue (Python's socketserver: 5) would refuse most of the
/// connections they open.
const MAX_IN_FLIGHT: usize = 64;
/// The longest pause between two attempts to connect to a socket whose
/// queue is full.
const MAX_CONNECT_PAUSE: Duration = Duration::from_millis(50);
/// How long connecting to a socket may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request to a backend socket failed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Nothing listens on the socket (or it is not there).
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("the backend at {path} failed to answer: {source}")]
    Http {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: hyper::Error,
    },
    /// The answer's body is larger than the limit.
    #[error("the backend at {path} answered with a body larger than {limit} bytes")]
    TooLarge {
        /// The socket.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// The server's budget for bodies in flight is used up.
    #[error(transparent)]
    Budget(BudgetExhausted),
    /// Reading the answer's body failed.
    #[error("cannot read the answer of the backend at {path}: {reason}")]
    Body {
        /// The socket.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// One HTTP/1.1 connection to a socket: the handle that sends requests and
/// the connection itself, which does the reading and writing when polled.
///
/// The connection is not spawned as a task of its own: the request that uses
/// it polls it beside its answer, so a `vm.service` call is one task woken by
/// its own socket, with no hand-over between tasks (and threads) on the way.
/// An idle connection is not polled at all; it is checked when taken.
struct Conn<Io: BackendIo> {
    sender: SendRequest<Full<Bytes>>,
    io: Pin<Box<http1::Connection<TokioIo<Io>, Full<Bytes>>>>,
}

/// What a pooled connection runs on: a unix socket or a relay stream.
pub trait BackendIo: AsyncRead + AsyncWrite + Unpin + Send + 'static {}

impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> BackendIo for T {}

impl<Io: BackendIo> Conn<Io> {
    /// Whether the connection can still carry a request: the backend has not
    /// closed it (polling it once reads the end of the stream, if any).
    fn usable(&mut self) -> bool {
        if self.sender.is_closed() {
            return false;
        }
        let mut cx = Context::from_waker(Waker::noop());
        self.io.as_mut().poll(&mut cx).is_pending() && !self.sender.is_closed()
    }
}

/// Runs `work` (which uses the connection's sender) while driving the
/// connection `io`; the connection's own result when it ended first.
async fn drive<Io: BackendIo, T>(
    io: &mut Pin<Box<http1::Connection<TokioIo<Io>, Full<Bytes>>>>,
    work: impl Future<Output = T>,
) -> (T, Option<Result<(), hyper::Error>>) {
    let mut work = pin!(work);
    let mut ended = None;
    let out = poll_fn(|cx| {
        if ended.is_none()
            && let Poll::Ready(r) = io.as_mut().poll(cx)
        {
            ended = Some(r);
        }
        work.as_mut().poll(cx)
    })
    .await;
    (out, ended)
}

impl<Io: BackendIo> std::fmt::Debug for Conn<Io> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").finish_non_exhaustive()
    }
}

/// Connections to one socket, over `Io`.
#[derive(Debug)]
pub struct Pool<Io: BackendIo> {
    path: PathBuf,
    idle: Mutex<Vec<Conn<Io>>>,
    in_flight: Semaphore,
}

/// Connections to a socket on this machine (local mode).
pub type UnixPool = Pool<UnixStream>;

/// Connections to a socket in the backend's volume, through its relay
/// (relay mode); `path` is the socket's path in the relay's container.
pub type RelayPool = Pool<RelayStream>;

impl<Io: BackendIo> Pool<Io> {
    /// A pool for the socket at `path` (nothing is connected yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            idle: Mutex::new(Vec::new()),
            in_flight: Semaphore::new(MAX_IN_FLIGHT),
        }
    }

    /// The socket.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn take_idle(&self) -> Option<Conn<Io>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(mut conn) = idle.pop() {
            if conn.usable() {
                return Some(conn);
            }
        }
        None
    }

    fn put_idle(&self, conn: Conn<Io>) {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        }
    }

    /// Connects with `connect` (within [`CONNECT_TIMEOUT`]) and starts
    /// HTTP/1.1 on the stream.
    async fn connect(
        &self,
        connect: impl Future<Output = std::io::Result<Io>>,
    ) -> Result<Conn<Io>, PoolError> {
        let connect_error = |source| PoolError::Connect {
            path: self.path.clone(),
            source,
        };
        let stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
            .await
            .map_err(|_| connect_error(std::io::Error::from(std::io::ErrorKind::TimedOut)))?
            .map_err(connect_error)?;
        let (sender, io) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|source| PoolError::Http {
                path: self.path.clone(),
                source,
            })?;
        Ok(Conn {
            sender,
            io: Box::pin(io),
        })
    }

    /// Sends the request `make` builds on an idle connection (or a new one
    /// that `connect` opens) and reads the whole answer, at most `limit`
    /// bytes of body, each chunk taken from `budget` as it arrives: the
    /// bytes stay held (the [`Held`]) until the caller drops them, and an
    /// exhausted budget ends the call at once ([`PoolError::Budget`]; the
    /// connection is closed, not reused). A request that a stale idle
    /// connection refused before sending is retried on another connection,
    /// so `make` may be called more than once.
    pub async fn send_via<F>(
        &self,
        connect: impl Fn() -> F,
        make: impl Fn() -> Request<Full<Bytes>>,
        limit: usize,
        budget: Option<&Budget>,
    ) -> Result<(Response<Bytes>, Held), PoolError>
    where
        F: Future<Output = std::io::Result<Io>>,
    {
        let http_error = |source| PoolError::Http {
            path: self.path.clone(),
            source,
        };
        // Never closed, so acquiring cannot fail.
        let _turn = self.in_flight.acquire().await.ok();
        loop {
            let (mut conn, pooled) = match self.take_idle() {
                Some(c) => (c, true),
                None => (self.connect(connect()).await?, false),
            };
            let sender = &mut conn.sender;
            let (answer, ended) = drive(&mut conn.io, async {
                sender.ready().await?;
                let response = sender.send_request(make()).await?;
                let (parts, body) = response.into_parts();
                Ok::<_, hyper::Error>((parts, read_body(body, limit, budget).await))
            })
            .await;
            let (parts, body) = match answer {
                Ok(a) => a,
                Err(e) if pooled && (e.is_canceled() || e.is_closed()) => continue,
                Err(e) => return Err(http_error(e)),
            };
            let (body, held) = body.map_err(|e| match e {
                BodyError::TooLarge => PoolError::TooLarge {
                    path: self.path.clone(),
                    limit,
                },
                BodyError::Budget(e) => PoolError::Budget(e),
                BodyError::Read(reason) => PoolError::Body {
                    path: self.path.clone(),
                    reason,
                },
            })?;
            if ended.is_none() {
                self.put_idle(conn);
            }
            return Ok((Response::from_parts(parts, body), held));
        }
    }

    /// Drops every idle connection (their session ended).
    pub fn clear_idle(&self) {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }
}

impl UnixPool {
    /// Connects, trying again while the backend's queue of connections is
    /// full (`EAGAIN` on a unix socket), with pauses growing to
    /// [`MAX_CONNECT_PAUSE`]; the caller bounds the whole.
    async fn connect_when_queued(&self) -> std::io::Result<UnixStream> {
        let socket = open_socket(&self.path)?;
        let through = format!("/proc/self/fd/{}", socket.as_raw_fd());
        let mut pause = Duration::from_millis(1);
        loop {
            match UnixStream::connect(&through).await {
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(MAX_CONNECT_PAUSE);
                }
                other => return other,
            }
        }
    }

    /// [`send_within`](Self::send_within) without a budget.
    pub async fn send(
        &self,
        make: impl Fn() -> Request<Full<Bytes>>,
        limit: usize,
    ) -> Result<Response<Bytes>, PoolError> {
        self.send_within(make, limit, None)
            .await
            .map(|(answer, _)| answer)
    }

    /// [`send_via`](Pool::send_via) connecting to the socket itself.
    pub async fn send_within(
        &self,
        make: impl Fn() -> Request<Full<Bytes>>,
        limit: usize,
        budget: Option<&Budget>,
    ) -> Result<(Response<Bytes>, Held), PoolError> {
        self.send_via(|| self.connect_when_queued(), make, limit, budget)
            .await
    }
}

/// Why an answer's body could not be read.
enum BodyError {
    TooLarge,
    Budget(BudgetExhausted),
    Read(String),
}

/// Reads `body` whole, at most `limit` bytes, each chunk taken from
/// `budget` as it arrives.
async fn read_body(
    body: hyper::body::Incoming,
    limit: usize,
    budget: Option<&Budget>,
) -> Result<(Bytes, Held), BodyError> {
    let mut body = Limited::new(body, limit);
    let mut held = Held::default();
    let mut chunks: Vec<Bytes> = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                BodyError::TooLarge
            } else {
                BodyError::Read(e.to_string())
            }
        })?;
        if let Ok(data) = frame.into_data() {
            if let Some(budget) = budget {
                budget
                    .take(&mut held, data.len())
                    .map_err(BodyError::Budget)?;
            }
            chunks.push(data);
        }
    }
    let bytes = match chunks.len() {
        0 => Bytes::new(),
        1 => chunks.pop().unwrap_or_default(),
        _ => {
            let mut all = bytes::BytesMut::with_capacity(chunks.iter().map(Bytes::len).sum());
            for c in chunks {
                all.extend_from_slice(&c);
            }
            all.freeze()
        }
    };
    Ok((bytes, held))
}

/// One [`UnixPool`] per socket path.
#[derive(Debug, Default)]
pub struct UnixPools {
    pools: SharedMap<PathBuf, UnixPool>,
}

impl UnixPools {
    /// The pool of the socket at `path`.
    pub fn get(&self, path: &Path) -> Arc<UnixPool> {
        self.pools.get_or_make(path, || UnixPool::new(path))
    }

    /// Drops the idle connections to sockets under `dir` (a backend stopped or
    /// was reinstalled).
    pub fn forget_under(&self, dir: &Path) {
        self.pools.retain(|path| !path.starts_with(dir));
    }
}

/// Opens the inode at `path` itself, never through a symlink (`O_PATH |
/// O_NOFOLLOW`), and checks that it is a socket: a backend controls what is
/// in its socket directory and may put a symlink there (to another user's
/// API socket, another extension's backend). Connecting through
/// `/proc/self/fd/N` then reaches exactly that inode, so nothing can be
/// swapped in between the check and the connect. A symlink or any other
/// file is [`std::io::ErrorKind::InvalidInput`].
pub fn open_socket(path: &Path) -> std::io::Result<OwnedFd> {
    use rustix::fs::{FileType, Mode, OFlags};
    let fd = rustix::fs::open(
        path,
        OFlags::PATH | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let kind = FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode);
    if kind != FileType::Socket {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is not a socket but {}: dockhand connects only to a socket the backend created itself",
                path.display(),
                match kind {
                    FileType::Symlink => "a symbolic link",
                    FileType::Directory => "a directory",
                    FileType::RegularFile => "a regular file",
                    _ => "another kind of file",
                }
            ),
        ));
    }
    Ok(fd)
}

#[cfg(test)]
mod tests {
    //! The pool against hand-written backends that misbehave on purpose:
    //! they close kept-alive connections, answer `Connection: close`, chunk
    //! their bodies, or go away between requests.

    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::http::Method;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::UnixListener;

    use super::*;

    /// How the fake backend treats a connection after each answer.
    #[derive(Clone, Copy)]
    enum After {
        /// Keeps it open for the next request.
        KeepAlive,
        /// Closes it (as a backend whose keep-alive timeout passed does).
        Close,
        /// Says `Connection: close` in the answer, then closes it.
        SayClose,
    }

    struct Backend {
        _dir: Option<tempfile::TempDir>,
        path: PathBuf,
        connections: Arc<AtomicUsize>,
        /// Accepts connections and owns their tasks: aborting it closes
        /// every connection, as a backend that exits does.
        server: tokio::task::JoinHandle<()>,
    }

    impl Drop for Backend {
        fn drop(&mut self) {
            self.server.abort();
        }
    }

    /// Reads one request head (and no body: the tests send none).
    async fn read_head(stream: &mut UnixStream) -> Option<String> {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1024];
        while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
            let n = stream.read(&mut byte).await.ok()?;
            if n == 0 {
                return None;
            }
            buf.extend_from_slice(&byte[..n]);
        }
        Some(String::from_utf8_lossy(&buf).into_owned())
    }

    fn answer(head: &str, after: After, chunked: bool) -> Vec<u8> {
        let path = head.split(' ').nth(1).unwrap_or("/").to_owned();
        let connection = match after {
            After::SayClose => "Connection: close\r\n",
            _ => "",
        };
        let body = format!("you asked for {path}");
        if chunked {
            let (a, b) = body.split_at(4);
            format!(
                "HTTP/1.1 200 OK\r\n{connection}X-Multi: one\r\nX-Multi: two\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n{a}\r\n{:x}\r\n{b}\r\n0\r\n\r\n",
                a.len(),
                b.len()
            )
            .into_bytes()
        } else {
            format!(
                "HTTP/1.1 200 OK\r\n{connection}Content-Length: {}\r\n\r\n{body}",
                body.len()
            )
            .into_bytes()
        }
    }

    fn backend(after: After, chunked: bool) -> Backend {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("backend.sock");
        backend_at(Some(dir), path, after, chunked)
    }

    /// A backend listening at `path` (in `dir`, when given, kept as long as
    /// it runs).
    fn backend_at(
        dir: Option<tempfile::TempDir>,
        path: PathBuf,
        after: After,
        chunked: bool,
    ) -> Backend {
        let listener = UnixListener::bind(&path).expect("bind");
        let connections = Arc::new(AtomicUsize::new(0));
        let server = serve(
            listener,
            after,
            chunked,
            Duration::ZERO,
            connections.clone(),
        );
        Backend {
            _dir: dir,
            path,
            connections,
            server,
        }
    }

    /// Accepts connections on `listener` (each after `accept_pause`),
    /// counting them in `count`, and answers their requests as `after` and
    /// `chunked` say.
    fn serve(
        listener: UnixListener,
        after: After,
        chunked: bool,
        accept_pause: Duration,
        count: Arc<AtomicUsize>,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut streams = tokio::task::JoinSet::new();
            while let Ok((mut stream, _)) = listener.accept().await {
                if !accept_pause.is_zero() {
                    tokio::time::sleep(accept_pause).await;
                }
                count.fetch_add(1, Ordering::SeqCst);
                streams.spawn(async move {
                    while let Some(head) = read_head(&mut stream).await {
                        if stream
                            .write_all(&answer(&head, after, chunked))
                            .await
                            .is_err()
                        {
                            return;
                        }
                        if !matches!(after, After::KeepAlive) {
                            return;
                        }
                    }
                });
            }
        })
    }

    fn get(path: &'static str) -> impl Fn() -> Request<Full<Bytes>> {
        move || {
            let mut req = Request::new(Full::new(Bytes::new()));
            *req.method_mut() = Method::GET;
            *req.uri_mut() = path.parse().expect("uri");
            req.headers_mut()
                .insert("host", axum::http::HeaderValue::from_static("localhost"));
            req
        }
    }

    async fn body_of(pool: &UnixPool, path: &'static str) -> String {
        let answer = pool.send(get(path), 1 << 20).await.expect("an answer");
        String::from_utf8_lossy(answer.body()).into_owned()
    }

    /// A backend controls its socket directory: a symlink there (to another
    /// user's API socket, another extension's backend) or any other file is
    /// refused, and nothing connects through it.
    #[tokio::test]
    async fn only_a_socket_itself_is_connected_to() {
        let b = backend(After::KeepAlive, false);
        let dir = tempfile::tempdir().expect("tempdir");
        let link = dir.path().join("backend.sock");
        fs_err::os::unix::fs::symlink(&b.path, &link).expect("symlink");
        let e = UnixPool::new(&link)
            .send(get("/x"), 1 << 20)
            .await
            .expect_err("a symlink is refused");
        let PoolError::Connect { source, .. } = e else {
            panic!("{e}")
        };
        assert_eq!(source.kind(), std::io::ErrorKind::InvalidInput);
        assert!(source.to_string().contains("a symbolic link"), "{source}");
        assert_eq!(
            b.connections.load(Ordering::SeqCst),
            0,
            "nothing reached it"
        );
        let file = dir.path().join("file.sock");
        fs_err::write(&file, b"").expect("file");
        let e = open_socket(&file).expect_err("a file is refused");
        assert!(e.to_string().contains("a regular file"), "{e}");
        // The socket itself works, through its descriptor.
        assert_eq!(
            body_of(&UnixPool::new(&b.path), "/y").await,
            "you asked for /y"
        );
        assert_eq!(b.connections.load(Ordering::SeqCst), 1);
    }

    /// Sends `rounds` GETs of `path`, one after another (`pause` between
    /// them), through one pool to a backend that treats its connections as
    /// `after` says, and checks every answer; the backend and the pool.
    async fn in_turn(
        after: After,
        rounds: usize,
        path: &'static str,
        pause: Duration,
    ) -> (Backend, UnixPool) {
        let b = backend(after, false);
        let pool = UnixPool::new(&b.path);
        for _ in 0..rounds {
            assert_eq!(body_of(&pool, path).await, format!("you asked for {path}"));
            if !pause.is_zero() {
                tokio::time::sleep(pause).await;
            }
        }
        (b, pool)
    }

    #[tokio::test]
    async fn keeps_one_connection_for_sequential_requests() {
        let (b, _) = in_turn(After::KeepAlive, 20, "/a", Duration::ZERO).await;
        assert_eq!(b.connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_connection_the_backend_closed_is_not_reused() {
        // The pause lets the backend's close arrive before the next request.
        let (b, _) = in_turn(After::Close, 5, "/b", Duration::from_millis(20)).await;
        assert_eq!(b.connections.load(Ordering::SeqCst), 5);
    }

    #[tokio::test]
    async fn a_close_racing_the_next_request_is_retried() {
        // No pause: the next request may be written before the close is
        // seen; the pool must still answer every one.
        in_turn(After::Close, 50, "/c", Duration::ZERO).await;
    }

    #[tokio::test]
    async fn connection_close_answers_are_not_pooled() {
        let (b, pool) = in_turn(After::SayClose, 5, "/d", Duration::ZERO).await;
        assert_eq!(b.connections.load(Ordering::SeqCst), 5);
        assert!(pool.idle.lock().expect("lock").is_empty());
    }

    #[tokio::test]
    async fn chunked_answers_and_repeated_headers_arrive_whole() {
        let b = backend(After::KeepAlive, true);
        let pool = UnixPool::new(&b.path);
        for _ in 0..3 {
            let answer = pool.send(get("/e"), 1 << 20).await.expect("answer");
            assert_eq!(answer.body().as_ref(), b"you asked for /e");
            let multi: Vec<_> = answer.headers().get_all("x-multi").iter().collect();
            assert_eq!(multi, ["one", "two"]);
        }
        assert_eq!(b.connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_restarted_backend_is_reached_again() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("backend.sock");
        let first = backend_at(None, path.clone(), After::KeepAlive, false);
        let pool = UnixPool::new(&path);
        assert_eq!(body_of(&pool, "/f").await, "you asked for /f");
        // The backend goes away (its idle connection dies with it) and a new
        // one listens at the same path.
        drop(first);
        fs_err::remove_file(&path).expect("unlink");
        let second = backend_at(None, path.clone(), After::KeepAlive, false);
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert_eq!(body_of(&pool, "/g").await, "you asked for /g");
        assert_eq!(second.connections.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn concurrent_requests_each_get_a_connection() {
        let b = backend(After::KeepAlive, false);
        let pool = Arc::new(UnixPool::new(&b.path));
        let calls = (0..32).map(|_| {
            let pool = pool.clone();
            tokio::spawn(async move { body_of(&pool, "/h").await })
        });
        for call in calls {
            assert_eq!(call.await.expect("task"), "you asked for /h");
        }
        let n = b.connections.load(Ordering::SeqCst);
        assert!((1..=32).contains(&n), "{n} connections");
        assert!(pool.idle.lock().expect("lock").len() <= n);
    }

    #[tokio::test]
    async fn nothing_listening_is_a_connect_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pool = UnixPool::new(dir.path().join("none.sock"));
        let err = pool.send(get("/"), 1024).await.expect_err("no backend");
        assert!(matches!(err, PoolError::Connect { .. }), "{err}");
    }

    #[tokio::test]
    async fn a_backend_with_a_short_queue_gets_every_call_in_turn() {
        // A backend that listens with a backlog of 1 (Python's socketserver
        // uses 5) and accepts slowly: a page's burst of calls must wait for
        // it, not fail with EAGAIN.
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("backend.sock");
        let socket = tokio::net::UnixSocket::new_stream().expect("socket");
        socket.bind(&path).expect("bind");
        let listener = socket.listen(1).expect("listen");
        let server = serve(
            listener,
            After::KeepAlive,
            false,
            Duration::from_millis(2),
            Arc::default(),
        );
        let pool = Arc::new(UnixPool::new(&path));
        let calls: Vec<_> = (0..200)
            .map(|_| {
                let pool = pool.clone();
                tokio::spawn(async move { pool.send(get("/q"), 1 << 20).await })
            })
            .collect();
        for call in calls {
            let answer = call.await.expect("task").expect("every call is answered");
            assert_eq!(answer.body().as_ref(), b"you asked for /q");
        }
        server.abort();
    }
}
