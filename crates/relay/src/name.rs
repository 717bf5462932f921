//! Socket names: a plain file name in the socket directory, nothing else.
//!
//! The relay's container sees the extension's `/run/guest-services` volume
//! and nothing of value besides (its image is one binary, no network, a
//! read-only root), but the names still come from a stream the relay does
//! not trust: a name is one path component (no `/`, not `.` or `..`, no NUL,
//! printable), the path must fit a unix socket address, and the file must be
//! a socket itself — a symbolic link is refused, not followed.

use std::io;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

/// `sun_path` holds 108 bytes, the last one a NUL.
const MAX_SOCKET_PATH: usize = 107;

/// Why a name was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NameError {
    /// Not a plain file name.
    #[error(
        "`{name}` is not a socket name: a name is one file name in the socket directory (no `/`, `..`, NUL or control characters)"
    )]
    NotPlain {
        /// The name, escaped.
        name: String,
    },
    /// The path is longer than a unix socket address allows.
    #[error(
        "the socket path {path} is longer than the {MAX_SOCKET_PATH} bytes a unix socket address holds"
    )]
    TooLong {
        /// The path.
        path: String,
    },
}

/// Checks that `name` is a plain file name, and returns `dir/name`.
pub fn socket_path(dir: &Path, name: &str) -> Result<PathBuf, NameError> {
    let plain = !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains('/')
        && !name.chars().any(char::is_control);
    if !plain {
        return Err(NameError::NotPlain {
            name: name.escape_debug().to_string(),
        });
    }
    let path = dir.join(name);
    if path.as_os_str().len() > MAX_SOCKET_PATH {
        return Err(NameError::TooLong {
            path: path.display().to_string(),
        });
    }
    Ok(path)
}

/// Checks that `path` is a socket, without following a symbolic link: the
/// error names the file and what it is instead.
// std::fs, not fs_err: the caller's message names the path already
// ("cannot connect to {path}: {error}"), and fs_err's would name it again.
#[allow(clippy::disallowed_methods)]
pub fn check_socket(path: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let ft = meta.file_type();
    if ft.is_socket() {
        return Ok(());
    }
    let what = if ft.is_symlink() {
        "a symbolic link (the relay never follows one)"
    } else if ft.is_dir() {
        "a directory"
    } else if ft.is_file() {
        "a regular file"
    } else {
        "not a socket"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is {what}: the relay connects only to a socket the backend created",
            path.display()
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_file_names_pass() {
        let dir = Path::new("/run/guest-services");
        assert_eq!(
            socket_path(dir, "backend.sock"),
            Ok(PathBuf::from("/run/guest-services/backend.sock"))
        );
        assert!(socket_path(dir, "..hidden").is_ok());
        for bad in [
            "",
            ".",
            "..",
            "../x",
            "a/b",
            "/etc/passwd",
            "x\0y",
            "x\ny",
            "\u{1b}[2J",
        ] {
            assert!(
                matches!(socket_path(dir, bad), Err(NameError::NotPlain { .. })),
                "{bad:?}"
            );
        }
        let long = "s".repeat(100);
        assert!(matches!(
            socket_path(dir, &long),
            Err(NameError::TooLong { .. })
        ));
    }
}
