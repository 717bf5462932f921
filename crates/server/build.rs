//! Embeds the dashboard: writes `$OUT_DIR/web_assets.rs`, a table of
//! `(path, bytes)` with one `include_bytes!` per file under `web/` at the
//! repository root (hidden files skipped, paths relative with `/`).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

fn main() {
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let web = manifest.join("../../web");
    println!("cargo::rerun-if-changed={}", web.display());
    let mut files = Vec::new();
    if web.is_dir() {
        collect(&web, "", &mut files);
    }
    files.sort();
    let mut out = String::from(
        "/// Every file of `web/`: its path relative to `web/` and its bytes.\n\
         pub static FILES: &[(&str, &[u8])] = &[\n",
    );
    for (rel, abs) in &files {
        println!("cargo::rerun-if-changed={}", abs.display());
        let _ = writeln!(
            out,
            "    ({rel:?}, include_bytes!({:?})),",
            abs.display().to_string()
        );
    }
    out.push_str("];\n");
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default());
    if let Err(e) = fs_err::write(out_dir.join("web_assets.rs"), out) {
        panic!("cannot write web_assets.rs into {}: {e}", out_dir.display());
    }
}

/// Adds every regular file under `dir` (following no symlinked directory).
fn collect(dir: &Path, prefix: &str, files: &mut Vec<(String, PathBuf)>) {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let rel = format!("{prefix}{name}");
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            collect(&path, &format!("{rel}/"), files);
        } else if path.is_file() {
            let abs = fs_err::canonicalize(&path).unwrap_or(path);
            files.push((rel, abs));
        }
    }
}
