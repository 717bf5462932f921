//! Unpacking hostile and ordinary layers built in the test.

use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use dockhand_oci::Digest;
use dockhand_oci::unpack::{
    LayerInput, Limits, LinkProblem, Outcome, PathProblem, Selection, UnpackError, UnpackReport,
    find_file_top_down, lookup_top_down, unpack_layers,
};
use tar::{EntryType, Header};

const TAR: &str = "application/vnd.oci.image.layer.v1.tar";
const TAR_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const TAR_ZSTD: &str = "application/vnd.oci.image.layer.v1.tar+zstd";
const DOCKER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

// ---------------------------------------------------------------- layers

/// Builds a tar stream entry by entry, writing names byte for byte so that
/// hostile names really are in the archive.
struct Layer(tar::Builder<Vec<u8>>);

fn header(name: &[u8], kind: EntryType, size: u64, mode: u32) -> Header {
    let mut h = Header::new_gnu();
    assert!(name.len() <= 100, "use long_name for {name:?}");
    h.as_old_mut().name[..name.len()].copy_from_slice(name);
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_mtime(1_700_000_000);
    h.set_uid(0);
    h.set_gid(0);
    h
}

fn set_link(h: &mut Header, target: &[u8]) {
    assert!(target.len() <= 100);
    h.as_old_mut().linkname[..target.len()].copy_from_slice(target);
}

impl Layer {
    fn new() -> Self {
        Self(tar::Builder::new(Vec::new()))
    }

    fn push(mut self, mut h: Header, data: &[u8]) -> Self {
        h.set_cksum();
        self.0.append(&h, data).expect("append to the tar");
        self
    }

    fn file(self, name: &str, data: &[u8]) -> Self {
        self.file_mode(name, data, 0o644)
    }

    fn file_mode(self, name: &str, data: &[u8], mode: u32) -> Self {
        let h = header(name.as_bytes(), EntryType::Regular, data.len() as u64, mode);
        self.push(h, data)
    }

    fn raw_file(self, name: &[u8], data: &[u8]) -> Self {
        let h = header(name, EntryType::Regular, data.len() as u64, 0o644);
        self.push(h, data)
    }

    fn dir(self, name: &str) -> Self {
        self.dir_mode(name, 0o755)
    }

    fn dir_mode(self, name: &str, mode: u32) -> Self {
        self.push(header(name.as_bytes(), EntryType::Directory, 0, mode), b"")
    }

    fn symlink(self, name: &str, target: &str) -> Self {
        let mut h = header(name.as_bytes(), EntryType::Symlink, 0, 0o777);
        set_link(&mut h, target.as_bytes());
        self.push(h, b"")
    }

    fn hardlink(self, name: &str, target: &str) -> Self {
        let mut h = header(name.as_bytes(), EntryType::Link, 0, 0o644);
        set_link(&mut h, target.as_bytes());
        self.push(h, b"")
    }

    fn special(self, name: &str, kind: EntryType) -> Self {
        let mut h = header(name.as_bytes(), kind, 0, 0o600);
        h.set_device_major(1).expect("device major");
        h.set_device_minor(3).expect("device minor");
        self.push(h, b"")
    }

    /// A GNU long-name entry (`L`) followed by the file itself.
    fn long_name(self, name: &str, data: &[u8]) -> Self {
        let mut long = name.as_bytes().to_vec();
        long.push(0);
        let l = header(
            b"././@LongLink",
            EntryType::GNULongName,
            long.len() as u64,
            0o644,
        );
        let this = self.push(l, &long);
        let short = &name.as_bytes()[..name.len().min(100)];
        this.push(
            header(short, EntryType::Regular, data.len() as u64, 0o644),
            data,
        )
    }

    /// A PAX extended header (`x`) carrying `path`, then the file.
    fn pax_path(self, name: &str, data: &[u8]) -> Self {
        let body = format!(" path={name}\n");
        let mut len = body.len() + 1;
        while format!("{len}{body}").len() != len {
            len += 1;
        }
        let record = format!("{len}{body}");
        let x = header(
            b"PaxHeaders/x",
            EntryType::XHeader,
            record.len() as u64,
            0o644,
        );
        let this = self.push(x, record.as_bytes());
        this.push(
            header(b"placeholder", EntryType::Regular, data.len() as u64, 0o644),
            data,
        )
    }

    fn tar(self) -> Vec<u8> {
        self.0.into_inner().expect("finish the tar")
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(bytes).expect("gzip");
    e.finish().expect("gzip")
}

fn zstd(bytes: &[u8]) -> Vec<u8> {
    ruzstd::encoding::compress_to_vec(bytes, ruzstd::encoding::CompressionLevel::Fastest)
}

// ---------------------------------------------------------------- fixture

/// `tmp/staging` (empty), `tmp/outside` (with a sentinel) and `tmp/blobs`.
struct Fixture {
    tmp: tempfile::TempDir,
    staging: PathBuf,
    outside: PathBuf,
    blobs: PathBuf,
    count: usize,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().expect("temp dir");
        let staging = tmp.path().join("staging");
        let outside = tmp.path().join("outside");
        let blobs = tmp.path().join("blobs");
        for d in [&staging, &outside, &blobs] {
            fs_err::create_dir(d).expect("create dir");
        }
        fs_err::write(outside.join("keep"), b"sentinel").expect("write sentinel");
        Self {
            tmp,
            staging,
            outside,
            blobs,
            count: 0,
        }
    }

    fn blob(&mut self, bytes: &[u8], media_type: &str) -> LayerInput {
        self.count += 1;
        let path = self.blobs.join(format!("layer{}", self.count));
        fs_err::write(&path, bytes).expect("write blob");
        LayerInput {
            digest: Digest::sha256_of(bytes),
            media_type: media_type.to_owned(),
            path,
        }
    }

    fn plain(&mut self, layer: Layer) -> LayerInput {
        self.blob(&layer.tar(), TAR)
    }

    fn unpack(&self, layers: &[LayerInput], sel: &Selection) -> Result<UnpackReport, UnpackError> {
        self.unpack_with(layers, sel, &Limits::default())
    }

    fn unpack_with(
        &self,
        layers: &[LayerInput],
        sel: &Selection,
        limits: &Limits,
    ) -> Result<UnpackReport, UnpackError> {
        let result = unpack_layers(layers, sel, &self.staging, limits);
        self.assert_nothing_outside();
        result
    }

    /// Nothing beside staging changed: the temp dir holds exactly staging,
    /// outside and blobs, outside holds exactly the untouched sentinel.
    fn assert_nothing_outside(&self) {
        let mut top = names(self.tmp.path());
        top.sort();
        assert_eq!(top, ["blobs", "outside", "staging"]);
        assert_eq!(names(&self.outside), ["keep"]);
        assert_eq!(
            fs_err::read(self.outside.join("keep")).expect("read sentinel"),
            b"sentinel"
        );
        assert_eq!(names(&self.blobs).len(), self.count);
    }

    fn read(&self, path: &str) -> Vec<u8> {
        fs_err::read(self.staging.join(path)).expect("read staged file")
    }

    fn tree(&self) -> Vec<String> {
        let mut out = Vec::new();
        walk(&self.staging, &self.staging, &mut out);
        out.sort();
        out
    }
}

fn names(dir: &Path) -> Vec<String> {
    fs_err::read_dir(dir)
        .expect("read dir")
        .map(|e| {
            e.expect("dir entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect()
}

/// Every path under `dir`, directories with a trailing `/`, symlinks as
/// `path -> target`.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
    for e in fs_err::read_dir(dir).expect("read dir") {
        let p = e.expect("dir entry").path();
        let rel = p
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .into_owned();
        let meta = fs_err::symlink_metadata(&p).expect("lstat");
        if meta.file_type().is_symlink() {
            let target = fs_err::read_link(&p).expect("readlink");
            out.push(format!("{rel} -> {}", target.display()));
        } else if meta.is_dir() {
            out.push(format!("{rel}/"));
            walk(root, &p, out);
        } else {
            out.push(rel);
        }
    }
}

fn everything() -> Selection {
    Selection::everything()
}

fn ui_and_metadata() -> Selection {
    Selection::new()
        .file("metadata.json")
        .and_then(|s| s.dir("ui"))
        .expect("valid selection")
}

// ---------------------------------------------------------------- hostile names

#[test]
fn dot_dot_entry_is_refused() {
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .file("ui/ok", b"x")
            .raw_file(b"../evil", b"pwned"),
    );
    let err = f
        .unpack(std::slice::from_ref(&l), &everything())
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::UnsafePath { entry, problem: PathProblem::DotDot, layer }
            if entry == "../evil" && *layer == l.digest),
        "{err}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: entry `../evil`: the path has a `..` component, refusing the image",
            l.digest
        )
    );
}

#[test]
fn dot_dot_is_refused_even_outside_the_selection() {
    let mut f = Fixture::new();
    let l = f.plain(Layer::new().raw_file(b"a/../../evil", b"pwned"));
    let err = f.unpack(&[l], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::UnsafePath { entry, problem: PathProblem::DotDot, .. } if entry == "a/../../evil"),
        "{err}"
    );
    assert!(f.tree().is_empty());
}

#[test]
fn absolute_entry_is_refused() {
    let mut f = Fixture::new();
    let target = f.outside.join("evil");
    let l = f.plain(
        Layer::new()
            .raw_file(b"/etc/evil", b"pwned")
            .raw_file(target.to_str().unwrap().as_bytes(), b"pwned"),
    );
    let err = f.unpack(&[l], &everything()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::UnsafePath { entry, problem: PathProblem::Absolute, .. } if entry == "/etc/evil"),
        "{err}"
    );
    assert!(!Path::new("/etc/evil").exists());
}

#[test]
fn dot_slash_and_plain_names_are_the_same_path() {
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .dir("./")
            .dir("./ui/")
            .file("./ui/a.js", b"one")
            .file("ui/a.js", b"two")
            .file("ui//b.js", b"b"),
    );
    f.unpack(&[l], &everything()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/a.js", "ui/b.js"]);
    assert_eq!(f.read("ui/a.js"), b"two");
}

#[test]
fn hostile_long_name_is_refused() {
    let mut f = Fixture::new();
    let name = format!("ui/{}/../../../evil", "d".repeat(120));
    let l = f.plain(Layer::new().long_name(&name, b"pwned"));
    let err = f.unpack(&[l], &everything()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::UnsafePath { entry, problem: PathProblem::DotDot, .. } if *entry == name),
        "{err}"
    );
}

#[test]
fn long_names_gnu_and_pax() {
    let mut f = Fixture::new();
    let gnu = format!("ui/{}/gnu.js", "g".repeat(150));
    let pax = format!("ui/{}/pax.js", "p".repeat(150));
    let l = f.plain(Layer::new().long_name(&gnu, b"gnu").pax_path(&pax, b"pax"));
    let report = f
        .unpack(&[l], &Selection::new().dir("ui").unwrap())
        .unwrap();
    assert_eq!(report.files, 2);
    assert_eq!(f.read(&gnu), b"gnu");
    assert_eq!(f.read(&pax), b"pax");
    assert!(!f.staging.join("placeholder").exists());
}

#[test]
fn non_utf8_names() {
    let mut f = Fixture::new();
    let skipped = f.plain(
        Layer::new()
            .raw_file(b"other/\xff.bin", b"x")
            .file("ui/a", b"a"),
    );
    f.unpack(&[skipped], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/a"]);

    let mut f = Fixture::new();
    let refused = f.plain(Layer::new().raw_file(b"ui/\xff.js", b"x"));
    let err = f.unpack(&[refused], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(
            &err,
            UnpackError::UnsafePath {
                problem: PathProblem::NotUtf8,
                ..
            }
        ),
        "{err}"
    );
}

// ---------------------------------------------------------------- symlinks

#[test]
fn write_through_symlink_to_etc_is_refused() {
    let mut f = Fixture::new();
    let l1 = f.plain(Layer::new().symlink("ui", "/etc"));
    let l2 = f.plain(Layer::new().file("ui/passwd", b"root::0:0::/:/bin/sh"));
    let err = f.unpack(&[l1, l2.clone()], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::ThroughSymlink { entry, link, layer }
            if entry == "ui/passwd" && link == "ui" && *layer == l2.digest),
        "{err}"
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
    let err = f.unpack(&[l], &everything()).unwrap_err();
    assert!(matches!(&err, UnpackError::ThroughSymlink { .. }), "{err}");
    // Still relative, inside staging.
    let written = fs_err::read_link(f.staging.join("ui")).unwrap();
    assert!(written.is_relative(), "{}", written.display());
    assert!(!written.starts_with(".."));
}

#[test]
fn symlink_climbing_out_is_refused() {
    let mut f = Fixture::new();
    let l1 = f.plain(Layer::new().symlink("ui", "../../.."));
    let l2 = f.plain(Layer::new().file("ui/x", b"pwned"));
    let err = f.unpack(&[l1.clone(), l2], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::UnsafeSymlink { entry, target, problem: LinkProblem::Escapes, layer }
            if entry == "ui" && target == "../../.." && *layer == l1.digest),
        "{err}"
    );
    assert!(f.tree().is_empty());
}

#[test]
fn symlink_climbing_out_through_a_deeper_path_is_refused() {
    let mut f = Fixture::new();
    let l = f.plain(Layer::new().symlink("ui/a/b", "../../../outside/keep"));
    let err = f.unpack(&[l], &everything()).unwrap_err();
    assert!(
        matches!(
            &err,
            UnpackError::UnsafeSymlink {
                problem: LinkProblem::Escapes,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn absolute_symlink_inside_the_image_is_written_relative() {
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .file("ui/assets/logo.svg", b"<svg/>")
            .symlink("ui/logo.svg", "/ui/assets/logo.svg")
            .symlink("ui/deep/link", "/ui/assets/../assets/logo.svg")
            .symlink("ui/rel", "assets/./logo.svg")
            .symlink("ui/up", ".."),
    );
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
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .symlink("ui/b", "..")
            .symlink("ui/c", "b/..")
            .symlink("ui/d", "b/../b/../c/../../ui"),
    );
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
    let mut f = Fixture::new();
    let l1 = f.plain(Layer::new().symlink("ui", "/etc"));
    let l2 = f.plain(Layer::new().dir("ui").file("ui/index.html", b"<html>"));
    f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/index.html"]);
}

// ---------------------------------------------------------------- hardlinks

#[test]
fn hardlink_to_absolute_path_is_refused() {
    let mut f = Fixture::new();
    let l = f.plain(Layer::new().hardlink("ui/passwd", "/etc/passwd"));
    let err = f.unpack(&[l], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::UnsafeHardlink { entry, target, problem: PathProblem::Absolute, .. }
            if entry == "ui/passwd" && target == "/etc/passwd"),
        "{err}"
    );
    assert!(f.tree().is_empty());
}

#[test]
fn hardlink_climbing_out_is_refused() {
    let mut f = Fixture::new();
    let l = f.plain(Layer::new().hardlink("ui/x", "../outside/keep"));
    let err = f.unpack(&[l], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(
            &err,
            UnpackError::UnsafeHardlink {
                problem: PathProblem::DotDot,
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn hardlink_to_an_extracted_file_is_copied() {
    let mut f = Fixture::new();
    let l1 = f.plain(Layer::new().file_mode("ui/a.js", b"shared", 0o755));
    let l2 = f.plain(
        Layer::new()
            .hardlink("ui/b.js", "ui/a.js")
            .file("ui/c.js", b"c")
            .hardlink("./ui/d.js", "./ui/c.js"),
    );
    let report = f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(report.files, 4);
    assert_eq!(f.read("ui/b.js"), b"shared");
    assert_eq!(f.read("ui/d.js"), b"c");
    let a = fs_err::metadata(f.staging.join("ui/a.js")).unwrap();
    let b = fs_err::metadata(f.staging.join("ui/b.js")).unwrap();
    assert_ne!(a.ino(), b.ino());
    assert_eq!(b.permissions().mode() & 0o777, 0o755);
}

#[test]
fn hardlink_to_an_unselected_file_is_refused() {
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .file("usr/share/app.js", b"x")
            .hardlink("ui/app.js", "usr/share/app.js"),
    );
    let err = f.unpack(&[l], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::HardlinkTargetMissing { entry, target, .. }
            if entry == "ui/app.js" && target == "usr/share/app.js"),
        "{err}"
    );
}

#[test]
fn hardlink_through_a_symlinked_parent_is_refused() {
    let mut f = Fixture::new();
    let l1 = f.plain(Layer::new().symlink("ui", "/etc"));
    let l2 = f.plain(Layer::new().hardlink("metadata.json", "ui/passwd"));
    let err = f.unpack(&[l1, l2], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::ThroughSymlink { link, .. } if link == "ui"),
        "{err}"
    );
    assert!(!f.staging.join("metadata.json").exists());
}

// ---------------------------------------------------------------- special files and modes

#[test]
fn devices_and_fifos_are_skipped() {
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .special("ui/null", EntryType::Char)
            .special("ui/sda", EntryType::Block)
            .special("ui/pipe", EntryType::Fifo)
            .special("dev/null", EntryType::Char)
            .file("ui/a", b"a"),
    );
    let report = f.unpack(&[l], &ui_and_metadata()).unwrap();
    assert_eq!(report.skipped_special, 3);
    assert_eq!(f.tree(), ["ui/", "ui/a"]);
}

#[test]
fn setuid_and_group_write_are_stripped() {
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .dir_mode("ui", 0o1777)
            .file_mode("ui/suid", b"x", 0o4755)
            .file_mode("ui/sgid", b"x", 0o2711)
            .file_mode("ui/world", b"x", 0o666)
            .file_mode("ui/ro", b"x", 0o444)
            .dir_mode("ui/locked", 0o555)
            .file("ui/locked/f", b"x"),
    );
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
    assert_eq!(mode("ui/suid"), 0o755);
    assert_eq!(mode("ui/sgid"), 0o711);
    assert_eq!(mode("ui/world"), 0o644);
    assert_eq!(mode("ui/ro"), 0o444);
    assert_eq!(mode("ui/locked"), 0o755);
    assert_eq!(f.read("ui/locked/f"), b"x");
}

// ---------------------------------------------------------------- overlay

#[test]
fn whiteouts_and_opaque_dirs_across_three_layers() {
    let mut f = Fixture::new();
    let l1 = f.plain(
        Layer::new()
            .file("metadata.json", b"{}")
            .file("ui/a.js", b"a1")
            .file("ui/b.js", b"b1")
            .file("ui/sub/c.js", b"c1")
            .file("ui/keep.js", b"k")
            .file("ui/d/x.js", b"x")
            .file("ui/gone/y.js", b"y")
            .file("other/z", b"z"),
    );
    let l2 = f.plain(
        Layer::new()
            .file("ui/.wh.a.js", b"")
            .dir("ui/sub")
            .file("ui/sub/.wh..wh..opq", b"")
            .file("ui/sub/new.js", b"n2")
            .dir("ui/b.js")
            .file("ui/b.js/inner.js", b"i2")
            .file("ui/d", b"d is a file now"),
    );
    let l3 = f.plain(
        Layer::new()
            .file("ui/.wh.gone", b"")
            .file("ui/a.js", b"a3")
            .file("ui/sub/.wh.new.js", b"")
            .file("ui/sub/.wh..wh.plnk", b""),
    );
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
    let mut f = Fixture::new();
    let l1 = f.plain(Layer::new().file("ui/old.js", b"o").file("ui/x.js", b"x1"));
    let l2 = f.plain(
        Layer::new()
            .file("ui/new.js", b"n")
            .file("ui/x.js", b"x2")
            .file("ui/.wh.x.js", b"")
            .file("ui/.wh..wh..opq", b""),
    );
    f.unpack(&[l1, l2], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/new.js", "ui/x.js"]);
    assert_eq!(f.read("ui/x.js"), b"x2");
}

#[test]
fn a_whiteout_of_a_dir_the_layer_also_writes_keeps_only_the_new_content() {
    let mut f = Fixture::new();
    let l1 = f.plain(Layer::new().file("ui/old.js", b"o"));
    let l2 = f.plain(Layer::new().file("ui/new.js", b"n").file(".wh.ui", b""));
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
    let mut f = Fixture::new();
    let l1 = f.plain(
        Layer::new()
            .file("metadata.json", b"old")
            .file("ui/a", b"a"),
    );
    let l2 = f.plain(
        Layer::new()
            .file(".wh..wh..opq", b"")
            .file("metadata.json", b"new"),
    );
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

// ---------------------------------------------------------------- compression

fn simple_tar() -> Vec<u8> {
    Layer::new()
        .file("metadata.json", b"{\"icon\":\"x.svg\"}")
        .file("ui/index.html", b"<html>")
        .tar()
}

#[test]
fn gzip_zstd_and_plain_layers() {
    for (bytes, media_type) in [
        (gzip(&simple_tar()), TAR_GZIP),
        (gzip(&simple_tar()), DOCKER_GZIP),
        (zstd(&simple_tar()), TAR_ZSTD),
        (simple_tar(), TAR),
    ] {
        let mut f = Fixture::new();
        let l = f.blob(&bytes, media_type);
        f.unpack(&[l], &ui_and_metadata()).unwrap();
        assert_eq!(
            f.tree(),
            ["metadata.json", "ui/", "ui/index.html"],
            "{media_type}"
        );
        assert_eq!(f.read("ui/index.html"), b"<html>");
    }
}

#[test]
fn magic_bytes_win_over_the_media_type() {
    for (bytes, media_type) in [
        (gzip(&simple_tar()), TAR),
        (simple_tar(), TAR_GZIP),
        (zstd(&simple_tar()), DOCKER_GZIP),
        (gzip(&simple_tar()), TAR_ZSTD),
    ] {
        let mut f = Fixture::new();
        let l = f.blob(&bytes, media_type);
        f.unpack(&[l], &ui_and_metadata()).unwrap();
        assert_eq!(f.read("metadata.json"), b"{\"icon\":\"x.svg\"}");
    }
}

#[test]
fn unknown_media_type_is_refused() {
    let mut f = Fixture::new();
    let l = f.blob(
        &simple_tar(),
        "application/vnd.oci.image.layer.v1.tar+encrypted",
    );
    let err = f.unpack(&[l], &ui_and_metadata()).unwrap_err();
    assert!(
        matches!(&err, UnpackError::UnsupportedMediaType { .. }),
        "{err}"
    );
}

#[test]
fn corrupt_layer_is_an_error_naming_the_layer() {
    let mut f = Fixture::new();
    let mut bytes = gzip(&simple_tar());
    let n = bytes.len();
    bytes.truncate(n / 2);
    let l = f.blob(&bytes, TAR_GZIP);
    let err = f
        .unpack(std::slice::from_ref(&l), &ui_and_metadata())
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::Read { layer, .. } if *layer == l.digest),
        "{err}"
    );
}

// ---------------------------------------------------------------- limits

/// A gzip stream of many members: the tar header of one `size`-byte file
/// `name`, then `chunks` members of 1 MiB of zeros each. It stays small on
/// disk and expands to `chunks` MiB.
fn gzip_bomb(name: &str, size: u64, chunks: usize) -> Vec<u8> {
    let mut h = header(name.as_bytes(), EntryType::Regular, size, 0o644);
    h.set_cksum();
    let mut out = gzip(h.as_bytes());
    let zeros = gzip(&vec![0u8; 1 << 20]);
    for _ in 0..chunks {
        out.extend_from_slice(&zeros);
    }
    out
}

const MIB: u64 = 1 << 20;

#[test]
fn gzip_bomb_stops_at_the_layer_limit() {
    let mut f = Fixture::new();
    let bomb = gzip_bomb("ui/bomb.bin", 100 * MIB, 100);
    assert!(bomb.len() < 1 << 20, "the bomb is {} bytes", bomb.len());
    let l = f.blob(&bomb, TAR_GZIP);
    let limits = Limits {
        max_layer_bytes: 10 * MIB,
        max_file_bytes: 512 * MIB,
        ..Limits::default()
    };
    let err = f
        .unpack_with(std::slice::from_ref(&l), &ui_and_metadata(), &limits)
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::LayerTooLarge { layer, limit, at: dockhand_oci::unpack::At::Entry(e) }
            if *layer == l.digest && *limit == 10 * MIB && e == "ui/bomb.bin"),
        "{err}"
    );
    let written = fs_err::metadata(f.staging.join("ui/bomb.bin")).map_or(0, |m| m.len());
    assert!(written <= 10 * MIB, "{written} bytes written");
}

#[test]
fn gzip_bomb_in_a_skipped_entry_is_stopped_too() {
    let mut f = Fixture::new();
    let l = f.blob(&gzip_bomb("usr/lib/huge", 100 * MIB, 100), DOCKER_GZIP);
    let limits = Limits {
        max_layer_bytes: 10 * MIB,
        ..Limits::default()
    };
    let err = f
        .unpack_with(&[l], &ui_and_metadata(), &limits)
        .unwrap_err();
    assert!(matches!(&err, UnpackError::LayerTooLarge { .. }), "{err}");
    assert!(f.tree().is_empty());
}

#[test]
fn the_total_limit_spans_layers() {
    let mut f = Fixture::new();
    let data = vec![7u8; 6 * MIB as usize];
    let l1 = f.plain(Layer::new().file("ui/one", &data));
    let l2 = f.plain(Layer::new().file("other/two", &data));
    let limits = Limits {
        max_layer_bytes: 8 * MIB,
        max_total_bytes: 10 * MIB,
        ..Limits::default()
    };
    let err = f
        .unpack_with(&[l1, l2.clone()], &ui_and_metadata(), &limits)
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::TotalTooLarge { layer, limit, .. }
            if *layer == l2.digest && *limit == 10 * MIB),
        "{err}"
    );
}

#[test]
fn the_total_limit_applies_to_files_written() {
    let mut f = Fixture::new();
    let data = vec![7u8; 6 * MIB as usize];
    let l1 = f.plain(Layer::new().file("ui/one", &data));
    let l2 = f.plain(
        Layer::new()
            .file("ui/two", &data)
            .hardlink("ui/three", "ui/one"),
    );
    let limits = Limits {
        max_total_bytes: 16 * MIB,
        ..Limits::default()
    };
    let err = f
        .unpack_with(&[l1, l2.clone()], &ui_and_metadata(), &limits)
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::FilesTooLarge { layer, entry, total, limit }
            if *layer == l2.digest && entry == "ui/three" && *total == 18 * MIB && *limit == 16 * MIB),
        "{err}"
    );
}

#[test]
fn a_file_over_the_single_file_cap_is_refused_before_writing() {
    let mut f = Fixture::new();
    let l = f.plain(
        Layer::new()
            .file("ui/small", b"ok")
            .file("ui/big", &vec![1u8; 2 * MIB as usize]),
    );
    let limits = Limits {
        max_file_bytes: MIB,
        ..Limits::default()
    };
    let err = f
        .unpack_with(std::slice::from_ref(&l), &ui_and_metadata(), &limits)
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::FileTooLarge { entry, size, limit, what, layer }
            if entry == "ui/big" && *size == 2 * MIB && *limit == MIB
                && *what == "a single file" && *layer == l.digest),
        "{err}"
    );
    assert_eq!(f.tree(), ["ui/", "ui/small"]);
}

#[test]
fn metadata_json_has_its_own_cap() {
    let mut f = Fixture::new();
    let l = f.plain(Layer::new().file("metadata.json", &vec![b' '; 4096]));
    let limits = Limits {
        max_metadata_bytes: 1024,
        ..Limits::default()
    };
    let err = f
        .unpack_with(&[l], &ui_and_metadata(), &limits)
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::FileTooLarge { what, limit: 1024, .. } if *what == "metadata.json"),
        "{err}"
    );
}

#[test]
fn too_many_entries_is_refused() {
    let mut f = Fixture::new();
    let mut layer = Layer::new();
    for i in 0..11 {
        layer = layer.file(&format!("other/{i}"), b"");
    }
    let l = f.plain(layer);
    let limits = Limits {
        max_entries_per_layer: 10,
        ..Limits::default()
    };
    let err = f
        .unpack_with(&[l], &ui_and_metadata(), &limits)
        .unwrap_err();
    assert!(
        matches!(&err, UnpackError::TooManyEntries { entry, limit: 10, .. } if entry == "other/10"),
        "{err}"
    );
}

// ---------------------------------------------------------------- find_file_top_down

/// A layer whose blob does not exist: reading it is an error, so a lookup
/// that succeeds proves it never touched it.
fn unreadable(f: &mut Fixture) -> LayerInput {
    let mut l = f.blob(b"", TAR_GZIP);
    fs_err::remove_file(&l.path).expect("remove blob");
    l.path = f.blobs.join("missing");
    f.count -= 1;
    l
}

#[test]
fn lookup_reads_only_the_top_layer_when_it_has_the_file() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let top = f.blob(
        &gzip(&Layer::new().file("./metadata.json", b"{\"v\":2}").tar()),
        TAR_GZIP,
    );
    let layers = [bottom.clone(), top];
    let found = find_file_top_down(&layers, "metadata.json", 1 << 20).unwrap();
    assert_eq!(found, Some((b"{\"v\":2}".to_vec(), 1)));
    let lookup = lookup_top_down(&layers, "/metadata.json", 1 << 20, &Limits::default()).unwrap();
    assert_eq!(lookup.layers_read, [1]);
    // Reading the bottom layer really would fail.
    assert!(matches!(
        find_file_top_down(&[bottom], "metadata.json", 1 << 20),
        Err(UnpackError::Open { .. })
    ));
}

#[test]
fn lookup_returns_none_when_an_upper_layer_whiteouts_the_file() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let with = f.plain(Layer::new().file("metadata.json", b"{}"));
    let whiteout = f.plain(Layer::new().file(".wh.metadata.json", b""));
    let layers = [bottom, with, whiteout];
    assert_eq!(
        find_file_top_down(&layers, "metadata.json", 1024).unwrap(),
        None
    );
    let lookup = lookup_top_down(&layers, "metadata.json", 1024, &Limits::default()).unwrap();
    assert_eq!(lookup.outcome, Outcome::Deleted { layer: 2 });
    assert_eq!(lookup.layers_read, [2]);
}

#[test]
fn lookup_respects_opaque_and_deleted_parents() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let opaque = f.plain(Layer::new().dir("ui").file("ui/.wh..wh..opq", b""));
    let lookup = lookup_top_down(
        &[bottom.clone(), opaque],
        "ui/icon.svg",
        1024,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(lookup.outcome, Outcome::Deleted { layer: 1 });

    let parent_gone = f.plain(Layer::new().file(".wh.ui", b""));
    assert_eq!(
        find_file_top_down(&[bottom.clone(), parent_gone], "ui/icon.svg", 1024).unwrap(),
        None
    );
    let parent_is_file = f.plain(Layer::new().file("ui", b"x"));
    assert_eq!(
        find_file_top_down(&[bottom, parent_is_file], "ui/icon.svg", 1024).unwrap(),
        None
    );
}

#[test]
fn lookup_goes_down_until_a_layer_decides() {
    let mut f = Fixture::new();
    let l0 = f.plain(Layer::new().file("metadata.json", b"zero"));
    let l1 = f.plain(Layer::new().file("metadata.json", b"one").file("ui/x", b""));
    let l2 = f.plain(Layer::new().file("ui/y", b""));
    let l3 = f.plain(Layer::new().file("other", b""));
    let lookup = lookup_top_down(
        &[l0.clone(), l1, l2, l3],
        "metadata.json",
        1024,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        lookup.outcome,
        Outcome::Found {
            bytes: b"one".to_vec(),
            layer: 1
        }
    );
    assert_eq!(lookup.layers_read, [3, 2, 1]);

    let absent = lookup_top_down(&[l0], "nope.json", 1024, &Limits::default()).unwrap();
    assert_eq!(absent.outcome, Outcome::Absent);
    assert_eq!(absent.layers_read, [0]);
}

#[test]
fn lookup_finds_a_file_its_own_layer_also_whiteouts() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let top = f.plain(
        Layer::new()
            .file(".wh..wh..opq", b"")
            .file("metadata.json", b"{}"),
    );
    assert_eq!(
        find_file_top_down(&[bottom, top], "metadata.json", 1024).unwrap(),
        Some((b"{}".to_vec(), 1))
    );
}

#[test]
fn lookup_refuses_big_files_dirs_and_hostile_layers() {
    let mut f = Fixture::new();
    let big = f.plain(Layer::new().file("metadata.json", &[b' '; 2048]));
    let err = find_file_top_down(&[big], "metadata.json", 1024).unwrap_err();
    assert!(
        matches!(
            &err,
            UnpackError::FileTooLarge {
                size: 2048,
                limit: 1024,
                ..
            }
        ),
        "{err}"
    );

    let dir = f.plain(Layer::new().dir("metadata.json"));
    let err = find_file_top_down(&[dir], "metadata.json", 1024).unwrap_err();
    assert!(
        matches!(
            &err,
            UnpackError::NotRegularFile {
                kind: "directory",
                ..
            }
        ),
        "{err}"
    );

    let hostile = f.plain(
        Layer::new()
            .raw_file(b"../evil", b"")
            .file("metadata.json", b"{}"),
    );
    let err = find_file_top_down(&[hostile], "metadata.json", 1024).unwrap_err();
    assert!(matches!(&err, UnpackError::UnsafePath { .. }), "{err}");

    let err = find_file_top_down(&[], "../metadata.json", 1024).unwrap_err();
    assert!(matches!(&err, UnpackError::Selection(_)), "{err}");
    f.assert_nothing_outside();
}

#[test]
fn lookup_reads_zstd_layers() {
    let mut f = Fixture::new();
    let l = f.blob(&zstd(&simple_tar()), TAR_ZSTD);
    let (bytes, layer) = find_file_top_down(&[l], "metadata.json", 1024)
        .unwrap()
        .unwrap();
    assert_eq!(bytes, b"{\"icon\":\"x.svg\"}");
    assert_eq!(layer, 0);
}

#[test]
fn report_counts() {
    let mut f = Fixture::new();
    let l = f.blob(
        &gzip(
            &Layer::new()
                .dir("ui")
                .file("ui/a", b"12345")
                .symlink("ui/b", "a")
                .special("ui/c", EntryType::Fifo)
                .file_mode("ui/d", b"1", 0o4755)
                .tar(),
        ),
        TAR_GZIP,
    );
    let report = f.unpack(&[l], &ui_and_metadata()).unwrap();
    assert_eq!(
        report,
        UnpackReport {
            files: 2,
            dirs: 1,
            symlinks: 1,
            bytes: 6,
            skipped_special: 1,
            stripped_setid: 1,
            layers_read: 1,
        }
    );
    let mut s = String::new();
    fs_err::File::open(f.staging.join("ui/b"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "12345");
}
