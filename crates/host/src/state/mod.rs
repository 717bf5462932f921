//! The state of this machine's dockhand: `$DOCKHAND_HOME/dockhand.db`.
//!
//! One SQLite database (WAL mode, a 5 s busy timeout, foreign keys on,
//! schema versioned with `PRAGMA user_version`) holds:
//!
//! - the installed extensions ([`ExtensionRecord`], see [`State::get`],
//!   [`State::list`], [`State::put`], [`State::remove`]);
//! - the operation journal that makes install, update and uninstall atomic
//!   and recoverable ([`State::begin`], [`State::step`], [`State::finish`],
//!   [`State::unfinished`]): a writer records each step *before* doing what
//!   it describes, so after a crash `dockhand doctor` knows exactly what may
//!   have been half done.
//!
//! - the catalog cache ([`State::cache_get`], [`State::cache_put`]): what
//!   registries answered, so a cached `dockhand catalog` only revalidates.
//!
//! Beside it, [`ExtensionLock`] and [`StateLock`] are OS file locks under
//! `$DOCKHAND_HOME/locks/` that keep two processes from changing the same
//! extension at once, and keep every writer out while `doctor` repairs.
//!
//! Open the database once per process: a [`State`] is `Send + Sync` and
//! serialises its callers on one connection with cached prepared statements.

mod cache;
mod db;
mod dev;
mod extensions;
pub(crate) mod journal;
mod lock;
#[cfg(test)]
mod testing;
mod updates;

use fs_err::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use dockhand_spec::ExtensionId;
use rusqlite::Connection;

pub use cache::CacheRow;
pub use db::SCHEMA_VERSION;
pub use extensions::{BackendRecord, ExtensionRecord};
pub use journal::{OpId, OpKind, OpRecord, Outcome, PendingOp};
pub use lock::{ExtensionLock, ExtensionLockGuard, LockError, StateLock, StateLockGuard};
pub use updates::{CachedCheck, CachedManifest, check_time};

/// The database's file name inside `$DOCKHAND_HOME`.
pub const DB_FILE: &str = "dockhand.db";

/// Why the state could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// `$DOCKHAND_HOME` could not be created.
    #[error("cannot create the dockhand home {path}: {source}")]
    CreateHome {
        /// The directory.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The database file cannot be created private to this user.
    #[error("cannot create the state database {path} readable by you only: {source}")]
    Private {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file exists but is not a dockhand database.
    #[error(
        "{path} is not a dockhand state database ({detail}): move it aside (for example to {path}.broken) and dockhand starts a new one; installed extensions then need installing again"
    )]
    NotADatabase {
        /// The database file.
        path: PathBuf,
        /// What SQLite or dockhand found.
        detail: String,
    },
    /// The database was written by a newer dockhand.
    #[error(
        "{path} has schema version {found}, newer than this dockhand understands ({supported}): upgrade dockhand"
    )]
    TooNew {
        /// The database file.
        path: PathBuf,
        /// Its `user_version`.
        found: u32,
        /// [`SCHEMA_VERSION`].
        supported: u32,
    },
    /// Another process held the database longer than the busy timeout.
    #[error(
        "{path} stayed locked by another dockhand process for more than 5 s while trying to {what}: try again when it is done"
    )]
    Busy {
        /// The database file.
        path: PathBuf,
        /// What this process was doing.
        what: String,
    },
    /// Any other SQLite failure.
    #[error("cannot {what} in {path}: {source}")]
    Db {
        /// The database file.
        path: PathBuf,
        /// What this process was doing (`save extension acme/ext`).
        what: String,
        /// What SQLite said.
        source: rusqlite::Error,
    },
    /// What an operation journals (its undo record) does not serialize.
    #[error(
        "cannot {what}: its undo record does not serialize ({source}); nothing was changed, report this as a bug"
    )]
    Payload {
        /// What this process was doing (`begin the install of extension acme/ext`).
        what: String,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A record's JSON column does not serialize.
    #[error(
        "cannot save extension {id}: its {column} does not serialize ({source}); nothing was changed, report this as a bug"
    )]
    Encode {
        /// The extension.
        id: ExtensionId,
        /// The column (`metadata`, `labels`, `host_binaries`).
        column: &'static str,
        /// What serde said.
        source: serde_json::Error,
    },
    /// A row that this dockhand cannot read back.
    #[error("{path} holds a damaged entry for {what}: {detail}: run `dockhand doctor`")]
    Corrupt {
        /// The database file.
        path: PathBuf,
        /// Which entry (`extension acme/ext`, `operation 7`).
        what: String,
        /// What is wrong with it.
        detail: String,
    },
    /// A path that cannot be stored as text.
    #[error(
        "the path {path} is not valid UTF-8 and cannot be kept in the state database: use a DOCKHAND_HOME whose path is UTF-8"
    )]
    NonUtf8Path {
        /// The path.
        path: PathBuf,
    },
    /// [`State::set_enabled`] on an extension that is not installed.
    #[error("extension {id} is not installed: `dockhand ls` lists the installed ones")]
    NotInstalled {
        /// The extension.
        id: ExtensionId,
    },
    /// [`State::begin`] while the extension has an unfinished operation.
    #[error(
        "extension {extension} has an unfinished {kind} (operation {op}, started by pid {pid}): run `dockhand doctor` to finish or roll it back"
    )]
    OpPending {
        /// The extension.
        extension: ExtensionId,
        /// The unfinished operation.
        op: OpId,
        /// What it was doing.
        kind: OpKind,
        /// The process that began it.
        pid: u32,
    },
    /// [`State::step`] or [`State::finish`] on an operation that is not open.
    #[error(
        "operation {op} is not open (unknown or already finished): this is a bug in dockhand, please report it"
    )]
    OpNotOpen {
        /// The operation.
        op: OpId,
    },
}

/// The state database of one `$DOCKHAND_HOME`.
///
/// Cheap to share (`Send + Sync`); every method is one short transaction.
#[derive(Debug)]
pub struct State {
    home: PathBuf,
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl State {
    /// Opens (creating it and `home` when missing) `home/dockhand.db`,
    /// bringing its schema up to [`SCHEMA_VERSION`].
    pub fn open(home: &Path) -> Result<Self, StateError> {
        let create_home = |source| StateError::CreateHome {
            path: home.to_path_buf(),
            source,
        };
        fs_err::create_dir_all(home).map_err(create_home)?;
        let path = home.join(DB_FILE);
        // Private to this user: the home 0700, the database 0600 (SQLite
        // gives its -wal and -shm files the database's mode).
        restrict(home, 0o700).map_err(create_home)?;
        let private = |source| StateError::Private {
            path: path.clone(),
            source,
        };
        match fs_err::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                if fs_err::symlink_metadata(&path).is_ok_and(|m| m.is_file()) {
                    restrict(&path, 0o600).map_err(private)?;
                }
            }
            Err(e) => return Err(private(e)),
        }
        let conn = db::open(&path)?;
        Ok(Self {
            home: home.to_path_buf(),
            path,
            conn: Mutex::new(conn),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `$DOCKHAND_HOME` this state belongs to.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The schema version of the file (after [`State::open`], always
    /// [`SCHEMA_VERSION`]).
    pub fn schema_version(&self) -> Result<u32, StateError> {
        let conn = self.conn();
        db::user_version(&conn).map_err(|e| self.err("read the schema version", e))
    }

    /// SQLite's `quick_check` of the whole file, for `doctor`: an error
    /// naming the file when it is damaged.
    pub fn check(&self) -> Result<(), StateError> {
        let conn = self.conn();
        db::quick_check(&conn, &self.path)
    }

    /// The connection; a poisoned lock is taken over, since every change is
    /// a transaction that SQLite rolled back if its holder panicked.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The row `sql` selects with `params`, read by `read`, or `None`; on
    /// an SQLite error, one saying it could not `what()`.
    fn read_row<T>(
        &self,
        what: impl FnOnce() -> String,
        sql: &str,
        params: impl rusqlite::Params,
        read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> Result<Option<T>, StateError> {
        let conn = self.conn();
        db::optional_row(&conn, sql, params, read).map_err(|e| self.err(what(), e))
    }

    /// Wraps an SQLite error with the file and what was being done.
    fn err(&self, what: impl Into<String>, source: rusqlite::Error) -> StateError {
        db::error(&self.path, what.into(), source)
    }

    fn corrupt(&self, what: impl Into<String>, detail: impl Into<String>) -> StateError {
        StateError::Corrupt {
            path: self.path.clone(),
            what: what.into(),
            detail: detail.into(),
        }
    }
}

/// Now, in seconds since the Unix epoch.
fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Sets `path`'s mode to `mode` when it is this user's and allows more;
/// leaves another user's file alone (root running with a user's home).
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let meta = fs_err::metadata(path)?;
    if meta.uid() == crate::private_dir::effective_uid()? && meta.mode() & 0o777 & !mode != 0 {
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<State>();
    }

    #[test]
    fn open_creates_home_and_reports_version() {
        use std::os::unix::fs::MetadataExt;
        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().join("a/b/home");
        let state = State::open(&home).unwrap();
        let mode = |p: &Path| fs_err::metadata(p).unwrap().mode() & 0o777;
        assert_eq!(mode(&home), 0o700, "the home is private");
        assert_eq!(mode(&home.join(DB_FILE)), 0o600, "the database is private");
        assert_eq!(state.path(), home.join(DB_FILE));
        assert_eq!(state.home(), home);
        assert_eq!(state.schema_version().unwrap(), SCHEMA_VERSION);
        state.check().unwrap();
    }

    #[test]
    fn create_home_error_names_the_path() {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("file");
        fs_err::write(&file, b"x").unwrap();
        let err = State::open(&file.join("home")).unwrap_err();
        assert!(matches!(err, StateError::CreateHome { .. }));
        assert!(err.to_string().contains(&file.display().to_string()));
    }
}
