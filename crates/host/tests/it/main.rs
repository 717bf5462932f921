//! Integration tests of dockhand-host.

mod allow;
mod catalog;
mod limits;
mod state;
mod support;
mod untagged;
mod update;
