//! Why an unpack or a lookup failed.

use std::fmt;
use std::io;

use super::safety::{LinkProblem, PathProblem};
use super::selection::SelectionError;
use crate::Digest;

/// Where in a layer's tar stream something went wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum At {
    /// Before the first entry.
    Start,
    /// While handling this entry (its name as the layer wrote it).
    Entry(String),
    /// After this entry, before the next one was read.
    After(String),
}

impl fmt::Display for At {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            At::Start => f.write_str("at its start"),
            At::Entry(e) => write!(f, "entry `{e}`"),
            At::After(e) => write!(f, "after entry `{e}`"),
        }
    }
}

/// Why unpacking layers (or a top-down lookup) failed.
///
/// Every error that comes from a layer names the layer's digest and the
/// entry. Any error means the image is refused: the caller deletes the
/// staging directory.
#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    /// A selection or lookup path is not a usable image path.
    #[error(transparent)]
    Selection(#[from] SelectionError),

    /// The layer's media type is not a tar layer.
    #[error(
        "layer {layer}: media type `{media_type}` is not a layer dockhand can unpack: expected an OCI or Docker tar layer (plain, gzip or zstd)"
    )]
    UnsupportedMediaType {
        /// The layer.
        layer: Digest,
        /// Its media type.
        media_type: String,
    },

    /// The blob is compressed with a format dockhand does not read.
    #[error(
        "layer {layer}: the blob is compressed with {format}, which dockhand does not read: publish the image with gzip or zstd layers"
    )]
    UnsupportedCompression {
        /// The layer.
        layer: Digest,
        /// `bzip2` or `xz`.
        format: &'static str,
    },

    /// The blob could not be opened or read from the store.
    #[error("layer {layer}: cannot read the blob from the store: {source}")]
    Open {
        /// The layer.
        layer: Digest,
        /// The I/O error (names the file).
        source: io::Error,
    },

    /// The layer is not a readable tar stream (corrupt tar or compression).
    #[error("layer {layer}: {at}: the layer is not a readable tar stream: {source}")]
    Read {
        /// The layer.
        layer: Digest,
        /// Where.
        at: At,
        /// What the decompressor or tar reader said.
        source: io::Error,
    },

    /// An entry name is absolute, has a `..` component, or (when selected)
    /// is not UTF-8.
    #[error("layer {layer}: entry `{entry}`: {problem}, refusing the image")]
    UnsafePath {
        /// The layer.
        layer: Digest,
        /// The entry name as the layer wrote it.
        entry: String,
        /// What is wrong.
        problem: PathProblem,
    },

    /// A selected symlink's target climbs above the image root, or is empty
    /// or not UTF-8.
    #[error("layer {layer}: symlink `{entry}` -> `{target}`: {problem}, refusing the image")]
    UnsafeSymlink {
        /// The layer.
        layer: Digest,
        /// The symlink.
        entry: String,
        /// Its target as the layer wrote it.
        target: String,
        /// What is wrong.
        problem: LinkProblem,
    },

    /// A hardlink's target is not an image path (absolute, `..`).
    #[error("layer {layer}: hardlink `{entry}` -> `{target}`: {problem}, refusing the image")]
    UnsafeHardlink {
        /// The layer.
        layer: Digest,
        /// The hardlink.
        entry: String,
        /// Its target as the layer wrote it.
        target: String,
        /// What is wrong.
        problem: PathProblem,
    },

    /// A selected hardlink's target has not been extracted as a regular
    /// file (outside the selection, later in the layer, or not a file).
    #[error(
        "layer {layer}: hardlink `{entry}` -> `{target}`: the target is not an extracted regular file (it is outside the selection, comes later in the layer, or is not a file): select the target too"
    )]
    HardlinkTargetMissing {
        /// The layer.
        layer: Digest,
        /// The hardlink.
        entry: String,
        /// Its normalized target.
        target: String,
    },

    /// A write (or removal) would go through a symlink already in staging.
    #[error(
        "layer {layer}: entry `{entry}`: its parent `{link}` is a symlink, refusing to write through it"
    )]
    ThroughSymlink {
        /// The layer.
        layer: Digest,
        /// The entry.
        entry: String,
        /// The symlink on the way (an image path).
        link: String,
    },

    /// A parent of the entry is a file in staging.
    #[error("layer {layer}: entry `{entry}`: its parent `{parent}` is not a directory")]
    ParentNotDirectory {
        /// The layer.
        layer: Digest,
        /// The entry.
        entry: String,
        /// The parent that is not a directory (an image path).
        parent: String,
    },

    /// A file is over its size limit.
    #[error(
        "layer {layer}: entry `{entry}` is {size} bytes, over the {limit}-byte limit for {what}"
    )]
    FileTooLarge {
        /// The layer.
        layer: Digest,
        /// The entry.
        entry: String,
        /// Its size (as declared, or as far as it was read).
        size: u64,
        /// The limit.
        limit: u64,
        /// Which limit: `a single file`, `metadata.json`, `this lookup`.
        what: &'static str,
    },

    /// Writing the entry would bring all files written past the total limit.
    #[error(
        "layer {layer}: entry `{entry}`: writing it brings the files written to {total} bytes, over the {limit}-byte limit for all files together, refusing the image"
    )]
    FilesTooLarge {
        /// The layer.
        layer: Digest,
        /// The entry.
        entry: String,
        /// Bytes written so far plus this entry's size.
        total: u64,
        /// The limit ([`super::Limits::max_total_bytes`]).
        limit: u64,
    },

    /// The layer's expanded tar stream passed the per-layer limit.
    #[error(
        "layer {layer}: {at}: the layer expands past the {limit}-byte limit for one layer, refusing the image"
    )]
    LayerTooLarge {
        /// The layer.
        layer: Digest,
        /// Where the limit was reached.
        at: At,
        /// The limit.
        limit: u64,
    },

    /// The layers' expanded tar streams together passed the total limit.
    #[error(
        "layer {layer}: {at}: the image expands past the {limit}-byte limit for all layers together, refusing the image"
    )]
    TotalTooLarge {
        /// The layer being read.
        layer: Digest,
        /// Where the limit was reached.
        at: At,
        /// The total limit.
        limit: u64,
    },

    /// The layer has more entries than the limit.
    #[error(
        "layer {layer}: entry `{entry}`: the layer has more than {limit} entries, refusing the image"
    )]
    TooManyEntries {
        /// The layer.
        layer: Digest,
        /// The first entry over the limit.
        entry: String,
        /// The limit.
        limit: u64,
    },

    /// A lookup found the path, but not as a regular file.
    #[error("layer {layer}: entry `{entry}` is a {kind}, expected a regular file")]
    NotRegularFile {
        /// The layer.
        layer: Digest,
        /// The entry.
        entry: String,
        /// `directory`, `symlink`, `hardlink` or `special file`.
        kind: &'static str,
    },

    /// Writing to the staging directory failed.
    #[error("layer {layer}: entry `{entry}`: cannot write it to the staging directory: {source}")]
    Write {
        /// The layer.
        layer: Digest,
        /// The entry.
        entry: String,
        /// The I/O error (names the file).
        source: io::Error,
    },
}
