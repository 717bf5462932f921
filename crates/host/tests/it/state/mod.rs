//! The state layer: `dockhand.db`, the journal and the locks, through the
//! public API only (and, where a test needs a state no API makes, SQLite).

#![allow(clippy::unwrap_used)] // test helpers

mod child;
mod db;
mod extensions;
mod journal;
mod locks;

// The unit tests' helpers (`id`, `temp_state`, `with_sample`, `sample`),
// one definition for both kinds of test.
#[path = "../../../src/state/testing.rs"]
mod testing;

use dockhand_host::state::{BackendRecord, ExtensionRecord, OpId, OpKind, State};

pub(crate) use testing::{begin_install, id, sample, temp_state, with_sample};
