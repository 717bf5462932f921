//! Validation of an extension: its metadata.json, its labels, its compose file
//! and the files metadata.json names, against the rules of the format.
//!
//! Validation is pure: the caller hands in the bytes it read and a view of the
//! image's files ([`ImageFiles`]); a directory, an unpacked image and a test
//! fixture all look the same from here.

mod compose;
mod files;
mod labels;
mod metadata;

use semver::Version;

use crate::compose::ComposeFacts;
use crate::diagnostics::{Diagnostic, Severity};
use crate::labels::Labels;
use crate::metadata::Metadata;
pub use compose::{ComposeInput, compose_file_path};

/// What is at a path of the image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// A regular file (or a symlink to one inside the root).
    File,
    /// A directory (or a symlink to one inside the root).
    Dir,
    /// Nothing.
    Missing,
    /// A symlink whose target leaves the image root.
    EscapingSymlink,
}

/// A read-only view of the image's files, by path relative to its root
/// (no leading `/`, already free of `..`).
pub trait ImageFiles {
    /// What is at `path`.
    fn kind(&self, path: &str) -> FileKind;
    /// The contents of the file at `path`; `Ok(None)` when it does not exist.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String>;
}

/// Which file checks to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FileChecks {
    /// Every file metadata.json names must be there.
    All,
    /// As `All`, unless none of them is there (a folder holding only
    /// metadata.json and labels): then say so once and skip them.
    #[default]
    Auto,
    /// Check no file except the compose file (when it can be read).
    None,
}

/// The labels to check, as found next to the metadata.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LabelsInput {
    /// No labels were found (a bare metadata.json).
    #[default]
    Absent,
    /// A label source exists but cannot be read; the message says why.
    Unreadable {
        /// Where the labels were looked for.
        source: String,
        /// Why they cannot be read.
        message: String,
    },
    /// Labels, with what their source tells about them.
    Found {
        /// The labels.
        labels: Labels,
        /// Keys set more than once (Dockerfile).
        duplicates: Vec<String>,
        /// `(label, variable)` pairs where a variable had no value (Dockerfile).
        unset_variables: Vec<(String, String)>,
    },
}

impl LabelsInput {
    /// Labels known to be complete as given (an image config, labels.json).
    pub fn from_labels(labels: Labels) -> Self {
        Self::Found {
            labels,
            duplicates: Vec::new(),
            unset_variables: Vec::new(),
        }
    }
}

/// Options for [`validate`].
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    /// The API version to check `api.version` against (0.4.2 by default).
    pub api_version: Version,
    /// Which file checks to make.
    pub file_checks: FileChecks,
    /// How the compose file is read: the interpolation environment, and
    /// what `compose config` said about it, when it ran.
    pub compose: ComposeInput,
}

impl Default for ValidateOptions {
    fn default() -> Self {
        Self {
            api_version: crate::implemented_api_version(),
            file_checks: FileChecks::Auto,
            compose: ComposeInput::default(),
        }
    }
}

/// What validation found.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Findings, grouped: metadata.json, labels, compose file, files.
    pub diagnostics: Vec<Diagnostic>,
    /// The metadata, when it parsed.
    pub metadata: Option<Metadata>,
    /// The compose facts, when there is a compose file and it parsed.
    pub compose: Option<ComposeFacts>,
}

impl Report {
    /// True when no finding is an error.
    pub fn is_valid(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count()
    }
}

/// Validates an extension from its metadata.json bytes, its labels and a view
/// of its files.
pub fn validate(
    metadata_bytes: &[u8],
    labels: &LabelsInput,
    files: &dyn ImageFiles,
    options: &ValidateOptions,
) -> Report {
    let mut report = Report::default();
    let mut out = Vec::new();
    let meta = metadata::check(metadata_bytes, &mut out);
    labels::check(labels, &options.api_version, &mut out);
    if let Some(meta) = &meta {
        report.compose = compose::check(meta, files, &options.compose, &mut out);
        files::check(meta, files, options.file_checks, &mut out);
    }
    report.metadata = meta;
    // Stable order: by group as listed in `Location`, then as found.
    out.sort_by_key(|d| group_rank(&d.location));
    report.diagnostics = out;
    report
}

fn group_rank(l: &crate::diagnostics::Location) -> u8 {
    use crate::diagnostics::Location;
    match l {
        Location::Metadata(_) => 0,
        Location::Label(_) => 1,
        Location::Compose(_) => 2,
        Location::File(_) => 3,
    }
}

/// A path of the image as metadata.json writes it (`/ui`, `ui/`, `./x`),
/// made relative to the root; `None` when `..` would leave the root.
pub fn image_path(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_paths_stay_inside_the_root() {
        for (path, inside) in [
            ("/ui/", Some("ui")),
            ("./a/../b", Some("b")),
            ("/", Some("")),
            ("../etc/passwd", None),
            ("/a/../../b", None),
        ] {
            assert_eq!(image_path(path).as_deref(), inside, "{path}");
        }
    }
}
