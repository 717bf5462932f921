//! The relay's loop in this process over a socket pair, spoken to frame by
//! frame: the handshake, streams to real unix sockets, flow control, and
//! hostile input (names that leave the directory, symlinks, broken frames,
//! garbage). The binary itself over pipes in `binary.rs`.

mod binary;
mod listen;

use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use dockhand_relay::protocol::{self, ErrorKind, Frame, Hello, WINDOW};
use dockhand_relay::{Ended, Options, serve};

/// A frame with its payload owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owned {
    Hello(Hello),
    Opened(u32),
    Data(u32, Vec<u8>),
    Window(u32, u32),
    Shutdown(u32),
    Close(u32),
    Error(u32, ErrorKind, String),
    Pong(u64),
    Other(String),
}

/// A byte stream a test client speaks frames over.
pub trait Conn: Read + Write {
    /// Half-closes it: no more writes.
    fn shut_write(&self);
}

impl Conn for UnixStream {
    fn shut_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}

impl Conn for std::net::TcpStream {
    fn shut_write(&self) {
        let _ = self.shutdown(std::net::Shutdown::Write);
    }
}

/// The client end of a relay running on a thread (or, for [`Client::over`],
/// elsewhere).
pub struct Client<S: Conn = UnixStream> {
    pub sock: S,
    buf: Vec<u8>,
    pub relay: Option<JoinHandle<Ended>>,
}

impl<S: Conn> std::fmt::Debug for Client<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").finish_non_exhaustive()
    }
}

impl<S: Conn> Client<S> {
    /// A client over a stream already connected to a relay; no handshake yet.
    pub fn over(sock: S) -> Self {
        Self {
            sock,
            buf: Vec::new(),
            relay: None,
        }
    }

    /// Shakes hands.
    pub fn hello(&mut self) {
        self.send(&Frame::Hello(Hello::ours()));
        assert!(matches!(self.recv(), Some(Owned::Hello(_))));
    }

    pub fn send(&mut self, frame: &Frame<'_>) {
        let mut out = Vec::new();
        protocol::encode(frame, &mut out);
        self.sock.write_all(&out).expect("write to the relay");
    }
}

impl Client {
    /// Starts the relay's loop on `dir` on a thread; no handshake yet.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(Options {
            dir: dir.to_path_buf(),
            ..Options::default()
        })
    }

    pub fn start_with(opts: Options) -> Self {
        let (ours, theirs) = UnixStream::pair().expect("socket pair");
        theirs.set_nonblocking(true).expect("non-blocking");
        let input = mio::net::UnixStream::from_std(theirs.try_clone().expect("clone"));
        let output = mio::net::UnixStream::from_std(theirs);
        let relay =
            std::thread::spawn(move || serve(input, output, &opts).expect("the relay runs"));
        ours.set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        Self {
            sock: ours,
            buf: Vec::new(),
            relay: Some(relay),
        }
    }

    /// Starts and shakes hands.
    pub fn connected(dir: &Path) -> Self {
        let mut c = Self::start(dir);
        c.hello();
        c
    }
}

impl<S: Conn> Client<S> {
    pub fn send_raw(&mut self, bytes: &[u8]) {
        // The relay may already have hung up: that is what some tests want.
        let _ = self.sock.write_all(bytes);
    }

    /// The next frame, or `None` at the end of the stream.
    pub fn recv(&mut self) -> Option<Owned> {
        loop {
            if let Some((frame, used)) =
                protocol::decode(&self.buf).expect("the relay's frames decode")
            {
                let owned = match frame {
                    Frame::Hello(h) => Owned::Hello(h),
                    Frame::Opened { id } => Owned::Opened(id),
                    Frame::Data { id, bytes } => Owned::Data(id, bytes.to_vec()),
                    Frame::Window { id, increment } => Owned::Window(id, increment),
                    Frame::Shutdown { id } => Owned::Shutdown(id),
                    Frame::Close { id } => Owned::Close(id),
                    Frame::Error { id, kind, message } => {
                        Owned::Error(id, kind, message.to_owned())
                    }
                    Frame::Pong(v) => Owned::Pong(v),
                    other => Owned::Other(format!("{other:?}")),
                };
                self.buf.drain(..used);
                return Some(owned);
            }
            let mut chunk = [0u8; 65536];
            match self.sock.read(&mut chunk) {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// The next frame that is not a `WINDOW`.
    pub fn recv_skip_windows(&mut self) -> Option<Owned> {
        loop {
            match self.recv()? {
                Owned::Window(..) => continue,
                other => return Some(other),
            }
        }
    }

    /// Ends the session and returns how the relay saw its end.
    pub fn finish(mut self) -> Ended {
        self.sock.shut_write();
        while self.recv().is_some() {}
        self.relay
            .take()
            .expect("running")
            .join()
            .expect("the relay thread did not panic")
    }
}

/// A server on `dir/name` that echoes each connection until its end, then closes.
pub fn echo_server(dir: &Path, name: &str) -> JoinHandle<()> {
    let listener = UnixListener::bind(dir.join(name)).expect("bind");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                loop {
                    match conn.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            if conn.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    })
}

#[test]
fn the_relay_says_hello_first_and_answers_pings() {
    let dir = tempfile::tempdir().expect("dir");
    let mut c = Client::start(dir.path());
    let Some(Owned::Hello(hello)) = c.recv() else {
        panic!("no HELLO first")
    };
    assert_eq!(hello, Hello::ours());
    c.send(&Frame::Hello(Hello::ours()));
    c.send(&Frame::Ping(7));
    assert_eq!(c.recv(), Some(Owned::Pong(7)));
    assert_eq!(c.finish(), Ended::InputClosed);
}

#[test]
fn a_stream_carries_bytes_both_ways_and_half_closes() {
    let dir = tempfile::tempdir().expect("dir");
    echo_server(dir.path(), "echo.sock");
    let mut c = Client::connected(dir.path());
    c.send(&Frame::Open {
        id: 1,
        name: "echo.sock",
    });
    assert_eq!(c.recv(), Some(Owned::Opened(1)));
    let sent: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut got = Vec::new();
    let mut window = WINDOW as usize;
    let mut at = 0;
    // Send within the window; give the relay credit for what we read.
    while got.len() < sent.len() {
        while at < sent.len() && window > 0 {
            let n = (sent.len() - at)
                .min(window)
                .min(protocol::MAX_DATA as usize);
            c.send(&Frame::Data {
                id: 1,
                bytes: &sent[at..at + n],
            });
            at += n;
            window -= n;
        }
        match c.recv().expect("frames") {
            Owned::Window(1, inc) => window += inc as usize,
            Owned::Data(1, bytes) => {
                c.send(&Frame::Window {
                    id: 1,
                    increment: bytes.len() as u32,
                });
                got.extend_from_slice(&bytes);
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(got, sent);
    // Our half-close reaches the echo server, whose close comes back.
    c.send(&Frame::Shutdown { id: 1 });
    assert_eq!(c.recv_skip_windows(), Some(Owned::Shutdown(1)));
    assert_eq!(c.finish(), Ended::InputClosed);
}

#[test]
fn a_stream_that_is_not_read_stops_alone() {
    let dir = tempfile::tempdir().expect("dir");
    // A server that writes 4 MiB to every connection.
    let listener = UnixListener::bind(dir.path().join("flood.sock")).expect("bind");
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { return };
            std::thread::spawn(move || {
                let _ = conn.write_all(&vec![b'x'; 4 << 20]);
            });
        }
    });
    echo_server(dir.path(), "echo.sock");
    let mut c = Client::connected(dir.path());
    c.send(&Frame::Open {
        id: 1,
        name: "flood.sock",
    });
    c.send(&Frame::Open {
        id: 2,
        name: "echo.sock",
    });
    // Stream 1 is never given credit: the relay sends its window and stops;
    // stream 2 still answers.
    let mut flood = 0usize;
    let mut echoed = false;
    let mut opened = 0;
    c.send(&Frame::Data {
        id: 2,
        bytes: b"ping",
    });
    while !(echoed && flood == WINDOW as usize && opened == 2) {
        match c.recv().expect("frames") {
            Owned::Opened(_) => opened += 1,
            Owned::Data(1, bytes) => flood += bytes.len(),
            Owned::Data(2, bytes) => {
                assert_eq!(bytes, b"ping");
                echoed = true;
            }
            Owned::Window(..) => {}
            other => panic!("unexpected {other:?}"),
        }
        assert!(flood <= WINDOW as usize, "the relay sent past the window");
    }
    c.send(&Frame::Close { id: 1 });
    assert_eq!(c.finish(), Ended::InputClosed);
}

#[test]
fn names_outside_the_directory_and_non_sockets_are_refused() {
    let outside = tempfile::tempdir().expect("dir");
    let dir = tempfile::tempdir().expect("dir");
    // A real listening socket outside the directory, reachable by a symlink.
    let listener = UnixListener::bind(outside.path().join("secret.sock")).expect("bind");
    listener.set_nonblocking(true).expect("non-blocking");
    fs_err::os::unix::fs::symlink(
        outside.path().join("secret.sock"),
        dir.path().join("link.sock"),
    )
    .expect("symlink");
    fs_err::write(dir.path().join("file"), b"x").expect("file");
    fs_err::create_dir(dir.path().join("sub")).expect("dir");
    drop(UnixListener::bind(dir.path().join("stale.sock")).expect("bind"));
    let outside_name = outside.path().join("secret.sock");
    let names: Vec<(&str, ErrorKind)> = vec![
        ("../x.sock", ErrorKind::InvalidName),
        ("..", ErrorKind::InvalidName),
        (".", ErrorKind::InvalidName),
        ("sub/../link.sock", ErrorKind::InvalidName),
        (
            outside_name.to_str().expect("utf-8"),
            ErrorKind::InvalidName,
        ),
        ("bad\nname", ErrorKind::InvalidName),
        ("link.sock", ErrorKind::InvalidName),
        ("file", ErrorKind::InvalidName),
        ("sub", ErrorKind::InvalidName),
        ("missing.sock", ErrorKind::NotFound),
        ("stale.sock", ErrorKind::Refused),
    ];
    let mut c = Client::connected(dir.path());
    for (i, (name, kind)) in names.iter().enumerate() {
        let id = i as u32 + 1;
        c.send(&Frame::Open { id, name });
        match c.recv() {
            Some(Owned::Error(got_id, got, message)) => {
                assert_eq!((got_id, got), (id, *kind), "{name:?}: {message}");
                assert!(!message.is_empty() && !message.ends_with('.'), "{message}");
            }
            other => panic!("{name:?}: expected an error, got {other:?}"),
        }
    }
    assert!(
        listener.accept().is_err(),
        "the socket outside the directory was connected to"
    );
    assert_eq!(c.finish(), Ended::InputClosed);
}

/// Sends `bytes` after the handshake (or instead of it) and expects the
/// relay to end the session with an error on stream 0, without panicking.
fn refused(handshake: bool, bytes: &[u8], kind: ErrorKind) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let mut c = Client::start(dir.path());
    assert!(matches!(c.recv(), Some(Owned::Hello(_))));
    if handshake {
        c.send(&Frame::Hello(Hello::ours()));
    }
    c.send_raw(bytes);
    let message = loop {
        match c.recv() {
            Some(Owned::Error(0, got, message)) => {
                assert_eq!(got, kind, "{message}");
                break message;
            }
            Some(_) => continue,
            None => panic!("the relay ended without saying why"),
        }
    };
    assert!(c.recv().is_none(), "the relay went on after the error");
    let ended = c.relay.take().expect("running").join().expect("no panic");
    assert!(
        matches!(ended, Ended::Protocol(_) | Ended::Version(_)),
        "{ended:?}"
    );
    message
}

fn encoded(frames: &[Frame<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in frames {
        protocol::encode(f, &mut out);
    }
    out
}

#[test]
fn broken_frames_end_the_session_with_a_reason() {
    let message = refused(
        false,
        &encoded(&[Frame::Hello(Hello {
            min_version: 7,
            max_version: 9,
            ..Hello::ours()
        })]),
        ErrorKind::Version,
    );
    assert!(
        message.contains("1..=1") && message.contains("7..=9"),
        "{message}"
    );
    refused(false, &encoded(&[Frame::Ping(1)]), ErrorKind::Protocol);
    refused(true, &[250, 0, 0, 0, 1, 0, 0, 0, 0], ErrorKind::Protocol);
    refused(
        true,
        &[3, 0, 0, 0, 1, 255, 255, 255, 255],
        ErrorKind::Protocol,
    );
    refused(
        true,
        &encoded(&[
            Frame::Open { id: 5, name: "a" },
            Frame::Open { id: 5, name: "b" },
        ]),
        ErrorKind::Protocol,
    );
    refused(
        true,
        &encoded(&[Frame::Hello(Hello::ours())]),
        ErrorKind::Protocol,
    );
    refused(
        true,
        &encoded(&[Frame::Opened { id: 3 }]),
        ErrorKind::Protocol,
    );
}

#[test]
fn data_beyond_the_window_ends_the_session() {
    let dir = tempfile::tempdir().expect("dir");
    // A server that accepts and never reads: the relay's buffer fills.
    let listener = UnixListener::bind(dir.path().join("deaf.sock")).expect("bind");
    let keep = std::thread::spawn(move || listener.accept().map(|(c, _)| c));
    let mut c = Client::connected(dir.path());
    c.send(&Frame::Open {
        id: 1,
        name: "deaf.sock",
    });
    assert_eq!(c.recv(), Some(Owned::Opened(1)));
    let chunk = vec![0u8; protocol::MAX_DATA as usize];
    let mut sent = 0usize;
    // Much more than the window, never waiting for WINDOW frames.
    while sent < 16 * WINDOW as usize {
        c.send_raw(&encoded(&[Frame::Data {
            id: 1,
            bytes: &chunk,
        }]));
        sent += chunk.len();
    }
    let mut saw = None;
    while let Some(frame) = c.recv() {
        if let Owned::Error(0, kind, message) = frame {
            saw = Some((kind, message));
        }
    }
    let (kind, message) = saw.expect("an error on stream 0");
    assert_eq!(kind, ErrorKind::Protocol);
    assert!(message.contains("beyond the window"), "{message}");
    drop(keep);
}

#[test]
fn garbage_never_panics_the_relay() {
    // A small deterministic generator: no dependency for random bytes.
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let dir = tempfile::tempdir().expect("dir");
    for round in 0..200 {
        let mut c = Client::start(dir.path());
        assert!(matches!(c.recv(), Some(Owned::Hello(_))));
        let mut bytes = Vec::new();
        if round % 2 == 0 {
            protocol::encode(&Frame::Hello(Hello::ours()), &mut bytes);
        }
        let len = (next() % 300) as usize;
        // Mostly valid frame types, so that parsing gets past the type byte.
        for i in 0..len {
            let b = next() as u8;
            bytes.push(if i % 9 == 0 { b % 11 } else { b });
        }
        c.send_raw(&bytes);
        let ended = c.finish();
        assert!(
            matches!(
                ended,
                Ended::Protocol(_) | Ended::InputClosed | Ended::Version(_) | Ended::ClientError(_)
            ),
            "{ended:?}"
        );
    }
}

#[test]
fn too_many_streams_are_refused_one_by_one() {
    let dir = tempfile::tempdir().expect("dir");
    echo_server(dir.path(), "echo.sock");
    let mut c = Client::start_with(Options {
        dir: dir.path().to_path_buf(),
        max_streams: 2,
        ..Options::default()
    });
    c.send(&Frame::Hello(Hello::ours()));
    assert!(matches!(c.recv(), Some(Owned::Hello(_))));
    for id in 1..=3 {
        c.send(&Frame::Open {
            id,
            name: "echo.sock",
        });
    }
    let mut answers = Vec::new();
    for _ in 0..3 {
        answers.push(c.recv().expect("an answer"));
    }
    assert_eq!(answers[..2], [Owned::Opened(1), Owned::Opened(2)]);
    assert!(
        matches!(&answers[2], Owned::Error(3, ErrorKind::TooManyStreams, _)),
        "{answers:?}"
    );
    // Closing one makes room.
    c.send(&Frame::Close { id: 1 });
    c.send(&Frame::Open {
        id: 4,
        name: "echo.sock",
    });
    assert_eq!(c.recv(), Some(Owned::Opened(4)));
    assert_eq!(c.finish(), Ended::InputClosed);
}
