//! Integration tests of dockhand-host.

mod state;
