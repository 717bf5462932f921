//! Special files, modes, whiteouts, opaque directories and the selection.

use super::*;

// ---------------------------------------------------------------- special files and modes

#[test]
fn devices_and_fifos_are_skipped() {
    let (f, [l]) = Fixture::with([Layer::new()
        .special("ui/null", EntryType::Char)
        .special("ui/sda", EntryType::Block)
        .special("ui/pipe", EntryType::Fifo)
        .special("dev/null", EntryType::Char)
        .file("ui/a", b"a")]);
    let report = f.unpack(&[l], &ui_and_metadata()).unwrap();
    assert_eq!(report.skipped_special, 3);
    assert_eq!(f.tree(), ["ui/", "ui/a"]);
}

#[test]
fn setuid_group_write_and_exec_bits_are_stripped() {
    let (f, [l]) = Fixture::with([Layer::new()
        .dir_mode("ui", 0o1777)
        .file_mode("ui/suid", b"x", 0o4755)
        .file_mode("ui/sgid", b"x", 0o2711)
        .file_mode("ui/world", b"x", 0o666)
        .file_mode("ui/ro", b"x", 0o444)
        .dir_mode("ui/locked", 0o555)
        .file("ui/locked/f", b"x")]);
    let report = f.unpack(&[l], &ui_and_metadata()).unwrap();
    assert_eq!(report.stripped_setid, 3);
    let mode = |p: &str| {
        fs_err::symlink_metadata(f.staging.join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o7777
    };
    assert_eq!(mode("ui"), 0o755);
    // Never executable: an unpacked file is data (host binaries get their
    // mode when the install copies them out).
    assert_eq!(mode("ui/suid"), 0o644);
    assert_eq!(mode("ui/sgid"), 0o600);
    assert_eq!(mode("ui/world"), 0o644);
    assert_eq!(mode("ui/ro"), 0o444);
    assert_eq!(mode("ui/locked"), 0o755);
    assert_eq!(f.read("ui/locked/f"), b"x");
}

// ---------------------------------------------------------------- overlay

#[test]
fn whiteouts_and_opaque_dirs_across_three_layers() {
    let (f, [l1, l2, l3]) = Fixture::with([
        Layer::new()
            .file("metadata.json", b"{}")
            .file("ui/a.js", b"a1")
            .file("ui/b.js", b"b1")
            .file("ui/sub/c.js", b"c1")
            .file("ui/keep.js", b"k")
            .file("ui/d/x.js", b"x")
            .file("ui/gone/y.js", b"y")
            .file("other/z", b"z"),
        Layer::new()
            .file("ui/.wh.a.js", b"")
            .dir("ui/sub")
            .file("ui/sub/.wh..wh..opq", b"")
            .file("ui/sub/new.js", b"n2")
            .dir("ui/b.js")
            .file("ui/b.js/inner.js", b"i2")
            .file("ui/d", b"d is a file now"),
        Layer::new()
            .file("ui/.wh.gone", b"")
            .file("ui/a.js", b"a3")
            .file("ui/sub/.wh.new.js", b"")
            .file("ui/sub/.wh..wh.plnk", b""),
    ]);
    let report = f.unpack(&[l1, l2, l3], &ui_and_metadata()).unwrap();
    assert_eq!(report.layers_read, 3);
    assert_eq!(
        f.tree(),
        [
            "metadata.json",
            "ui/",
            "ui/a.js",
            "ui/b.js/",
            "ui/b.js/inner.js",
            "ui/d",
            "ui/keep.js",
            "ui/sub/",
        ]
    );
    assert_eq!(f.read("ui/a.js"), b"a3");
    assert_eq!(f.read("ui/d"), b"d is a file now");
}

#[test]
fn whiteouts_only_hide_lower_layers() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new().file("ui/old.js", b"o").file("ui/x.js", b"x1"),
        Layer::new()
            .file("ui/new.js", b"n")
            .file("ui/x.js", b"x2")
            .file("ui/.wh.x.js", b"")
            .file("ui/.wh..wh..opq", b""),
    ]);
    f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/new.js", "ui/x.js"]);
    assert_eq!(f.read("ui/x.js"), b"x2");
}

#[test]
fn a_whiteout_of_a_dir_the_layer_also_writes_keeps_only_the_new_content() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new().file("ui/old.js", b"o"),
        Layer::new().file("ui/new.js", b"n").file(".wh.ui", b""),
    ]);
    f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/new.js"]);
}

#[test]
fn a_file_replacing_a_parent_of_the_selection_hides_it() {
    let mut f = Fixture::new();
    let sel = Selection::new().file("linux/hello").unwrap();
    let l1 = f.plain(Layer::new().file("linux/hello", b"bin"));
    let l2 = f.plain(Layer::new().symlink("linux", "/usr/bin"));
    let report = f.unpack(&[l1, l2], &sel).unwrap();
    assert_eq!(report.files, 1);
    assert!(f.tree().is_empty());
}

#[test]
fn a_root_opaque_whiteout_clears_everything_below() {
    let (f, [l1, l2]) = Fixture::with([
        Layer::new()
            .file("metadata.json", b"old")
            .file("ui/a", b"a"),
        Layer::new()
            .file(".wh..wh..opq", b"")
            .file("metadata.json", b"new"),
    ]);
    f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["metadata.json"]);
    assert_eq!(f.read("metadata.json"), b"new");
}

#[test]
fn only_the_selection_is_written() {
    let mut f = Fixture::new();
    let sel = Selection::new()
        .file("metadata.json")
        .unwrap()
        .file("/docker.svg")
        .unwrap()
        .file("docker-compose.yaml")
        .unwrap()
        .file("linux/hello")
        .unwrap()
        .dir("ui/")
        .unwrap();
    let l = f.plain(
        Layer::new()
            .dir("bin")
            .file("bin/sh", b"sh")
            .file("metadata.json", b"{}")
            .file("docker.svg", b"<svg/>")
            .file("docker-compose.yaml", b"services: {}")
            .dir("linux")
            .file("linux/hello", b"hello")
            .file("linux/other", b"other")
            .file("darwin/hello", b"mac")
            .dir("ui")
            .file("ui/index.html", b"<html>")
            .file("uix", b"not ui"),
    );
    let report = f.unpack(&[l], &sel).unwrap();
    assert_eq!(
        f.tree(),
        [
            "docker-compose.yaml",
            "docker.svg",
            "linux/",
            "linux/hello",
            "metadata.json",
            "ui/",
            "ui/index.html",
        ]
    );
    assert_eq!(report.files, 5);
    assert_eq!(report.dirs, 1);
    assert_eq!(report.bytes, 2 + 6 + 12 + 5 + 6);
}
