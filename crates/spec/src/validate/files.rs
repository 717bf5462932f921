//! Checks that the files metadata.json names are in the image.

use super::{FileChecks, FileKind, ImageFiles, image_path};
use crate::diagnostics::{Code, Diagnostic, Location};
use crate::metadata::{Metadata, Os};

struct Wanted {
    path: String,
    pointer: String,
    dir: bool,
    /// A missing file is a warning (another OS's binary), not an error.
    soft: bool,
}

fn wanted(meta: &Metadata) -> Vec<Wanted> {
    let mut out = Vec::new();
    let mut add = |path: &str, pointer: &str, dir: bool, soft: bool| {
        if let Some(p) = image_path(path).filter(|p| !p.is_empty()) {
            out.push(Wanted {
                path: p,
                pointer: pointer.to_owned(),
                dir,
                soft,
            });
        }
    };
    if let Some(icon) = meta.icon.as_deref().filter(|i| !i.trim().is_empty()) {
        add(icon, "/icon", false, false);
    }
    if let Some(tab) = meta.dashboard_tab() {
        add(&tab.root, "/ui/dashboard-tab/root", true, false);
        if !tab.entry_file().is_empty() {
            add(&tab.entry_path(), "/ui/dashboard-tab/src", false, false);
        }
    }
    for os in Os::ALL {
        for bin in meta.host_binaries(os) {
            if bin.path.starts_with('/') {
                add(&bin.path, &bin.pointer, bin.is_dir(), os != Os::Linux);
            }
        }
    }
    out
}

pub(super) fn check(
    meta: &Metadata,
    files: &dyn ImageFiles,
    mode: FileChecks,
    out: &mut Vec<Diagnostic>,
) {
    if mode == FileChecks::None {
        return;
    }
    let wanted = wanted(meta);
    if wanted.is_empty() {
        return;
    }
    let kinds: Vec<FileKind> = wanted.iter().map(|w| files.kind(&w.path)).collect();
    if mode == FileChecks::Auto && kinds.iter().all(|k| *k == FileKind::Missing) {
        out.push(Diagnostic::new(
            Code::FilesNotChecked,
            Location::File(".".to_owned()),
            format!(
                "none of the {} files metadata.json names are here, so they were not checked: validate the image root or the image to check them",
                wanted.len()
            ),
        ));
        return;
    }
    for (w, kind) in wanted.iter().zip(kinds) {
        let loc = Location::File(w.path.clone());
        if w.pointer == "/icon"
            && kind == FileKind::File
            && let Ok(Some(bytes)) = files.read(&w.path)
            && crate::icon::sniff(&bytes).is_none()
        {
            out.push(Diagnostic::new(
                Code::IconNotImage,
                loc.clone(),
                "named at metadata.json:/icon but its contents are not a png, jpeg, gif, webp, svg or ico image: dockhand does not show it; use an image file",
            ));
        }
        match kind {
            FileKind::Missing if w.soft => out.push(Diagnostic::new(
                Code::MissingOtherOsBinary,
                loc,
                format!("named at metadata.json:{} but not in the image: users of that OS will miss it", w.pointer),
            )),
            FileKind::Missing => out.push(Diagnostic::new(
                Code::MissingFile,
                loc,
                format!("named at metadata.json:{} but not in the image: add it or fix the path", w.pointer),
            )),
            FileKind::EscapingSymlink => out.push(Diagnostic::new(
                Code::SymlinkEscapes,
                loc,
                "is a symlink that leads outside the image root: copy the file into the image instead",
            )),
            FileKind::File if w.dir => out.push(Diagnostic::new(
                Code::NotADirectory,
                loc,
                format!("named at metadata.json:{} as a directory but is a file", w.pointer),
            )),
            FileKind::Dir if !w.dir => out.push(Diagnostic::new(
                Code::NotAFile,
                loc,
                format!("named at metadata.json:{} as a file but is a directory", w.pointer),
            )),
            FileKind::File | FileKind::Dir => {}
        }
    }
}
