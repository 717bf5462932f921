//! Integration tests of dockhand-server.
