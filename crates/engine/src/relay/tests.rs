//! The multiplexer against the real relay loop (`dockhand_relay::serve`,
//! on a thread of this process) over a socket pair, and against fake relays
//! that break the protocol.

use std::path::Path;
use std::thread::JoinHandle;
use std::time::Duration;

use dockhand_relay::protocol::{self, Frame, Hello};
use dockhand_relay::{Ended, Options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use super::{Relay, RelayStream};

/// The real relay on `dir`, on a thread; our end of its stream.
fn relay_on(dir: &Path) -> (UnixStream, JoinHandle<Ended>) {
    let (ours, theirs) = std::os::unix::net::UnixStream::pair().unwrap();
    theirs.set_nonblocking(true).unwrap();
    let input = mio::net::UnixStream::from_std(theirs.try_clone().unwrap());
    let output = mio::net::UnixStream::from_std(theirs);
    let opts = Options {
        dir: dir.to_path_buf(),
        ..Options::default()
    };
    let thread = std::thread::spawn(move || dockhand_relay::serve(input, output, &opts).unwrap());
    ours.set_nonblocking(true).unwrap();
    (UnixStream::from_std(ours).unwrap(), thread)
}

/// A session with the real relay on `dir`, its driver spawned.
fn session(dir: &Path) -> (Relay, JoinHandle<Ended>) {
    let (io, thread) = relay_on(dir);
    let (relay, driver) = Relay::start(io);
    tokio::spawn(driver);
    (relay, thread)
}

/// Echoes every connection on `dir/name` until its end.
fn echo_server(dir: &Path, name: &str) {
    let listener = UnixListener::bind(dir.join(name)).unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            tokio::spawn(async move {
                let (mut r, mut w) = conn.split();
                let _ = tokio::io::copy(&mut r, &mut w).await;
                let _ = w.shutdown().await;
            });
        }
    });
}

async fn round_trip(stream: &mut RelayStream, sent: &[u8]) -> Vec<u8> {
    let (mut r, mut w) = tokio::io::split(stream);
    let writer = async {
        w.write_all(sent).await.unwrap();
        w.shutdown().await.unwrap();
    };
    let reader = async {
        let mut got = Vec::new();
        r.read_to_end(&mut got).await.unwrap();
        got
    };
    tokio::join!(writer, reader).1
}

fn pattern(len: usize, seed: usize) -> Vec<u8> {
    (0..len).map(|i| ((i * 31 + seed) % 251) as u8).collect()
}

#[tokio::test]
async fn a_thousand_concurrent_streams_echo_without_an_error() {
    let dir = tempfile::tempdir().unwrap();
    echo_server(dir.path(), "echo.sock");
    let (relay, thread) = session(dir.path());
    let mut tasks = Vec::new();
    for i in 0..1000usize {
        let relay = relay.clone();
        tasks.push(tokio::spawn(async move {
            let mut stream = relay.connect("echo.sock").await?;
            let sent = pattern(1 + (i * 97) % 20_000, i);
            let got = round_trip(&mut stream, &sent).await;
            Ok::<bool, std::io::Error>(got == sent)
        }));
    }
    let mut ok = 0;
    for t in tasks {
        if t.await.unwrap().expect("no stream fails") {
            ok += 1;
        }
    }
    assert_eq!(ok, 1000);
    drop(relay);
    // Every handle and stream gone: the driver ends the session, and the
    // relay sees its input close.
    let ended = tokio::task::spawn_blocking(move || thread.join().unwrap())
        .await
        .unwrap();
    assert_eq!(ended, Ended::InputClosed);
}

#[tokio::test]
async fn megabytes_pass_both_ways_within_the_windows() {
    let dir = tempfile::tempdir().unwrap();
    echo_server(dir.path(), "echo.sock");
    let (relay, _thread) = session(dir.path());
    let mut stream = relay.connect("echo.sock").await.unwrap();
    let sent = pattern(8 << 20, 3);
    let got = round_trip(&mut stream, &sent).await;
    assert!(got == sent, "{} bytes back of {}", got.len(), sent.len());
    assert!(relay.ping().await.unwrap() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_stream_nobody_reads_does_not_stall_the_others() {
    let dir = tempfile::tempdir().unwrap();
    echo_server(dir.path(), "echo.sock");
    // Writes 16 MiB to every connection, as fast as it may.
    let listener = UnixListener::bind(dir.path().join("flood.sock")).unwrap();
    let (wrote_tx, mut wrote_rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let wrote_tx = wrote_tx.clone();
            tokio::spawn(async move {
                let chunk = vec![b'x'; 64 * 1024];
                let mut n = 0usize;
                while n < 16 << 20 {
                    match conn.write(&chunk).await {
                        Ok(k) => n += k,
                        Err(_) => break,
                    }
                }
                let _ = wrote_tx.send(n);
            });
        }
    });
    let (relay, _thread) = session(dir.path());
    let flood = relay.connect("flood.sock").await.unwrap();
    // The flood fills its window and the socket buffers, then waits.
    tokio::time::sleep(Duration::from_millis(100)).await;
    for i in 0..200 {
        let mut echo = relay.connect("echo.sock").await.unwrap();
        let sent = pattern(100, i);
        let got = tokio::time::timeout(Duration::from_secs(5), round_trip(&mut echo, &sent))
            .await
            .expect("an echo stream stalled behind the unread one");
        assert_eq!(got, sent);
    }
    // Dropping the unread stream closes its socket: the flood's writes fail.
    drop(flood);
    let wrote = tokio::time::timeout(Duration::from_secs(5), wrote_rx.recv())
        .await
        .expect("the flood's connection was closed")
        .unwrap();
    assert!(
        wrote < 16 << 20,
        "the whole flood was buffered somewhere: {wrote}"
    );
}

#[tokio::test]
async fn hostile_names_and_missing_sockets_fail_with_their_kind() {
    let outside = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let secret = UnixListener::bind(outside.path().join("secret.sock")).unwrap();
    fs_err::os::unix::fs::symlink(
        outside.path().join("secret.sock"),
        dir.path().join("link.sock"),
    )
    .unwrap();
    drop(std::os::unix::net::UnixListener::bind(dir.path().join("stale.sock")).unwrap());
    let (relay, _thread) = session(dir.path());
    let outside_path = outside.path().join("secret.sock");
    let cases = [
        ("../secret.sock", std::io::ErrorKind::InvalidInput),
        (
            outside_path.to_str().unwrap(),
            std::io::ErrorKind::InvalidInput,
        ),
        ("link.sock", std::io::ErrorKind::InvalidInput),
        ("..", std::io::ErrorKind::InvalidInput),
        ("", std::io::ErrorKind::InvalidInput),
        ("missing.sock", std::io::ErrorKind::NotFound),
        ("stale.sock", std::io::ErrorKind::ConnectionRefused),
    ];
    for (name, kind) in cases {
        let e = relay.connect(name).await.expect_err(name);
        assert_eq!(e.kind(), kind, "{name:?}: {e}");
    }
    let missing = relay.connect("missing.sock").await.unwrap_err().to_string();
    assert!(
        missing.contains("has not created the socket") && missing.contains("missing.sock"),
        "{missing}"
    );
    let accepted = tokio::time::timeout(Duration::from_millis(200), secret.accept()).await;
    assert!(
        accepted.is_err(),
        "the socket outside the directory was reached"
    );
    // The session is still good.
    echo_server(dir.path(), "echo.sock");
    let mut stream = relay.connect("echo.sock").await.unwrap();
    assert_eq!(round_trip(&mut stream, b"still here").await, b"still here");
}

/// A fake relay: says `hello`, answers each OPEN with OPENED, then sends `after`.
async fn fake_relay(hello: Hello, after: Vec<u8>) -> Relay {
    let (ours, mut theirs) = UnixStream::pair().unwrap();
    tokio::spawn(async move {
        let mut out = Vec::new();
        protocol::encode(&Frame::Hello(hello), &mut out);
        theirs.write_all(&out).await.unwrap();
        let mut buf = Vec::new();
        let mut chunk = [0u8; 4096];
        loop {
            let Ok(n) = theirs.read(&mut chunk).await else {
                return;
            };
            if n == 0 {
                return;
            }
            buf.extend_from_slice(&chunk[..n]);
            while let Ok(Some((frame, used))) = protocol::decode(&buf) {
                if let Frame::Open { id, .. } = frame {
                    let mut out = Vec::new();
                    protocol::encode(&Frame::Opened { id }, &mut out);
                    out.extend_from_slice(&after);
                    let _ = theirs.write_all(&out).await;
                }
                buf.drain(..used);
            }
        }
    });
    let (relay, driver) = Relay::start(ours);
    tokio::spawn(driver);
    relay
}

#[tokio::test]
async fn a_relay_that_floods_past_the_window_ends_the_session() {
    let mut flood = Vec::new();
    let chunk = vec![0u8; protocol::MAX_DATA as usize];
    for _ in 0..(2 * protocol::WINDOW / protocol::MAX_DATA) {
        protocol::encode(
            &Frame::Data {
                id: 1,
                bytes: &chunk,
            },
            &mut flood,
        );
    }
    let relay = fake_relay(Hello::ours(), flood).await;
    let mut stream = relay.connect("x.sock").await.unwrap();
    let mut sink = Vec::new();
    // Not reading until the flood is in: the window is what bounds it.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let e = stream.read_to_end(&mut sink).await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted, "{e}");
    let why = relay.closed().expect("the session ended");
    assert!(why.contains("beyond its window"), "{why}");
    assert!(sink.len() <= protocol::WINDOW as usize);
    let again = relay.connect("x.sock").await.unwrap_err();
    assert_eq!(again.kind(), std::io::ErrorKind::ConnectionAborted);
}

#[tokio::test]
async fn a_relay_of_another_protocol_version_is_refused_with_the_fix() {
    let relay = fake_relay(
        Hello {
            min_version: 5,
            max_version: 6,
            ..Hello::ours()
        },
        Vec::new(),
    )
    .await;
    let e = relay.connect("x.sock").await.unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted);
    let message = e.to_string();
    assert!(
        message.contains("5..=6") && message.contains("dockhand doctor"),
        "{message}"
    );
}

#[tokio::test]
async fn a_relay_that_sends_a_huge_frame_header_is_cut_off() {
    let mut bad = vec![protocol::FrameType::Data as u8, 0, 0, 0, 1];
    bad.extend_from_slice(&u32::MAX.to_be_bytes());
    let relay = fake_relay(Hello::ours(), bad).await;
    let mut stream = relay.connect("x.sock").await.unwrap();
    let mut sink = Vec::new();
    assert!(stream.read_to_end(&mut sink).await.is_err());
    let why = relay.closed().expect("the session ended");
    assert!(why.contains("broke the protocol"), "{why}");
}

#[tokio::test]
async fn a_relay_that_exits_fails_every_stream_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, theirs) = UnixStream::pair().unwrap();
    let (relay, driver) = Relay::start(ours);
    let driver = tokio::spawn(driver);
    let pending = {
        let relay = relay.clone();
        tokio::spawn(async move { relay.connect("never.sock").await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;
    drop(theirs);
    let e = pending.await.unwrap().unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::ConnectionAborted);
    // An end of file, or a reset when the relay left our bytes unread.
    assert!(e.to_string().contains("the relay's stream"), "{e}");
    let _ = driver.await.unwrap();
    assert!(relay.closed().is_some());
    drop(dir);
}

/// The real relay's listener (the direct transport) on `dir`, on a thread.
fn listener_on(dir: &Path) -> dockhand_relay::ticket::Ticket {
    let opts = dockhand_relay::ListenOptions {
        serve: Options {
            dir: dir.to_path_buf(),
            ..Options::default()
        },
        ..Default::default()
    };
    let listener = dockhand_relay::Listener::bind(opts).unwrap();
    let ticket = listener.ticket().clone();
    std::thread::spawn(move || listener.run());
    ticket
}

async fn tcp(port: u16) -> tokio::net::TcpStream {
    tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .unwrap()
}

#[tokio::test]
async fn the_direct_transport_carries_a_session_after_the_handshake() {
    let dir = tempfile::tempdir().unwrap();
    echo_server(dir.path(), "echo.sock");
    let ticket = listener_on(dir.path());
    let mut io = tcp(ticket.port).await;
    super::direct::handshake(&mut io, &ticket).await.unwrap();
    let (relay, driver) = Relay::start(io);
    tokio::spawn(driver);
    let mut stream = relay.connect("echo.sock").await.unwrap();
    let sent = pattern(200_000, 3);
    assert_eq!(round_trip(&mut stream, &sent).await, sent);
}

#[tokio::test]
async fn a_relay_with_another_token_is_not_the_relay() {
    let dir = tempfile::tempdir().unwrap();
    let real = listener_on(dir.path());
    let ticket = dockhand_relay::ticket::Ticket {
        port: real.port,
        token: dockhand_relay::ticket::Token::generate().unwrap(),
    };
    let mut io = tcp(ticket.port).await;
    let refused = super::direct::handshake(&mut io, &ticket)
        .await
        .unwrap_err();
    assert!(
        matches!(refused, super::DirectError::NotTheRelay { port } if port == real.port),
        "{refused:?}"
    );
}

/// A process on the relay's port number that is not the relay: it answers
/// with `answer` (nothing: it closes) and returns every byte it was sent.
async fn impostor(answer: Vec<u8>) -> (u16, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = tokio::spawn(async move {
        let (mut conn, _) = listener.accept().await.unwrap();
        let mut first = vec![0u8; 48];
        conn.read_exact(&mut first).await.unwrap();
        if answer.is_empty() {
            return first;
        }
        conn.write_all(&answer).await.unwrap();
        let mut rest = Vec::new();
        let _ = tokio::time::timeout(Duration::from_secs(2), conn.read_to_end(&mut rest)).await;
        first.extend(rest);
        first
    });
    (port, got)
}

#[tokio::test]
async fn an_impostor_on_the_port_learns_nothing_and_gets_no_request() {
    for answer in [vec![0u8; 64], pattern(64, 9), Vec::new()] {
        let (port, got) = impostor(answer.clone()).await;
        let ticket = dockhand_relay::ticket::Ticket {
            port,
            token: dockhand_relay::ticket::Token::generate().unwrap(),
        };
        let mut io = tcp(port).await;
        let refused = super::direct::handshake(&mut io, &ticket)
            .await
            .unwrap_err();
        assert!(
            matches!(refused, super::DirectError::NotTheRelay { .. }),
            "{answer:?}: {refused:?}"
        );
        drop(io);
        // It saw the magic and a random nonce: no proof, no token, no frame.
        let seen = got.await.unwrap();
        assert_eq!(seen.len(), 48, "{answer:?}");
        assert_eq!(&seen[..16], dockhand_relay::ticket::TCP_MAGIC);
    }
}
