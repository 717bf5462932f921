//! `dockhand-relay listen`, the direct transport: the binary prints its
//! ticket, lets in a client that proves it knows the token, serves it as an
//! exec session is served, and refuses everyone else without a frame.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use dockhand_relay::protocol::Frame;
use dockhand_relay::ticket::{NONCE_LEN, PROOF_LEN, Side, TCP_MAGIC, Ticket, Token, check, proof};

use crate::{Client, Owned, echo_server};

/// The listening binary (killed on drop) and its ticket.
struct Listening {
    child: Child,
    ticket: Ticket,
}

impl Drop for Listening {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn listen(dir: &std::path::Path) -> Listening {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dockhand-relay"))
        .args(["listen", "--dir"])
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the relay starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the ticket line");
    let ticket = Ticket::parse(&line).unwrap_or_else(|| panic!("not a ticket: {line:?}"));
    Listening { child, ticket }
}

fn connect(ticket: &Ticket) -> TcpStream {
    let s = TcpStream::connect(("127.0.0.1", ticket.port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    s
}

/// The client's side of the handshake with `token`; the relay's proof is
/// checked against `token` too. Returns whether the relay proved itself.
fn handshake(s: &mut TcpStream, token: &Token) -> bool {
    let client = [5u8; NONCE_LEN];
    s.write_all(TCP_MAGIC)
        .and_then(|()| s.write_all(&client))
        .expect("write");
    let mut answer = [0u8; NONCE_LEN + PROOF_LEN];
    s.read_exact(&mut answer)
        .expect("the relay's nonce and proof");
    let relay: [u8; NONCE_LEN] = answer[..NONCE_LEN].try_into().expect("nonce");
    let proved = check(token, Side::Relay, &client, &relay, &answer[NONCE_LEN..]);
    s.write_all(&proof(token, Side::Client, &client, &relay))
        .expect("write");
    proved
}

/// Whether the relay closes `s` without a byte.
fn closed_silently(mut s: TcpStream) -> bool {
    let mut rest = Vec::new();
    matches!(s.read_to_end(&mut rest), Ok(0)) || rest.is_empty()
}

fn echo_once(s: TcpStream) {
    let mut c = Client::over(s);
    c.hello();
    c.send(&Frame::Open {
        id: 1,
        name: "echo.sock",
    });
    assert_eq!(c.recv_skip_windows(), Some(Owned::Opened(1)));
    c.send(&Frame::Data {
        id: 1,
        bytes: b"over tcp",
    });
    assert_eq!(
        c.recv_skip_windows(),
        Some(Owned::Data(1, b"over tcp".to_vec()))
    );
}

#[test]
fn a_client_with_the_ticket_is_served_like_an_exec_session() {
    let dir = tempfile::tempdir().expect("dir");
    echo_server(dir.path(), "echo.sock");
    let relay = listen(dir.path());
    // Two sessions at once, each its own connection.
    let mut a = connect(&relay.ticket);
    let mut b = connect(&relay.ticket);
    assert!(handshake(&mut a, &relay.ticket.token));
    assert!(handshake(&mut b, &relay.ticket.token));
    echo_once(a);
    echo_once(b);
}

#[test]
fn a_client_without_the_token_gets_no_frame() {
    let dir = tempfile::tempdir().expect("dir");
    echo_server(dir.path(), "echo.sock");
    let relay = listen(dir.path());
    let wrong = Token::generate().expect("token");

    // A wrong token: the relay's proof does not check out for it, and the
    // relay closes after the client's proof without a HELLO.
    let mut s = connect(&relay.ticket);
    assert!(!handshake(&mut s, &wrong));
    s.write_all(&[0u8; 64]).ok();
    assert!(closed_silently(s));

    // Not the direct transport at all (an HTTP request, garbage, nothing).
    for first in [
        &b"GET / HTTP/1.1\r\nHost: relay.example\r\nAccept: */*\r\n\r\n"[..],
        &[0xff; 48][..],
    ] {
        let mut s = connect(&relay.ticket);
        s.write_all(first).expect("write");
        assert!(closed_silently(s), "{first:?}");
    }

    // Relay frames before the handshake are not a handshake either.
    let mut s = connect(&relay.ticket);
    let mut hello = Vec::new();
    dockhand_relay::protocol::encode(
        &Frame::Hello(dockhand_relay::protocol::Hello::ours()),
        &mut hello,
    );
    s.write_all(&hello)
        .and_then(|()| s.write_all(&[0; 64]))
        .expect("write");
    assert!(closed_silently(s));

    // The relay still serves the client that has the ticket.
    let mut s = connect(&relay.ticket);
    assert!(handshake(&mut s, &relay.ticket.token));
    echo_once(s);
}

#[test]
fn a_client_that_stalls_in_the_handshake_is_dropped() {
    let opts = dockhand_relay::ListenOptions {
        handshake_timeout: Duration::from_millis(200),
        ..Default::default()
    };
    let listener = dockhand_relay::Listener::bind(opts).expect("bind");
    let ticket = listener.ticket().clone();
    std::thread::spawn(move || listener.run());
    let mut s = connect(&ticket);
    s.write_all(TCP_MAGIC).expect("write");
    let started = std::time::Instant::now();
    assert!(closed_silently(s));
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_port_that_is_not_a_port_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_dockhand-relay"))
        .args(["listen", "--port", "99999"])
        .output()
        .expect("the relay runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--port takes a number"));
}
