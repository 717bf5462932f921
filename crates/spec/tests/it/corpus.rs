//! Locating the shared corpus.

use std::path::PathBuf;

/// `$DOCKHAND_CORPUS` (set by `scripts/test`), else `../shared/corpus`
/// beside the repository, or `None` after saying why.
pub fn dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKHAND_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    if dir.is_dir() {
        return Some(dir);
    }
    dockhand_testkit::env::skip(
        test,
        &format!(
            "the corpus is not at {} (set DOCKHAND_CORPUS)",
            dir.display()
        ),
    );
    None
}

/// Every corpus folder, sorted by name.
pub fn entries(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = fs_err::read_dir(dir)
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
