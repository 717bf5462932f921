//! Which image paths an unpack writes.

use std::collections::BTreeSet;

use super::safety::{PathProblem, is_ancestor, is_within, normalize_image_path};

/// Why a path cannot be part of a [`Selection`] or a lookup.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{path}` is not a usable image path: {problem}; write a path relative to the image root such as `ui/` or `/metadata.json`"
)]
pub struct SelectionError {
    /// The path as given.
    pub path: String,
    /// What is wrong with it.
    pub problem: PathProblem,
}

/// The image paths an unpack writes; everything else is skipped without
/// writing a byte.
///
/// Paths are image paths: `/`-separated and relative to the image root. A
/// leading `/` or `./` is accepted and ignored (`/ui`, `./ui` and `ui` are the
/// same path, as metadata.json may write either); `..` is refused.
///
/// - [`Selection::file`] selects exactly one path, such as `metadata.json`,
///   `docker-compose.yaml` or `linux/hello`. Whatever the layers hold at that
///   path (file, symlink, directory) is written; a directory's content is not.
/// - [`Selection::dir`] selects a path and everything beneath it, such as
///   `ui` for the UI root. `dir("/")` (or [`Selection::everything`]) selects
///   the whole image.
/// - [`Selection::add`] takes either form: a trailing `/` (`ui/`) means a
///   directory prefix, anything else an exact file.
///
/// Parent directories of selected paths are created as plain directories
/// when something beneath them is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    files: BTreeSet<String>,
    dirs: BTreeSet<String>,
}

impl Selection {
    /// An empty selection: nothing is written.
    pub fn new() -> Self {
        Self::default()
    }

    /// The whole image.
    pub fn everything() -> Self {
        let mut s = Self::default();
        s.dirs.insert(String::new());
        s
    }

    /// Adds one exact path.
    pub fn file(mut self, path: &str) -> Result<Self, SelectionError> {
        self.add_file(path)?;
        Ok(self)
    }

    /// Adds a path and everything beneath it.
    pub fn dir(mut self, path: &str) -> Result<Self, SelectionError> {
        self.add_dir(path)?;
        Ok(self)
    }

    /// Adds `path`: a directory prefix when it ends with `/`, else one exact
    /// path. On error the selection is unchanged.
    pub fn add(&mut self, path: &str) -> Result<(), SelectionError> {
        if path.ends_with('/') {
            self.add_dir(path)
        } else {
            self.add_file(path)
        }
    }

    fn add_file(&mut self, path: &str) -> Result<(), SelectionError> {
        let normalized = normalize(path)?;
        if normalized.is_empty() {
            return Err(SelectionError {
                path: path.to_owned(),
                problem: PathProblem::Empty,
            });
        }
        self.files.insert(normalized);
        Ok(())
    }

    fn add_dir(&mut self, path: &str) -> Result<(), SelectionError> {
        self.dirs.insert(normalize(path)?);
        Ok(())
    }

    /// True when nothing is selected.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.dirs.is_empty()
    }

    /// Whether the normalized image path is selected.
    pub(crate) fn contains(&self, path: &str) -> bool {
        if path.is_empty() {
            return false;
        }
        self.files.contains(path) || self.dirs.iter().any(|d| is_within(path, d))
    }

    /// Whether the normalized path is a proper ancestor of a selected path,
    /// so that replacing it in a layer hides selected content below it.
    pub(crate) fn is_ancestor_of_selected(&self, path: &str) -> bool {
        self.files
            .iter()
            .chain(&self.dirs)
            .any(|s| is_ancestor(path, s))
    }

    /// Whether the path (normalized, as the caller wrote it) is selected;
    /// false for paths that are not valid image paths.
    pub fn selects(&self, path: &str) -> bool {
        normalize_image_path(path).is_ok_and(|p| self.contains(&p))
    }
}

fn normalize(path: &str) -> Result<String, SelectionError> {
    normalize_image_path(path).map_err(|problem| SelectionError {
        path: path.to_owned(),
        problem,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_and_prefixes() {
        let mut s = Selection::new()
            .file("/metadata.json")
            .unwrap()
            .dir("/ui")
            .unwrap();
        s.add("linux/hello").unwrap();
        s.add("./docs/").unwrap();
        assert!(s.selects("metadata.json"));
        assert!(s.selects("./metadata.json"));
        assert!(!s.selects("metadata.json.bak"));
        assert!(s.selects("ui"));
        assert!(s.selects("ui/index.html"));
        assert!(s.selects("/ui/a/b/c.js"));
        assert!(!s.selects("uix/index.html"));
        assert!(s.selects("linux/hello"));
        assert!(!s.selects("linux/hello/x"));
        assert!(!s.selects("linux"));
        assert!(s.selects("docs/a"));
        assert!(!s.selects(""));
        assert!(!s.selects("../ui/x"));
        assert!(s.is_ancestor_of_selected("linux"));
        assert!(s.is_ancestor_of_selected(""));
        assert!(!s.is_ancestor_of_selected("ui"));
    }

    #[test]
    fn everything_selects_all_but_root() {
        let s = Selection::everything();
        assert!(s.selects("a"));
        assert!(s.selects("a/b"));
        assert!(!s.selects("/"));
        assert!(Selection::new().dir("/").unwrap().selects("x"));
        assert!(Selection::new().is_empty());
    }

    #[test]
    fn bad_paths_refused() {
        assert_eq!(
            Selection::new().file("../x").unwrap_err().problem,
            PathProblem::DotDot
        );
        assert_eq!(
            Selection::new().file("/").unwrap_err().problem,
            PathProblem::Empty
        );
        let mut s = Selection::new().file("a").unwrap();
        assert!(s.add("../b/").is_err());
        assert!(s.add("").is_err());
        assert_eq!(s, Selection::new().file("a").unwrap());
        assert!(s.selects("a"));
        let e = Selection::new().dir("a/../../b").unwrap_err();
        assert_eq!(
            e.to_string(),
            "`a/../../b` is not a usable image path: the path has a `..` component; \
             write a path relative to the image root such as `ui/` or `/metadata.json`"
        );
    }
}
