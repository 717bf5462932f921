//! The content store: an OCI image layout on disk.
//!
//! dockhand keeps every image it fetched in one directory
//! (`$DOCKHAND_HOME/store`) that other OCI tools can read:
//!
//! ```text
//! store/
//!   oci-layout         {"imageLayoutVersion":"1.0.0"}
//!   index.json         an OCI image index: the named images
//!   blobs/sha256/<hex> manifests, indexes, configs, layers (sha512 too)
//!   ingest/            temp files of blobs and index.json being written
//!   dockhand.lock      the lock serialising index.json updates and gc
//! ```
//!
//! # API
//!
//! - [`Store::open`] creates the layout in a missing or empty directory and
//!   checks `oci-layout` and `index.json` of an existing one.
//! - Reading blobs: [`Store::has_blob`], [`Store::blob_path`],
//!   [`Store::blob_size`], [`Store::read_blob`] (with a size limit),
//!   [`Store::open_blob`], [`Store::verify_blob`].
//! - Writing blobs: [`Store::put_bytes`], [`Store::write_blob`] from a
//!   reader, and for downloads [`Store::begin_blob`] →
//!   [`BlobWriter::write`]… → [`BlobWriter::commit`].
//! - Names: [`Store::tag`], [`Store::resolve`], [`Store::untag`],
//!   [`Store::names`], [`Store::index_descriptors`].
//! - [`Store::gc`] removes what no name (or extra root) reaches.
//!
//! All of it is blocking file I/O; async callers run it on a blocking thread.
//!
//! # Guarantees
//!
//! A blob's final name only ever holds verified content: bytes are written to
//! a temp file in `ingest/`, hashed as they arrive, refused as soon as they
//! exceed the announced size, and at commit checked against size and digest,
//! fsynced, renamed atomically into `blobs/<alg>/<hex>` and the directory
//! fsynced. A dropped writer removes its temp file; a killed process leaves
//! only a temp file, which [`Store::gc`] removes (a live writer holds a lock
//! on its temp file, so gc can tell the two apart). Two processes writing the
//! same blob both succeed: each renames identical content into place.
//!
//! `index.json` is updated read-modify-write under an exclusive lock on
//! `dockhand.lock` and replaced by a rename, so readers need no lock; fields
//! and annotations dockhand does not model are kept.
//!
//! # Names
//!
//! A name is stored in the `org.opencontainers.image.ref.name` annotation
//! ([`REF_NAME`]). skopeo (checked with 1.9.3) addresses any name fitting the
//! image-spec grammar for that annotation, which includes full references
//! such as `127.0.0.1:5000/acme/ext:1.0.0` and `acme/ext@sha256:…`:
//! `skopeo inspect oci:STORE:127.0.0.1:5000/acme/ext:1.0.0` works, since
//! skopeo splits the path from the name at the first `:`. A name outside that
//! grammar (`a__b/c:1`, a tag starting with `_`, both valid Docker
//! references) gets the ref name `dockhand-<32 hex digits>` instead and is
//! kept whole in [`DOCKHAND_REF`]; [`oci_ref_name`] tells which ref name a
//! name gets.

mod blob;
mod error;
mod gc;
mod index;
mod index_file;
mod layout;

pub use blob::BlobWriter;
pub use error::StoreError;
pub use gc::{GcReport, MANIFEST_MAX_BYTES, MAX_DEPTH};
pub use index::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKHAND_REF, Descriptor, OCI_INDEX, OCI_MANIFEST,
    REF_NAME, oci_ref_name,
};
pub use layout::{LAYOUT_VERSION, Store};
