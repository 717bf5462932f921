//! File-system operations inside the staging directory that never follow a
//! symlink: every parent component of a destination is checked with
//! `symlink_metadata` and created one level at a time.

use std::io;
use std::path::{Path, PathBuf};

use super::safety::ancestors;

/// Why a staging operation could not go ahead.
#[derive(Debug)]
pub(crate) enum StageError {
    /// This parent (an image path) is a symlink.
    ThroughSymlink(String),
    /// This parent (an image path) is not a directory.
    NotDirectory(String),
    /// The file system said no.
    Io(io::Error),
}

impl From<io::Error> for StageError {
    fn from(e: io::Error) -> Self {
        StageError::Io(e)
    }
}

/// What is at a path in staging, without following a symlink.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Missing,
    Dir,
    File,
    Symlink,
    Other,
}

/// The staging root.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Staging<'a> {
    root: &'a Path,
}

impl<'a> Staging<'a> {
    pub(crate) fn new(root: &'a Path) -> Self {
        Self { root }
    }

    /// The file-system path of a normalized image path.
    pub(crate) fn full(&self, path: &str) -> PathBuf {
        let mut full = self.root.to_path_buf();
        full.extend(path.split('/').filter(|p| !p.is_empty()));
        full
    }

    /// Makes sure every parent of `path` is a real directory, creating the
    /// missing ones one level at a time, and returns the destination path.
    /// Refuses to go through a symlink or a file.
    pub(crate) fn prepare_parents(&self, path: &str) -> Result<PathBuf, StageError> {
        for ancestor in ancestors(path) {
            let full = self.full(ancestor);
            match kind(&full)? {
                Kind::Dir => {}
                Kind::Missing => fs_err::create_dir(&full)?,
                Kind::Symlink => return Err(StageError::ThroughSymlink(ancestor.to_owned())),
                Kind::File | Kind::Other => {
                    return Err(StageError::NotDirectory(ancestor.to_owned()));
                }
            }
        }
        Ok(self.full(path))
    }

    /// The destination path of `path` when all its parents exist as real
    /// directories; `None` when one is missing or is a file (so nothing can
    /// be at `path`). Refuses to go through a symlink.
    pub(crate) fn existing(&self, path: &str) -> Result<Option<PathBuf>, StageError> {
        for ancestor in ancestors(path) {
            match kind(&self.full(ancestor))? {
                Kind::Dir => {}
                Kind::Symlink => return Err(StageError::ThroughSymlink(ancestor.to_owned())),
                Kind::Missing | Kind::File | Kind::Other => return Ok(None),
            }
        }
        Ok(Some(self.full(path)))
    }
}

/// What is at `full`, without following a symlink.
pub(crate) fn kind(full: &Path) -> io::Result<Kind> {
    match fs_err::symlink_metadata(full) {
        Ok(meta) => {
            let t = meta.file_type();
            Ok(if t.is_symlink() {
                Kind::Symlink
            } else if t.is_dir() {
                Kind::Dir
            } else if t.is_file() {
                Kind::File
            } else {
                Kind::Other
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Kind::Missing),
        Err(e) => Err(e),
    }
}

/// Removes whatever is at `full` (a directory with its content; a symlink
/// itself, never its target).
pub(crate) fn remove(full: &Path) -> io::Result<()> {
    match kind(full)? {
        Kind::Missing => Ok(()),
        Kind::Dir => fs_err::remove_dir_all(full),
        Kind::File | Kind::Symlink | Kind::Other => fs_err::remove_file(full),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parents_are_created_and_symlinks_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("staging");
        fs_err::create_dir(&root).unwrap();
        let s = Staging::new(&root);
        let dest = s.prepare_parents("a/b/c").unwrap();
        assert_eq!(dest, root.join("a/b/c"));
        assert!(root.join("a/b").is_dir());
        assert!(!dest.exists());

        fs_err::os::unix::fs::symlink("a", root.join("l")).unwrap();
        assert!(matches!(
            s.prepare_parents("l/x"),
            Err(StageError::ThroughSymlink(p)) if p == "l"
        ));
        assert!(matches!(
            s.existing("l/x/y"),
            Err(StageError::ThroughSymlink(p)) if p == "l"
        ));
        fs_err::write(root.join("f"), b"x").unwrap();
        assert!(matches!(
            s.prepare_parents("f/x"),
            Err(StageError::NotDirectory(p)) if p == "f"
        ));
        assert_eq!(s.existing("f/x").unwrap(), None);
        assert_eq!(s.existing("nope/x").unwrap(), None);
        assert_eq!(s.existing("a/b").unwrap(), Some(root.join("a/b")));
        assert_eq!(s.full(""), root);
    }

    #[test]
    fn remove_never_follows() {
        let tmp = tempfile::tempdir().unwrap();
        let outside = tmp.path().join("outside");
        fs_err::create_dir(&outside).unwrap();
        fs_err::write(outside.join("keep"), b"x").unwrap();
        let link = tmp.path().join("link");
        fs_err::os::unix::fs::symlink(&outside, &link).unwrap();
        remove(&link).unwrap();
        assert!(outside.join("keep").exists());
        assert_eq!(kind(&link).unwrap(), Kind::Missing);
        remove(&link).unwrap();
        remove(&outside).unwrap();
        assert_eq!(kind(&outside).unwrap(), Kind::Missing);
    }
}
