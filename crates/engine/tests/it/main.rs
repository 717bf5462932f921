//! Integration tests of dockhand-engine against the real engine and compose
//! CLI started by `scripts/deps`; each says SKIPPED without them (and fails
//! instead under `DOCKHAND_REQUIRE_ENV=1`).

mod compose;
mod engine;
mod merge;
mod normalized;
mod relay;
mod remote;
mod resources;
mod support;
