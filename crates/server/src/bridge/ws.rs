//! `GET /.dockhand/api/exec/ws`: a streaming exec over a WebSocket.
//!
//! The client's first message is the request
//! `{"kind": "docker"|"vm"|"host", "cmd", "args", "options"}`; the server
//! answers with `{"stdout": str}` / `{"stderr": str}` chunks (never a split
//! UTF-8 character), then `{"exit": code}` (plus `"signal"` and `"killed"`
//! when a signal ended it) or `{"error": message}`, then closes.
//!
//! As in Docker Desktop, a streaming exec's arguments are argv elements as
//! given, with no quote removal ([`ArgMode::Verbatim`]).
//!
//! Each socket owns its process: `{"close": true}` kills it (the exit is
//! still reported), and a socket that closes or drops kills it too — so when
//! a tab's last socket closes, every process it started has been killed. A
//! `vm` exec cannot be killed through the Engine API: dockhand stops
//! streaming and ends it from inside the container when it can (see
//! [`dockhand_engine::Engine::kill_exec`]).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::argv::ArgMode;
use super::context::{BridgeState, Caller};
use super::exec::{self, ExecKind, ExecRequest};
use super::procs::{Event, Running};
use super::vm;
use crate::error::ApiError;

/// How long the client has to send its request after connecting.
const FIRST_MESSAGE_TIMEOUT: Duration = Duration::from_secs(30);

/// The first message of a streaming exec.
#[derive(Debug, Clone, Deserialize)]
pub struct StreamRequest {
    /// Where it runs.
    pub kind: ExecKind,
    /// The exec itself.
    #[serde(flatten)]
    pub exec: ExecRequest,
}

/// `GET /.dockhand/api/exec/ws`.
pub async fn exec_ws(
    State(state): State<Arc<BridgeState>>,
    caller: Caller,
    ws: WebSocketUpgrade,
) -> Response {
    ws.on_upgrade(move |socket| serve(state, caller, socket))
}

/// Starts the process a stream request asks for.
pub async fn start(
    state: &BridgeState,
    caller: &Caller,
    req: &StreamRequest,
) -> Result<Running, ApiError> {
    match req.kind {
        ExecKind::Docker => {
            let cmd = exec::docker_command(state, &req.exec, ArgMode::Verbatim)?;
            exec::start_local(state, caller, &cmd)
        }
        ExecKind::Host => {
            let cmd = exec::host_command(state, caller, &req.exec, ArgMode::Verbatim)?;
            exec::start_local(state, caller, &cmd)
        }
        ExecKind::Vm => {
            let cmd = vm::ContainerCommand::from_request(&req.exec, ArgMode::Verbatim)?;
            vm::start_in_backend(state, caller, &cmd).await
        }
    }
}

/// Why a socket gave no exec request.
#[derive(Debug, thiserror::Error)]
enum FirstMessageError {
    /// The client closed the socket (or it broke) first: nothing to answer.
    #[error("the client closed the socket before sending an exec request")]
    Closed,
    /// The first message is not an exec request.
    #[error("the first message is not an exec request: {0}")]
    NotARequest(serde_json::Error),
}

async fn first_request(socket: &mut WebSocket) -> Result<StreamRequest, FirstMessageError> {
    loop {
        match socket.recv().await {
            Some(Ok(Message::Text(text))) => {
                return serde_json::from_str(text.as_str()).map_err(FirstMessageError::NotARequest);
            }
            Some(Ok(Message::Binary(bytes))) => {
                return serde_json::from_slice(&bytes).map_err(FirstMessageError::NotARequest);
            }
            Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                return Err(FirstMessageError::Closed);
            }
        }
    }
}

async fn send_json(socket: &mut WebSocket, value: &Value) -> bool {
    socket
        .send(Message::Text(Utf8Bytes::from(value.to_string())))
        .await
        .is_ok()
}

async fn close(mut socket: WebSocket) {
    let frame = CloseFrame {
        code: close_code::NORMAL,
        reason: Utf8Bytes::from_static(""),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

async fn serve(state: Arc<BridgeState>, caller: Caller, mut socket: WebSocket) {
    let req = match tokio::time::timeout(FIRST_MESSAGE_TIMEOUT, first_request(&mut socket)).await {
        Ok(Ok(req)) => req,
        Ok(Err(FirstMessageError::Closed)) => return,
        Ok(Err(e)) => {
            send_json(&mut socket, &json!({ "error": e.to_string() })).await;
            return close(socket).await;
        }
        Err(_) => {
            let message = "no exec request within 30 seconds of connecting";
            send_json(&mut socket, &json!({ "error": message })).await;
            return close(socket).await;
        }
    };
    let running = match start(&state, &caller, &req).await {
        Ok(running) => running,
        Err(e) => {
            send_json(&mut socket, &json!({ "error": e.message })).await;
            return close(socket).await;
        }
    };
    if pump(&mut socket, running).await {
        close(socket).await;
    }
}

fn is_close_request(text: &str) -> bool {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.get("close").and_then(Value::as_bool))
        .unwrap_or(false)
}

/// Streams the process to the socket until it exits; false when the client
/// went away (the process is killed then, by dropping `running`).
async fn pump(socket: &mut WebSocket, mut running: Running) -> bool {
    let (mut out, mut err) = (Utf8Carry::default(), Utf8Carry::default());
    loop {
        let message = tokio::select! {
            msg = socket.recv() => {
                match msg {
                    Some(Ok(Message::Text(text))) if is_close_request(text.as_str()) => {
                        running.kill.kill();
                    }
                    Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                        running.kill.kill();
                        return false;
                    }
                    Some(Ok(_)) => {}
                }
                continue;
            }
            event = running.events.recv() => event,
        };
        let (value, last) = match message {
            Some(Event::Stdout(data)) => (json!({ "stdout": out.push(&data) }), false),
            Some(Event::Stderr(data)) => (json!({ "stderr": err.push(&data) }), false),
            Some(Event::Failed(reason)) => (json!({ "error": reason }), true),
            Some(Event::Exit(exit)) => {
                for (key, rest) in [("stdout", out.finish()), ("stderr", err.finish())] {
                    if !rest.is_empty() && !send_json(socket, &json!({ key: rest })).await {
                        return false;
                    }
                }
                let mut v = json!({ "exit": exit.code });
                if let Some(signal) = exit.signal_name() {
                    v["signal"] = Value::from(signal);
                }
                if exit.killed {
                    v["killed"] = Value::from(true);
                }
                (v, true)
            }
            None => (
                json!({ "error": "the process ended without reporting its exit" }),
                true,
            ),
        };
        let empty_chunk = ["stdout", "stderr"]
            .iter()
            .any(|k| value.get(*k).and_then(Value::as_str) == Some(""));
        if !empty_chunk && !send_json(socket, &value).await {
            running.kill.kill();
            return false;
        }
        if last {
            return true;
        }
    }
}

/// Decodes a byte stream into text chunks without splitting a UTF-8
/// character across chunks; invalid bytes become U+FFFD.
#[derive(Debug, Default)]
pub struct Utf8Carry {
    pending: Vec<u8>,
}

impl Utf8Carry {
    /// The text of `data` after what was held back, holding back an
    /// incomplete character at the end.
    pub fn push(&mut self, data: &[u8]) -> String {
        self.pending.extend_from_slice(data);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    out.push_str(&String::from_utf8_lossy(&self.pending[..valid]));
                    match e.error_len() {
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push('\u{FFFD}');
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// Whatever is held back, replaced.
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_characters_are_never_split() {
        let text = "héllo ✓ wörld";
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let mut d = Utf8Carry::default();
            let mut got = d.push(&bytes[..cut]);
            got.push_str(&d.push(&bytes[cut..]));
            got.push_str(&d.finish());
            assert_eq!(got, text, "cut at {cut}");
        }
        let mut d = Utf8Carry::default();
        assert_eq!(d.push(b"a\xffb"), "a\u{FFFD}b");
        assert_eq!(d.push(b"\xe2\x9c"), "");
        assert_eq!(d.finish(), "\u{FFFD}");
    }

    #[test]
    fn stream_requests_parse() {
        let r: StreamRequest = serde_json::from_str(
            r#"{"kind": "host", "cmd": "tool", "args": ["-v"], "options": {"cwd": "/"}}"#,
        )
        .unwrap();
        assert_eq!(r.kind, ExecKind::Host);
        assert_eq!(r.exec.cmd, "tool");
        assert!(serde_json::from_str::<StreamRequest>(r#"{"kind": "shell", "cmd": "x"}"#).is_err());
        assert!(is_close_request(r#"{"close": true}"#));
        assert!(!is_close_request(r#"{"close": false}"#));
        assert!(!is_close_request("close"));
    }
}
