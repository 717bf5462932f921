//! Daemonless builds: what stops a build (what stops an install, and with
//! `strict` what `validate` refuses), files added per platform, the
//! architecture check of added executables, and a SRC outside the directory
//! told apart from a symlink leading out of it.

use std::collections::BTreeMap;
use std::io::Read;

use dockhand_oci::Digest;
use dockhand_oci::build::{BlobSink, BuildError, BuildOptions, ExtensionDir, ExtraFile, build};
use dockhand_spec::{Code, Severity};
use dockhand_testkit::elf;
use serde_json::Value;

/// Blobs in memory.
#[derive(Default)]
struct Sink(BTreeMap<String, Vec<u8>>);

impl BlobSink for Sink {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<Digest> {
        let digest = Digest::sha256_of(bytes);
        self.0.insert(digest.to_string(), bytes.to_vec());
        Ok(digest)
    }
}

impl Sink {
    fn json(&self, digest: &str) -> Value {
        serde_json::from_slice(&self.0[digest]).expect("json blob")
    }

    /// Layer digests of each platform's manifest, by platform.
    fn layers(&self, index: &str) -> BTreeMap<String, Vec<String>> {
        let index = self.json(index);
        let mut out = BTreeMap::new();
        for m in index["manifests"].as_array().expect("manifests") {
            let p = &m["platform"];
            let name = format!(
                "{}/{}",
                p["os"].as_str().expect("os"),
                p["architecture"].as_str().expect("arch")
            );
            let manifest = self.json(m["digest"].as_str().expect("digest"));
            let layers = manifest["layers"]
                .as_array()
                .expect("layers")
                .iter()
                .map(|l| l["digest"].as_str().expect("digest").to_owned())
                .collect();
            out.insert(name, layers);
        }
        out
    }

    /// The files of a layer: path to contents.
    fn files(&self, layer: &str) -> BTreeMap<String, Vec<u8>> {
        let gz = flate2::read::GzDecoder::new(self.0[layer].as_slice());
        let mut out = BTreeMap::new();
        for entry in tar::Archive::new(gz).entries().expect("tar") {
            let mut entry = entry.expect("entry");
            if entry.header().entry_type().is_file() {
                let path = entry.path().expect("path").to_string_lossy().into_owned();
                let mut bytes = Vec::new();
                entry.read_to_end(&mut bytes).expect("read");
                out.insert(path, bytes);
            }
        }
        out
    }
}

const LABELS: &str = r#"{
  "org.opencontainers.image.title": "T",
  "org.opencontainers.image.description": "D",
  "org.opencontainers.image.vendor": "V",
  "com.docker.desktop.extension.api.version": ">= 0.3.0",
  "com.docker.desktop.extension.icon": "https://example.com/icon.svg",
  "com.docker.extension.screenshots": "[]",
  "com.docker.extension.detailed-description": "d",
  "com.docker.extension.publisher-url": "https://example.com",
  "com.docker.extension.additional-urls": "[]",
  "com.docker.extension.changelog": "CHANGELOG",
  "com.docker.extension.categories": "utility-tools"
}"#;

/// A UI-only extension with an icon and complete labels (the changelog
/// label holds `changelog`).
fn extension(changelog: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    let write = |rel: &str, bytes: &[u8]| {
        let path = dir.path().join(rel);
        fs_err::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs_err::write(path, bytes).expect("write");
    };
    write(
        "metadata.json",
        br#"{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"index.html"}}}"#,
    );
    write("icon.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    write("ui/index.html", b"<p>hi</p>");
    write(
        "labels.json",
        LABELS.replace("CHANGELOG", changelog).as_bytes(),
    );
    write("out/amd64/backend", &elf::header(elf::AMD64));
    write("out/arm64/backend", &elf::header(elf::ARM64));
    write("run.sh", b"#!/bin/sh\nexec /backend\n");
    dir
}

fn options(platforms: &[&str], adds: &[&str]) -> BuildOptions {
    BuildOptions {
        platforms: platforms
            .iter()
            .map(|p| p.parse().expect("platform"))
            .collect(),
        extra_files: adds
            .iter()
            .map(|a| a.parse::<ExtraFile>().expect("--add parses"))
            .collect(),
        ..Default::default()
    }
}

fn try_build(
    dir: &tempfile::TempDir,
    options: &BuildOptions,
) -> (Result<String, BuildError>, Sink) {
    let ext = ExtensionDir::open(dir.path()).expect("opens");
    let mut sink = Sink::default();
    let out = build(&ext, options, &mut sink).map(|o| {
        assert!(
            o.report.is_valid(),
            "warnings only: {:?}",
            o.report.diagnostics
        );
        o.index.digest.to_string()
    });
    (out, sink)
}

const BOTH: &[&str] = &["linux/amd64", "linux/arm64"];

#[test]
fn an_empty_changelog_builds_with_a_warning_and_strict_refuses_it() {
    let dir = extension("");
    let ext = ExtensionDir::open(dir.path()).expect("opens");
    let built = build(&ext, &options(BOTH, &[]), &mut Sink::default()).expect("builds");
    let found: Vec<_> = built
        .report
        .diagnostics
        .iter()
        .map(|d| (d.code, d.severity))
        .collect();
    assert_eq!(found, [(Code::EmptyLabel, Severity::Warning)]);

    let strict = BuildOptions {
        strict: true,
        ..options(BOTH, &[])
    };
    let mut sink = Sink::default();
    match build(&ext, &strict, &mut sink) {
        Err(BuildError::Invalid { report, errors, .. }) => {
            assert_eq!(errors, 1);
            assert_eq!(report.diagnostics[0].code, Code::EmptyLabel);
            assert_eq!(report.diagnostics[0].severity, Severity::Error);
        }
        other => panic!("strict refuses an empty changelog: {other:?}"),
    }
    assert!(sink.0.is_empty(), "nothing written");
}

#[test]
fn without_labels_the_image_builds_with_each_missing_label_a_warning() {
    let dir = extension("x");
    fs_err::remove_file(dir.path().join("labels.json")).expect("rm");
    let ext = ExtensionDir::open(dir.path()).expect("opens");
    let built = build(&ext, &options(BOTH, &[]), &mut Sink::default()).expect("builds");
    assert!(built.labels.is_empty());
    assert!(
        built
            .report
            .diagnostics
            .iter()
            .all(|d| d.code == Code::MissingLabel && d.severity == Severity::Warning),
        "{:?}",
        built.report.diagnostics
    );
    assert!(built.report.warnings() >= 3);
    let strict = BuildOptions {
        strict: true,
        ..options(BOTH, &[])
    };
    assert!(matches!(
        build(&ext, &strict, &mut Sink::default()),
        Err(BuildError::Invalid { .. })
    ));
}

#[test]
fn format_errors_still_stop_the_build() {
    let dir = extension("");
    fs_err::remove_file(dir.path().join("ui/index.html")).expect("rm");
    let (out, sink) = try_build(&dir, &options(BOTH, &[]));
    match out {
        Err(BuildError::Invalid { report, errors, .. }) => {
            assert_eq!(errors, 1, "{:?}", report.diagnostics);
            let codes: Vec<_> = report.diagnostics.iter().map(|d| d.code).collect();
            assert!(codes.contains(&Code::MissingFile), "{codes:?}");
            // The marketplace finding is shown, as a warning.
            assert!(
                report
                    .diagnostics
                    .iter()
                    .any(|d| d.code == Code::EmptyLabel && d.severity == Severity::Warning)
            );
        }
        other => panic!("a missing UI file stops the build: {other:?}"),
    }
    assert!(sink.0.is_empty());
}

#[test]
fn per_platform_files_go_into_their_platform_only() {
    let dir = extension("c");
    let adds = [
        "linux/amd64=out/amd64/backend:/backend",
        "linux/arm64=out/arm64/backend:/backend",
        "run.sh:/run.sh",
    ];
    let (out, sink) = try_build(&dir, &options(BOTH, &adds));
    let index = out.expect("builds");
    let layers = sink.layers(&index);
    let (amd64, arm64) = (&layers["linux/amd64"], &layers["linux/arm64"]);
    assert_eq!(amd64.len(), arm64.len());
    assert_ne!(amd64[0], arm64[0], "each platform has its own added layer");
    assert_eq!(
        amd64[1..],
        arm64[1..],
        "the extension's own layers are shared"
    );
    for (platform, machine) in [("linux/amd64", elf::AMD64), ("linux/arm64", elf::ARM64)] {
        let files = sink.files(&layers[platform][0]);
        assert_eq!(files["backend"], elf::header(machine), "{platform}");
        assert_eq!(files["run.sh"], b"#!/bin/sh\nexec /backend\n", "{platform}");
        assert_eq!(files.len(), 2, "{platform}: {:?}", files.keys());
    }
}

#[test]
fn files_for_every_platform_share_one_layer() {
    let dir = extension("c");
    let (out, sink) = try_build(&dir, &options(BOTH, &["run.sh:/run.sh"]));
    let layers = sink.layers(&out.expect("builds"));
    assert_eq!(layers["linux/amd64"], layers["linux/arm64"]);
    // A binary for one platform, built for that platform only.
    let (out, _) = try_build(&dir, &options(&["linux/arm64"], &["out/arm64/backend:/b"]));
    out.expect("an arm64 binary in an arm64-only build");
}

#[test]
fn an_executable_of_another_architecture_is_refused() {
    let dir = extension("c");
    let (out, sink) = try_build(&dir, &options(BOTH, &["out/amd64/backend:/backend"]));
    let err = assert_refused!(out, BuildError::WrongArchitecture { .. });
    let text = err.to_string();
    assert!(
        text.starts_with(
            "out/amd64/backend is an ELF executable for amd64, which cannot run in the linux/arm64 image: "
        ),
        "{text}"
    );
    assert!(text.contains("--add linux/amd64=SRC:DEST"), "{text}");
    assert!(sink.0.is_empty(), "nothing written");

    // Its mode does not matter; a script's header does not count.
    let (out, _) = try_build(&dir, &options(&["linux/amd64"], &["run.sh:/x"]));
    out.expect("a script goes anywhere");

    // The wrong platform qualified explicitly.
    let (out, _) = try_build(&dir, &options(BOTH, &["linux/arm64=out/amd64/backend:/b"]));
    assert_refused!(out, BuildError::WrongArchitecture { .. });

    // A macOS binary in a Linux image, of the right architecture.
    let mut macho = 0xfeed_facf_u32.to_le_bytes().to_vec();
    macho.extend(0x0100_000c_u32.to_le_bytes());
    macho.extend([0u8; 24]);
    fs_err::write(dir.path().join("mac"), macho).expect("write");
    let (out, _) = try_build(&dir, &options(&["linux/arm64"], &["mac:/mac"]));
    let text = out.expect_err("Mach-O in linux").to_string();
    assert!(
        text.contains(
            "is a Mach-O executable for arm64, which cannot run in the linux/arm64 image"
        ) && text.contains("Linux (ELF)"),
        "{text}"
    );
}

#[test]
fn add_mistakes_are_named() {
    let dir = extension("c");
    let (out, _) = try_build(&dir, &options(BOTH, &["linux/s390x=run.sh:/x"]));
    let text = out.expect_err("platform not built").to_string();
    assert!(
        text.contains("linux/s390x is not built here (building linux/amd64, linux/arm64)"),
        "{text}"
    );
    let (out, _) = try_build(
        &dir,
        &options(BOTH, &["run.sh:/x", "linux/arm64=run.sh:/x/"]),
    );
    let text = out.expect_err("twice").to_string();
    assert!(
        text.contains("two --add files go to /x in the linux/arm64 image"),
        "{text}"
    );
    let (out, _) = try_build(&dir, &options(BOTH, &["missing:/x"]));
    let text = out.expect_err("missing").to_string();
    assert!(text.starts_with("missing: does not exist in "), "{text}");
}

#[test]
fn a_source_outside_the_directory_is_called_that() {
    let dir = extension("c");
    let outside = tempfile::tempdir().expect("temp dir");
    let file = outside.path().join("backend");
    fs_err::write(&file, b"#!/bin/sh\n").expect("write");
    let name = dir
        .path()
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let root = fs_err::canonicalize(dir.path()).expect("canonical");
    for src in [
        file.display().to_string(),
        format!("../{name}-not-here/x"),
        "../../etc/hostname".to_owned(),
    ] {
        let (out, _) = try_build(&dir, &options(BOTH, &[&format!("{src}:/b")]));
        let err = assert_refused!(out, BuildError::OutsideDir { .. });
        let text = err.to_string();
        assert_eq!(
            text,
            format!(
                "{src} is outside the directory {}: --add reads SRC inside DIR (relative to it); copy or build the file into {}",
                root.display(),
                root.display()
            )
        );
        assert!(!text.contains("symlink"), "{text}");
    }
    // `..` that comes back in is inside.
    let (out, _) = try_build(&dir, &options(BOTH, &[&format!("../{name}/run.sh:/b")]));
    out.expect("a path that stays inside");
    // A symlink inside the directory leading out of it is called a symlink.
    fs_err::os::unix::fs::symlink(&file, dir.path().join("link")).expect("symlink");
    let (out, _) = try_build(&dir, &options(BOTH, &["link:/b"]));
    let text = out.expect_err("symlink out").to_string();
    assert_eq!(
        text,
        "link: is a symlink that leads outside the directory: copy the file in"
    );
}

#[test]
fn a_real_binary_reads_as_this_machine() {
    use dockhand_oci::Platform;
    use dockhand_oci::build::executable::{Executable, Format, HEAD_BYTES};
    let mut head = vec![0u8; HEAD_BYTES];
    let n = fs_err::File::open("/proc/self/exe")
        .and_then(|mut f| f.read(&mut head))
        .expect("reads this test binary");
    let exe = Executable::parse(&head[..n]).expect("this test binary is an executable");
    assert_eq!(exe.format, Format::Elf);
    assert!(
        exe.runs_on(&Platform::host()),
        "{exe} on {}",
        Platform::host()
    );
}
