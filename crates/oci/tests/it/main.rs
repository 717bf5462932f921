//! Integration tests of dockhand-oci.

mod store;
