//! The `dockhand-relay` binary over pipes, as an exec runs it.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

use dockhand_relay::protocol::{self, Frame, Hello};

use crate::echo_server;

fn frames(list: &[Frame<'_>]) -> Vec<u8> {
    let mut out = Vec::new();
    for f in list {
        protocol::encode(f, &mut out);
    }
    out
}

/// Runs one session with the relay `command` starts (a `serve` over pipes):
/// one stream to an echo server, half-closed, then stdin's end ends it.
fn one_session(mut command: Command) {
    let dir = tempfile::tempdir().expect("dir");
    echo_server(dir.path(), "echo.sock");
    let mut child = command
        .args(["serve", "--dir"])
        .arg(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the relay starts");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(&frames(&[
            Frame::Hello(Hello::ours()),
            Frame::Open {
                id: 1,
                name: "echo.sock",
            },
            Frame::Data {
                id: 1,
                bytes: b"over pipes",
            },
            Frame::Shutdown { id: 1 },
        ]))
        .expect("write");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut buf = Vec::new();
    let mut echoed = Vec::new();
    let mut chunk = [0u8; 4096];
    'read: loop {
        let n = stdout.read(&mut chunk).expect("read");
        assert!(n > 0, "the relay ended early");
        buf.extend_from_slice(&chunk[..n]);
        while let Some((frame, used)) = protocol::decode(&buf).expect("decodes") {
            match frame {
                Frame::Data { id: 1, bytes } => echoed.extend_from_slice(bytes),
                Frame::Shutdown { id: 1 } => break 'read,
                Frame::Error { message, .. } => panic!("{message}"),
                _ => {}
            }
            buf.drain(..used);
        }
    }
    assert_eq!(echoed, b"over pipes");
    drop(stdin);
    let status = child.wait().expect("wait");
    assert!(status.success(), "{status}");
}

#[test]
fn the_binary_serves_on_stdin_and_stdout_and_ends_with_stdin() {
    one_session(Command::new(env!("CARGO_BIN_EXE_dockhand-relay")));
}

/// True when `scripts/test` asked for every real-component test to run.
fn env_required() -> bool {
    std::env::var("DOCKHAND_REQUIRE_ENV").is_ok_and(|v| v == "1")
}

/// The static linux/arm64 relay `scripts/build-relay` makes, run under
/// qemu-aarch64-static: what an arm64 engine runs.
#[test]
fn the_arm64_relay_serves_under_qemu() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let bin = root.join("target/relay/dockhand-relay-arm64");
    let qemu = Command::new("qemu-aarch64-static")
        .arg("--version")
        .output();
    if qemu.is_err() {
        assert!(
            !env_required(),
            "qemu-aarch64-static is missing (apt-get install qemu-user-static), and DOCKHAND_REQUIRE_ENV=1 makes this test mandatory"
        );
        eprintln!(
            "SKIPPED the_arm64_relay_serves_under_qemu: no qemu-aarch64-static (apt-get install qemu-user-static)"
        );
        return;
    }
    if !bin.is_file() {
        if !env_required() {
            eprintln!(
                "SKIPPED the_arm64_relay_serves_under_qemu: no {} (scripts/build-relay arm64 makes it; scripts/test runs it)",
                bin.display()
            );
            return;
        }
        let status = Command::new(root.join("scripts/build-relay"))
            .arg("arm64")
            .status()
            .expect("scripts/build-relay runs");
        assert!(status.success(), "scripts/build-relay arm64 failed");
    }
    let mut command = Command::new("qemu-aarch64-static");
    command.arg(&bin);
    one_session(command);
}

#[test]
fn the_binary_says_its_version_and_refuses_unknown_arguments() {
    let bin = env!("CARGO_BIN_EXE_dockhand-relay");
    let out = Command::new(bin).arg("--version").output().expect("runs");
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("dockhand-relay {}", env!("CARGO_PKG_VERSION"))
    );
    let out = Command::new(bin).arg("bogus").output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("usage:"));
}
