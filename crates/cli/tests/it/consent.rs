//! The consent summary and validation read compose's normalized model, with
//! only the environment dockhand gives compose: privileges hidden behind a
//! merge key, a truthy spelling, an interpolated default, a volume's driver
//! options or a secret file show in `validate` and in the prompt `install`
//! prints (without a terminal it then refuses), a variable set in the
//! user's environment changes nothing, and a `build` section is refused.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use serde_json::Value;

use crate::support::{self, TempDir, build_to_layout, dockhand, run};

/// Each attack of issue 13 in one file (testkit's), with the variables
/// of [`USER_ENV`].
fn hostile() -> String {
    dockhand_testkit::compose::hostile("PID_MODE", "EXTRA_CAP")
}

/// Variables an attacker hopes the user has set: none may reach compose.
const USER_ENV: [(&str, &str); 3] = [
    ("NET", "bridge"),
    ("PID_MODE", "private"),
    ("EXTRA_CAP", "CHOWN"),
];

fn extension(dir: &TempDir, compose: &str) {
    let metadata = serde_json::json!({
        "icon": "icon.svg",
        "ui": {"dashboard-tab": {"title": "Hostile", "root": "/ui", "src": "index.html"}},
        "vm": {"composefile": "compose.yaml"}
    });
    dir.write("metadata.json", metadata.to_string());
    dir.write(
        "labels.json",
        serde_json::json!({
            "org.opencontainers.image.title": "Hostile",
            "org.opencontainers.image.description": "d",
            "org.opencontainers.image.vendor": "Acme",
            "com.docker.desktop.extension.api.version": ">= 0.3.0",
        })
        .to_string(),
    );
    dir.write("icon.svg", "<svg/>");
    dir.write("ui/index.html", "<p>hi</p>");
    dir.write("compose.yaml", compose);
}

fn validate_json(dir: &TempDir) -> (Option<i32>, Value) {
    validate_with(dir, "auto")
}

/// `validate` with `DOCKHAND_COMPOSE=compose` (`v1`, `v2`, or a program that
/// does not exist: the local reading).
fn validate_with(dir: &TempDir, compose: &str) -> (Option<i32>, Value) {
    let out = dockhand()
        .envs(USER_ENV)
        .env("DOCKHAND_COMPOSE", compose)
        .args(["validate", "--format", "json", &dir.arg()])
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| {
        panic!(
            "validate printed no JSON: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), json)
}

/// Each diagnostic of `json` (`validate --format json`) as its fields
/// `keys`, in that order.
fn diagnostics(json: &Value, keys: [&str; 3]) -> Vec<(String, String, String)> {
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let field = |key: &str| d[key].as_str().unwrap().to_owned();
            (field(keys[0]), field(keys[1]), field(keys[2]))
        })
        .collect()
}

/// Each diagnostic of `json` as code, location and message.
fn findings(json: &Value) -> Vec<(String, String, String)> {
    diagnostics(json, ["code", "location", "message"])
}

#[test]
fn validate_shows_what_compose_would_run() {
    let dir = TempDir::new("consent-validate");
    extension(&dir, &hostile());
    // Compose v2 and v1 normalize the file; without a compose CLI dockhand
    // reads it the same way itself.
    for compose in ["v2", "v1", "/nonexistent/docker-compose"] {
        shows_every_privilege(&dir, compose);
    }
}

fn shows_every_privilege(dir: &TempDir, compose: &str) {
    // Marketplace labels are missing (errors of their own): the compose
    // findings are what this test reads.
    let (code, json) = validate_with(dir, compose);
    assert!(matches!(code, Some(0 | 1)), "{json:#}");
    let found = findings(&json);
    let has = |code: &str, location: &str, text: &str| {
        found
            .iter()
            .any(|(c, l, m)| c == code && l == location && m.contains(text))
    };
    for (code, location, text) in [
        ("DH311", "compose:/services/api/privileged", "privileged"),
        (
            "DH315",
            "compose:/services/api/volumes/0",
            "host path / at /host",
        ),
        (
            "DH312",
            "compose:/services/api/network_mode",
            "host network",
        ),
        ("DH313", "compose:/services/api/pid", "every process"),
        ("DH314", "compose:/services/api/cap_add", "SYS_ADMIN"),
        ("DH311", "compose:/services/side/privileged", "privileged"),
        ("DH315", "compose:/volumes/root/driver_opts", "host path /"),
        ("DH326", "compose:/secrets/key/file", "/etc/shadow"),
    ] {
        assert!(
            has(code, location, text),
            "no {code} {location} {text}: {found:#?}"
        );
    }
    assert!(
        !found.iter().any(|(_, _, m)| m.contains("CHOWN")),
        "the user's EXTRA_CAP reached compose: {found:#?}"
    );
}

#[test]
fn validate_refuses_other_files_and_an_image_it_would_build() {
    let dir = TempDir::new("consent-build");
    extension(
        &dir,
        "x-b: &b\n  build: .\nservices:\n  api:\n    <<: *b\n    image: x\n    env_file: /root/.aws/credentials\n  built:\n    build: .\n",
    );
    let (code, json) = validate_json(&dir);
    assert_eq!(code, Some(1), "{json:#}");
    let found = diagnostics(&json, ["code", "severity", "location"]);
    let has = |code: &str, severity: &str, location: &str| {
        found
            .iter()
            .any(|(c, s, l)| c == code && s == severity && l == location)
    };
    // A build section is never acted on (`up --no-build`): said, not refused.
    assert!(
        has("DH304", "warning", "compose:/services/api/build"),
        "{found:#?}"
    );
    // A service whose image would have to be built is refused.
    assert!(
        has("DH303", "error", "compose:/services/built"),
        "{found:#?}"
    );
    // A host file read into the environment is refused.
    assert!(
        has("DH305", "error", "compose:/services/api/env_file"),
        "{found:#?}"
    );
    assert!(
        json.to_string().contains("/root/.aws/credentials"),
        "{json:#}"
    );
}

#[test]
fn the_install_prompt_lists_every_privilege_then_refuses_without_a_terminal() {
    let src = TempDir::new("consent-src");
    extension(&src, &hostile());
    let home = TempDir::new("consent-home");
    let source = build_to_layout(&home, &src, "acme/hostile:1.0.0");
    let stderr = support::fails(
        dockhand()
            .envs(USER_ENV)
            .args(["--home", &home.arg(), "install", &source])
            .stdin(std::process::Stdio::null()),
    );
    for line in dockhand_testkit::compose::HOSTILE_LINES {
        assert!(stderr.contains(line), "no {line:?} in:\n{stderr}");
    }
    assert!(!stderr.contains("CHOWN"), "{stderr}");
    let ls = run(&["--home", &home.arg(), "ls", "--format", "json"]);
    let listed: Value = serde_json::from_slice(&ls.stdout).unwrap_or(Value::Null);
    assert!(
        listed.as_array().is_none_or(|a| a.is_empty()),
        "nothing is installed: {listed}"
    );
}
