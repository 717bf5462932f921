//! The relay session's stream: an exec of `dockhand-relay serve` in the
//! relay container, stdin and stdout attached, no TTY.
//!
//! Without a TTY the Engine API sends the process's stdout and stderr in
//! frames with an 8-byte header each (stream, size); [`ExecIo`] removes
//! them (bollard does the parsing), hands stdout on as one byte stream —
//! the relay protocol needs nothing else — and keeps the last lines of
//! stderr, where the relay says why it ended. A TTY would mix the two and
//! put a terminal's line discipline (echo, `\n` to `\r\n`) between the
//! bytes, so it is not used. An exec (not an attach to the container's
//! main process) gives each session a fresh relay process that ends with
//! its stdin, so two dockhand processes never share one.

use std::collections::VecDeque;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use bytes::{Buf, Bytes};
use futures_util::Stream;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::exec::{ExecInput, ExecOptions, ExecStream};
use crate::logs::{OutputStream, StdStream};
use crate::{Engine, EngineError};

/// Where the relay binary is in its image.
pub const RELAY_BINARY: &str = "/dockhand-relay";
/// Where the extension's socket volume is mounted in the relay container.
pub const RELAY_SOCKET_DIR: &str = "/run/guest-services";
/// How much of the relay's stderr is kept.
const STDERR_TAIL: usize = 4096;

/// The last bytes the relay wrote to stderr.
#[derive(Debug, Clone, Default)]
pub struct StderrTail(Arc<Mutex<VecDeque<u8>>>);

impl StderrTail {
    fn push(&self, bytes: &[u8]) {
        let mut tail = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        tail.extend(bytes);
        let extra = tail.len().saturating_sub(STDERR_TAIL);
        tail.drain(..extra);
    }

    /// The text, invalid UTF-8 replaced.
    pub fn text(&self) -> String {
        let tail = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (a, b) = tail.as_slices();
        String::from_utf8_lossy(&[a, b].concat()).trim().to_owned()
    }
}

/// An exec's stdin and stdout as one `AsyncRead + AsyncWrite`.
pub struct ExecIo {
    output: OutputStream,
    input: ExecInput,
    pending: Bytes,
    stderr: StderrTail,
    exec_id: String,
}

impl std::fmt::Debug for ExecIo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecIo")
            .field("exec_id", &self.exec_id)
            .finish_non_exhaustive()
    }
}

impl ExecIo {
    /// The exec's id in the engine.
    pub fn exec_id(&self) -> &str {
        &self.exec_id
    }

    /// The relay's stderr, kept after this is dropped.
    pub fn stderr(&self) -> StderrTail {
        self.stderr.clone()
    }
}

impl AsyncRead for ExecIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            if !self.pending.is_empty() {
                let n = self.pending.len().min(buf.remaining());
                buf.put_slice(&self.pending[..n]);
                self.pending.advance(n);
                return Poll::Ready(Ok(()));
            }
            match Pin::new(&mut self.output).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) => return Poll::Ready(Ok(())),
                Poll::Ready(Some(Err(e))) => return Poll::Ready(Err(io::Error::other(e))),
                Poll::Ready(Some(Ok(chunk))) => match chunk.stream {
                    StdStream::Stdout => self.pending = chunk.data,
                    StdStream::Stderr => self.stderr.push(&chunk.data),
                },
            }
        }
    }
}

impl AsyncWrite for ExecIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.input.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.input.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.input.as_mut().poll_shutdown(cx)
    }
}

impl Engine {
    /// Starts `dockhand-relay serve` in the running relay container
    /// `container` and returns its stream, for [`crate::Relay::start`].
    pub async fn relay_exec(&self, container: &str) -> Result<ExecIo, EngineError> {
        let options = ExecOptions {
            cmd: vec![
                RELAY_BINARY.to_owned(),
                "serve".to_owned(),
                "--dir".to_owned(),
                RELAY_SOCKET_DIR.to_owned(),
            ],
            stdin: true,
            tty: false,
            ..ExecOptions::default()
        };
        let ExecStream { output, input, .. } = self.exec_start(container, &options).await?;
        let exec_id = String::new();
        let input = input.ok_or_else(|| EngineError::Api {
            host: self.host.describe(),
            action: format!("starting the relay in {container}"),
            message: "the engine attached no standard input".into(),
        })?;
        Ok(ExecIo {
            output,
            input,
            pending: Bytes::new(),
            stderr: StderrTail::default(),
            exec_id,
        })
    }
}
