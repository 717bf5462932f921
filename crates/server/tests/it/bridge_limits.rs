//! `vm.service` against backends that hold on: the response timeout (`504`)
//! and the server-wide budget for bodies in flight (`503`).

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::http::StatusCode;
use dockhand_server::bridge::Limits;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{UnixListener, UnixStream};

use crate::bridge_support::{Harness, Options, VM_REQUEST, assert_message, eventually};

/// Replaces the harness's backend with a listener at its socket path (the
/// old one keeps its unlinked socket); connections go to `serve`.
fn take_over_socket(h: &Harness) -> UnixListener {
    let path = h.socket();
    fs_err::remove_file(&path).unwrap();
    UnixListener::bind(&path).unwrap()
}

/// Reads one request head and its body (by Content-Length).
async fn read_request(stream: &mut UnixStream) -> Option<()> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while buf.len() < head_end + length {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    Some(())
}

/// A backend that accepts and never answers is cut at the timeout with a
/// `504` naming the extension, the timeout and how to change it; its
/// connection is closed, and the next call opens a new one.
#[tokio::test]
async fn a_backend_that_never_answers_is_cut_at_the_service_timeout() {
    let h = Harness::with(Options::with_limits(Limits {
        service_timeout: Some(Duration::from_millis(300)),
        ..Limits::default()
    }))
    .await;
    let listener = take_over_socket(&h);
    let accepted = Arc::new(AtomicUsize::new(0));
    let closed = Arc::new(AtomicUsize::new(0));
    let (a, c) = (accepted.clone(), closed.clone());
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::SeqCst);
            let c = c.clone();
            tokio::spawn(async move {
                // Reads whatever comes and never writes; counts the close.
                let mut buf = [0u8; 4096];
                while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
                c.fetch_add(1, Ordering::SeqCst);
            });
        }
    });
    let started = std::time::Instant::now();
    let (status, answer) = h.post(VM_REQUEST, json!({"url": "/anything"})).await;
    let took = started.elapsed();
    assert_eq!(status, StatusCode::GATEWAY_TIMEOUT, "{answer}");
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    let message = answer["message"].as_str().unwrap();
    for part in [
        "acme/test-ext",
        "within 300ms",
        "[limits] service_timeout",
        "--service-timeout",
    ] {
        assert!(message.contains(part), "{part}: {message}");
    }
    assert!(
        eventually(5, || closed.load(Ordering::SeqCst) == 1).await,
        "the cut call's connection is closed"
    );
    h.post_expect(
        VM_REQUEST,
        json!({"url": "/again"}),
        StatusCode::GATEWAY_TIMEOUT,
    )
    .await;
    assert_eq!(
        accepted.load(Ordering::SeqCst),
        2,
        "a cut connection is not reused"
    );
}

/// Without a timeout the same backend is waited for (the old behaviour,
/// for `service_timeout = "off"`).
#[tokio::test]
async fn service_timeout_off_waits() {
    let h = Harness::with(Options::with_limits(Limits {
        service_timeout: None,
        ..Limits::default()
    }))
    .await;
    let waited = tokio::time::timeout(
        Duration::from_millis(500),
        h.post(VM_REQUEST, json!({"url": "/hang"})),
    )
    .await;
    assert!(waited.is_err(), "no answer and no cut: {waited:?}");
}

/// A backend that sends the first `head` bytes of a `total`-byte answer,
/// waits until `calls` requests have got that far, then pauses and sends
/// the rest: the answers are all in flight at once.
fn hold_answers(listener: UnixListener, calls: usize, head: usize, total: usize) {
    let barrier = Arc::new(tokio::sync::Barrier::new(calls));
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let barrier = barrier.clone();
            tokio::spawn(async move {
                while read_request(&mut stream).await.is_some() {
                    let start = format!("HTTP/1.1 200 OK\r\nContent-Length: {total}\r\n\r\n");
                    let _ = stream.write_all(start.as_bytes()).await;
                    let _ = stream.write_all(&vec![b'a'; head]).await;
                    barrier.wait().await;
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if stream.write_all(&vec![b'b'; total - head]).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
}

/// With a small budget, concurrent large answers: the excess gets a `503`
/// at once, the rest arrive whole, and every byte is given back after.
#[tokio::test]
async fn concurrent_large_answers_past_the_budget_get_503() {
    const BUDGET: usize = 1 << 20;
    let h = Harness::with(Options::with_limits(Limits {
        in_flight_bytes: BUDGET,
        ..Limits::default()
    }))
    .await;
    let listener = take_over_socket(&h);
    let (calls, head, total) = (4, 384 << 10, 512 << 10);
    hold_answers(listener, calls, head, total);
    let answers = futures_util::future::join_all(
        (0..calls).map(|_| h.post(VM_REQUEST, json!({"url": "/big"}))),
    )
    .await;
    let mut ok = 0;
    let mut busy = 0;
    for (status, answer) in &answers {
        match *status {
            StatusCode::OK => {
                ok += 1;
                let body = answer["body"].as_str().unwrap();
                assert_eq!(body.len(), total, "an answer arrives whole");
                assert!(body.ends_with('b'));
            }
            StatusCode::SERVICE_UNAVAILABLE => {
                busy += 1;
                let message = answer["message"].as_str().unwrap();
                for part in ["acme/test-ext", "[limits] in_flight_bytes", "1MiB"] {
                    assert!(message.contains(part), "{part}: {message}");
                }
            }
            other => panic!("{other}: {answer}"),
        }
    }
    assert!(ok >= 1, "some calls succeed: {ok} ok, {busy} refused");
    assert!(busy >= 1, "the excess is refused: {ok} ok, {busy} refused");
    let budget = &h.state.bridge.budget;
    assert_eq!(
        budget.available(),
        budget.total(),
        "every byte is given back"
    );
}

/// A request body that alone is past the budget is refused as it is read,
/// and nothing reaches the backend; smaller calls still work.
#[tokio::test]
async fn a_request_body_past_the_budget_gets_503() {
    let h = Harness::with(Options::with_limits(Limits {
        in_flight_bytes: 1 << 20,
        ..Limits::default()
    }))
    .await;
    let before = h.connections.load(Ordering::SeqCst);
    let answer = h
        .post_expect(
            VM_REQUEST,
            json!({"method": "POST", "url": "/echo", "data": "x".repeat(2 << 20)}),
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    assert_message(&answer, "in_flight_bytes");
    assert_eq!(h.connections.load(Ordering::SeqCst), before);
    h.post_ok(
        VM_REQUEST,
        json!({"method": "POST", "url": "/echo", "data": "small"}),
    )
    .await;
    let budget = &h.state.bridge.budget;
    assert_eq!(budget.available(), budget.total());
}
