//! Symlinks and hardlinks.

use super::*;

// ---------------------------------------------------------------- symlinks

#[test]
fn write_through_symlink_to_etc_is_refused() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new().symlink("ui", "/etc"),
        Layer::new().file("ui/passwd", b"root::0:0::/:/bin/sh"),
    ]);
    let err = assert_refused!(
        f.unpack(&[l1, l2.clone()], &ui_and_metadata()),
        UnpackError::ThroughSymlink { entry, link, layer }
            if entry == "ui/passwd" && link == "ui" && *layer == l2.digest
    );
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: entry `ui/passwd`: its parent `ui` is a symlink, refusing to write through it",
            l2.digest
        )
    );
    // The absolute target was written relative: it points into staging.
    assert_eq!(f.tree(), ["ui -> etc"]);
}

#[test]
fn write_through_symlink_to_a_real_outside_dir_is_refused() {
    let mut f = Fixture::new();
    let outside = f.outside.to_str().unwrap().to_owned();
    let l = f.plain(
        Layer::new()
            .symlink("ui", &outside)
            .file("ui/keep", b"overwritten")
            .file("ui/new", b"new"),
    );
    assert_refused!(
        f.unpack(&[l], &everything()),
        UnpackError::ThroughSymlink { .. }
    );
    // Still relative, inside staging.
    let written = fs_err::read_link(f.staging.join("ui")).unwrap();
    assert!(written.is_relative(), "{}", written.display());
    assert!(!written.starts_with(".."));
}

#[test]
fn symlink_climbing_out_is_refused() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new().symlink("ui", "../../.."),
        Layer::new().file("ui/x", b"pwned"),
    ]);
    assert_refused!(
        f.unpack(&[l1.clone(), l2], &ui_and_metadata()),
        UnpackError::UnsafeSymlink { entry, target, problem: LinkProblem::Escapes, layer }
            if entry == "ui" && target == "../../.." && *layer == l1.digest
    );
    assert!(f.tree().is_empty());
}

#[test]
fn symlink_climbing_out_through_a_deeper_path_is_refused() {
    let (f, [l]) = Fixture::with([Layer::new().symlink("ui/a/b", "../../../outside/keep")]);
    assert_refused!(
        f.unpack(&[l], &everything()),
        UnpackError::UnsafeSymlink {
            problem: LinkProblem::Escapes,
            ..
        }
    );
}

#[test]
fn absolute_symlink_inside_the_image_is_written_relative() {
    let (f, [l]) = Fixture::with([Layer::new()
        .file("ui/assets/logo.svg", b"<svg/>")
        .symlink("ui/logo.svg", "/ui/assets/logo.svg")
        .symlink("ui/deep/link", "/ui/assets/../assets/logo.svg")
        .symlink("ui/rel", "assets/./logo.svg")
        .symlink("ui/up", "..")]);
    let report = f
        .unpack(&[l], &Selection::new().dir("/ui").unwrap())
        .unwrap();
    assert_eq!(report.symlinks, 4);
    assert_eq!(
        f.tree(),
        [
            "ui/",
            "ui/assets/",
            "ui/assets/logo.svg",
            "ui/deep/",
            "ui/deep/link -> ../assets/logo.svg",
            "ui/logo.svg -> assets/logo.svg",
            "ui/rel -> assets/logo.svg",
            "ui/up -> ..",
        ]
    );
    assert_eq!(f.read("ui/logo.svg"), b"<svg/>");
    assert_eq!(f.read("ui/deep/link"), b"<svg/>");
}

#[test]
fn symlink_chains_cannot_climb_out_physically() {
    // `ui/b -> ..` is the image root; `ui/c -> b/..` stays inside lexically
    // (ui/b/.. = ui) but, followed as written, would reach the parent of
    // staging. Written canonical, it is `.`.
    let (f, [l]) = Fixture::with([Layer::new()
        .symlink("ui/b", "..")
        .symlink("ui/c", "b/..")
        .symlink("ui/d", "b/../b/../c/../../ui")]);
    f.unpack(&[l], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/b -> ..", "ui/c -> .", "ui/d -> ."]);
    let staging = fs_err::canonicalize(&f.staging).unwrap();
    for link in ["ui/b", "ui/c", "ui/d"] {
        let resolved = fs_err::canonicalize(f.staging.join(link)).unwrap();
        assert!(
            resolved.starts_with(&staging),
            "{link} -> {}",
            resolved.display()
        );
    }
}

#[test]
fn a_later_file_replaces_a_symlink_without_following_it() {
    let mut f = Fixture::new();
    let outside = f.outside.join("keep");
    let l1 = f.plain(Layer::new().symlink("ui/index.html", outside.to_str().unwrap()));
    let l2 = f.plain(Layer::new().file("ui/index.html", b"<html>"));
    f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/index.html"]);
    assert_eq!(f.read("ui/index.html"), b"<html>");
}

#[test]
fn a_dir_replaces_a_symlink_then_writes_go_into_the_dir() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new().symlink("ui", "/etc"),
        Layer::new().dir("ui").file("ui/index.html", b"<html>"),
    ]);
    f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/index.html"]);
}

// ---------------------------------------------------------------- hardlinks

#[test]
fn hardlink_to_absolute_path_is_refused() {
    let (f, [l]) = Fixture::with([Layer::new().hardlink("ui/passwd", "/etc/passwd")]);
    assert_refused!(
        f.unpack(&[l], &ui_and_metadata()),
        UnpackError::UnsafeHardlink { entry, target, problem: PathProblem::Absolute, .. }
            if entry == "ui/passwd" && target == "/etc/passwd"
    );
    assert!(f.tree().is_empty());
}

#[test]
fn hardlink_climbing_out_is_refused() {
    let (f, [l]) = Fixture::with([Layer::new().hardlink("ui/x", "../outside/keep")]);
    assert_refused!(
        f.unpack(&[l], &ui_and_metadata()),
        UnpackError::UnsafeHardlink {
            problem: PathProblem::DotDot,
            ..
        }
    );
}

#[test]
fn hardlink_to_an_extracted_file_is_copied() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new().file_mode("ui/a.js", b"shared", 0o755),
        Layer::new()
            .hardlink("ui/b.js", "ui/a.js")
            .file("ui/c.js", b"c")
            .hardlink("./ui/d.js", "./ui/c.js"),
    ]);
    let report = f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(report.files, 4);
    assert_eq!(f.read("ui/b.js"), b"shared");
    assert_eq!(f.read("ui/d.js"), b"c");
    let a = fs_err::metadata(f.staging.join("ui/a.js")).unwrap();
    let b = fs_err::metadata(f.staging.join("ui/b.js")).unwrap();
    assert_ne!(a.ino(), b.ino());
    assert_eq!(
        b.permissions().mode() & 0o777,
        0o644,
        "the copy keeps the sanitized mode"
    );
}

#[test]
fn hardlink_to_an_unselected_file_is_refused() {
    let (f, [l]) = Fixture::with([Layer::new()
        .file("usr/share/app.js", b"x")
        .hardlink("ui/app.js", "usr/share/app.js")]);
    assert_refused!(
        f.unpack(&[l], &ui_and_metadata()),
        UnpackError::HardlinkTargetMissing { entry, target, .. }
            if entry == "ui/app.js" && target == "usr/share/app.js"
    );
}

#[test]
fn hardlink_through_a_symlinked_parent_is_refused() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new().symlink("ui", "/etc"),
        Layer::new().hardlink("metadata.json", "ui/passwd"),
    ]);
    assert_refused!(
        f.unpack(&[l1, l2], &ui_and_metadata()),
        UnpackError::ThroughSymlink { link, .. } if link == "ui"
    );
    assert!(!f.staging.join("metadata.json").exists());
}
