//! OCI whiteouts: `.wh.<name>` deletes `<name>` from the layers below,
//! `.wh..wh..opq` in a directory hides everything the layers below put in
//! that directory. Both apply to lower layers only, never to entries of the
//! same layer, so the unpacker tracks what the current layer wrote.

use std::collections::HashSet;
use std::io;
use std::path::Path;

use super::safety::parent;
use super::staging::remove;

const PREFIX: &str = ".wh.";
const OPAQUE: &str = ".wh..wh..opq";

/// A whiteout entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Whiteout<'a> {
    /// Delete this image path from lower layers.
    Remove(String),
    /// Hide what lower layers put in this directory (`""` is the root).
    Opaque(&'a str),
    /// Any other `.wh.`-prefixed name (AUFS metadata such as `.wh..wh.plnk`,
    /// or a malformed `.wh.`, `.wh..`, `.wh...`): ignored, never written.
    Ignored,
}

/// The whiteout a normalized entry path is, if its name starts with `.wh.`.
pub(crate) fn whiteout(path: &str) -> Option<Whiteout<'_>> {
    let name = path.rsplit('/').next().unwrap_or(path);
    let target = name.strip_prefix(PREFIX)?;
    let dir = parent(path);
    if name == OPAQUE {
        return Some(Whiteout::Opaque(dir));
    }
    if target.is_empty() || target == "." || target == ".." || target.starts_with(PREFIX) {
        return Some(Whiteout::Ignored);
    }
    Some(Whiteout::Remove(if dir.is_empty() {
        target.to_owned()
    } else {
        format!("{dir}/{target}")
    }))
}

/// The image paths the current layer has written (and their ancestors).
#[derive(Debug, Default)]
pub(crate) struct Written(HashSet<String>);

impl Written {
    /// Records `path` and all its ancestors.
    pub(crate) fn insert(&mut self, path: &str) {
        if !self.0.insert(path.to_owned()) {
            return;
        }
        let mut p = path;
        while let Some((up, _)) = p.rsplit_once('/') {
            if !self.0.insert(up.to_owned()) {
                break;
            }
            p = up;
        }
    }

    /// Whether the current layer wrote `path` or something beneath it.
    pub(crate) fn contains(&self, path: &str) -> bool {
        self.0.contains(path)
    }
}

/// Removes from the real directory `full` (image path `dir`) everything the
/// current layer did not write, recursing into directories it did write.
/// Never follows a symlink: `DirEntry::file_type` does not.
pub(crate) fn clear_opaque(full: &Path, dir: &str, written: &Written) -> io::Result<()> {
    for entry in fs_err::read_dir(full)? {
        let entry = entry?;
        let child = match entry.file_name().to_str() {
            Some(name) if dir.is_empty() => name.to_owned(),
            Some(name) => format!("{dir}/{name}"),
            None => {
                remove(&entry.path())?;
                continue;
            }
        };
        if !written.contains(&child) {
            remove(&entry.path())?;
        } else if entry.file_type()?.is_dir() {
            clear_opaque(&entry.path(), &child, written)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_whiteouts() {
        assert_eq!(whiteout("ui/a.js"), None);
        assert_eq!(
            whiteout("ui/.wh.a.js"),
            Some(Whiteout::Remove("ui/a.js".into()))
        );
        assert_eq!(whiteout(".wh.ui"), Some(Whiteout::Remove("ui".into())));
        assert_eq!(whiteout("ui/.wh..wh..opq"), Some(Whiteout::Opaque("ui")));
        assert_eq!(whiteout(".wh..wh..opq"), Some(Whiteout::Opaque("")));
        assert_eq!(whiteout("a/.wh..wh.plnk"), Some(Whiteout::Ignored));
        assert_eq!(whiteout("a/.wh."), Some(Whiteout::Ignored));
        assert_eq!(whiteout("a/.wh.."), Some(Whiteout::Ignored));
        assert_eq!(whiteout("a/.wh..."), Some(Whiteout::Ignored));
        assert_eq!(whiteout("a/x.wh.y"), None);
        assert_eq!(whiteout(".wh.hidden/child"), None);
    }

    #[test]
    fn written_tracks_ancestors() {
        let mut w = Written::default();
        w.insert("a/b/c");
        assert!(w.contains("a"));
        assert!(w.contains("a/b"));
        assert!(w.contains("a/b/c"));
        assert!(!w.contains("a/b/d"));
        w.insert("a/b/d");
        assert!(w.contains("a/b/d"));
    }

    #[test]
    fn opaque_keeps_only_this_layer() {
        let tmp = tempfile::tempdir().unwrap();
        let ui = tmp.path().join("ui");
        fs_err::create_dir_all(ui.join("sub")).unwrap();
        fs_err::create_dir_all(ui.join("old-dir/deep")).unwrap();
        fs_err::write(ui.join("old.js"), b"").unwrap();
        fs_err::write(ui.join("new.js"), b"").unwrap();
        fs_err::write(ui.join("sub/old"), b"").unwrap();
        fs_err::write(ui.join("sub/new"), b"").unwrap();
        let mut w = Written::default();
        w.insert("ui/new.js");
        w.insert("ui/sub/new");
        clear_opaque(&ui, "ui", &w).unwrap();
        let mut left: Vec<_> = walk(tmp.path());
        left.sort();
        assert_eq!(left, ["ui", "ui/new.js", "ui/sub", "ui/sub/new"]);
    }

    fn walk(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_path_buf()];
        while let Some(d) = stack.pop() {
            for e in fs_err::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                out.push(p.strip_prefix(root).unwrap().to_string_lossy().into_owned());
                if p.is_dir() {
                    stack.push(p);
                }
            }
        }
        out
    }
}
