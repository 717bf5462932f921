//! HTTP/1.1 over a backend's unix socket, with keep-alive connections kept
//! per socket so that `vm.service` calls do not pay a connect each.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{Request, Response};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;

/// Idle connections kept per socket.
const MAX_IDLE: usize = 64;
/// How long connecting to a socket may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Why a request to a backend socket failed.
#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    /// Nothing listens on the socket (or it is not there).
    #[error("cannot connect to {path}: {source}")]
    Connect {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The HTTP exchange failed.
    #[error("the backend at {path} failed to answer: {source}")]
    Http {
        /// The socket.
        path: PathBuf,
        /// Why.
        source: hyper::Error,
    },
    /// The answer's body is larger than the limit.
    #[error("the backend at {path} answered with a body larger than {limit} bytes")]
    TooLarge {
        /// The socket.
        path: PathBuf,
        /// The limit.
        limit: usize,
    },
    /// Reading the answer's body failed.
    #[error("cannot read the answer of the backend at {path}: {reason}")]
    Body {
        /// The socket.
        path: PathBuf,
        /// Why.
        reason: String,
    },
}

/// Connections to one socket.
#[derive(Debug)]
pub struct UnixPool {
    path: PathBuf,
    idle: Mutex<Vec<SendRequest<Full<Bytes>>>>,
}

impl UnixPool {
    /// A pool for the socket at `path` (nothing is connected yet).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            idle: Mutex::new(Vec::new()),
        }
    }

    /// The socket.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn take_idle(&self) -> Option<SendRequest<Full<Bytes>>> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while let Some(sender) = idle.pop() {
            if !sender.is_closed() {
                return Some(sender);
            }
        }
        None
    }

    fn put_idle(&self, sender: SendRequest<Full<Bytes>>) {
        if sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(sender);
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, PoolError> {
        let connect_error = |source| PoolError::Connect {
            path: self.path.clone(),
            source,
        };
        let stream =
            tokio::time::timeout(CONNECT_TIMEOUT, tokio::net::UnixStream::connect(&self.path))
                .await
                .map_err(|_| connect_error(std::io::Error::from(std::io::ErrorKind::TimedOut)))?
                .map_err(connect_error)?;
        let (sender, conn) = http1::Builder::new()
            .handshake(TokioIo::new(stream))
            .await
            .map_err(|source| PoolError::Http {
                path: self.path.clone(),
                source,
            })?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// Sends the request `make` builds on an idle connection (or a new one)
    /// and reads the whole answer, at most `limit` bytes of body. A request
    /// that a stale idle connection refused before sending is retried on
    /// another connection, so `make` may be called more than once.
    pub async fn send(
        &self,
        make: impl Fn() -> Request<Full<Bytes>>,
        limit: usize,
    ) -> Result<Response<Bytes>, PoolError> {
        let http_error = |source| PoolError::Http {
            path: self.path.clone(),
            source,
        };
        loop {
            let (mut sender, pooled) = match self.take_idle() {
                Some(s) => (s, true),
                None => (self.connect().await?, false),
            };
            if let Err(e) = sender.ready().await {
                if pooled {
                    continue;
                }
                return Err(http_error(e));
            }
            let response = match sender.send_request(make()).await {
                Ok(r) => r,
                Err(e) if pooled && (e.is_canceled() || e.is_closed()) => continue,
                Err(e) => return Err(http_error(e)),
            };
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, limit).collect().await.map_err(|e| {
                if e.is::<http_body_util::LengthLimitError>() {
                    PoolError::TooLarge {
                        path: self.path.clone(),
                        limit,
                    }
                } else {
                    PoolError::Body {
                        path: self.path.clone(),
                        reason: e.to_string(),
                    }
                }
            })?;
            self.put_idle(sender);
            return Ok(Response::from_parts(parts, body.to_bytes()));
        }
    }
}

/// One [`UnixPool`] per socket path.
#[derive(Debug, Default)]
pub struct UnixPools {
    pools: Mutex<HashMap<PathBuf, Arc<UnixPool>>>,
}

impl UnixPools {
    /// The pool of the socket at `path`.
    pub fn get(&self, path: &Path) -> Arc<UnixPool> {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(pool) = pools.get(path) {
            return pool.clone();
        }
        let pool = Arc::new(UnixPool::new(path));
        pools.insert(path.to_path_buf(), pool.clone());
        pool
    }

    /// Drops the idle connections to sockets under `dir` (a backend stopped or
    /// was reinstalled).
    pub fn forget_under(&self, dir: &Path) {
        let mut pools = self.pools.lock().unwrap_or_else(|e| e.into_inner());
        pools.retain(|path, _| !path.starts_with(dir));
    }
}
