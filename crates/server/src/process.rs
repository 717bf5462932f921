//! The processes the server started, so that closing a tab, removing an
//! extension or stopping the server ends them.
//!
//! The code that starts a process (the bridge) registers it and keeps the
//! [`ProcessGuard`] for as long as the process lives, racing the process
//! against [`ProcessGuard::killed`]:
//!
//! ```text
//! let mut guard = state.processes().register(&caller.record.id, caller.session)?;
//! let mut child = command.kill_on_drop(true).spawn()?;
//! tokio::select! {
//!     status = child.wait() => { /* finished */ }
//!     () = guard.killed() => { let _ = child.kill().await; }
//! }
//! // dropping the guard takes the process out of the registry
//! ```
//!
//! [`ProcessRegistry::kill_all`] (server shutdown), `kill_extension`
//! (uninstall, disable) and `kill_group` (a tab closed) ask every matching
//! guard's owner to kill its process; [`ProcessRegistry::wait_idle`] waits
//! until they have.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use dockhand_spec::ExtensionId;
use tokio::sync::{Notify, watch};

use crate::error::ApiError;

/// At most this many processes per extension at once (`docs/bridge.md`).
pub const MAX_PER_EXTENSION: usize = 16;

/// Why a process may not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegisterError {
    /// The extension already runs [`MAX_PER_EXTENSION`] processes.
    #[error(
        "{extension} already runs {MAX_PER_EXTENSION} processes: wait for one to finish or close one"
    )]
    TooMany {
        /// The extension.
        extension: ExtensionId,
    },
    /// The server is shutting down.
    #[error("dockhand is shutting down: no new process is started")]
    ShuttingDown,
}

impl From<RegisterError> for ApiError {
    fn from(e: RegisterError) -> Self {
        match e {
            RegisterError::TooMany { .. } => {
                ApiError::new(axum::http::StatusCode::TOO_MANY_REQUESTS, e.to_string())
            }
            RegisterError::ShuttingDown => ApiError::unavailable(e.to_string()),
        }
    }
}

#[derive(Debug)]
struct Entry {
    extension: ExtensionId,
    group: u64,
    kill: watch::Sender<bool>,
}

#[derive(Debug, Default)]
struct Inner {
    next: u64,
    closed: bool,
    entries: HashMap<u64, Entry>,
}

/// The registry of running processes; shared through `AppState`.
#[derive(Debug, Default)]
pub struct ProcessRegistry {
    inner: Mutex<Inner>,
    idle: Notify,
}

impl ProcessRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a process of `extension` in `group` (for example the
    /// extension session's number, see `ExtensionCaller::session`). Refused
    /// beyond [`MAX_PER_EXTENSION`] and once [`kill_all`](Self::kill_all) ran.
    pub fn register(
        self: &std::sync::Arc<Self>,
        extension: &ExtensionId,
        group: u64,
    ) -> Result<ProcessGuard, RegisterError> {
        let mut inner = self.inner();
        if inner.closed {
            return Err(RegisterError::ShuttingDown);
        }
        let running = inner
            .entries
            .values()
            .filter(|e| e.extension == *extension)
            .count();
        if running >= MAX_PER_EXTENSION {
            return Err(RegisterError::TooMany {
                extension: extension.clone(),
            });
        }
        inner.next += 1;
        let key = inner.next;
        let (kill, killed) = watch::channel(false);
        inner.entries.insert(
            key,
            Entry {
                extension: extension.clone(),
                group,
                kill,
            },
        );
        Ok(ProcessGuard {
            registry: std::sync::Arc::clone(self),
            key,
            killed,
        })
    }

    /// How many processes `extension` runs.
    pub fn running(&self, extension: &ExtensionId) -> usize {
        self.inner()
            .entries
            .values()
            .filter(|e| e.extension == *extension)
            .count()
    }

    /// How many processes run in all.
    pub fn len(&self) -> usize {
        self.inner().entries.len()
    }

    /// True when no process runs.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn kill_where(&self, pick: impl Fn(&Entry) -> bool) -> usize {
        let inner = self.inner();
        let mut n = 0;
        for e in inner.entries.values().filter(|e| pick(e)) {
            e.kill.send_replace(true);
            n += 1;
        }
        n
    }

    /// Asks every process of `group` to end; returns how many were asked.
    pub fn kill_group(&self, group: u64) -> usize {
        self.kill_where(|e| e.group == group)
    }

    /// Asks every process of `extension` to end.
    pub fn kill_extension(&self, extension: &ExtensionId) -> usize {
        self.kill_where(|e| e.extension == *extension)
    }

    /// Asks every process to end and refuses new ones (server shutdown).
    pub fn kill_all(&self) -> usize {
        self.inner().closed = true;
        self.kill_where(|_| true)
    }

    /// Waits until no process is registered, at most `timeout`; `true` when
    /// none is left.
    pub async fn wait_idle(&self, timeout: Duration) -> bool {
        let wait = async {
            loop {
                let notified = self.idle.notified();
                if self.is_empty() {
                    return;
                }
                notified.await;
            }
        };
        tokio::time::timeout(timeout, wait).await.is_ok()
    }
}

/// One registered process; dropping it takes it out of the registry.
#[derive(Debug)]
pub struct ProcessGuard {
    registry: std::sync::Arc<ProcessRegistry>,
    key: u64,
    killed: watch::Receiver<bool>,
}

impl ProcessGuard {
    /// Resolves once the process should be killed; may be awaited again.
    pub async fn killed(&mut self) {
        let _ = self.killed.wait_for(|k| *k).await;
    }

    /// True when the process has been asked to end.
    pub fn is_killed(&self) -> bool {
        *self.killed.borrow()
    }
}

impl Drop for ProcessGuard {
    fn drop(&mut self) {
        let empty = {
            let mut inner = self.registry.inner();
            inner.entries.remove(&self.key);
            inner.entries.is_empty()
        };
        if empty {
            self.registry.idle.notify_waiters();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn id(s: &str) -> ExtensionId {
        ExtensionId::parse(s).unwrap()
    }

    #[tokio::test]
    async fn kill_reaches_the_right_guards_and_idle_follows_drops() {
        let reg = Arc::new(ProcessRegistry::new());
        let mut a1 = reg.register(&id("acme/a"), 1).unwrap();
        let a2 = reg.register(&id("acme/a"), 2).unwrap();
        let b = reg.register(&id("acme/b"), 3).unwrap();
        assert_eq!(reg.running(&id("acme/a")), 2);
        assert_eq!(reg.kill_group(1), 1);
        a1.killed().await;
        a1.killed().await;
        assert!(!a2.is_killed() && !b.is_killed());
        assert_eq!(reg.kill_extension(&id("acme/b")), 1);
        assert!(b.is_killed() && !a2.is_killed());
        drop((a1, b));
        assert!(!reg.wait_idle(Duration::from_millis(20)).await);
        assert_eq!(reg.kill_all(), 1);
        assert!(a2.is_killed());
        assert_eq!(
            reg.register(&id("acme/c"), 4).unwrap_err(),
            RegisterError::ShuttingDown
        );
        let waiter = {
            let reg = Arc::clone(&reg);
            tokio::spawn(async move { reg.wait_idle(Duration::from_secs(5)).await })
        };
        tokio::time::sleep(Duration::from_millis(10)).await;
        drop(a2);
        assert!(waiter.await.unwrap());
    }

    #[test]
    fn at_most_sixteen_per_extension() {
        let reg = Arc::new(ProcessRegistry::new());
        let guards: Vec<_> = (0..MAX_PER_EXTENSION)
            .map(|_| reg.register(&id("acme/a"), 0).unwrap())
            .collect();
        assert!(matches!(
            reg.register(&id("acme/a"), 0),
            Err(RegisterError::TooMany { .. })
        ));
        assert!(reg.register(&id("acme/b"), 0).is_ok());
        drop(guards);
        assert!(reg.register(&id("acme/a"), 0).is_ok());
    }
}
