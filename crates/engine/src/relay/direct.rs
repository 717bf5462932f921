//! The direct transport: a relay session over a loopback TCP connection to
//! the relay container's main process (`dockhand-relay listen`, on the
//! network of the engine's host), where this machine reaches that port —
//! the engine's namespace shares this machine's network, or the VM forwards
//! its loopback ports here (lima/colima, OrbStack) — otherwise an exec
//! ([`Engine::relay_exec`]). [`Engine::relay_open`] picks.
//!
//! The port and token are the ticket the relay printed to its log
//! ([`dockhand_relay::ticket`]): read through the Engine API, so only who
//! can use the engine learns them. Both sides prove they know the token
//! before any frame; a process on this machine's port that is not the relay
//! (the VM does not forward it, someone took the number) fails to prove it
//! and the session takes the exec instead, having sent it nothing.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use dockhand_relay::ticket::{self, NONCE_LEN, PROOF_LEN, Side, TCP_MAGIC, Ticket, check, proof};
use futures_util::StreamExt;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_util::either::Either;

use super::exec::{ExecIo, StderrTail};
use crate::logs::StdStream;
use crate::{Engine, EngineError};

/// How long connecting to the relay's port may take (on loopback an answer
/// or a refusal is immediate; this bounds a port that swallows packets).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// How long the handshake may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(2);
/// How many of the relay's last log lines are searched for its ticket.
const TICKET_LINES: usize = 16;
/// A relay that has just started may not have its ticket in its log yet
/// (the engine copies a container's output asynchronously), and one that
/// restarted shows its old ticket until the new line arrives: the log is
/// read again after these pauses before the session takes the exec.
const TICKET_RETRIES: [Duration; 4] = [
    Duration::from_millis(10),
    Duration::from_millis(20),
    Duration::from_millis(40),
    Duration::from_millis(80),
];

/// Why a session could not take the direct transport (it takes the exec).
#[derive(Debug, thiserror::Error)]
pub enum DirectError {
    /// The engine is on another machine: its loopback is not ours.
    #[error("the engine at {host} is not on this machine")]
    NotLocal {
        /// The engine.
        host: String,
    },
    /// The relay's log has no ticket.
    #[error(
        "the relay container {container} printed no ticket (it was made before the direct transport, or the engine keeps no log): run `dockhand doctor` to make it again"
    )]
    NoTicket {
        /// The container.
        container: String,
    },
    /// The log could not be read.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Nothing answers on the port here (the VM does not forward it).
    #[error("cannot connect to the relay's port 127.0.0.1:{port}: {source}")]
    Connect {
        /// The port.
        port: u16,
        /// What the system said.
        source: io::Error,
    },
    /// What answers does not know the relay's token.
    #[error(
        "the process on 127.0.0.1:{port} is not the relay (it does not know the relay's ticket): nothing was sent to it"
    )]
    NotTheRelay {
        /// The port.
        port: u16,
    },
    /// The handshake failed or timed out.
    #[error("the handshake on the relay's port 127.0.0.1:{port} failed: {source}")]
    Handshake {
        /// The port.
        port: u16,
        /// What failed.
        source: io::Error,
    },
}

/// How a relay session reaches the relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RelayTransport {
    /// A loopback TCP connection to the relay container's main process.
    Direct,
    /// An exec of `dockhand-relay serve` through the Engine API.
    Exec,
}

impl RelayTransport {
    /// How people read it: `direct` or `exec`.
    pub fn name(self) -> &'static str {
        match self {
            RelayTransport::Direct => "direct",
            RelayTransport::Exec => "exec",
        }
    }
}

/// A relay session's byte stream, either transport, and why it is not the
/// direct one when it is not.
#[derive(Debug)]
pub struct RelayIo {
    stream: Either<TcpStream, ExecIo>,
    why_not_direct: Option<DirectError>,
}

impl RelayIo {
    /// Which transport this is.
    pub fn transport(&self) -> RelayTransport {
        match self.stream {
            Either::Left(_) => RelayTransport::Direct,
            Either::Right(_) => RelayTransport::Exec,
        }
    }

    /// Why the session did not take the direct transport (`None`: it did).
    pub fn why_not_direct(&self) -> Option<&DirectError> {
        self.why_not_direct.as_ref()
    }

    /// What the relay wrote to stderr (an exec's; empty for the direct
    /// transport, whose relay writes to its container's log).
    pub fn stderr(&self) -> StderrTail {
        match &self.stream {
            Either::Left(_) => StderrTail::default(),
            Either::Right(io) => io.stderr(),
        }
    }
}

impl AsyncRead for RelayIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for RelayIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The client's side of the handshake on `stream` with `ticket`.
pub(crate) async fn handshake<S>(stream: &mut S, ticket: &Ticket) -> Result<(), DirectError>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let port = ticket.port;
    let failed = |source| DirectError::Handshake { port, source };
    let client = ticket::random().map_err(failed)?;
    let mut hello = Vec::with_capacity(TCP_MAGIC.len() + NONCE_LEN);
    hello.extend_from_slice(TCP_MAGIC);
    hello.extend_from_slice(&client);
    let exchange = async {
        stream.write_all(&hello).await?;
        let mut answer = [0u8; NONCE_LEN + PROOF_LEN];
        stream.read_exact(&mut answer).await?;
        Ok::<_, io::Error>(answer)
    };
    let answer = tokio::time::timeout(HANDSHAKE_TIMEOUT, exchange)
        .await
        .map_err(|_| failed(io::ErrorKind::TimedOut.into()))?
        .map_err(|e| match e.kind() {
            // Closed before a whole answer: not a relay that knows us.
            io::ErrorKind::UnexpectedEof => DirectError::NotTheRelay { port },
            _ => failed(e),
        })?;
    let (nonce, theirs) = answer.split_at(NONCE_LEN);
    let relay: [u8; NONCE_LEN] = nonce
        .try_into()
        .map_err(|_| DirectError::NotTheRelay { port })?;
    if !check(&ticket.token, Side::Relay, &client, &relay, theirs) {
        return Err(DirectError::NotTheRelay { port });
    }
    let mine = proof(&ticket.token, Side::Client, &client, &relay);
    stream.write_all(&mine).await.map_err(failed)?;
    Ok(())
}

/// A connection to the relay of `ticket`, handshake done.
async fn connect_with(ticket: &Ticket) -> Result<TcpStream, DirectError> {
    let port = ticket.port;
    let connect = TcpStream::connect(("127.0.0.1", port));
    let mut stream = tokio::time::timeout(CONNECT_TIMEOUT, connect)
        .await
        .map_err(|_| DirectError::Connect {
            port,
            source: io::ErrorKind::TimedOut.into(),
        })?
        .map_err(|source| DirectError::Connect { port, source })?;
    stream
        .set_nodelay(true)
        .map_err(|source| DirectError::Connect { port, source })?;
    handshake(&mut stream, ticket).await?;
    Ok(stream)
}

impl Engine {
    /// The ticket the relay container `container` printed last, if any.
    pub async fn relay_ticket(&self, container: &str) -> Result<Option<Ticket>, EngineError> {
        let mut lines = Box::pin(self.logs(container, false, Some(TICKET_LINES)));
        let mut found = None;
        while let Some(line) = lines.next().await {
            let line = line?;
            if line.stream == StdStream::Stdout
                && let Some(ticket) = Ticket::parse(&line.text())
            {
                found = Some(ticket);
            }
        }
        Ok(found)
    }

    /// A direct connection to the relay in `container`, handshake done.
    pub async fn relay_direct(&self, container: &str) -> Result<TcpStream, DirectError> {
        if !self.host.is_local() {
            return Err(DirectError::NotLocal {
                host: self.host.describe(),
            });
        }
        // The log's last ticket; read again after a pause while there is
        // none yet (the relay has just started) or while it is the one that
        // just failed (the relay restarted and its new line is on its way).
        let mut failed: Option<(Ticket, DirectError)> = None;
        for pause in std::iter::once(Duration::ZERO).chain(TICKET_RETRIES) {
            tokio::time::sleep(pause).await;
            let Some(ticket) = self.relay_ticket(container).await? else {
                continue;
            };
            if failed.as_ref().is_some_and(|(t, _)| *t == ticket) {
                continue;
            }
            match connect_with(&ticket).await {
                Ok(stream) => return Ok(stream),
                Err(e) => failed = Some((ticket, e)),
            }
        }
        Err(failed.map_or_else(
            || DirectError::NoTicket {
                container: container.to_owned(),
            },
            |(_, e)| e,
        ))
    }

    /// A relay session's stream to `container`: the direct transport where
    /// it works, else an exec.
    pub async fn relay_open(&self, container: &str) -> Result<RelayIo, EngineError> {
        Ok(match self.relay_direct(container).await {
            Ok(stream) => RelayIo {
                stream: Either::Left(stream),
                why_not_direct: None,
            },
            Err(direct) => RelayIo {
                stream: Either::Right(self.relay_exec(container).await?),
                why_not_direct: Some(direct),
            },
        })
    }
}
