//! The relay container's main process in the direct transport: a loopback
//! TCP listener on the engine's host (the container shares its network),
//! one thread per connection, each connection first proving it knows the
//! ticket's token ([`crate::ticket`]), then served by [`crate::serve()`] as an
//! exec's stdin and stdout are. Where the client cannot reach the port (the
//! engine is on another machine, or in a network namespace of its own) it
//! takes the exec path; nothing here is needed for that.

use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::serve::{Options, serve};
use crate::ticket::{Ticket, Token, accept};

/// How the listener runs.
#[derive(Debug, Clone)]
pub struct ListenOptions {
    /// What each session needs.
    pub serve: Options,
    /// The port on 127.0.0.1 (`0`: one the system picks).
    pub port: u16,
    /// Sessions at once; a connection beyond them is closed at once.
    pub max_sessions: usize,
    /// How long a new connection has to finish its handshake.
    pub handshake_timeout: Duration,
}

impl Default for ListenOptions {
    fn default() -> Self {
        Self {
            serve: Options::default(),
            port: 0,
            max_sessions: 64,
            handshake_timeout: Duration::from_secs(5),
        }
    }
}

/// Why the listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// Binding the port failed.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// What the system said.
        source: std::io::Error,
    },
    /// The token could not be made.
    #[error("cannot make the ticket's token: {0}")]
    Token(std::io::Error),
}

/// A bound listener and its ticket.
#[derive(Debug)]
pub struct Listener {
    socket: TcpListener,
    ticket: Ticket,
    opts: Arc<ListenOptions>,
}

impl Listener {
    /// Binds 127.0.0.1 at `opts.port` with a new random token.
    pub fn bind(opts: ListenOptions) -> Result<Self, ListenError> {
        let token = Token::generate().map_err(ListenError::Token)?;
        let bind_err = |source| ListenError::Bind {
            port: opts.port,
            source,
        };
        let socket = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, opts.port)))
            .map_err(bind_err)?;
        let port = socket.local_addr().map_err(bind_err)?.port();
        Ok(Self {
            socket,
            ticket: Ticket { port, token },
            opts: Arc::new(opts),
        })
    }

    /// What a client needs: the port and the token.
    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    /// Accepts connections for ever, one thread each. A failed accept (out
    /// of descriptors, say) waits a moment and goes on.
    pub fn run(self) -> ! {
        let live = Arc::new(AtomicUsize::new(0));
        loop {
            let stream = match self.socket.accept() {
                Ok((stream, _)) => stream,
                Err(_) => {
                    std::thread::sleep(Duration::from_millis(50));
                    continue;
                }
            };
            if live.fetch_add(1, Ordering::AcqRel) >= self.opts.max_sessions {
                live.fetch_sub(1, Ordering::AcqRel);
                continue;
            }
            let (done, token, opts) = (live.clone(), self.ticket.token.clone(), self.opts.clone());
            let spawned = std::thread::Builder::new()
                .stack_size(128 * 1024)
                .spawn(move || {
                    let _ = session(stream, &token, &opts);
                    done.fetch_sub(1, Ordering::AcqRel);
                });
            if spawned.is_err() {
                live.fetch_sub(1, Ordering::AcqRel);
            }
        }
    }
}

/// One connection: the handshake, then the relay protocol until it ends.
fn session(
    mut stream: TcpStream,
    token: &Token,
    opts: &ListenOptions,
) -> Result<(), Box<dyn std::error::Error>> {
    stream.set_nodelay(true)?;
    stream.set_read_timeout(Some(opts.handshake_timeout))?;
    stream.set_write_timeout(Some(opts.handshake_timeout))?;
    accept(&mut stream, token)?;
    stream.set_read_timeout(None)?;
    stream.set_write_timeout(None)?;
    stream.set_nonblocking(true)?;
    let output = stream.try_clone()?;
    serve(
        mio::net::TcpStream::from_std(stream),
        mio::net::TcpStream::from_std(output),
        &opts.serve,
    )?;
    Ok(())
}
