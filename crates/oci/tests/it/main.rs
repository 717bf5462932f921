//! Integration tests of dockhand-oci.

mod pull;
mod reference;
mod registry;
mod store;
mod unpack;
