//! dockhand-oci: OCI images as dockhand needs them.
//!
//! This crate owns references, digests and platforms ([`Reference`],
//! [`Digest`], [`Platform`]), the registry client (`registry`), the content
//! store — an OCI image layout on disk (`store`), safe unpacking of the files
//! the host needs from image layers (`unpack`), image sources other than
//! registries (`source`) and daemonless image assembly (`build`).
//!
//! It never reads environment variables or prints: credentials, insecure
//! registries and limits come in as typed options.

pub mod build;
pub mod digest;
pub mod extract;
pub mod image;
pub mod inspect;
pub mod platform;
pub mod pull;
pub mod push;
pub mod reference;
pub mod registry;
pub mod source;
pub mod store;
pub mod unpack;

pub use digest::{Algorithm, Digest, DigestError, Hasher};
pub use platform::{Platform, PlatformError};
pub use reference::{Reference, ReferenceError, is_loopback_host};
