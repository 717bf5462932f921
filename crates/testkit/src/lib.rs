//! Test support shared by every crate's integration tests (a dev-dependency
//! only; never part of the `dockhand` binary).
//!
//! It owns:
//! - [`mod@env`]: the one place that reads the real components' environment
//!   (`DOCKER_HOST`, `DOCKHAND_TEST_REGISTRY`, …) and decides whether a test
//!   that lacks one skips (saying why) or, under `DOCKHAND_REQUIRE_ENV=1` (as
//!   `scripts/test` sets it), fails. Libraries never read env vars; this crate
//!   is the tests' edge, and reading it is its job.
//! - `registry` (feature `registry`): one in-process registry speaking the
//!   distribution API that misbehaves on demand (auth, truncated, endless or
//!   stalled bodies, refused mounts, pagination, canned answers, a manifest
//!   served under another digest).
//! - [`command`]: child processes that must succeed, failing the test with
//!   what ran and both of its outputs.
//! - [`compose`]: compose files that try to hide privileges from the
//!   consent summary.
//! - [`http`]: the small hand-written HTTP/1.1 exchanges tests make over unix
//!   sockets and TCP, and parsing what comes back.
//! - [`elf`]: hand-made ELF headers for a given machine.
//! - [`examples`]: the repository root and the example backend binary
//!   (built by `scripts/build-examples` when missing).
//! - `records` (feature `records`): an installed extension's record, for
//!   tests that put one in the state instead of installing.
//! - `vm` (feature `engine`): the VM engine of `scripts/deps vm` and the
//!   relay binaries relay-mode tests install on it.
//! - `browser` (feature `browser`): Chromium and chromedriver found on the
//!   machine, chromedriver started in its own process group, a WebDriver
//!   session with headless Chromium.

pub mod command;
pub mod compose;
pub mod elf;
pub mod env;
pub mod examples;
pub mod http;

#[cfg(feature = "browser")]
pub mod browser;
#[cfg(feature = "records")]
pub mod records;
#[cfg(feature = "registry")]
pub mod registry;
#[cfg(feature = "engine")]
pub mod vm;
