//! Waiting for a backend to listen on its unix socket.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::time::Instant;

const FIRST_DELAY: Duration = Duration::from_millis(20);
const MAX_DELAY: Duration = Duration::from_millis(250);

/// The socket did not accept a connection in time.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the backend socket {path} did not accept connections within {}s ({last_error}); check the backend container's logs, and that its exposes.socket names this file",
    waited.as_secs_f32()
)]
pub struct NotReady {
    /// The socket.
    pub path: PathBuf,
    /// How long we tried.
    pub waited: Duration,
    /// What the last attempt said (`No such file or directory`, `Permission denied`).
    pub last_error: String,
}

/// Polls `connect()` on the unix socket at `path` until it succeeds (or is
/// refused for permissions: something listens) or `timeout` passes (tried at least once; the delay between attempts grows
/// from 20 ms to 250 ms).
pub async fn wait_for_socket(path: &Path, timeout: Duration) -> Result<(), NotReady> {
    let start = Instant::now();
    let deadline = start + timeout;
    let mut delay = FIRST_DELAY;
    loop {
        let attempt = tokio::time::timeout(
            deadline
                .saturating_duration_since(Instant::now())
                .max(FIRST_DELAY),
            tokio::net::UnixStream::connect(path),
        )
        .await;
        let last_error = match attempt {
            Ok(Ok(_stream)) => return Ok(()),
            // Someone listens, but this user may not connect: the socket is
            // ready; access is the caller's business (it may fix the mode).
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::PermissionDenied => return Ok(()),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "connect timed out".to_owned(),
        };
        let now = Instant::now();
        if now >= deadline {
            return Err(NotReady {
                path: path.to_owned(),
                waited: now - start,
                last_error,
            });
        }
        tokio::time::sleep(delay.min(deadline - now)).await;
        delay = (delay * 2).min(MAX_DELAY);
    }
}

/// What connecting to a backend's socket says now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SocketState {
    /// It accepts a connection (or is too busy to: something listens).
    Ready,
    /// There is no such file yet.
    Missing,
    /// The file is there but nothing listens (a backend that stopped).
    NotListening,
    /// Something listens, but this user may not connect (a root-created
    /// socket without write permission for others).
    Denied,
}

impl SocketState {
    /// `ready`, `missing`, `not-listening` or `denied`.
    pub fn as_str(self) -> &'static str {
        match self {
            SocketState::Ready => "ready",
            SocketState::Missing => "missing",
            SocketState::NotListening => "not-listening",
            SocketState::Denied => "denied",
        }
    }
}

impl std::fmt::Display for SocketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How long [`probe_socket`] waits for a connection to be accepted.
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// One connection attempt to the unix socket at `path` (never blocks longer
/// than half a second: a backend whose listen queue is full is listening).
pub async fn probe_socket(path: &Path) -> SocketState {
    match tokio::time::timeout(PROBE_TIMEOUT, tokio::net::UnixStream::connect(path)).await {
        Ok(Ok(_)) | Err(_) => SocketState::Ready,
        Ok(Err(e)) => match e.kind() {
            std::io::ErrorKind::NotFound => SocketState::Missing,
            std::io::ErrorKind::PermissionDenied => SocketState::Denied,
            std::io::ErrorKind::WouldBlock => SocketState::Ready,
            _ => SocketState::NotListening,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn waits_for_a_late_listener() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.sock");
        let p = path.clone();
        let listener = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(150)).await;
            let l = tokio::net::UnixListener::bind(&p).unwrap();
            let _ = l.accept().await;
        });
        wait_for_socket(&path, Duration::from_secs(5))
            .await
            .unwrap();
        listener.await.unwrap();
    }

    #[tokio::test]
    async fn probes_tell_missing_stale_and_ready_sockets_apart() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.sock");
        assert_eq!(probe_socket(&path).await, SocketState::Missing);
        drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
        assert_eq!(probe_socket(&path).await, SocketState::NotListening);
        fs_err::remove_file(&path).unwrap();
        let _l = std::os::unix::net::UnixListener::bind(&path).unwrap();
        assert_eq!(probe_socket(&path).await, SocketState::Ready);
        // A plain file where the socket should be is not a listener.
        let file = dir.path().join("f.sock");
        fs_err::write(&file, "x").unwrap();
        assert_eq!(probe_socket(&file).await, SocketState::NotListening);
        assert_eq!(SocketState::NotListening.to_string(), "not-listening");
    }

    #[tokio::test]
    async fn gives_up_and_says_why() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("none.sock");
        let e = wait_for_socket(&path, Duration::from_millis(100))
            .await
            .unwrap_err();
        assert!(e.waited >= Duration::from_millis(100), "{e:?}");
        assert!(e.to_string().contains("none.sock"), "{e}");
        assert!(e.last_error.contains("No such file"), "{e}");
        // A file that is not a socket is refused, not waited on forever.
        fs_err::write(&path, "x").unwrap();
        let e = wait_for_socket(&path, Duration::from_millis(50))
            .await
            .unwrap_err();
        assert!(!e.last_error.is_empty());
    }
}
