//! Locating the shared corpus.

use std::path::PathBuf;

/// `../shared/corpus` beside the repository, or `None` after saying why.
pub fn dir(test: &str) -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var("DOCKHAND_REQUIRE_ENV").is_ok_and(|v| v == "1");
    assert!(
        !required,
        "{test}: ../shared/corpus is missing and DOCKHAND_REQUIRE_ENV=1"
    );
    eprintln!("SKIPPED {test}: ../shared/corpus not found beside the repository");
    None
}

/// Every corpus folder, sorted by name.
pub fn entries(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("corpus dir reads")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.join("metadata.json").is_file())
        .collect();
    out.sort();
    out
}

/// The folder's name.
pub fn name(path: &std::path::Path) -> String {
    path.file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned()
}
