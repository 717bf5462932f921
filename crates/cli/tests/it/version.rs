//! `dockhand version` and `--help`.

use crate::support::run;

#[test]
fn version_prints_the_api_version() {
    let out = run(&["version", "--format", "json"]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["api_version"], "0.4.2");
    assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
    let text = String::from_utf8(run(&["version"]).stdout).expect("utf-8");
    assert!(text.contains("Extension API 0.4.2"), "{text}");
}

#[test]
fn every_command_has_help_that_says_what_it_does() {
    for (cmd, needle) in [
        (
            vec!["--help"],
            "Run Docker Desktop extensions without Docker Desktop",
        ),
        (vec!["validate", "--help"], "TARGET is one of"),
        (vec!["version", "--help"], "extension API version"),
    ] {
        let out = run(&cmd);
        assert!(out.status.success(), "{cmd:?}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(
            text.contains(needle),
            "{cmd:?} help lacks {needle:?}:\n{text}"
        );
    }
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["validate"]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["no-such-command"]);
    assert_eq!(out.status.code(), Some(2));
}
