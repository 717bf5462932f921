//! Integration tests of dockhand-oci.

mod reference;
mod store;
mod unpack;
