//! Binding and running the server: [`Server::bind`] then [`Server::run`]
//! until the caller's shutdown future resolves; then every process the
//! server started is ended.
//!
//! The default address is `127.0.0.1:7411` ([`DEFAULT_PORT`]): a fixed port
//! keeps each extension's origin (`<slug>.localhost:7411`), and so its
//! `localStorage` and cookies, the same from one run to the next. Port `0`
//! picks a free one. Binding anything but a loopback address needs
//! [`ServeOptions::allow_non_loopback`].

use std::future::{Future, IntoFuture as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use dockhand_host::Manager;
use tokio::net::{TcpListener, TcpSocket};

use crate::app::router;
use crate::state::AppState;

/// The port `dockhand serve` listens on unless told otherwise.
pub const DEFAULT_PORT: u16 = 7411;
/// How long requests, and then processes, get to finish at shutdown.
pub const GRACE: Duration = Duration::from_secs(3);

/// Where to listen.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// The address (default `127.0.0.1`).
    pub bind: IpAddr,
    /// The port (default [`DEFAULT_PORT`]; `0` for any free one).
    pub port: u16,
    /// Allow an address other than loopback.
    pub allow_non_loopback: bool,
    /// The user's home: where bridge processes start and the file picker opens.
    pub user_home: std::path::PathBuf,
    /// The registry client and configuration of the catalog and install routes.
    pub catalog: crate::catalog::CatalogSetup,
}

impl Default for ServeOptions {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: DEFAULT_PORT,
            allow_non_loopback: false,
            user_home: std::path::PathBuf::from("/"),
            catalog: crate::catalog::CatalogSetup::default(),
        }
    }
}

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without the permission to use one.
    #[error(
        "{addr} is not a loopback address: the dashboard would be reachable from other machines; pass --allow-non-loopback if that is what you want"
    )]
    NonLoopback {
        /// The address.
        addr: IpAddr,
    },
    /// The port is taken.
    #[error(
        "{addr} is already in use (another `dockhand serve`?): pass --port 0 for any free port, or another --port"
    )]
    InUse {
        /// The address.
        addr: SocketAddr,
    },
    /// Any other failure to listen.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The startup token could not be made.
    #[error("cannot make the startup token from /dev/urandom: {0}")]
    Token(std::io::Error),
    /// The server failed while running.
    #[error("the server stopped: {0}")]
    Serve(std::io::Error),
}

/// How the server stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stopped {
    /// Requests were still running after [`GRACE`] and were cut.
    pub forced: bool,
    /// Processes that had not ended after [`GRACE`].
    pub processes_left: usize,
}

/// A bound server, not yet answering.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    state: AppState,
    url: String,
}

/// Connections the kernel queues before `serve` accepts them. A tab opens
/// a handful, but a page firing many `vm.service` calls at once (or a
/// benchmark's 1,000) would overflow the usual 128: the kernel then drops
/// the connection attempts and the clients retry a second later.
const LISTEN_BACKLOG: u32 = 1024;

/// A listener on `addr` with [`LISTEN_BACKLOG`] (`SO_REUSEADDR` set, as
/// `TcpListener::bind` does).
fn listen(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

impl Server {
    /// Listens as `options` say, makes the state and the one-time startup token.
    pub async fn bind(manager: Arc<Manager>, options: &ServeOptions) -> Result<Self, ServeError> {
        if !options.bind.is_loopback() && !options.allow_non_loopback {
            return Err(ServeError::NonLoopback { addr: options.bind });
        }
        let want = SocketAddr::new(options.bind, options.port);
        let listener = listen(want).map_err(|source| {
            if source.kind() == std::io::ErrorKind::AddrInUse {
                ServeError::InUse { addr: want }
            } else {
                ServeError::Bind { addr: want, source }
            }
        })?;
        let addr = listener
            .local_addr()
            .map_err(|source| ServeError::Bind { addr: want, source })?;
        let state = AppState::with_catalog(
            manager,
            addr.port(),
            options.user_home.clone(),
            options.catalog.clone(),
        );
        let token = state
            .auth()
            .issue_startup_token()
            .map_err(ServeError::Token)?;
        let url = format!("{}/?token={token}", state.dashboard_origin());
        Ok(Self {
            listener,
            addr,
            state,
            url,
        })
    }

    /// The dashboard URL with the one-time token (`http://localhost:PORT/?token=…`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The address listened on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The application state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Answers until `shutdown` resolves; then stops accepting, tells
    /// long-lived handlers ([`AppState::shutdown_requested`]), asks every
    /// process to end, and gives requests and processes [`GRACE`] each.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<Stopped, ServeError> {
        let state = self.state.clone();
        let on_signal = state.clone();
        let graceful = async move {
            shutdown.await;
            on_signal.request_shutdown();
            on_signal.bridge().processes.kill_all();
        };
        // Small request/answer exchanges (the bridge) must not wait for Nagle.
        let listener = axum::serve::ListenerExt::tap_io(self.listener, |tcp| {
            let _ = tcp.set_nodelay(true);
        });
        let serve = axum::serve(listener, router(state.clone()))
            .with_graceful_shutdown(graceful)
            .into_future();
        let deadline = async {
            state.shutdown_requested().await;
            tokio::time::sleep(GRACE).await;
        };
        let forced = tokio::select! {
            r = serve => {
                r.map_err(ServeError::Serve)?;
                false
            }
            () = deadline => true,
        };
        let processes = &state.bridge().processes;
        processes.kill_all();
        processes.wait_idle(GRACE).await;
        Ok(Stopped {
            forced,
            processes_left: processes.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_listener_queues_many_connections_before_they_are_accepted() {
        // The kernel caps every backlog at net.core.somaxconn (4096 since
        // Linux 5.4, 128 before).
        let cap: u32 = fs_err::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        if cap < 600 {
            eprintln!("skipped: net.core.somaxconn is {cap}, which caps the backlog below 600");
            return;
        }
        let listener = listen("127.0.0.1:0".parse().expect("addr")).expect("listen");
        let addr = listener.local_addr().expect("addr");
        // Nothing accepts: every connection below waits in the kernel's
        // queue. With the usual backlog of 128 the later attempts would be
        // dropped (and time out here) instead.
        let streams = tokio::task::spawn_blocking(move || {
            (0..600)
                .map(|i| {
                    std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(5))
                        .unwrap_or_else(|e| panic!("connection {i} was not queued: {e}"))
                })
                .collect::<Vec<_>>()
        })
        .await
        .expect("connects");
        assert_eq!(streams.len(), 600);
        drop(listener);
    }
}
