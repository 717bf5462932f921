//! An async HTTP/1.1 client just big enough for the example backend's
//! `GET /hello` (answers with `Content-Length`), over any stream: a
//! [`RelayStream`](dockhand_engine::RelayStream) or a unix socket.

use std::io;
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, BufReader};

/// What every answer must contain.
pub(super) const HELLO: &str = "hello from the backend";
/// The request, kept alive.
pub(super) const GET_HELLO: &[u8] = b"GET /hello HTTP/1.1\r\nHost: backend\r\n\r\n";

fn bad(msg: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg)
}

/// A connection and its read buffer.
pub(super) struct AsyncClient<S> {
    r: BufReader<S>,
    line: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> AsyncClient<S> {
    pub fn new(s: S) -> Self {
        Self {
            r: BufReader::with_capacity(16 * 1024, s),
            line: String::new(),
        }
    }

    async fn read_line(&mut self) -> io::Result<&str> {
        self.line.clear();
        if self.r.read_line(&mut self.line).await? == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        Ok(self.line.trim_end_matches(['\r', '\n']))
    }

    /// Sends `request` and reads the answer, which must be 200 with
    /// [`HELLO`] in its body; `bridged`: the bridge's JSON envelope, whose
    /// backend status must be 200 too.
    pub async fn hello(&mut self, request: &[u8], bridged: bool) -> io::Result<()> {
        self.r.get_mut().write_all(request).await?;
        self.r.get_mut().flush().await?;
        let status = self.read_line().await?.to_owned();
        if !status.starts_with("HTTP/1.1 200 ") {
            return Err(bad(format!("unexpected status line {status:?}")));
        }
        let mut length = None;
        loop {
            let line = self.read_line().await?;
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let length = length.ok_or_else(|| bad("an answer without Content-Length".into()))?;
        let mut body = vec![0; length];
        self.r.read_exact(&mut body).await?;
        let text = String::from_utf8_lossy(&body);
        if !text.contains(HELLO) || (bridged && !text.contains("\"status\":200")) {
            return Err(bad(format!("unexpected answer {text:?}")));
        }
        Ok(())
    }

    /// Sends `request` and times it until the answer is read.
    pub async fn timed(&mut self, request: &[u8], bridged: bool) -> io::Result<Duration> {
        let start = Instant::now();
        self.hello(request, bridged).await?;
        Ok(start.elapsed())
    }
}
