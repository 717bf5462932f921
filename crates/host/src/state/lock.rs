//! Locks between dockhand processes: OS file locks under
//! `$DOCKHAND_HOME/locks/`, released on drop and when the holder dies.
//!
//! - `locks/<fs-id>.lock`, exclusive: one process changes one extension at
//!   a time ([`ExtensionLock`]).
//! - `locks/_state.lock` ([`StateLock`]): every [`ExtensionLock`] also holds
//!   it shared; `dockhand doctor` holds it exclusive while it repairs, so a
//!   repair never races a running install. (No extension's file-system name
//!   starts with `_`, so the names cannot collide.)
//!
//! Locks never wait: a busy lock is an error that names the holder's pid,
//! which the holder writes into the lock file.

use std::fs::TryLockError;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use dockhand_oci::Digest;
use dockhand_spec::ExtensionId;
use fs_err::{File, OpenOptions};

/// The directory of the lock files inside `$DOCKHAND_HOME`.
const LOCKS_DIR: &str = "locks";
/// The global lock's file name.
const STATE_LOCK: &str = "_state.lock";
/// Longer file-system names are shortened and given a hash (NAME_MAX is 255).
const MAX_NAME: usize = 200;

/// Why a lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process is changing the extension.
    #[error(
        "another dockhand process{} is changing extension {id}: wait for it to finish, or check that process",
        pid_note(.pid)
    )]
    Busy {
        /// The extension.
        id: ExtensionId,
        /// The holder, as it wrote itself into the lock file.
        pid: Option<u32>,
    },
    /// `dockhand doctor` holds the state lock.
    #[error(
        "another dockhand process{} is repairing the state (`dockhand doctor`): wait for it to finish, or check that process",
        pid_note(.pid)
    )]
    Repairing {
        /// The holder, as it wrote itself into the lock file.
        pid: Option<u32>,
    },
    /// The state lock is wanted while extensions are being changed.
    #[error(
        "other dockhand processes are installing, updating or removing extensions: wait for them to finish and run it again"
    )]
    StateBusy,
    /// A lock file could not be created, opened, locked or written.
    #[error("cannot use the lock file {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

fn pid_note(pid: &Option<u32>) -> String {
    pid.map(|p| format!(" (pid {p})")).unwrap_or_default()
}

/// The per-extension lock: see [`ExtensionLock::acquire`].
#[derive(Debug)]
pub struct ExtensionLock {
    _private: (),
}

impl ExtensionLock {
    /// Takes the exclusive lock on extension `id` (and the state lock
    /// shared), without waiting: [`LockError::Busy`] names the holder when
    /// another process (or another guard in this one) has it.
    pub fn acquire(home: &Path, id: &ExtensionId) -> Result<ExtensionLockGuard, LockError> {
        let state_path = StateLock::path(home);
        let shared = open(&state_path)?;
        match shared.try_lock_shared() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Repairing {
                    pid: read_pid(&shared),
                });
            }
            Err(TryLockError::Error(source)) => {
                return Err(LockError::Io {
                    path: state_path,
                    source,
                });
            }
        }
        let mut guard = Self::exclusive(home, id)?;
        guard.shared = Some(shared);
        Ok(guard)
    }

    /// Takes the lock on extension `id` while this process holds the state
    /// lock exclusively (what `doctor` does to repair one extension).
    pub fn acquire_under(
        state: &StateLockGuard,
        id: &ExtensionId,
    ) -> Result<ExtensionLockGuard, LockError> {
        Self::exclusive(&state.home, id)
    }

    /// The lock file of extension `id`.
    pub fn path(home: &Path, id: &ExtensionId) -> PathBuf {
        let mut name = id.fs_name();
        if name.len() > MAX_NAME {
            let digest = Digest::sha256_of(name.as_bytes());
            let hash = digest.hex().get(..16).unwrap_or_default().to_owned();
            name = name.chars().take(MAX_NAME - 20).collect();
            name.push('-');
            name.push_str(&hash);
        }
        home.join(LOCKS_DIR).join(format!("{name}.lock"))
    }

    fn exclusive(home: &Path, id: &ExtensionId) -> Result<ExtensionLockGuard, LockError> {
        let path = Self::path(home, id);
        let file = take_exclusive(&path, |pid| LockError::Busy {
            id: id.clone(),
            pid,
        })?;
        Ok(ExtensionLockGuard {
            id: id.clone(),
            path,
            file,
            shared: None,
        })
    }
}

/// Holds an extension's lock until dropped (or the process dies).
#[derive(Debug)]
pub struct ExtensionLockGuard {
    id: ExtensionId,
    path: PathBuf,
    file: File,
    /// The state lock, shared; `None` under an exclusive [`StateLockGuard`].
    shared: Option<File>,
}

impl ExtensionLockGuard {
    /// The extension locked.
    pub fn id(&self) -> &ExtensionId {
        &self.id
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ExtensionLockGuard {
    fn drop(&mut self) {
        // Still locked here: the OS lock goes when `file` closes.
        let _ = self.file.set_len(0);
    }
}

/// The global lock `dockhand doctor` takes to repair: see [`StateLock::acquire`].
#[derive(Debug)]
pub struct StateLock {
    _private: (),
}

impl StateLock {
    /// Takes the state lock exclusively, without waiting: refused while
    /// any process holds an [`ExtensionLock`] or another repair runs.
    pub fn acquire(home: &Path) -> Result<StateLockGuard, LockError> {
        let path = Self::path(home);
        // A repairer writes its pid; extension holders (shared) don't.
        let file = take_exclusive(&path, |pid| match pid {
            Some(pid) => LockError::Repairing { pid: Some(pid) },
            None => LockError::StateBusy,
        })?;
        Ok(StateLockGuard {
            home: home.to_path_buf(),
            path,
            file,
        })
    }

    /// The state lock file.
    pub fn path(home: &Path) -> PathBuf {
        home.join(LOCKS_DIR).join(STATE_LOCK)
    }
}

/// Holds the state lock until dropped (or the process dies).
#[derive(Debug)]
pub struct StateLockGuard {
    home: PathBuf,
    path: PathBuf,
    file: File,
}

impl StateLockGuard {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for StateLockGuard {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
    }
}

/// Opens (creating it and its directory) a lock file without truncating it.
fn open(path: &Path) -> Result<File, LockError> {
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs_err::create_dir_all(dir).map_err(io)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)
}

/// Opens the lock file at `path`, takes it exclusively without waiting and
/// writes this process's pid in it; while another process holds it, the
/// error is `busy`'s, given the pid that holder wrote.
fn take_exclusive(
    path: &Path,
    busy: impl FnOnce(Option<u32>) -> LockError,
) -> Result<File, LockError> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Err(busy(read_pid(&file))),
        Err(TryLockError::Error(source)) => {
            return Err(LockError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    write_pid(&file, path)?;
    Ok(file)
}

/// Replaces the content of the lock file at `path` with this process's pid.
fn write_pid(mut file: &File, path: &Path) -> Result<(), LockError> {
    (|| {
        file.set_len(0)?;
        file.seek(SeekFrom::Start(0))?;
        file.write_all(format!("{}\n", std::process::id()).as_bytes())?;
        file.flush()
    })()
    .map_err(|source| LockError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// The pid a holder wrote, waiting a moment for a holder that has the lock
/// but has not written yet.
fn read_pid(mut file: &File) -> Option<u32> {
    for _ in 0..5 {
        let mut text = String::new();
        let read = file
            .seek(SeekFrom::Start(0))
            .and_then(|_| file.read_to_string(&mut text));
        if read.is_ok()
            && let Ok(pid) = text.trim().parse()
        {
            return Some(pid);
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::super::testing::id;
    use super::*;

    #[test]
    fn second_acquire_is_busy_with_our_pid_until_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let ext = id("docker/volumes-backup-extension");
        let guard = ExtensionLock::acquire(tmp.path(), &ext).unwrap();
        assert_eq!(
            guard.path(),
            tmp.path()
                .join("locks/docker_volumes-backup-extension.lock")
        );
        assert_eq!(guard.id(), &ext);
        let pid = std::process::id();
        assert_eq!(
            fs_err::read_to_string(guard.path()).unwrap(),
            format!("{pid}\n")
        );
        let err = ExtensionLock::acquire(tmp.path(), &ext).unwrap_err();
        assert!(matches!(&err, LockError::Busy { pid: Some(p), .. } if *p == pid));
        assert_eq!(
            err.to_string(),
            format!(
                "another dockhand process (pid {pid}) is changing extension \
                 docker/volumes-backup-extension: wait for it to finish, or check that process"
            )
        );
        // Another extension is free.
        ExtensionLock::acquire(tmp.path(), &id("acme/other")).unwrap();
        let path = guard.path().to_path_buf();
        drop(guard);
        assert_eq!(fs_err::read_to_string(&path).unwrap(), "");
        ExtensionLock::acquire(tmp.path(), &ext).unwrap();
    }

    #[test]
    fn state_lock_excludes_extension_locks_both_ways() {
        let tmp = tempfile::tempdir().unwrap();
        let ext = id("acme/ext");
        let guard = ExtensionLock::acquire(tmp.path(), &ext).unwrap();
        assert!(matches!(
            StateLock::acquire(tmp.path()),
            Err(LockError::StateBusy)
        ));
        drop(guard);

        let state = StateLock::acquire(tmp.path()).unwrap();
        let err = ExtensionLock::acquire(tmp.path(), &ext).unwrap_err();
        assert!(
            matches!(err, LockError::Repairing { pid: Some(p) } if p == std::process::id()),
            "{err}"
        );
        assert!(matches!(
            StateLock::acquire(tmp.path()),
            Err(LockError::Repairing { .. })
        ));
        // The repairer itself can lock extensions.
        let under = ExtensionLock::acquire_under(&state, &ext).unwrap();
        assert!(matches!(
            ExtensionLock::acquire_under(&state, &ext),
            Err(LockError::Busy { .. })
        ));
        drop(under);
        drop(state);
        ExtensionLock::acquire(tmp.path(), &ext).unwrap();
    }

    #[test]
    fn long_ids_get_short_lock_names() {
        let long = format!("acme/{}", "x".repeat(240));
        let path = ExtensionLock::path(Path::new("/h"), &id(&long));
        let name = path.file_name().unwrap().to_str().unwrap();
        assert!(name.len() <= MAX_NAME + 5, "{name}");
        let other = format!("acme/{}y", "x".repeat(239));
        assert_ne!(path, ExtensionLock::path(Path::new("/h"), &id(&other)));
    }

    #[test]
    fn unwritable_home_names_the_lock_file() {
        let tmp = tempfile::tempdir().unwrap();
        fs_err::write(tmp.path().join("locks"), b"a file").unwrap();
        let err = ExtensionLock::acquire(tmp.path(), &id("acme/ext")).unwrap_err();
        assert!(matches!(err, LockError::Io { .. }));
        assert!(err.to_string().contains("_state.lock"), "{err}");
    }
}
