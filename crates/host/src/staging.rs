//! Unpack staging directories: an install unpacks an image into
//! `<extension dir>/.staging-<pid>-<start>` (the process and its start time,
//! as the operation journal records an owner) and renames it into place.
//! A crash leaves one behind; [`remove_stale`] removes those whose process
//! is gone (`Manager::open` runs it) and keeps those of a process still
//! running, whatever it is doing.

use std::path::{Path, PathBuf};

use crate::layout::Layout;
use crate::state::journal::{process_alive, process_start};

/// What a staging directory's name starts with.
const PREFIX: &str = ".staging-";

/// The staging directory of this process under `ext_dir`.
pub fn dir(ext_dir: &Path) -> PathBuf {
    let pid = std::process::id();
    let name = match process_start(pid) {
        Some(start) => format!("{PREFIX}{pid}-{start}"),
        None => format!("{PREFIX}{pid}"),
    };
    ext_dir.join(name)
}

/// The owner (pid, start time when named) of a staging directory name.
fn owner(name: &str) -> Option<(u32, Option<u64>)> {
    let rest = name.strip_prefix(PREFIX)?;
    match rest.split_once('-') {
        Some((pid, start)) => Some((pid.parse().ok()?, Some(start.parse().ok()?))),
        None => Some((rest.parse().ok()?, None)),
    }
}

/// Removes the staging directories under every extension directory whose
/// process no longer runs; the paths removed. Errors are skipped: a
/// directory that cannot be read or removed now is tried again next time.
pub fn remove_stale(layout: &Layout) -> Vec<PathBuf> {
    let mut removed = Vec::new();
    let Ok(extensions) = fs_err::read_dir(layout.extensions()) else {
        return removed;
    };
    for ext in extensions.flatten() {
        let Ok(inner) = fs_err::read_dir(ext.path()) else {
            continue;
        };
        for entry in inner.flatten() {
            let name = entry.file_name();
            let Some((pid, start)) = name.to_str().and_then(owner) else {
                continue;
            };
            // Never follow a symlink planted in its place.
            let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
            if !is_dir || process_alive(pid, start) {
                continue;
            }
            if fs_err::remove_dir_all(entry.path()).is_ok() {
                removed.push(entry.path());
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_owner() {
        assert_eq!(owner(".staging-42-1234"), Some((42, Some(1234))));
        assert_eq!(owner(".staging-42"), Some((42, None)));
        assert_eq!(owner(".staging-x"), None);
        assert_eq!(owner("sha256-abc"), None);
        let mine = dir(Path::new("/e"));
        let name = mine.file_name().unwrap().to_str().unwrap();
        let (pid, start) = owner(name).unwrap();
        assert_eq!(pid, std::process::id());
        assert!(process_alive(pid, start));
    }
}
