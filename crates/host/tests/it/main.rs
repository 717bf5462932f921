//! Integration tests of dockhand-host.

mod allow;
mod catalog;
mod fake_registry;
mod state;
mod untagged;
mod update;
