//! ARCHITECTURE.md stays true: every path it names exists, and its "where is…" index keeps
//! at least 25 entries, each one link away.

use std::path::{Path, PathBuf};

/// The top-level folders a path in ARCHITECTURE.md may start with.
const ROOTS: &[&str] = &[
    "crates/",
    "web/",
    "docs/",
    "scripts/",
    "examples/",
    "packaging/",
    ".ci/",
];

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn architecture() -> String {
    fs_err::read_to_string(workspace().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md reads")
}

/// Targets of markdown links `[text](target)`, anchors dropped, web links left out.
fn link_targets(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        rest = &rest[at + 2..];
        let Some(end) = rest.find(')') else { break };
        let target = rest[..end].split('#').next().unwrap_or_default();
        if !target.is_empty() && !target.contains("://") {
            out.push(target.to_owned());
        }
        rest = &rest[end..];
    }
    out
}

/// Code spans that are repository paths: they start with a top-level folder and hold no
/// placeholder (`<id>`, `*`, `{a,b}`, `…`) nor a space (a command line).
fn code_paths(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|span| ROOTS.iter().any(|root| span.starts_with(root)))
        .filter(|span| !span.contains(['<', '*', '{', '…', '$']))
        .filter(|span| !span.contains(char::is_whitespace))
        .map(|span| span.trim_end_matches(':').to_owned())
        .collect()
}

#[test]
fn every_path_architecture_names_exists() {
    let text = architecture();
    let root = workspace();
    let mut names: Vec<String> = link_targets(&text);
    names.extend(code_paths(&text));
    assert!(
        names.len() >= 25,
        "ARCHITECTURE.md names only {} paths",
        names.len()
    );
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !root.join(name).exists())
        .collect();
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md names paths that do not exist: {missing:?}"
    );
}

#[test]
fn the_where_is_index_has_at_least_25_linked_entries() {
    let text = architecture();
    let start = text
        .find("\n## Where is")
        .expect("ARCHITECTURE.md has a \"## Where is…\" section");
    let section = &text[start + 1..];
    let section = &section[..section[3..]
        .find("\n## ")
        .map_or(section.len(), |end| end + 3)];
    let entries: Vec<&str> = section
        .lines()
        .filter(|line| line.starts_with("- "))
        .collect();
    assert!(
        entries.len() >= 25,
        "only {} entries in the index",
        entries.len()
    );
    for entry in entries {
        assert!(
            !link_targets(entry).is_empty(),
            "an index entry without a link: {entry}"
        );
    }
}

#[test]
fn the_path_finders_read_links_and_code_spans() {
    let text = "see [the store](crates/oci/src/store/mod.rs#L1) and `crates/host/src/layout.rs`, \
                not `crates/<crate>/src` nor [docs](https://example.invalid/x)";
    assert_eq!(link_targets(text), ["crates/oci/src/store/mod.rs"]);
    assert_eq!(code_paths(text), ["crates/host/src/layout.rs"]);
}
