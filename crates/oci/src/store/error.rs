//! Why a store operation failed.

use std::io;
use std::path::PathBuf;

use crate::Digest;

/// Why a store operation failed. Every variant names the file or digest it is
/// about; the underlying I/O or JSON error, if any, is its `source()`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file system operation failed.
    #[error(
        "cannot {action} {path} (check that the store directory is writable and the disk is not full)"
    )]
    Io {
        /// What was being done (`create`, `read`, `rename … to`, …).
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// The directory exists, holds other files and has no `oci-layout`.
    #[error(
        "{path} is not an OCI image layout (it has no oci-layout file but holds other files): choose an empty or new directory for the store"
    )]
    NotALayout {
        /// The store directory.
        path: PathBuf,
    },
    /// `oci-layout` is unreadable or names a version other than 1.0.0.
    #[error(
        "{path} does not declare imageLayoutVersion 1.0.0 (found {found}): this store was written by another tool or is damaged; move it aside and let dockhand create a new one"
    )]
    LayoutVersion {
        /// The `oci-layout` file.
        path: PathBuf,
        /// What the file holds instead (a version, or why it is unreadable).
        found: String,
    },
    /// `index.json` is missing although `oci-layout` exists.
    #[error(
        "{path} is missing: the store is damaged; move the store directory aside and let dockhand create a new one"
    )]
    MissingIndex {
        /// The `index.json` path.
        path: PathBuf,
    },
    /// `index.json` is not a valid OCI image index.
    #[error(
        "{path} is not a valid OCI image index: repair it by hand, or move the store directory aside and let dockhand create a new one"
    )]
    CorruptIndex {
        /// The `index.json` path.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// A blob the caller asked for is not in the store.
    #[error("blob {digest} is not in the store (no file at {path}): fetch it again")]
    BlobMissing {
        /// The blob.
        digest: Digest,
        /// Where it would be.
        path: PathBuf,
    },
    /// A blob is larger than the caller allows.
    #[error(
        "blob {digest} is {size} bytes, more than the {max} bytes allowed here: the image is not what dockhand expects"
    )]
    BlobTooLarge {
        /// The blob.
        digest: Digest,
        /// Its size on disk.
        size: u64,
        /// The caller's limit.
        max: u64,
    },
    /// More bytes arrived than the descriptor announced; nothing was stored.
    #[error(
        "blob {digest} is longer than the {expected} bytes its descriptor announces: the source is corrupt or malicious; nothing was stored"
    )]
    BlobTooLong {
        /// The expected blob.
        digest: Digest,
        /// The announced size.
        expected: u64,
    },
    /// Fewer bytes arrived than the descriptor announced; nothing was stored.
    #[error(
        "blob {digest} has {actual} bytes but its descriptor announces {expected}: the download was cut short or the source is corrupt; nothing was stored, try again"
    )]
    SizeMismatch {
        /// The expected blob.
        digest: Digest,
        /// The announced size.
        expected: u64,
        /// The bytes received.
        actual: u64,
    },
    /// The content does not hash to the expected digest; nothing was stored.
    #[error(
        "content expected to be {expected} hashes to {actual}: the source is corrupt or was tampered with; nothing was stored"
    )]
    DigestMismatch {
        /// The digest the content should have.
        expected: Digest,
        /// The digest it has.
        actual: Digest,
    },
    /// A blob already in the store no longer matches its digest.
    #[error(
        "blob file {path} does not match its name (it hashes to {actual}): the store is damaged; delete the file and fetch the image again"
    )]
    CorruptBlob {
        /// The blob file.
        path: PathBuf,
        /// What it hashes to.
        actual: Digest,
    },
    /// Reading the caller's stream failed while writing a blob.
    #[error("reading the content of blob {digest} failed; nothing was stored, try again")]
    Source {
        /// The blob being written.
        digest: Digest,
        /// The reader's error.
        #[source]
        source: io::Error,
    },
    /// A blob that existed when writing began was removed before the commit.
    #[error(
        "blob {digest} was removed while it was being written (by a concurrent garbage collection?): try again"
    )]
    BlobVanished {
        /// The blob.
        digest: Digest,
    },
    /// A name cannot be stored in `index.json`.
    #[error("`{name}` cannot name an image in the store: {why}")]
    InvalidName {
        /// The name.
        name: String,
        /// Why, and what to use instead.
        why: &'static str,
    },
    /// A descriptor's size does not match the blob in the store.
    #[error(
        "descriptor of {digest} says {expected} bytes but the stored blob has {actual}: build the descriptor from the stored blob"
    )]
    DescriptorSize {
        /// The blob.
        digest: Digest,
        /// The descriptor's size.
        expected: u64,
        /// The stored blob's size.
        actual: u64,
    },
    /// A manifest or index reachable from `index.json` cannot be parsed, so
    /// garbage collection cannot tell what it references and stops.
    #[error(
        "{path} is not a valid {media_type} (referenced from index.json), so garbage collection cannot tell what it needs and removed nothing: untag the image that references {digest}, or delete the file"
    )]
    CorruptManifest {
        /// The manifest's digest.
        digest: Digest,
        /// Its media type.
        media_type: String,
        /// The blob file.
        path: PathBuf,
        /// What is wrong with it.
        #[source]
        source: serde_json::Error,
    },
    /// Indexes nest deeper than any real image does.
    #[error(
        "{digest} is nested more than {max} indexes deep below index.json, so garbage collection removed nothing: untag the image that references it"
    )]
    TooDeep {
        /// The manifest or index found too deep.
        digest: Digest,
        /// The depth limit.
        max: usize,
    },
}

impl StoreError {
    /// An [`StoreError::Io`] for `action` on `path`.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// Adds the action and path to an `io::Result`.
pub(crate) trait IoContext<T> {
    /// Maps the error to [`StoreError::Io`].
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T, StoreError>;
}

impl<T> IoContext<T> for io::Result<T> {
    fn ctx(self, action: &'static str, path: &std::path::Path) -> Result<T, StoreError> {
        self.map_err(|e| StoreError::io(action, path, e))
    }
}
