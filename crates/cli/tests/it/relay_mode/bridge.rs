//! The ddClient bridge in relay mode, through `dockhand serve` on the VM
//! engine over TLS, called the way an extension's page calls it (its
//! origin, its cookie, `Origin`): `vm.service` GET and POST through the
//! relay, `vm.cli.exec` collected (a success and a failure) and streamed
//! over the exec WebSocket, in the backend's container on the engine.

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::json;

use super::*;
use crate::backend_socket::{Served, assert_hello};

#[test]
fn the_bridge_in_relay_mode_through_serve() {
    let test = "the_bridge_in_relay_mode_through_serve";
    let Some((env, _, home)) = relay_test(test, Via::Tls, "relay-serve") else {
        return;
    };
    let (reference, id) = publish(&env, &example("backend-image"), true, &[]);
    home.ok(&["install", &reference, "-y"]);
    assert!(!home.socket_dir(&id).exists(), "no socket dir of {id}");

    let served = Served::spawn(home.cmd(&["serve", "--port", "0"]));
    let site = served.enter(&id);

    // vm.service GET: the first call starts the relay session.
    let hello = served.vm_get_when_ready(
        &site,
        "/hello",
        (Duration::from_secs(30), Duration::from_millis(200)),
        |status| status == 503 || status == 502,
    );
    assert_hello(&hello);
    // vm.service POST with a JSON body; then calls one after another on the
    // same session.
    let (status, echo) = served.bridge_post(
        &site,
        "/.dockhand/api/vm/request",
        &json!({"method": "POST", "url": "/echo", "data": {"through": "serve and the relay"}}),
    );
    assert_eq!(status, 200, "{echo}");
    assert_eq!(echo["status"], 200, "{echo}");
    support::assert_str_contains(&echo["body"], "serve and the relay", &echo);
    for _ in 0..20 {
        let (status, answer) = served.vm_get(&site, "/hello");
        assert_eq!(status, 200, "{answer}");
    }
    // The backend's own error answer is passed on as its status.
    let (status, answer) = served.vm_get(&site, "/status/418");
    assert_eq!(status, 200, "the bridge call itself succeeds: {answer}");
    assert_eq!(answer["status"], 418, "{answer}");

    // vm.cli.exec, collected: in the backend's container on the engine.
    let exec = |arg: &str| {
        let (status, out) = served.bridge_post(
            &site,
            "/.dockhand/api/vm/exec",
            &json!({"cmd": "/backend", "args": [arg]}),
        );
        assert_eq!(status, 200, "{out}");
        out
    };
    let out = exec("--version");
    assert_eq!(out["code"], 0, "{out}");
    assert!(
        out["stdout"]
            .as_str()
            .is_some_and(|s| s.starts_with("backend ")),
        "{out}"
    );
    let out = exec("--no-such-flag");
    assert_ne!(out["code"], 0, "{out}");
    support::assert_str_contains(&out["stderr"], "--no-such-flag", &out);

    // vm.cli.exec, streamed over the WebSocket: stdout chunks, then the exit.
    let ws = |arg: &str| {
        ws_exec(
            served.port(),
            &site,
            &json!({"kind": "vm", "cmd": "/backend", "args": [arg]}),
        )
    };
    let messages = ws("--help");
    let stdout = stream(&messages, "stdout");
    assert!(
        stdout.contains("usage: backend") && stdout.contains("GET /hello"),
        "{messages:?}"
    );
    assert_eq!(
        messages.last().map(|m| &m["exit"]),
        Some(&json!(0)),
        "{messages:?}"
    );
    let messages = ws("--no-such-flag");
    assert!(
        stream(&messages, "stderr").contains("--no-such-flag"),
        "{messages:?}"
    );
    assert!(
        messages
            .last()
            .and_then(|m| m["exit"].as_i64())
            .is_some_and(|code| code != 0),
        "{messages:?}"
    );

    drop(served);
    home.ok(&["rm", &id, "--volumes"]);
    home.assert_nothing_left(&[&id]);
}

/// A streaming exec over `/.dockhand/api/exec/ws` from the extension's page
/// (`(host, cookie)`): sends `request`, returns every message until the
/// server closes. A WebSocket client by hand (RFC 6455, text frames).
fn ws_exec(port: u16, (host, cookie): &(String, String), request: &Value) -> Vec<Value> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "GET /.dockhand/api/exec/ws HTTP/1.1\r\nHost: {host}\r\nOrigin: http://{host}\r\nCookie: {cookie}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ZG9ja2hhbmQtcmVsYXktd3M=\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    .expect("handshake");
    // The answer's head, byte by byte (frames may follow it at once).
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut b = [0u8; 1];
        s.read_exact(&mut b).expect("the handshake's answer");
        head.push(b[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 101"), "upgrade refused: {head}");
    send_text(&mut s, &request.to_string());
    let mut messages = Vec::new();
    let mut text = Vec::new();
    loop {
        let mut h = [0u8; 2];
        if s.read_exact(&mut h).is_err() {
            break;
        }
        let (fin, opcode) = (h[0] & 0x80 != 0, h[0] & 0x0f);
        let len = match h[1] & 0x7f {
            126 => {
                let mut l = [0u8; 2];
                s.read_exact(&mut l).expect("length");
                u64::from(u16::from_be_bytes(l))
            }
            127 => {
                let mut l = [0u8; 8];
                s.read_exact(&mut l).expect("length");
                u64::from_be_bytes(l)
            }
            n => u64::from(n),
        };
        let mut payload = vec![0u8; usize::try_from(len).expect("a frame that fits")];
        s.read_exact(&mut payload).expect("payload");
        match opcode {
            0x8 => break,
            0x1 | 0x0 => {
                text.extend_from_slice(&payload);
                if fin {
                    messages.push(serde_json::from_slice(&text).expect("a JSON message"));
                    text.clear();
                }
            }
            _ => {}
        }
    }
    messages
}

/// The text of one stream (`stdout`, `stderr`) of an exec's `messages`, in order.
fn stream(messages: &[Value], name: &str) -> String {
    messages.iter().filter_map(|m| m[name].as_str()).collect()
}

/// One masked text frame (a client's).
fn send_text(s: &mut TcpStream, text: &str) {
    let mask = [0x5a, 0x17, 0xc3, 0x2e];
    let len = text.len();
    let mut frame = vec![0x81];
    if len < 126 {
        frame.push(0x80 | u8::try_from(len).expect("small"));
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&u16::try_from(len).expect("a short message").to_be_bytes());
    }
    frame.extend_from_slice(&mask);
    frame.extend(
        text.bytes()
            .enumerate()
            .map(|(i, b)| b ^ mask[i % mask.len()]),
    );
    s.write_all(&frame).expect("send the request");
}
