//! The backend's socket directory (bind-mounted at `/run/guest-services`),
//! and whether this user can connect to the socket a container created.
//!
//! On a rootful engine the backend creates its socket as root, usually with
//! mode 0755 after its umask, and connect needs write permission: an
//! ordinary user in the `docker` group cannot connect. A default POSIX ACL
//! on the directory does not help — `bind(2)` applies the umask itself, so
//! the inherited ACL mask ends up `r-x` (tried, see ARCHITECTURE.md). dockhand
//! therefore checks the socket once it appears and, when this user is denied,
//! fixes its mode from inside the container through the Engine API (`chmod
//! 0666` by exec in the service that owns it); an image without `chmod`
//! gets a clear error asking the author to create the socket 0666.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::private_dir::{self, PrivateDirError};

/// Whether this process can connect to the unix socket at `path`:
/// `Ok(true)` yes, `Ok(false)` permission denied, `Err` for anything else.
pub fn can_connect(path: &Path) -> io::Result<bool> {
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(false),
        Err(e) => Err(e),
    }
}

/// Why a socket directory cannot be prepared.
#[derive(Debug, thiserror::Error)]
pub enum SocketDirError {
    /// The runtime directory or its `dockhand` directory is not private.
    #[error(transparent)]
    NotPrivate(#[from] PrivateDirError),
    /// The file system said no.
    #[error("cannot prepare the backend socket directory {path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Creates the socket directory `dir` (removing sockets nobody listens on).
/// Its parent (`<runtime>/dockhand`) and grandparent (the runtime directory)
/// must be private to the user and are made so ([`crate::private_dir`]):
/// another local user who planted either is refused, never followed.
pub fn prepare(dir: &Path) -> Result<(), SocketDirError> {
    if let Some(parent) = dir.parent() {
        if let Some(runtime) = parent.parent() {
            private_dir::ensure(runtime)?;
        }
        private_dir::ensure(parent)?;
    }
    prepare_inside(dir).map_err(|source| SocketDirError::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn prepare_inside(dir: &Path) -> io::Result<()> {
    match fs_err::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
            fs_err::remove_file(dir)?;
        }
        _ => {}
    }
    fs_err::create_dir_all(dir)?;
    fs_err::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for entry in fs_err::read_dir(dir)? {
        let entry = entry?;
        // A stale socket (nobody listens) would look ready before the
        // backend starts; a live one belongs to a running backend: keep it.
        let stale = entry.file_type()?.is_socket_like()
            && matches!(
                std::os::unix::net::UnixStream::connect(entry.path()),
                Err(e) if e.kind() == io::ErrorKind::ConnectionRefused
            );
        if stale {
            let _ = fs_err::remove_file(entry.path());
        }
    }
    Ok(())
}

trait SocketLike {
    fn is_socket_like(&self) -> bool;
}

impl SocketLike for std::fs::FileType {
    fn is_socket_like(&self) -> bool {
        use std::os::unix::fs::FileTypeExt;
        self.is_socket()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::private_dir::tests::dir_with_mode;

    #[test]
    fn prepares_a_private_parent_and_removes_stale_sockets() {
        let base = std::env::temp_dir().join(format!("dh-sockdir-{}", std::process::id()));
        let dir = base.join("runtime").join("dockhand").join("abc");
        fs_err::create_dir_all(&dir).unwrap();
        let stale = dir.join("old.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let live = dir.join("live.sock");
        let _l = std::os::unix::net::UnixListener::bind(&live).unwrap();
        prepare(&dir).unwrap();
        assert!(!stale.exists(), "stale socket removed");
        assert!(live.exists(), "a socket someone listens on is kept");
        let mode = fs_err::metadata(dir.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        assert!(can_connect(&live).unwrap());
        assert!(can_connect(&dir.join("none.sock")).is_err());
        fs_err::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn a_planted_runtime_directory_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        // Another user's trick, played by this one: a world-writable fallback dir.
        let runtime = dir_with_mode(tmp.path(), "dockhand-1000", 0o777);
        let e = prepare(&runtime.join("dockhand").join("abc")).unwrap_err();
        assert!(e.to_string().contains("writable by other users"), "{e}");
        assert!(!runtime.join("dockhand").exists(), "nothing created inside");
        // A symlink to a directory of theirs.
        let theirs = tmp.path().join("theirs");
        fs_err::create_dir(&theirs).unwrap();
        let link = tmp.path().join("dockhand-1001");
        fs_err::os::unix::fs::symlink(&theirs, &link).unwrap();
        let e = prepare(&link.join("dockhand").join("abc")).unwrap_err();
        assert!(e.to_string().contains("symbolic link"), "{e}");
        assert!(fs_err::read_dir(&theirs).unwrap().next().is_none());
    }
}
