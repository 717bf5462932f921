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

/// Whether this process can connect to the unix socket at `path`:
/// `Ok(true)` yes, `Ok(false)` permission denied, `Err` for anything else.
pub fn can_connect(path: &Path) -> io::Result<bool> {
    match std::os::unix::net::UnixStream::connect(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::PermissionDenied => Ok(false),
        Err(e) => Err(e),
    }
}

/// Which sockets [`prepare`] removes from the socket directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sockets {
    /// Every socket: compose is about to create or recreate the containers
    /// (install, update, rollback), and a backend that binds without
    /// unlinking first would fail with "address in use" on a leftover file.
    Fresh,
    /// Only the stale ones, which no process listens on: the backend's
    /// files have not changed (`up`, `enable`), so compose leaves running
    /// containers alone, and removing their sockets would cut them off.
    KeepLive,
}

/// Creates the socket directory `dir`, with its parent private to the user,
/// and removes the sockets in it that `sockets` says to.
pub fn prepare(dir: &Path, sockets: Sockets) -> io::Result<()> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)?;
        std::fs::set_permissions(parent, std::fs::Permissions::from_mode(0o700))?;
    }
    std::fs::create_dir_all(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755))?;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        if !entry.file_type()?.is_socket_like() {
            continue;
        }
        // A socket this user may not connect to has a listener too.
        let live = sockets == Sockets::KeepLive
            && !matches!(
                std::os::unix::net::UnixStream::connect(entry.path()),
                Err(e) if e.kind() != io::ErrorKind::PermissionDenied
            );
        if !live {
            let _ = std::fs::remove_file(entry.path());
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

    #[test]
    fn prepares_a_private_parent_and_removes_stale_sockets() {
        let base = std::env::temp_dir().join(format!("dh-sockdir-{}", std::process::id()));
        let dir = base.join("dockhand").join("abc");
        std::fs::create_dir_all(&dir).unwrap();
        let stale = dir.join("old.sock");
        drop(std::os::unix::net::UnixListener::bind(&stale).unwrap());
        let live = dir.join("live.sock");
        let _listener = std::os::unix::net::UnixListener::bind(&live).unwrap();
        prepare(&dir, Sockets::KeepLive).unwrap();
        assert!(!stale.exists(), "stale socket removed");
        assert!(live.exists(), "live socket kept");
        prepare(&dir, Sockets::Fresh).unwrap();
        assert!(!live.exists(), "every socket removed");
        let mode = std::fs::metadata(dir.parent().unwrap())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o700);
        let live = dir.join("live.sock");
        let _l = std::os::unix::net::UnixListener::bind(&live).unwrap();
        assert!(can_connect(&live).unwrap());
        assert!(can_connect(&dir.join("none.sock")).is_err());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
