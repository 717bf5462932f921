//! Integration tests of dockhand-oci.
