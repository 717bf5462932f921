//! Conformance: `validate` on the 41 real extensions of `../shared/corpus`
//! against a hand-written expectations file, with snapshots of the output.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::Value;

use crate::support;

#[derive(Debug, Deserialize)]
struct Expectation {
    valid: bool,
    codes: Vec<String>,
    #[allow(dead_code)]
    why: String,
}

fn expectations() -> BTreeMap<String, Expectation> {
    serde_json::from_str(include_str!("corpus_expectations.json")).expect("expectations parse")
}

fn folders(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = fs_err::read_dir(dir)
        .expect("corpus reads")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("metadata.json").is_file())
        .map(|p| p.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

/// A compose program that does not exist: validate reads compose files itself.
const NO_COMPOSE: &str = "/nonexistent/docker-compose";

fn validate_json(dir: &Path, folder: &str) -> (Value, i32) {
    let out = support::dockhand()
        .current_dir(dir)
        // The local reading (no compose CLI): compose's own model sorts
        // services and keys, and these expectations follow the files.
        .env("DOCKHAND_COMPOSE", NO_COMPOSE)
        .env("HOME", "/home/corpus")
        .args(["validate", folder, "--format", "json"])
        .output()
        .expect("dockhand runs");
    let code = out.status.code().expect("exit code");
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{folder}: stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (json, code)
}

/// The corpus, or `None` (after saying so) when it was not found.
fn corpus(test: &str) -> Option<std::path::PathBuf> {
    let dir = support::corpus_dir();
    if dir.is_none() {
        support::skip(
            test,
            "the corpus (../shared/corpus or $DOCKHAND_CORPUS) was not found",
        );
    }
    dir
}

#[test]
fn corpus_matches_expectations() {
    let Some(dir) = corpus("corpus_matches_expectations") else {
        return;
    };
    let expected = expectations();
    let found = folders(&dir);
    assert_eq!(found.len(), 41, "the corpus has 41 extensions");
    assert_eq!(
        found,
        expected.keys().cloned().collect::<Vec<_>>(),
        "one expectation per folder"
    );
    let mut failures = Vec::new();
    for folder in &found {
        let want = &expected[folder];
        let (json, code) = validate_json(&dir, folder);
        let valid = json["valid"].as_bool().expect("valid is a bool");
        assert_eq!(
            code,
            if valid { 0 } else { 1 },
            "{folder}: exit code follows validity"
        );
        let diags = json["diagnostics"].as_array().expect("diagnostics array");
        let codes: Vec<&str> = diags
            .iter()
            .map(|d| d["code"].as_str().expect("code"))
            .collect();
        let errors: Vec<&str> = diags
            .iter()
            .filter(|d| d["severity"] == "error")
            .map(|d| d["code"].as_str().expect("code"))
            .collect();
        if valid != want.valid {
            failures.push(format!(
                "{folder}: valid = {valid}, expected {}; codes {codes:?}",
                want.valid
            ));
        }
        for c in &want.codes {
            if !codes.contains(&c.as_str()) {
                failures.push(format!("{folder}: expected {c}, got {codes:?}"));
            }
        }
        for e in &errors {
            if !want.codes.iter().any(|c| c == e) {
                failures.push(format!("{folder}: unexpected error {e}"));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} corpus mismatches:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_output_snapshots() {
    let Some(dir) = corpus("corpus_output_snapshots") else {
        return;
    };
    let mut text = String::new();
    let mut all = serde_json::Map::new();
    for folder in folders(&dir) {
        let out = support::dockhand()
            .current_dir(&dir)
            .env("DOCKHAND_COMPOSE", NO_COMPOSE)
            .env("HOME", "/home/corpus")
            .args(["validate", &folder])
            .output()
            .expect("dockhand runs");
        text.push_str(&String::from_utf8_lossy(&out.stdout));
        text.push_str("\n----\n");
        all.insert(folder.clone(), validate_json(&dir, &folder).0);
    }
    insta::assert_snapshot!("corpus_text", text);
    insta::assert_json_snapshot!("corpus_json", Value::Object(all));
}
