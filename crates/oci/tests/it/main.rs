//! Integration tests of dockhand-oci.

mod build;
mod pull;
mod reference;
mod registry;
mod store;
mod unpack;
