//! Integration tests of dockhand-host.
