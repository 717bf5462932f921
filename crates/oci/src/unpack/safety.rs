//! Lexical checks on paths from a layer: entry names, symlink targets and
//! hardlink targets, before anything touches the file system.
//!
//! Image paths are handled as normalized strings: `/`-separated, relative to
//! the image root, without empty or `.` components. The empty string is the
//! root itself.

use std::fmt;

/// What is wrong with a path found in a layer (or given as a selection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// The path starts with `/`.
    Absolute,
    /// A `..` component.
    DotDot,
    /// The bytes are not UTF-8.
    NotUtf8,
    /// The path names the image root where a file is needed.
    Empty,
}

impl fmt::Display for PathProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PathProblem::Absolute => "the path is absolute",
            PathProblem::DotDot => "the path has a `..` component",
            PathProblem::NotUtf8 => "the path is not UTF-8",
            PathProblem::Empty => "the path is empty",
        })
    }
}

/// What is wrong with a symlink target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkProblem {
    /// The target is empty.
    Empty,
    /// The target is not UTF-8.
    NotUtf8,
    /// A relative target climbs above the image root.
    Escapes,
}

impl fmt::Display for LinkProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LinkProblem::Empty => "the target is empty",
            LinkProblem::NotUtf8 => "the target is not UTF-8",
            LinkProblem::Escapes => "the target climbs above the image root",
        })
    }
}

/// An entry name from a layer, normalized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EntryPath {
    /// The normalized path; lossy when `utf8` is false.
    pub(crate) path: String,
    /// Whether the name was valid UTF-8.
    pub(crate) utf8: bool,
}

/// Normalizes an entry name: `./x`, `x` and `x/` are the same path.
///
/// Refuses absolute names and any `..` component, even one that would stay
/// inside the root (`a/../b`): no legitimate layer needs them.
pub(crate) fn normalize_entry(raw: &[u8]) -> Result<EntryPath, PathProblem> {
    if raw.first() == Some(&b'/') {
        return Err(PathProblem::Absolute);
    }
    let mut parts: Vec<&[u8]> = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(PathProblem::DotDot),
            other => parts.push(other),
        }
    }
    let joined = parts.join(&b'/');
    Ok(match String::from_utf8(joined) {
        Ok(path) => EntryPath { path, utf8: true },
        Err(e) => EntryPath {
            path: String::from_utf8_lossy(e.as_bytes()).into_owned(),
            utf8: false,
        },
    })
}

/// Normalizes a path given by the caller (a selection or a lookup): a
/// leading `/` is allowed and means the image root, as metadata.json writes
/// `"root": "/ui"`.
pub(crate) fn normalize_image_path(raw: &str) -> Result<String, PathProblem> {
    let relative = raw.trim_start_matches('/');
    normalize_entry(relative.as_bytes()).map(|p| p.path)
}

/// The proper ancestors of a normalized path, shortest first: `a`, `a/b` for
/// `a/b/c`.
pub(crate) fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// The parent of a normalized path (`""` for a top-level name).
pub(crate) fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// Whether `ancestor` is a proper ancestor of `path` (the root is the
/// ancestor of every non-empty path).
pub(crate) fn is_ancestor(ancestor: &str, path: &str) -> bool {
    if ancestor.is_empty() {
        return !path.is_empty();
    }
    path.len() > ancestor.len()
        && path.starts_with(ancestor)
        && path.as_bytes()[ancestor.len()] == b'/'
}

/// Whether `path` is `base` or lies beneath it.
pub(crate) fn is_within(path: &str, base: &str) -> bool {
    path == base || is_ancestor(base, path)
}

/// Turns a symlink target into the form written in staging.
///
/// The target is resolved lexically against the link's directory (a
/// relative target) or the image root (an absolute one: the image root is
/// `/` for the image, never the host's root; `..` at the root stays at the
/// root, as in a chroot). A relative target that climbs above the root is
/// refused. The result is relative to the link's directory and canonical:
/// a run of `..` that never climbs above the root, then plain names (or `.`).
///
/// Together with never writing beneath a symlink, this keeps every symlink
/// in staging inside staging when followed: a `..` in a canonical target
/// only climbs real directories.
pub(crate) fn canonical_symlink_target(link: &str, target: &[u8]) -> Result<String, LinkProblem> {
    if target.is_empty() {
        return Err(LinkProblem::Empty);
    }
    let target = std::str::from_utf8(target).map_err(|_| LinkProblem::NotUtf8)?;
    let base: Vec<&str> = split(parent(link)).collect();
    let absolute = target.starts_with('/');
    let mut resolved: Vec<&str> = if absolute { Vec::new() } else { base.clone() };
    for part in split(target) {
        if part == ".." {
            if resolved.pop().is_none() && !absolute {
                return Err(LinkProblem::Escapes);
            }
        } else {
            resolved.push(part);
        }
    }
    let common = base
        .iter()
        .zip(&resolved)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out: Vec<&str> = vec![".."; base.len() - common];
    out.extend_from_slice(&resolved[common..]);
    if out.is_empty() {
        return Ok(".".to_owned());
    }
    Ok(out.join("/"))
}

/// Resolves a hardlink target: an archive path like an entry name.
pub(crate) fn hardlink_target(raw: &[u8]) -> Result<String, PathProblem> {
    let target = normalize_entry(raw)?;
    if !target.utf8 {
        return Err(PathProblem::NotUtf8);
    }
    if target.path.is_empty() {
        return Err(PathProblem::Empty);
    }
    Ok(target.path)
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.split('/').filter(|p| !p.is_empty() && *p != ".")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(raw: &str) -> Result<String, PathProblem> {
        normalize_entry(raw.as_bytes()).map(|p| p.path)
    }

    #[test]
    fn entry_names_normalize() {
        assert_eq!(norm("./ui/index.html").unwrap(), "ui/index.html");
        assert_eq!(norm("ui//index.html").unwrap(), "ui/index.html");
        assert_eq!(norm("ui/").unwrap(), "ui");
        assert_eq!(norm("./").unwrap(), "");
        assert_eq!(norm(".").unwrap(), "");
        assert_eq!(norm("a/./b").unwrap(), "a/b");
        assert_eq!(norm("..."), Ok("...".to_owned()));
        assert_eq!(norm("..a"), Ok("..a".to_owned()));
    }

    #[test]
    fn hostile_names_refused() {
        assert_eq!(norm("/etc/passwd"), Err(PathProblem::Absolute));
        assert_eq!(norm("../evil"), Err(PathProblem::DotDot));
        assert_eq!(norm("a/../../evil"), Err(PathProblem::DotDot));
        assert_eq!(norm("a/../b"), Err(PathProblem::DotDot));
        assert_eq!(norm("./.."), Err(PathProblem::DotDot));
        assert_eq!(norm("a/.."), Err(PathProblem::DotDot));
    }

    #[test]
    fn non_utf8_is_flagged() {
        let p = normalize_entry(b"ui/\xff.js").unwrap();
        assert!(!p.utf8);
        assert!(p.path.starts_with("ui/"));
    }

    #[test]
    fn image_paths_accept_leading_slash() {
        assert_eq!(normalize_image_path("/ui").unwrap(), "ui");
        assert_eq!(normalize_image_path("//linux/tool").unwrap(), "linux/tool");
        assert_eq!(normalize_image_path("/").unwrap(), "");
        assert_eq!(normalize_image_path("/../x"), Err(PathProblem::DotDot));
    }

    #[test]
    fn ancestry() {
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(ancestors("a").count(), 0);
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
        assert!(is_ancestor("", "a"));
        assert!(!is_ancestor("", ""));
        assert!(is_ancestor("ui", "ui/x"));
        assert!(!is_ancestor("ui", "ui"));
        assert!(!is_ancestor("ui", "uix/y"));
        assert!(is_within("ui", "ui"));
        assert!(is_within("ui/a", "ui"));
        assert!(!is_within("uia", "ui"));
    }

    fn link(l: &str, t: &str) -> Result<String, LinkProblem> {
        canonical_symlink_target(l, t.as_bytes())
    }

    #[test]
    fn symlink_targets_become_canonical_and_relative() {
        assert_eq!(link("ui", "/etc").unwrap(), "etc");
        assert_eq!(link("ui/a/b", "/etc/passwd").unwrap(), "../../etc/passwd");
        assert_eq!(link("ui/a/b", "/ui/x").unwrap(), "../x");
        assert_eq!(link("ui/a", "b").unwrap(), "b");
        assert_eq!(link("ui/a", "./b/../c").unwrap(), "c");
        assert_eq!(link("ui/a", "..").unwrap(), "..");
        assert_eq!(link("ui/a", ".").unwrap(), ".");
        assert_eq!(link("ui/a", "/ui").unwrap(), ".");
        assert_eq!(link("ui/sub/a", "../x").unwrap(), "../x");
        assert_eq!(link("a", "/../../etc").unwrap(), "etc");
        assert_eq!(link("a/b", "/").unwrap(), "..");
    }

    #[test]
    fn escaping_symlinks_refused() {
        assert_eq!(link("ui", "../../.."), Err(LinkProblem::Escapes));
        assert_eq!(link("ui", ".."), Err(LinkProblem::Escapes));
        assert_eq!(link("ui/a", "../../x"), Err(LinkProblem::Escapes));
        assert_eq!(link("a/b", "c/../../../x"), Err(LinkProblem::Escapes));
        assert_eq!(link("a", ""), Err(LinkProblem::Empty));
        assert_eq!(
            canonical_symlink_target("a", b"\xff"),
            Err(LinkProblem::NotUtf8)
        );
    }

    #[test]
    fn hardlink_targets() {
        assert_eq!(hardlink_target(b"./ui/a").unwrap(), "ui/a");
        assert_eq!(hardlink_target(b"/etc/passwd"), Err(PathProblem::Absolute));
        assert_eq!(hardlink_target(b"../x"), Err(PathProblem::DotDot));
        assert_eq!(hardlink_target(b"./"), Err(PathProblem::Empty));
    }
}
