//! The repository the tests run in and what `scripts/build-examples` builds
//! there.

use std::path::PathBuf;
use std::process::Command;

/// The repository root (two levels above this crate).
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The example backend's static binary
/// (`examples/backend-image/dist/backend`), built with
/// `scripts/build-examples` when it is missing.
pub fn example_backend() -> PathBuf {
    let bin = repo_root().join("examples/backend-image/dist/backend");
    if !bin.is_file() {
        let status = Command::new(repo_root().join("scripts/build-examples"))
            .status()
            .expect("scripts/build-examples runs");
        assert!(status.success(), "scripts/build-examples failed");
    }
    bin
}
