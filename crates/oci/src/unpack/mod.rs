//! Safe unpacking of the files the host needs from image layers.
//!
//! An extension image is untrusted input, and this module is the boundary.
//! [`unpack_layers`] applies layers bottom → top to an empty staging
//! directory, writing only the [`Selection`] (metadata.json, the icon, the
//! UI root, this OS's host binaries, the compose file) with OCI overlay
//! semantics; [`find_file_top_down`] reads one file (metadata.json for
//! `inspect`) from the fewest layers.
//!
//! # What is refused, skipped or changed
//!
//! Any refusal is an [`UnpackError`] naming the layer digest and the entry;
//! the caller deletes the staging directory. Nothing is ever written outside
//! staging, not even for a refused image.
//!
//! - **Entry names**: `./x`, `x` and `x/` are the same path. An absolute
//!   name (`/etc/x`) or any `..` component is refused, in every entry,
//!   selected or not. A selected name that is not UTF-8 is refused.
//! - **Symlinks** (selected): the target is resolved lexically against the
//!   link's directory; an absolute target is taken relative to the *image*
//!   root (`/` of the image, never the host's), with `..` at the root
//!   staying there as in a chroot. A relative target that climbs above the
//!   root is refused. The link is written with a canonical relative target
//!   (`../` steps that stay inside, then plain names), so `ui/a -> /etc/x`
//!   becomes `ui/a -> ../etc/x`. A selected symlink is written as a
//!   symlink; what it points to is written only if it is selected too.
//! - **Never through a symlink**: each parent of a destination is checked
//!   with `symlink_metadata` and created one level at a time; a parent that
//!   is a symlink (`ui -> /etc` in one layer, `ui/passwd` in the next) is
//!   refused, a parent that is a file too. Files are created with
//!   `O_CREAT|O_EXCL` after removing what was there, so an existing link is
//!   never opened. Canonical targets plus real parent directories mean that
//!   following any symlink in staging stays in staging.
//! - **Hardlinks** are written as copies of their target, which must
//!   already be a regular file in staging: extracted earlier in the same
//!   layer or by a lower layer, inside the selection. Otherwise (target not
//!   selected, later in the layer, a directory or symlink) the image is
//!   refused with [`UnpackError::HardlinkTargetMissing`], which says to
//!   select the target. An absolute or `..` target is refused in every entry.
//! - **Devices, fifos, sockets** and unknown entry types are skipped and
//!   counted in [`UnpackReport::skipped_special`].
//! - **Permissions**: files get `mode & 0o644 | 0o400` (never executable),
//!   directories
//!   `mode & 0o755 | 0o700`: setuid, setgid and sticky bits are stripped
//!   (counted in [`UnpackReport::stripped_setid`]), group and other never get
//!   write, the owner can always read files and read, enter and write
//!   directories (so staging can be served and deleted). Ownership and
//!   extended attributes are not restored; file modification times are.
//! - **Limits**: see [`Limits`]. Expanded bytes are counted at the
//!   decompressor's output, so a decompression bomb stops at the limit.
//!
//! # Overlay semantics
//!
//! A later layer's entry replaces an earlier one (a directory by a file and
//! vice versa; a directory over a directory merges). `.wh.<name>` deletes
//! `<name>` from lower layers and `.wh..wh..opq` hides what lower layers put
//! in its directory; neither touches entries of its own layer. Other
//! `.wh.`-prefixed names (AUFS metadata) are ignored and never written. A
//! non-directory that replaces a parent of a selected path (say `ui` becomes
//! a file) removes what lower layers put beneath it.
//!
//! # Compression
//!
//! The media type must be an OCI or Docker tar layer ([`Compression::from_media_type`]);
//! the compression is then taken from the magic bytes (gzip `1f 8b`, zstd
//! `28 b5 2f fd`, else plain tar), which win over the media type when they
//! disagree, as in docker.
//!
//! # Known limits
//!
//! A GNU long-name or PAX header is read into memory by the `tar` crate; its
//! size is bounded only by [`Limits::max_layer_bytes`].

mod error;
mod extract;
mod layer;
mod limits;
mod lookup;
mod overlay;
mod safety;
mod selection;
mod staging;

use std::path::{Path, PathBuf};

use crate::Digest;

pub use error::{At, UnpackError};
pub use layer::Compression;
pub use limits::Limits;
pub use lookup::{Lookup, Outcome, find_file_top_down, lookup_top_down};
pub use safety::{LinkProblem, PathProblem};
pub use selection::{Selection, SelectionError};

/// One layer blob in the store, as listed by the image manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayerInput {
    /// The layer's digest (for error messages; the store verified it).
    pub digest: Digest,
    /// The layer's media type from the manifest.
    pub media_type: String,
    /// The blob file in the store.
    pub path: PathBuf,
}

/// What an unpack wrote and skipped. Counts are of entries applied, so a
/// path written by two layers counts twice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnpackReport {
    /// Regular files written (hardlinks, written as copies, included).
    pub files: u64,
    /// Directory entries applied.
    pub dirs: u64,
    /// Symlinks written.
    pub symlinks: u64,
    /// Bytes written to files.
    pub bytes: u64,
    /// Selected devices, fifos, sockets and unknown entry types skipped.
    pub skipped_special: u64,
    /// Selected files and directories whose setuid, setgid or sticky bit was
    /// stripped.
    pub stripped_setid: u64,
    /// Layers read (all of them, when the unpack succeeds).
    pub layers_read: usize,
}

/// Applies `layers` (ordered bottom → top) to `staging`, an existing empty
/// directory (on the same file system as its final place), writing only
/// what `selection` selects.
///
/// See the [module documentation](self) for what is refused, skipped and
/// changed. On error, staging holds a partial result the caller must
/// delete; nothing was written outside it.
pub fn unpack_layers(
    layers: &[LayerInput],
    selection: &Selection,
    staging: &Path,
    limits: &Limits,
) -> Result<UnpackReport, UnpackError> {
    extract::unpack(layers, selection, staging, limits)
}
