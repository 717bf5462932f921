//! Integration tests of dockhand-host.

mod allow;
mod catalog;
mod fake_registry;
mod limits;
mod state;
mod untagged;
mod update;
