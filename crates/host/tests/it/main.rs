//! Integration tests of dockhand-host.

mod allow;
mod catalog;
mod limits;
mod state;
mod untagged;
mod update;
