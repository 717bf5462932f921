//! Integration tests of dockhand-host.

mod state;
mod update;
