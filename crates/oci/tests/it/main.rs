//! Integration tests of dockhand-oci.
mod registry;
