//! `GET /api/containers/{id}/terminal`: an interactive shell in a container
//! over a WebSocket. Binary frames carry the terminal's bytes both ways; a
//! text frame `{"resize": [cols, rows]}` resizes it (any other text frame is
//! typed). The shell is the first of `sh`, `/bin/sh`, `bash` that runs.
//! Closing the socket closes the shell's terminal, which ends it.

use std::sync::Arc;

use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade, close_code};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use dockhand_engine::{Engine, ExecOptions, TerminalSize};
use futures_util::StreamExt;
use serde_json::Value;
use tokio::io::AsyncWriteExt;

use super::{P, path};
use crate::bridge::{BridgeState, DashboardAccess};
use crate::error::ApiError;

/// The shells tried, in order.
const SHELLS: [&str; 3] = ["sh", "/bin/sh", "bash"];

/// `GET /api/containers/{id}/terminal`.
pub(super) async fn terminal(
    _: DashboardAccess,
    State(state): State<Arc<BridgeState>>,
    id: P,
    ws: WebSocketUpgrade,
) -> Response {
    let result = async {
        let id = path(id)?;
        let engine = state.engine.get().await?;
        if !engine.inspect_container(&id).await?.running {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                format!("container {id} is not running: start it to open a terminal"),
            ));
        }
        Ok((engine, id))
    }
    .await;
    match result {
        Ok((engine, id)) => ws.on_upgrade(move |socket| session(engine, id, socket)),
        Err(e) => e.into_response(),
    }
}

/// The first shell of [`SHELLS`] that runs in the container.
async fn find_shell(engine: &Engine, id: &str) -> Option<&'static str> {
    for shell in SHELLS {
        let probe = vec![shell.to_owned(), "-c".to_owned(), "exit 0".to_owned()];
        if let Ok(out) = engine.exec(id, probe, Vec::new(), None).await
            && out.code == 0
        {
            return Some(shell);
        }
    }
    None
}

async fn fail(mut socket: WebSocket, message: String) {
    let _ = socket
        .send(Message::Text(Utf8Bytes::from(
            serde_json::json!({ "error": message }).to_string(),
        )))
        .await;
    close(socket).await;
}

async fn close(mut socket: WebSocket) {
    let frame = CloseFrame {
        code: close_code::NORMAL,
        reason: Utf8Bytes::from_static(""),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// `{"resize": [cols, rows]}`.
fn parse_resize(text: &str) -> Option<(u16, u16)> {
    let v: Value = serde_json::from_str(text).ok()?;
    let size = v.get("resize")?.as_array()?;
    let num = |i: usize| {
        size.get(i)
            .and_then(Value::as_u64)
            .and_then(|n| u16::try_from(n).ok())
            .filter(|n| *n > 0)
    };
    Some((num(0)?, num(1)?))
}

async fn session(engine: Engine, id: String, socket: WebSocket) {
    let Some(shell) = find_shell(&engine, &id).await else {
        let message = format!("container {id} has no shell (tried {})", SHELLS.join(", "));
        return fail(socket, message).await;
    };
    let options = ExecOptions {
        cmd: vec![shell.to_owned()],
        env: vec!["TERM=xterm-256color".to_owned()],
        working_dir: None,
        stdin: true,
        tty: true,
    };
    let exec = match engine.exec_start(&id, &options).await {
        Ok(exec) => exec,
        Err(e) => return fail(socket, format!("cannot start {shell} in {id}: {e}")).await,
    };
    let exec_id = exec.id().to_owned();
    let mut output = exec.output;
    let Some(mut input) = exec.input else {
        return fail(
            socket,
            format!("the engine gave no input to the shell in {id}"),
        )
        .await;
    };
    let mut socket = socket;
    loop {
        tokio::select! {
            msg = socket.recv() => match msg {
                Some(Ok(Message::Binary(bytes))) => {
                    if input.write_all(&bytes).await.is_err() { break; }
                    let _ = input.flush().await;
                }
                Some(Ok(Message::Text(text))) => {
                    if let Some((cols, rows)) = parse_resize(text.as_str()) {
                        let size = TerminalSize { cols, rows };
                        let _ = engine.resize_exec(&exec_id, size).await;
                    } else {
                        if input.write_all(text.as_bytes()).await.is_err() { break; }
                        let _ = input.flush().await;
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                    // Dropping the attached connection closes the terminal.
                    return;
                }
                Some(Ok(_)) => {}
            },
            out = output.next() => match out {
                Some(Ok(chunk)) => {
                    if socket.send(Message::Binary(chunk.data)).await.is_err() { return; }
                }
                Some(Err(_)) | None => break,
            },
        }
    }
    close(socket).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_frames() {
        assert_eq!(parse_resize(r#"{"resize": [120, 40]}"#), Some((120, 40)));
        assert_eq!(parse_resize(r#"{"resize": [0, 40]}"#), None);
        assert_eq!(parse_resize(r#"{"resize": [70000, 40]}"#), None);
        assert_eq!(parse_resize("ls\n"), None);
    }
}
