//! A second process for the cross-process tests: this test binary run again
//! with `DOCKHAND_TEST_CHILD` set, running only the ignored test
//! `state::child::child`, which does what the variable says and waits.

#![allow(clippy::unwrap_used)] // test helpers

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use dockhand_host::state::{ExtensionLock, OpKind, State};

use super::id;

/// What the child prints once it holds what it was asked to take.
const READY: &str = "CHILD-READY";

/// The extension the child works on.
pub(crate) const EXTENSION: &str = "acme/child-ext";

/// Starts the child doing `action` (`begin` or `lock`) in `home` and
/// returns once it is ready; it then waits until its stdin closes.
pub(crate) fn start(action: &str, home: &Path) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "state::child::child",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("DOCKHAND_TEST_CHILD", action)
        .env("DOCKHAND_TEST_HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    loop {
        match lines.next() {
            Some(Ok(line)) if line.contains(READY) => break,
            Some(Ok(_)) => continue,
            other => panic!("the child ended before it was ready: {other:?}"),
        }
    }
    child
}

/// Lets the child leave on its own (it exits without cleaning up).
pub(crate) fn release(mut child: Child) {
    drop(child.stdin.take());
    assert!(child.wait().unwrap().success());
}

/// Kills the child, as a crash would.
pub(crate) fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
#[ignore = "the second process of the cross-process tests; does nothing by itself"]
fn child() {
    let Ok(action) = std::env::var("DOCKHAND_TEST_CHILD") else {
        return;
    };
    let home = PathBuf::from(std::env::var_os("DOCKHAND_TEST_HOME").unwrap());
    let ext = id(EXTENSION);
    // Held until the process ends.
    let mut held = None;
    let state = State::open(&home).unwrap();
    match action.as_str() {
        "begin" => {
            let op = state
                .begin(&ext, OpKind::Install, serde_json::json!({"from": "child"}))
                .unwrap();
            state
                .step(op, "stage", serde_json::json!({"dir": "staging/x"}))
                .unwrap();
        }
        "lock" => held = Some(ExtensionLock::acquire(&home, &ext).unwrap()),
        other => panic!("unknown child action {other}"),
    }
    println!("{READY}");
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    // Leave as a crash would: no destructors, no finish.
    std::mem::forget(held);
    std::process::exit(0);
}
