//! Integration tests of dockhand-oci.

mod reference;
mod registry;
mod store;
mod unpack;
