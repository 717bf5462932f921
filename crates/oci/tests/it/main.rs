//! Integration tests of dockhand-oci.

mod unpack;
