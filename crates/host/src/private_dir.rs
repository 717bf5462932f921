//! Directories only this user may enter: the runtime directory that holds
//! the backends' sockets (`$XDG_RUNTIME_DIR/dockhand`, or the fallback
//! `/tmp/dockhand-<uid>` when there is no `XDG_RUNTIME_DIR`: su, sudo -u,
//! cron, many ssh sessions) and `$DOCKHAND_HOME`.
//!
//! `/tmp` is shared: another local user can create `/tmp/dockhand-<uid>`
//! before dockhand does — writable by everyone, or as a symlink to a
//! directory of theirs — and then sit between the dashboard and every
//! backend socket. So a private directory is created `0700`, and one that
//! exists is checked with `lstat` (never through a symlink): it must be a
//! directory, owned by this user, and writable by nobody else. One that is
//! ours with a looser read mode (an older dockhand made it `0755`) is
//! tightened to `0700`; anything else is refused with an error that names
//! the directory and says what to do.

use std::io;
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Why a private directory cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PrivateDirError {
    /// A symlink where the directory should be.
    #[error(
        "{path} is a symbolic link, not a directory: dockhand will not use it for private files \
         (another local user may have planted it); remove it, or set XDG_RUNTIME_DIR to a \
         directory of your own"
    )]
    Symlink {
        /// The path.
        path: PathBuf,
    },
    /// Something else than a directory.
    #[error(
        "{path} is not a directory: remove it, or set XDG_RUNTIME_DIR to a directory of your own"
    )]
    NotADirectory {
        /// The path.
        path: PathBuf,
    },
    /// Another user's directory.
    #[error(
        "{path} belongs to uid {owner}, not to you (uid {uid}): dockhand will not keep private \
         files there (another local user may have created it to intercept them); remove it as \
         its owner or root, or set XDG_RUNTIME_DIR to a directory of your own"
    )]
    NotOwned {
        /// The path.
        path: PathBuf,
        /// Its owner.
        owner: u32,
        /// This user.
        uid: u32,
    },
    /// Others may write into it.
    #[error(
        "{path} is writable by other users (mode {mode:04o}): dockhand will not keep private \
         files there; remove it (dockhand recreates it 0700), or run `chmod 700 {path}` if you \
         made it so yourself"
    )]
    OpenToOthers {
        /// The path.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// The file system said no.
    #[error("cannot prepare the private directory {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// This process's effective uid (the owner of `/proc/self`).
pub fn effective_uid() -> io::Result<u32> {
    Ok(fs_err::metadata("/proc/self")?.uid())
}

/// Makes sure `path` is a directory only this user can use: creates it
/// `0700` (its parent must exist), or checks the one that is there (see the
/// module docs).
pub fn ensure(path: &Path) -> Result<(), PrivateDirError> {
    let io = |source| PrivateDirError::Io {
        path: path.to_path_buf(),
        source,
    };
    let uid = effective_uid().map_err(io)?;
    match std::fs::DirBuilder::new().mode(0o700).create(path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(io(e)),
    }
    let meta = fs_err::symlink_metadata(path).map_err(io)?;
    let kind = meta.file_type();
    if kind.is_symlink() {
        return Err(PrivateDirError::Symlink {
            path: path.to_path_buf(),
        });
    }
    if !kind.is_dir() {
        return Err(PrivateDirError::NotADirectory {
            path: path.to_path_buf(),
        });
    }
    if meta.uid() != uid {
        return Err(PrivateDirError::NotOwned {
            path: path.to_path_buf(),
            owner: meta.uid(),
            uid,
        });
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(PrivateDirError::OpenToOthers {
            path: path.to_path_buf(),
            mode,
        });
    }
    if mode & 0o077 != 0 {
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        fs_err::symlink_metadata(p).unwrap().mode() & 0o7777
    }

    /// Creates the directory `parent/name` with the permission bits `mode`.
    pub(crate) fn dir_with_mode(parent: &Path, name: &str, mode: u32) -> PathBuf {
        let dir = parent.join(name);
        fs_err::create_dir(&dir).unwrap();
        fs_err::set_permissions(&dir, std::fs::Permissions::from_mode(mode)).unwrap();
        dir
    }

    #[test]
    fn creates_0700_and_accepts_it_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dockhand-1000");
        ensure(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        ensure(&dir).unwrap();
    }

    #[test]
    fn a_readable_directory_of_ours_is_tightened() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = dir_with_mode(tmp.path(), "d", 0o755);
        ensure(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn world_writable_symlinks_and_files_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let open = dir_with_mode(tmp.path(), "open", 0o1777);
        let e = ensure(&open).unwrap_err();
        assert!(matches!(e, PrivateDirError::OpenToOthers { .. }), "{e}");
        assert!(e.to_string().contains(&open.display().to_string()), "{e}");
        assert_eq!(mode(&open), 0o1777, "left as it was");

        let target = tmp.path().join("theirs");
        fs_err::create_dir(&target).unwrap();
        let link = tmp.path().join("link");
        fs_err::os::unix::fs::symlink(&target, &link).unwrap();
        let e = ensure(&link).unwrap_err();
        assert!(matches!(e, PrivateDirError::Symlink { .. }), "{e}");

        let file = tmp.path().join("file");
        fs_err::write(&file, b"").unwrap();
        assert!(matches!(
            ensure(&file).unwrap_err(),
            PrivateDirError::NotADirectory { .. }
        ));
    }
}
