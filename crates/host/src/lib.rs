//! dockhand-host: the extension manager.
//!
//! This crate owns getting an extension image from wherever it is — a
//! registry, the Docker engine, an OCI layout or an archive — into the
//! content store ([`fetch`]), the state of what is installed and the journal
//! that makes install / update / uninstall recoverable ([`state`]), and, as
//! the lifecycle arrives, those transactions themselves.

pub mod fetch;
pub mod state;
