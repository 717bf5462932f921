//! The relay's one loop: frames in on the input (the exec's stdin), frames
//! out on the output (its stdout), and one unix socket per stream, all
//! non-blocking on one thread (mio: epoll). Memory stays bounded: a stream
//! buffers at most the window it granted, the output at most
//! [`OUT_CAP`] plus one read, and a stream whose client stopped reading
//! only stops itself (its window runs out), never the others.

use std::collections::HashMap;
use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use mio::event::Source;
use mio::net::UnixStream;
use mio::{Events, Interest, Poll, Token};

use crate::name::{check_socket, socket_path};
use crate::protocol::{self, ErrorKind, Frame, Hello, ProtocolError};

const INPUT: Token = Token(0);
const OUTPUT: Token = Token(1);
/// Frames waiting for the output above this size stop reads from sockets
/// until it drains to half.
pub const OUT_CAP: usize = 512 * 1024;
/// The first pause before connecting again to a socket whose queue is full.
const FIRST_PAUSE: Duration = Duration::from_millis(1);
/// The longest pause between two attempts.
const MAX_PAUSE: Duration = Duration::from_millis(50);

/// What the relay needs.
#[derive(Debug, Clone)]
pub struct Options {
    /// The socket directory (`/run/guest-services`).
    pub dir: PathBuf,
    /// Streams open at once; one more is refused with `TooManyStreams`.
    pub max_streams: usize,
    /// How long a connect to a socket whose queue stays full is tried again.
    pub connect_timeout: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("/run/guest-services"),
            max_streams: 16 * 1024,
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// How a session ended without an error of the relay's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The client closed its side (stdin's end): the normal end.
    InputClosed,
    /// The client could no longer be written to.
    OutputClosed,
    /// The client broke the protocol; it was told so on stream 0.
    Protocol(String),
    /// The client and the relay share no protocol version; it was told so.
    Version(String),
    /// The client ended the session with an error on stream 0.
    ClientError(String),
}

/// Why the relay could not run at all.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// epoll or the registration of the input or output failed.
    #[error("cannot watch the relay's input and output: {0}")]
    Poll(#[source] io::Error),
}

struct Stream {
    /// `None` while a connect waits for room in the backend's queue.
    sock: Option<UnixStream>,
    /// Bytes from the client not yet written to the socket.
    to_sock: Vec<u8>,
    /// Bytes the relay may still send the client on this stream.
    credit: u32,
    /// Bytes the client may still send before the relay's next `WINDOW`.
    granted: u32,
    /// Bytes written to the socket and not yet given back as `WINDOW`.
    consumed: u32,
    readable: bool,
    writable: bool,
    /// The client sent `SHUTDOWN`.
    client_eof: bool,
    /// The socket's write side is shut (after `client_eof` and `to_sock` drained).
    write_shut: bool,
    /// The socket said end of file and the relay sent `SHUTDOWN`.
    sock_eof: bool,
}

struct Pending {
    id: u32,
    path: PathBuf,
    next: Instant,
    pause: Duration,
    deadline: Instant,
}

/// The relay's state over one session.
struct Relay<'o, R, W> {
    opts: &'o Options,
    poll: Poll,
    input: R,
    output: W,
    inbuf: Vec<u8>,
    in_readable: bool,
    out: Vec<u8>,
    out_pos: usize,
    out_writable: bool,
    peer: Option<Hello>,
    last_id: u32,
    streams: HashMap<u32, Stream>,
    pending: Vec<Pending>,
    /// Streams to look at after the current batch of events.
    dirty: Vec<u32>,
    /// Streams that had more to read when the output was full.
    starved: Vec<u32>,
    ended: Option<Ended>,
}

fn token(id: u32) -> Token {
    Token(id as usize + 2)
}

fn io_kind_message(e: &io::Error) -> (ErrorKind, String) {
    (ErrorKind::from_io(e.kind()), e.to_string())
}

/// Runs one session: reads frames from `input` and writes frames to
/// `output` (both non-blocking), until the input ends, the output fails or
/// the client breaks the protocol.
pub fn serve<R, W>(input: R, output: W, opts: &Options) -> Result<Ended, ServeError>
where
    R: Read + Source,
    W: Write + Source,
{
    let poll = Poll::new().map_err(ServeError::Poll)?;
    let mut relay = Relay {
        opts,
        poll,
        input,
        output,
        inbuf: Vec::with_capacity(64 * 1024),
        in_readable: true,
        out: Vec::with_capacity(64 * 1024),
        out_pos: 0,
        out_writable: true,
        peer: None,
        last_id: 0,
        streams: HashMap::new(),
        pending: Vec::new(),
        dirty: Vec::new(),
        starved: Vec::new(),
        ended: None,
    };
    relay
        .poll
        .registry()
        .register(&mut relay.input, INPUT, Interest::READABLE)
        .map_err(ServeError::Poll)?;
    relay
        .poll
        .registry()
        .register(&mut relay.output, OUTPUT, Interest::WRITABLE)
        .map_err(ServeError::Poll)?;
    protocol::encode(&Frame::Hello(Hello::ours()), &mut relay.out);
    relay.run().map_err(ServeError::Poll)
}

impl<R: Read + Source, W: Write + Source> Relay<'_, R, W> {
    fn run(&mut self) -> io::Result<Ended> {
        let mut events = Events::with_capacity(256);
        loop {
            self.read_input();
            self.flush_output();
            self.work();
            self.flush_output();
            if let Some(ended) = self.ended.take() {
                self.finish_output();
                return Ok(ended);
            }
            let timeout = self
                .pending
                .iter()
                .map(|p| p.next)
                .min()
                .map(|t| t.saturating_duration_since(Instant::now()));
            match self.poll.poll(&mut events, timeout) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            for event in &events {
                match event.token() {
                    INPUT => self.in_readable = true,
                    OUTPUT => self.out_writable = true,
                    Token(t) => {
                        let Ok(id) = u32::try_from(t - 2) else {
                            continue;
                        };
                        if let Some(s) = self.streams.get_mut(&id) {
                            if event.is_readable() || event.is_read_closed() || event.is_error() {
                                s.readable = true;
                            }
                            if event.is_writable() || event.is_write_closed() || event.is_error() {
                                s.writable = true;
                            }
                            self.dirty.push(id);
                        }
                    }
                }
            }
            self.retry_connects();
        }
    }

    fn end(&mut self, ended: Ended) {
        if self.ended.is_none() {
            self.ended = Some(ended);
        }
    }

    fn out_len(&self) -> usize {
        self.out.len() - self.out_pos
    }

    fn send(&mut self, frame: &Frame<'_>) {
        protocol::encode(frame, &mut self.out);
    }

    fn send_error(&mut self, id: u32, kind: ErrorKind, message: &str) {
        self.send(&Frame::Error { id, kind, message });
    }

    /// Reads and handles frames while the input has bytes.
    fn read_input(&mut self) {
        let mut chunk = [0u8; 64 * 1024];
        while self.in_readable && self.ended.is_none() {
            match self.input.read(&mut chunk) {
                Ok(0) => {
                    self.in_readable = false;
                    self.end(Ended::InputClosed);
                }
                Ok(n) => {
                    self.inbuf.extend_from_slice(&chunk[..n]);
                    self.handle_frames();
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.in_readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.in_readable = false;
                    self.end(Ended::InputClosed);
                }
            }
        }
    }

    fn handle_frames(&mut self) {
        let mut at = 0;
        let buf = std::mem::take(&mut self.inbuf);
        while self.ended.is_none() {
            match protocol::decode(&buf[at..]) {
                Ok(Some((frame, used))) => {
                    at += used;
                    self.handle(frame);
                }
                Ok(None) => break,
                Err(e) => {
                    self.protocol_error(&e.to_string());
                    break;
                }
            }
        }
        let mut buf = buf;
        buf.drain(..at.min(buf.len()));
        self.inbuf = buf;
    }

    fn protocol_error(&mut self, why: &str) {
        let message = format!("the relay ends the session: the client broke the protocol: {why}");
        self.send_error(0, ErrorKind::Protocol, &message);
        self.end(Ended::Protocol(why.to_owned()));
    }

    fn handle(&mut self, frame: Frame<'_>) {
        let Some(peer) = self.peer else {
            let Frame::Hello(hello) = frame else {
                self.protocol_error("the first frame is not HELLO");
                return;
            };
            let ours = Hello::ours();
            if ours.agree(&hello).is_none() {
                let message = format!(
                    "this relay speaks protocol versions {}..={} and the client {}..={}: use a dockhand and a relay image of the same release (dockhand loads its own relay image; `dockhand doctor` replaces an old one)",
                    ours.min_version, ours.max_version, hello.min_version, hello.max_version
                );
                self.send_error(0, ErrorKind::Version, &message);
                self.end(Ended::Version(message));
                return;
            }
            self.peer = Some(hello);
            return;
        };
        match frame {
            Frame::Hello(_) => self.protocol_error("a second HELLO"),
            Frame::Open { id, name } => {
                if id <= self.last_id {
                    self.protocol_error(&format!(
                        "stream {id} opened after stream {}: ids must grow",
                        self.last_id
                    ));
                    return;
                }
                self.last_id = id;
                self.open(id, name, peer);
            }
            Frame::Data { id, bytes } => {
                let Some(s) = self.streams.get_mut(&id) else {
                    return; // a stream already closed: its late bytes are dropped
                };
                if s.client_eof {
                    self.protocol_error(&format!("DATA on stream {id} after its SHUTDOWN"));
                    return;
                }
                let len = u32::try_from(bytes.len()).unwrap_or(u32::MAX);
                if len > s.granted || len > protocol::MAX_DATA {
                    let granted = s.granted;
                    self.protocol_error(&format!(
                        "{len} bytes on stream {id}, beyond the window the relay granted ({granted})"
                    ));
                    return;
                }
                s.granted -= len;
                s.to_sock.extend_from_slice(bytes);
                self.dirty.push(id);
            }
            Frame::Window { id, increment } => {
                let Some(s) = self.streams.get_mut(&id) else {
                    return;
                };
                match s.credit.checked_add(increment) {
                    Some(c) => s.credit = c,
                    None => {
                        self.protocol_error(&format!("the window of stream {id} overflows"));
                        return;
                    }
                }
                self.dirty.push(id);
            }
            Frame::Shutdown { id } => {
                if let Some(s) = self.streams.get_mut(&id) {
                    s.client_eof = true;
                    self.dirty.push(id);
                }
            }
            Frame::Close { id } | Frame::Error { id, .. } if id != 0 => self.remove(id),
            Frame::Error { message, .. } => self.end(Ended::ClientError(message.to_owned())),
            Frame::Ping(v) => self.send(&Frame::Pong(v)),
            Frame::Pong(_) => {}
            Frame::Opened { id } | Frame::Close { id } => {
                self.protocol_error(&format!(
                    "{frame:?} on stream {id} comes only from the relay"
                ));
            }
        }
    }

    fn open(&mut self, id: u32, name: &str, peer: Hello) {
        if self.streams.len() >= self.opts.max_streams {
            let message = format!(
                "the relay has {} connections open, as many as it takes: close some first",
                self.opts.max_streams
            );
            self.send_error(id, ErrorKind::TooManyStreams, &message);
            return;
        }
        let path = match socket_path(&self.opts.dir, name) {
            Ok(path) => path,
            Err(e) => {
                self.send_error(id, ErrorKind::InvalidName, &e.to_string());
                return;
            }
        };
        self.streams.insert(
            id,
            Stream {
                sock: None,
                to_sock: Vec::new(),
                credit: peer.window,
                granted: protocol::WINDOW,
                consumed: 0,
                readable: false,
                writable: false,
                client_eof: false,
                write_shut: false,
                sock_eof: false,
            },
        );
        let now = Instant::now();
        self.pending.push(Pending {
            id,
            path,
            next: now,
            pause: FIRST_PAUSE,
            deadline: now + self.opts.connect_timeout,
        });
        self.retry_connects();
    }

    /// Tries the connects that are due; a full queue waits and tries again.
    fn retry_connects(&mut self) {
        let now = Instant::now();
        let mut i = 0;
        while i < self.pending.len() {
            if self.pending[i].next > now {
                i += 1;
                continue;
            }
            let p = self.pending.swap_remove(i);
            if !self.streams.contains_key(&p.id) {
                continue; // closed by the client meanwhile
            }
            match self.connect(&p) {
                Ok(sock) => {
                    if let Some(s) = self.streams.get_mut(&p.id) {
                        s.sock = Some(sock);
                        s.readable = true;
                        s.writable = true;
                    }
                    self.send(&Frame::Opened { id: p.id });
                    self.dirty.push(p.id);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock && now < p.deadline => {
                    self.pending.push(Pending {
                        next: now + p.pause,
                        pause: (p.pause * 2).min(MAX_PAUSE),
                        ..p
                    });
                }
                Err(e) => {
                    self.streams.remove(&p.id);
                    let (kind, detail) = io_kind_message(&e);
                    let message = match kind {
                        ErrorKind::NotFound => format!(
                            "the backend has not created the socket {} (no such file)",
                            p.path.display()
                        ),
                        ErrorKind::Refused => {
                            format!("nothing listens on the socket {}", p.path.display())
                        }
                        ErrorKind::Busy => format!(
                            "the backend's queue of connections on {} stayed full for {}s",
                            p.path.display(),
                            self.opts.connect_timeout.as_secs()
                        ),
                        ErrorKind::InvalidName => detail,
                        _ => format!("cannot connect to {}: {detail}", p.path.display()),
                    };
                    self.send_error(p.id, kind, &message);
                }
            }
        }
    }

    fn connect(&mut self, p: &Pending) -> io::Result<UnixStream> {
        check_socket(&p.path)?;
        let mut sock = UnixStream::connect(&p.path)?;
        self.poll.registry().register(
            &mut sock,
            token(p.id),
            Interest::READABLE | Interest::WRITABLE,
        )?;
        Ok(sock)
    }

    fn remove(&mut self, id: u32) {
        if let Some(mut s) = self.streams.remove(&id)
            && let Some(sock) = s.sock.as_mut()
        {
            let _ = self.poll.registry().deregister(sock);
        }
    }

    /// Moves bytes on every stream that had an event or a frame.
    fn work(&mut self) {
        if self.out_len() < OUT_CAP / 2 && !self.starved.is_empty() {
            let starved = std::mem::take(&mut self.starved);
            self.dirty.extend(starved);
        }
        while let Some(id) = self.dirty.pop() {
            if self.ended.is_some() {
                return;
            }
            self.stream_work(id);
        }
    }

    fn stream_work(&mut self, id: u32) {
        let out_len = self.out_len();
        let max = self
            .peer
            .map_or(protocol::MAX_DATA, |p| p.max_data.min(protocol::MAX_DATA));
        let Some(s) = self.streams.get_mut(&id) else {
            return;
        };
        let Some(sock) = s.sock.as_mut() else {
            return; // still connecting
        };
        // Client → socket.
        let mut failed: Option<io::Error> = None;
        while s.writable && !s.to_sock.is_empty() {
            match sock.write(&s.to_sock) {
                Ok(n) => {
                    s.to_sock.drain(..n);
                    s.consumed += u32::try_from(n).unwrap_or(u32::MAX);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => s.writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        let mut frames: Vec<u8> = Vec::new();
        // Every quarter window, not each time the buffer empties: a caller
        // then has at least three quarters of its window left, and a call
        // of a few hundred bytes costs no `WINDOW` frame of its own (one
        // more message through the engine and a wake-up on each side).
        if s.consumed >= protocol::WINDOW / 4 {
            protocol::encode(
                &Frame::Window {
                    id,
                    increment: s.consumed,
                },
                &mut frames,
            );
            s.granted += s.consumed;
            s.consumed = 0;
        }
        if failed.is_none() && s.client_eof && s.to_sock.is_empty() && !s.write_shut {
            s.write_shut = true;
            let _ = sock.shutdown(Shutdown::Write);
        }
        // Socket → client, within the stream's credit and the output's room.
        let mut starved = false;
        let mut chunk = [0u8; protocol::MAX_DATA as usize];
        while failed.is_none() && s.readable && !s.sock_eof {
            if s.credit == 0 {
                break; // the client's WINDOW marks it dirty again
            }
            if out_len + frames.len() >= OUT_CAP {
                starved = true;
                break;
            }
            let want = s.credit.min(max) as usize;
            match sock.read(&mut chunk[..want]) {
                Ok(0) => {
                    s.sock_eof = true;
                    protocol::encode(&Frame::Shutdown { id }, &mut frames);
                }
                Ok(n) => {
                    s.credit -= u32::try_from(n).unwrap_or(u32::MAX);
                    protocol::encode(
                        &Frame::Data {
                            id,
                            bytes: &chunk[..n],
                        },
                        &mut frames,
                    );
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => s.readable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => failed = Some(e),
            }
        }
        let done = s.write_shut && s.sock_eof;
        self.out.extend_from_slice(&frames);
        if let Some(e) = failed {
            let (kind, detail) = io_kind_message(&e);
            let kind = if kind == ErrorKind::Other {
                ErrorKind::Reset
            } else {
                kind
            };
            self.send_error(
                id,
                kind,
                &format!("the connection to the backend broke: {detail}"),
            );
            self.remove(id);
        } else if done {
            self.remove(id);
        } else if starved {
            self.starved.push(id);
        }
    }

    fn flush_output(&mut self) {
        while self.out_writable && self.out_pos < self.out.len() {
            match self.output.write(&self.out[self.out_pos..]) {
                Ok(0) => {
                    self.end(Ended::OutputClosed);
                    return;
                }
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => self.out_writable = false,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => {
                    self.out_writable = false;
                    self.out.clear();
                    self.out_pos = 0;
                    self.end(Ended::OutputClosed);
                    return;
                }
            }
        }
        if self.out_pos == self.out.len() {
            self.out.clear();
            self.out_pos = 0;
            if self.out.capacity() > 4 * OUT_CAP {
                self.out.shrink_to(64 * 1024);
            }
        } else if self.out_pos > OUT_CAP {
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    /// Writes what is left for the client (a last `ERROR`), waiting a
    /// little for the output to take it.
    fn finish_output(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(1);
        let mut events = Events::with_capacity(4);
        while self.out_pos < self.out.len() && Instant::now() < deadline {
            self.flush_output();
            if self.out_pos < self.out.len() {
                let _ = self
                    .poll
                    .poll(&mut events, Some(Duration::from_millis(100)));
                self.out_writable = true;
            }
        }
    }
}

impl From<ProtocolError> for Ended {
    fn from(e: ProtocolError) -> Self {
        Ended::Protocol(e.to_string())
    }
}
