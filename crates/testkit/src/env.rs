//! Whether the real components a test needs are here, and what to do when
//! they are not: skip with a printed reason, or fail when
//! `DOCKHAND_REQUIRE_ENV=1` (set by `scripts/test`) makes every test
//! mandatory.

use std::path::Path;
use std::process::{Command, Stdio};

/// True when `scripts/test` asked for every real-component test to run.
pub fn required() -> bool {
    std::env::var("DOCKHAND_REQUIRE_ENV").is_ok_and(|v| v == "1")
}

/// Says that `test` skipped and why, or fails it when skipping is not allowed.
pub fn skip(test: &str, why: &str) {
    assert!(
        !required(),
        "{test}: {why}, and DOCKHAND_REQUIRE_ENV=1 makes this test mandatory (run scripts/deps first)"
    );
    eprintln!("SKIPPED {test}: {why} (scripts/test runs it)");
}

/// The variable `name` when it is set and not empty.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

/// The variable `name`, or `None` after [`skip`]ping with `why`.
pub fn require_var(test: &str, name: &str, why: &str) -> Option<String> {
    let found = var(name);
    if found.is_none() {
        skip(test, why);
    }
    found
}

/// True when `program --version` runs and succeeds; otherwise [`skip`]s with
/// `why` and gives false.
pub fn require_program(test: &str, program: &str, why: &str) -> bool {
    let ok = Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        skip(test, why);
    }
    ok
}

/// True when every one of `paths` is a file; otherwise [`skip`]s naming the
/// first missing one with `why` after it.
pub fn require_files(test: &str, paths: &[&Path], why: &str) -> bool {
    match paths.iter().find(|p| !p.is_file()) {
        Some(missing) => {
            skip(test, &format!("{} is missing ({why})", missing.display()));
            false
        }
        None => true,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_variable_is_unset() {
        assert_eq!(var("DOCKHAND_TESTKIT_SURELY_UNSET_VARIABLE"), None);
    }

    #[test]
    fn a_missing_program_is_not_found() {
        if required() {
            return; // skipping would fail the test, which is the point elsewhere
        }
        assert!(!require_program(
            "a_missing_program_is_not_found",
            "dockhand-testkit-no-such-program",
            "it does not exist"
        ));
    }
}
