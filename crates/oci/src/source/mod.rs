//! Image sources other than registries — a `docker save` tar, an OCI layout
//! directory or tar — imported into the content store, and the resolution of
//! a stored image to one platform's manifest, config and layers. After the
//! source, every path is the same: the store.

mod archive;
mod resolve;

pub use archive::{export_docker_archive, import_archive, import_layout};
pub use resolve::{ResolvedImage, platforms, resolve};

use std::path::PathBuf;

use crate::digest::Digest;
use crate::platform::Platform;
use crate::store::StoreError;

/// Why an image could not be read from a source or the store.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The archive is neither a `docker save` tar nor an OCI layout tar.
    #[error("{0} is not an image archive: expected a `docker save` tar or an OCI layout tar")]
    NotAnArchive(PathBuf),
    /// A file the archive's manifest names is not in it.
    #[error(
        "{archive}: {entry} is named by its manifest but missing: the archive is incomplete; create it again"
    )]
    MissingEntry {
        /// The archive.
        archive: PathBuf,
        /// The entry.
        entry: String,
    },
    /// A document is not valid JSON of the expected shape.
    #[error("{what} is not a valid {kind}: {message}")]
    BadDocument {
        /// Which document (path or digest).
        what: String,
        /// What it should be.
        kind: &'static str,
        /// The parser's message.
        message: String,
    },
    /// No image of this name.
    #[error("{source_name} has no image named {name}: {hint}")]
    NoSuchName {
        /// The source.
        source_name: String,
        /// The name asked for.
        name: String,
        /// What it has.
        hint: String,
    },
    /// The image has no manifest for the platform.
    #[error("{image} has no {wanted} image (it has {available}): it cannot run on this host")]
    NoPlatform {
        /// The image.
        image: String,
        /// The platform asked for.
        wanted: Platform,
        /// What it has.
        available: String,
    },
    /// An index leads to more indexes than allowed, or back to itself.
    #[error("{0}: image indexes nest too deep or loop: refusing it")]
    IndexLoop(Digest),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Reading the source failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// An image document does not serialize.
    #[error(transparent)]
    Document(#[from] crate::image::DocumentError),
}

impl SourceError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }

    /// [`SourceError::BadDocument`]: the document `what` (a path or digest)
    /// is not a valid `kind`.
    pub(crate) fn bad_document(
        what: impl std::fmt::Display,
        kind: &'static str,
    ) -> impl FnOnce(serde_json::Error) -> Self {
        move |e| Self::BadDocument {
            what: what.to_string(),
            kind,
            message: e.to_string(),
        }
    }
}

/// Where an image comes from, as the command line writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageSource {
    /// A registry reference.
    Registry(crate::Reference),
    /// `engine:IMAGE` — an image already in the Docker engine.
    Engine(String),
    /// `oci:DIR[:TAG]` — an OCI layout directory.
    Layout {
        /// The layout directory.
        dir: PathBuf,
        /// The name inside it, when given.
        tag: Option<String>,
    },
    /// `archive:FILE` — a `docker save` tar or an OCI layout tar.
    Archive(PathBuf),
}

impl ImageSource {
    /// Parses `engine:…`, `oci:…`, `archive:…` or a registry reference.
    pub fn parse(s: &str) -> Result<Self, crate::ReferenceError> {
        if let Some(name) = s.strip_prefix("engine:") {
            return Ok(Self::Engine(name.to_owned()));
        }
        if let Some(rest) = s.strip_prefix("oci:") {
            let (dir, tag) = match rest.split_once(':') {
                Some((d, t)) if !t.is_empty() => (d, Some(t.to_owned())),
                Some((d, _)) => (d, None),
                None => (rest, None),
            };
            return Ok(Self::Layout {
                dir: PathBuf::from(dir),
                tag,
            });
        }
        if let Some(path) = s.strip_prefix("archive:") {
            return Ok(Self::Archive(PathBuf::from(path)));
        }
        crate::Reference::parse(s).map(Self::Registry)
    }
}

impl std::fmt::Display for ImageSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Registry(r) => write!(f, "{r}"),
            Self::Engine(n) => write!(f, "engine:{n}"),
            Self::Layout { dir, tag: Some(t) } => write!(f, "oci:{}:{t}", dir.display()),
            Self::Layout { dir, tag: None } => write!(f, "oci:{}", dir.display()),
            Self::Archive(p) => write!(f, "archive:{}", p.display()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        assert_eq!(
            ImageSource::parse("engine:busybox:1").unwrap(),
            ImageSource::Engine("busybox:1".into())
        );
        assert_eq!(
            ImageSource::parse("oci:/tmp/x:acme/ext:1").unwrap(),
            ImageSource::Layout {
                dir: "/tmp/x".into(),
                tag: Some("acme/ext:1".into())
            }
        );
        assert_eq!(
            ImageSource::parse("oci:out").unwrap(),
            ImageSource::Layout {
                dir: "out".into(),
                tag: None
            }
        );
        assert_eq!(
            ImageSource::parse("archive:a.tar").unwrap(),
            ImageSource::Archive("a.tar".into())
        );
        assert!(matches!(
            ImageSource::parse("busybox").unwrap(),
            ImageSource::Registry(_)
        ));
        assert!(ImageSource::parse("Bad Ref").is_err());
    }
}
