//! The client side of the relay protocol (`dockhand_relay::protocol`):
//! many logical connections over one byte stream.
//!
//! [`Relay::start`] takes any `AsyncRead + AsyncWrite` (the hijacked stream
//! of an exec of `dockhand-relay serve`, or a socket pair in tests) and
//! returns a cloneable [`Relay`] handle and the [`RelayDriver`] future that
//! moves the bytes; the caller runs the driver (spawns it, or polls it beside
//! its own work). [`Relay::connect`] opens a [`RelayStream`] to a socket in
//! the backend's socket directory: an `AsyncRead + AsyncWrite` like a
//! `UnixStream`, with half-close (`shutdown`) and per-stream flow control —
//! a stream whose reader stops only fills its own window, so the others go
//! on. All state sits behind one mutex, never held across an await.

use std::collections::HashMap;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use bytes::{Buf, BytesMut};
use dockhand_relay::protocol::{self, ErrorKind, Frame, Hello};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Frames waiting to be written above this size make writers wait.
const OUT_CAP: usize = 1 << 20;
/// The driver reads at most this many times before letting others run.
const READS_PER_POLL: usize = 32;

/// Why a session ended with an error.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading or writing the underlying stream failed.
    #[error("the relay's stream failed: {0}")]
    Io(#[from] io::Error),
    /// The relay broke the protocol, or refused ours.
    #[error(transparent)]
    Protocol(#[from] RelayViolation),
}

/// How the relay broke the protocol (or refused ours): the session ends.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RelayViolation {
    /// Its first frame is not `HELLO`.
    #[error("the relay's first frame is not HELLO")]
    NoHello,
    /// No protocol version both sides speak.
    #[error(
        "the relay speaks protocol versions {theirs_min}..={theirs_max} and this dockhand {ours_min}..={ours_max}: remove the relay container so that dockhand starts its own image again (`dockhand doctor`)"
    )]
    Version {
        /// The relay's lowest version.
        theirs_min: u16,
        /// The relay's highest version.
        theirs_max: u16,
        /// Ours.
        ours_min: u16,
        /// Ours.
        ours_max: u16,
    },
    /// A second `HELLO`.
    #[error("the relay sent a second HELLO")]
    SecondHello,
    /// An `OPEN`, which only the client sends.
    #[error("the relay sent OPEN, which only the client sends")]
    Open,
    /// More bytes on a stream than its window allows.
    #[error("the relay sent {len} bytes on stream {id}, beyond its window ({window})")]
    BeyondWindow {
        /// The stream.
        id: u32,
        /// The bytes sent.
        len: u32,
        /// The window left.
        window: u32,
    },
    /// A `WINDOW` that overflows the stream's credit.
    #[error("the relay's window for stream {id} overflows")]
    WindowOverflow {
        /// The stream.
        id: u32,
    },
    /// The relay ended the session with an `ERROR` on stream 0.
    #[error("the relay ended the session: {message}")]
    Ended {
        /// What it said.
        message: String,
    },
    /// Bytes that are not frames.
    #[error("the relay broke the protocol: {0}")]
    Decode(#[from] protocol::ProtocolError),
}

struct StreamState {
    /// `OPEN` sent, no answer yet.
    opening: bool,
    /// The relay refused the `OPEN`.
    open_error: Option<(io::ErrorKind, String)>,
    /// Bytes received, not yet read.
    recv: BytesMut,
    /// The relay sent `SHUTDOWN`.
    recv_eof: bool,
    /// The stream is gone (`CLOSE`, `ERROR`, or the session ended).
    reset: Option<(io::ErrorKind, String)>,
    /// Bytes the relay may still send before our next `WINDOW`.
    granted: u32,
    /// Bytes read and not yet given back.
    consumed: u32,
    /// Bytes we may still send.
    credit: u32,
    /// We sent `SHUTDOWN`.
    local_shut: bool,
    read_waker: Option<Waker>,
    write_waker: Option<Waker>,
}

#[derive(Default)]
struct Shared {
    streams: HashMap<u32, StreamState>,
    out: Vec<u8>,
    driver: Option<Waker>,
    out_waiters: Vec<Waker>,
    next_id: u32,
    peer: Option<Hello>,
    /// Why the session ended, once it has.
    closed: Option<String>,
    /// Every [`Relay`] handle is gone: end once the streams are.
    handles_gone: bool,
    pings: HashMap<u64, Option<Waker>>,
    next_ping: u64,
}

impl Shared {
    fn wake_driver(&mut self) {
        if let Some(w) = self.driver.take() {
            w.wake();
        }
    }

    fn send(&mut self, frame: &Frame<'_>) {
        protocol::encode(frame, &mut self.out);
        self.wake_driver();
    }

    /// Ends the session: every stream and waiter learns why.
    fn fail(&mut self, why: &str) {
        if self.closed.is_some() {
            return;
        }
        self.closed = Some(why.to_owned());
        for s in self.streams.values_mut() {
            let e = (io::ErrorKind::ConnectionAborted, why.to_owned());
            if s.opening {
                s.open_error = Some(e);
            } else if s.reset.is_none() {
                s.reset = Some(e);
            }
            wake(&mut s.read_waker);
            wake(&mut s.write_waker);
        }
        for w in self.out_waiters.drain(..) {
            w.wake();
        }
        for w in self.pings.values_mut() {
            wake(w);
        }
    }

    /// Handles one frame from the relay; an error ends the session.
    fn handle(&mut self, frame: Frame<'_>) -> Result<(), RelayViolation> {
        let Some(peer) = self.peer else {
            let Frame::Hello(hello) = frame else {
                return Err(RelayViolation::NoHello);
            };
            let ours = Hello::ours();
            if ours.agree(&hello).is_none() {
                return Err(RelayViolation::Version {
                    theirs_min: hello.min_version,
                    theirs_max: hello.max_version,
                    ours_min: ours.min_version,
                    ours_max: ours.max_version,
                });
            }
            self.peer = Some(hello);
            return Ok(());
        };
        match frame {
            Frame::Hello(_) => return Err(RelayViolation::SecondHello),
            Frame::Open { .. } => return Err(RelayViolation::Open),
            Frame::Opened { id } => {
                if let Some(s) = self.streams.get_mut(&id)
                    && s.opening
                {
                    s.opening = false;
                    s.credit = peer.window;
                    wake(&mut s.write_waker);
                }
            }
            Frame::Data { id, bytes } => {
                if let Some(s) = self.streams.get_mut(&id) {
                    let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                    if s.opening || len > s.granted || len > protocol::MAX_DATA {
                        return Err(RelayViolation::BeyondWindow {
                            id,
                            len,
                            window: s.granted,
                        });
                    }
                    s.granted -= len;
                    s.recv.extend_from_slice(bytes);
                    wake(&mut s.read_waker);
                }
            }
            Frame::Window { id, increment } => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.credit = s
                        .credit
                        .checked_add(increment)
                        .ok_or(RelayViolation::WindowOverflow { id })?;
                    wake(&mut s.write_waker);
                }
            }
            Frame::Shutdown { id } => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.recv_eof = true;
                    wake(&mut s.read_waker);
                }
            }
            Frame::Close { id } => self.reset(
                id,
                io::ErrorKind::ConnectionReset,
                "the relay closed the connection to the backend".into(),
            ),
            Frame::Error { id: 0, message, .. } => {
                return Err(RelayViolation::Ended {
                    message: message.to_owned(),
                });
            }
            Frame::Error { id, kind, message } => self.reset(id, kind.to_io(), message.to_owned()),
            Frame::Ping(v) => self.send(&Frame::Pong(v)),
            Frame::Pong(v) => {
                if let Some(Some(w)) = self.pings.remove(&v) {
                    w.wake();
                }
            }
        }
        Ok(())
    }

    fn reset(&mut self, id: u32, kind: io::ErrorKind, message: String) {
        if let Some(s) = self.streams.get_mut(&id) {
            if s.opening {
                s.opening = false;
                s.open_error = Some((kind, message));
            } else {
                s.reset = Some((kind, message));
            }
            wake(&mut s.read_waker);
            wake(&mut s.write_waker);
        }
    }
}

fn wake(w: &mut Option<Waker>) {
    if let Some(w) = w.take() {
        w.wake();
    }
}

fn lock(shared: &Mutex<Shared>) -> MutexGuard<'_, Shared> {
    // A panic while holding the lock leaves consistent-enough state: the
    // session is failed below by whoever sees it.
    shared
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The handle to a relay session: opens connections. Cloning it is cheap;
/// once every clone and every stream is gone, the driver ends.
#[derive(Clone)]
pub struct Relay {
    inner: Arc<Handle>,
}

struct Handle {
    shared: Arc<Mutex<Shared>>,
}

impl Drop for Handle {
    fn drop(&mut self) {
        let mut sh = lock(&self.shared);
        sh.handles_gone = true;
        sh.wake_driver();
    }
}

impl std::fmt::Debug for Relay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sh = lock(&self.inner.shared);
        f.debug_struct("Relay")
            .field("streams", &sh.streams.len())
            .field("closed", &sh.closed)
            .finish()
    }
}

impl Relay {
    /// Starts a session over `io`: sends our `HELLO` and returns the handle
    /// and the driver, which must be polled (spawned) for anything to move.
    pub fn start<S>(io: S) -> (Relay, RelayDriver<S>)
    where
        S: AsyncRead + AsyncWrite + Unpin,
    {
        let mut shared = Shared {
            next_id: 1,
            ..Shared::default()
        };
        protocol::encode(&Frame::Hello(Hello::ours()), &mut shared.out);
        let shared = Arc::new(Mutex::new(shared));
        let relay = Relay {
            inner: Arc::new(Handle {
                shared: shared.clone(),
            }),
        };
        let driver = RelayDriver {
            io,
            shared,
            rbuf: BytesMut::with_capacity(64 * 1024),
            wbuf: Vec::new(),
            wpos: 0,
            done: false,
        };
        (relay, driver)
    }

    /// Why the session ended, once it has (a new session is needed then).
    pub fn closed(&self) -> Option<String> {
        lock(&self.inner.shared).closed.clone()
    }

    /// How many connections are open.
    pub fn streams(&self) -> usize {
        lock(&self.inner.shared).streams.len()
    }

    /// Connects to the socket `name` in the backend's socket directory.
    /// Errors are the relay's (`NotFound`: no such socket yet,
    /// `ConnectionRefused`: nobody listens, `WouldBlock`: the backend's queue
    /// stayed full, `InvalidInput`: not a socket name) or the session's
    /// (`ConnectionAborted`).
    pub async fn connect(&self, name: &str) -> io::Result<RelayStream> {
        if name.is_empty() || name.len() > protocol::MAX_NAME {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "`{name}` is not a socket name the relay takes (1 to {} bytes)",
                    protocol::MAX_NAME
                ),
            ));
        }
        let shared = self.inner.shared.clone();
        let id = {
            let mut sh = lock(&shared);
            if let Some(why) = &sh.closed {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    why.clone(),
                ));
            }
            let id = sh.next_id;
            sh.next_id = id.checked_add(1).ok_or_else(|| {
                io::Error::other("this relay session has used every stream id: start a new session")
            })?;
            sh.streams.insert(
                id,
                StreamState {
                    opening: true,
                    open_error: None,
                    recv: BytesMut::new(),
                    recv_eof: false,
                    reset: None,
                    granted: protocol::WINDOW,
                    consumed: 0,
                    credit: 0,
                    local_shut: false,
                    read_waker: None,
                    write_waker: None,
                },
            );
            sh.send(&Frame::Open { id, name });
            id
        };
        // Until it is answered, a dropped connect closes its stream.
        let stream = RelayStream { shared, id };
        poll_fn(|cx| {
            let mut sh = lock(&stream.shared);
            let Some(s) = sh.streams.get_mut(&id) else {
                return Poll::Ready(Err(io::Error::other("the stream vanished")));
            };
            if let Some((kind, message)) = s.open_error.take() {
                sh.streams.remove(&id);
                return Poll::Ready(Err(io::Error::new(kind, message)));
            }
            if !s.opening {
                return Poll::Ready(Ok(()));
            }
            s.write_waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await?;
        Ok(stream)
    }

    /// Sends a `PING` and waits for its `PONG`: the round trip through the
    /// relay process (not through any backend).
    pub async fn ping(&self) -> io::Result<Duration> {
        let started = Instant::now();
        let v = {
            let mut sh = lock(&self.inner.shared);
            if let Some(why) = &sh.closed {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    why.clone(),
                ));
            }
            sh.next_ping += 1;
            let v = sh.next_ping;
            sh.pings.insert(v, None);
            sh.send(&Frame::Ping(v));
            v
        };
        poll_fn(|cx| {
            let mut sh = lock(&self.inner.shared);
            if let Some(why) = &sh.closed {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionAborted,
                    why.clone(),
                )));
            }
            match sh.pings.get_mut(&v) {
                None => Poll::Ready(Ok(started.elapsed())),
                Some(w) => {
                    *w = Some(cx.waker().clone());
                    Poll::Pending
                }
            }
        })
        .await
    }
}

/// One connection through the relay to a backend socket.
pub struct RelayStream {
    shared: Arc<Mutex<Shared>>,
    id: u32,
}

impl std::fmt::Debug for RelayStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayStream").field("id", &self.id).finish()
    }
}

impl Drop for RelayStream {
    fn drop(&mut self) {
        let mut sh = lock(&self.shared);
        if let Some(s) = sh.streams.remove(&self.id) {
            let finished = s.local_shut && s.recv_eof;
            if !finished && s.reset.is_none() && s.open_error.is_none() && sh.closed.is_none() {
                sh.send(&Frame::Close { id: self.id });
            } else {
                sh.wake_driver();
            }
        }
    }
}

impl AsyncRead for RelayStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let id = self.id;
        let mut sh = lock(&self.shared);
        let Some(s) = sh.streams.get_mut(&id) else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        if !s.recv.is_empty() {
            let n = s.recv.len().min(buf.remaining());
            buf.put_slice(&s.recv[..n]);
            s.recv.advance(n);
            s.consumed += u32::try_from(n).unwrap_or(u32::MAX);
            if s.consumed >= protocol::WINDOW / 4 {
                let increment = s.consumed;
                s.granted += increment;
                s.consumed = 0;
                sh.send(&Frame::Window { id, increment });
            }
            return Poll::Ready(Ok(()));
        }
        if let Some((kind, message)) = &s.reset {
            return Poll::Ready(Err(io::Error::new(*kind, message.clone())));
        }
        if s.recv_eof {
            return Poll::Ready(Ok(()));
        }
        s.read_waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl AsyncWrite for RelayStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        let id = self.id;
        let mut sh = lock(&self.shared);
        let max = sh
            .peer
            .map_or(protocol::MAX_DATA, |p| p.max_data.min(protocol::MAX_DATA));
        let out_full = sh.out.len() >= OUT_CAP;
        let Some(s) = sh.streams.get_mut(&id) else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        if let Some((kind, message)) = &s.reset {
            return Poll::Ready(Err(io::Error::new(*kind, message.clone())));
        }
        if s.local_shut {
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "write after shutdown on a relay stream",
            )));
        }
        if s.credit == 0 {
            s.write_waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if out_full {
            sh.out_waiters.push(cx.waker().clone());
            return Poll::Pending;
        }
        let n = buf.len().min(s.credit as usize).min(max as usize);
        s.credit -= u32::try_from(n).unwrap_or(u32::MAX);
        sh.send(&Frame::Data {
            id,
            bytes: &buf[..n],
        });
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Bytes are handed to the driver as they are written.
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let id = self.id;
        let mut sh = lock(&self.shared);
        if let Some(s) = sh.streams.get_mut(&id)
            && !s.local_shut
            && s.reset.is_none()
        {
            s.local_shut = true;
            sh.send(&Frame::Shutdown { id });
        }
        Poll::Ready(Ok(()))
    }
}

/// Moves the bytes of a session: reads frames from the stream and hands
/// them to the streams, writes what the streams queued. Ends when the
/// stream ends, the session fails, or every handle and stream is gone.
pub struct RelayDriver<S> {
    io: S,
    shared: Arc<Mutex<Shared>>,
    rbuf: BytesMut,
    wbuf: Vec<u8>,
    wpos: usize,
    done: bool,
}

impl<S> std::fmt::Debug for RelayDriver<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelayDriver").finish_non_exhaustive()
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> RelayDriver<S> {
    fn fail(&mut self, why: &str) {
        lock(&self.shared).fail(why);
        self.done = true;
    }

    /// Reads what is there and handles its frames; `Ready` when the session ended.
    fn poll_input(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RelayError>> {
        for _ in 0..READS_PER_POLL {
            if self.rbuf.capacity() - self.rbuf.len() < 16 * 1024 {
                self.rbuf.reserve(64 * 1024);
            }
            match tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.rbuf) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Err(e)) => {
                    self.fail(&format!(
                        "the relay's stream failed: {e} (the relay process exited or its container stopped)"
                    ));
                    return Poll::Ready(Err(RelayError::Io(e)));
                }
                Poll::Ready(Ok(0)) => {
                    self.fail("the relay's stream ended (the relay process exited or its container stopped)");
                    return Poll::Ready(Ok(()));
                }
                Poll::Ready(Ok(_)) => {
                    let mut sh = lock(&self.shared);
                    let mut at = 0;
                    let result = loop {
                        match protocol::decode(&self.rbuf[at..]) {
                            Ok(Some((frame, used))) => {
                                at += used;
                                if let Err(why) = sh.handle(frame) {
                                    break Err(why);
                                }
                            }
                            Ok(None) => break Ok(()),
                            Err(e) => break Err(RelayViolation::Decode(e)),
                        }
                    };
                    if let Err(why) = result {
                        let message = why.to_string();
                        protocol::encode(
                            &Frame::Error {
                                id: 0,
                                kind: ErrorKind::Protocol,
                                message: &message,
                            },
                            &mut sh.out,
                        );
                        sh.fail(&message);
                        drop(sh);
                        self.done = true;
                        return Poll::Ready(Err(RelayError::Protocol(why)));
                    }
                    drop(sh);
                    self.rbuf.advance(at);
                }
            }
        }
        // More may be waiting: let other tasks run, then come back.
        cx.waker().wake_by_ref();
        Poll::Pending
    }

    /// Writes what the streams queued; `Ready(Err)` when writing failed.
    fn poll_output(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), RelayError>> {
        loop {
            if self.wpos == self.wbuf.len() {
                self.wbuf.clear();
                self.wpos = 0;
                let mut sh = lock(&self.shared);
                std::mem::swap(&mut self.wbuf, &mut sh.out);
                for w in sh.out_waiters.drain(..) {
                    w.wake();
                }
                if self.wbuf.is_empty() {
                    sh.driver = Some(cx.waker().clone());
                    drop(sh);
                    return match Pin::new(&mut self.io).poll_flush(cx) {
                        Poll::Ready(Err(e)) => Poll::Ready(Err(RelayError::Io(e))),
                        _ => Poll::Ready(Ok(())),
                    };
                }
            }
            match Pin::new(&mut self.io).poll_write(cx, &self.wbuf[self.wpos..]) {
                Poll::Ready(Ok(0)) => {
                    return Poll::Ready(Err(RelayError::Io(io::ErrorKind::WriteZero.into())));
                }
                Poll::Ready(Ok(n)) => self.wpos += n,
                Poll::Ready(Err(e)) => return Poll::Ready(Err(RelayError::Io(e))),
                Poll::Pending => {
                    lock(&self.shared).driver = Some(cx.waker().clone());
                    return Poll::Pending;
                }
            }
        }
    }
}

impl<S: AsyncRead + AsyncWrite + Unpin> Future for RelayDriver<S> {
    type Output = Result<(), RelayError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(Ok(()));
        }
        if let Poll::Ready(ended) = this.poll_input(cx) {
            // Best effort: a last ERROR frame for the relay.
            let _ = this.poll_output(cx);
            this.done = true;
            return Poll::Ready(ended);
        }
        match this.poll_output(cx) {
            Poll::Ready(Err(e)) => {
                this.fail(&format!("writing to the relay failed: {e}"));
                return Poll::Ready(Err(e));
            }
            Poll::Ready(Ok(())) => {
                let sh = lock(&this.shared);
                if sh.handles_gone && sh.streams.is_empty() && sh.out.is_empty() {
                    drop(sh);
                    this.done = true;
                    let _ = Pin::new(&mut this.io).poll_shutdown(cx);
                    return Poll::Ready(Ok(()));
                }
            }
            Poll::Pending => {}
        }
        Poll::Pending
    }
}
