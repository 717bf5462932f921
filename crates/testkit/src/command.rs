//! Child processes a test runs (the docker CLI, skopeo, dockhand itself)
//! that must succeed: a failure fails the test showing what ran and both
//! of its outputs.

use std::process::{Command, Output};

/// Asserts that `out`, a run of `what`, succeeded: the test fails with both
/// outputs otherwise.
pub fn assert_succeeded(what: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `cmd` to its end and asserts that it succeeded; its output.
pub fn output_ok(cmd: &mut Command) -> Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    assert_succeeded(&format!("{cmd:?}"), &out);
    out
}

/// Runs `cmd` to its end and asserts that it succeeded; its standard
/// output as text, trimmed.
pub fn stdout_ok(cmd: &mut Command) -> String {
    let out = output_ok(cmd);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}
