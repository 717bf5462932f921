//! dockhand-host: the extension manager.
//!
//! This crate owns getting an extension image from wherever it is — a
//! registry, the Docker engine, an OCI layout or an archive — into the
//! content store ([`fetch`]), and, as the lifecycle arrives, the install /
//! update / uninstall transactions and their state.

pub mod consent;
pub mod fetch;
pub mod layout;
pub mod socket_dir;
