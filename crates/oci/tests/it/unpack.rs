//! Unpacking hostile and ordinary layers built in the test: the helpers
//! that build layers byte for byte, and the fixture that checks nothing is
//! written outside staging.

mod limits;
mod links;
mod lookup;
mod overlay;
mod paths;

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

/// metadata.json and ui/index.html.
fn simple_tar() -> Vec<u8> {
    Layer::new()
        .file("metadata.json", b"{\"icon\":\"x.svg\"}")
        .file("ui/index.html", b"<html>")
        .tar()
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

    /// A fixture holding `layers`, each written as a plain tar blob, and
    /// their inputs in the same order.
    fn with<const N: usize>(layers: [Layer; N]) -> (Self, [LayerInput; N]) {
        let mut f = Self::new();
        let inputs = layers.map(|layer| f.plain(layer));
        (f, inputs)
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
