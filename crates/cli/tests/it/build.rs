//! `dockhand build` as an author meets it: it stops on what stops an install
//! and warns about marketplace findings (`--strict` refuses them), files go
//! into one platform's image with `--add PLATFORM=SRC:DEST`, an executable
//! of another architecture is refused, and a SRC outside DIR is called that.

use std::process::Output;

use serde_json::Value;

use crate::support::{self, TempDir};

/// A hand-made 64-bit little-endian ELF header for `machine` (62 amd64, 183 arm64).
fn elf(machine: u16) -> Vec<u8> {
    let mut h = vec![0u8; 64];
    h[..4].copy_from_slice(b"\x7fELF");
    h[4] = 2;
    h[5] = 1;
    h[6] = 1;
    h[18..20].copy_from_slice(&machine.to_le_bytes());
    h
}

/// An extension directory whose Dockerfile sets `changelog=""`, as a
/// published extension does, with backend binaries for amd64 and arm64.
fn empty_changelog_extension() -> TempDir {
    let dir = TempDir::new("build-ext");
    dir.write(
        "metadata.json",
        r#"{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"Empty changelog","root":"/ui","src":"index.html"}}}"#,
    );
    dir.write("icon.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
    dir.write("ui/index.html", "<p>hello</p>");
    dir.write(
        "Dockerfile",
        r#"FROM scratch
LABEL org.opencontainers.image.title="Empty changelog" \
    org.opencontainers.image.description="An extension that ships an empty changelog" \
    org.opencontainers.image.vendor="dockhand tests" \
    com.docker.desktop.extension.api.version=">= 0.3.0" \
    com.docker.desktop.extension.icon="https://example.com/icon.svg" \
    com.docker.extension.screenshots="[]" \
    com.docker.extension.detailed-description="<p>Tests.</p>" \
    com.docker.extension.publisher-url="https://example.com" \
    com.docker.extension.additional-urls="[]" \
    com.docker.extension.changelog="" \
    com.docker.extension.categories="utility-tools"
COPY metadata.json icon.svg /
COPY ui /ui
"#,
    );
    dir.write("out/amd64/backend", elf(62));
    dir.write("out/arm64/backend", elf(183));
    dir
}

fn build(home: &TempDir, dir: &TempDir, extra: &[&str]) -> Output {
    let mut args = vec!["build", "-t", "dockhand-it/build:1"];
    args.extend(extra);
    support::dockhand()
        .env("DOCKHAND_HOME", &home.0)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .current_dir(&dir.0)
        .args(&args)
        .arg(".")
        .output()
        .expect("dockhand runs")
}

/// `text` with the temporary paths and digests replaced by names.
fn redact(text: &str, dir: &TempDir, home: &TempDir) -> String {
    let mut out = text
        .replace(&dir.arg(), "[DIR]")
        .replace(&home.arg(), "[HOME]");
    while let Some(at) = out.find("sha256:") {
        let end = (at + 7 + 64).min(out.len());
        out.replace_range(at..end, "[DIGEST]");
    }
    out
}

fn no_blob_written(home: &TempDir) -> bool {
    let blobs = home.0.join("store/blobs/sha256");
    !blobs.exists() || fs_err::read_dir(&blobs).expect("dir").count() == 0
}

#[test]
fn an_empty_changelog_builds_with_a_warning_and_fails_with_strict() {
    let dir = empty_changelog_extension();
    let home = TempDir::new("build-home");
    let out = build(&home, &dir, &[]);
    let (stdout, stderr) = support::texts(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    insta::assert_snapshot!(
        "build_empty_changelog",
        redact(&format!("{stderr}---\n{stdout}"), &dir, &home)
    );

    let strict_home = TempDir::new("build-strict");
    let out = build(&strict_home, &dir, &["--strict"]);
    let (stdout, stderr) = support::texts(&out);
    assert_eq!(out.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stdout.contains("invalid, 1 error and 0 warnings")
            && stdout.contains("error   DH202  label:com.docker.extension.changelog"),
        "{stdout}"
    );
    assert!(
        stderr.contains(
            "is not a valid extension: fix the errors above (--strict refuses marketplace findings too); nothing was written"
        ),
        "{stderr}"
    );
    assert!(no_blob_written(&strict_home));

    // What build let through, install takes (on the real engine).
    let Some(env) =
        support::real_env("an_empty_changelog_builds_with_a_warning_and_fails_with_strict")
    else {
        return;
    };
    let source = format!(
        "oci:{}:docker.io/dockhand-it/build:1",
        home.0.join("store").display()
    );
    let out = support::dockhand()
        .env("DOCKHAND_HOME", &home.0)
        .env("DOCKER_HOST", &env.docker_host)
        .args(["install", "-y", &source])
        .output()
        .expect("dockhand runs");
    let (stdout, stderr) = support::texts(&out);
    assert!(out.status.success(), "install: {stdout}{stderr}");
    let out = support::dockhand()
        .env("DOCKHAND_HOME", &home.0)
        .env("DOCKER_HOST", &env.docker_host)
        .args(["uninstall", "dockhand-it/build"])
        .output()
        .expect("dockhand runs");
    assert!(
        out.status.success(),
        "uninstall: {}",
        support::texts(&out).1
    );
}

#[test]
fn an_amd64_binary_for_every_platform_is_refused() {
    let dir = empty_changelog_extension();
    let home = TempDir::new("build-arch");
    let stderr = support::failed(
        "dockhand build",
        &build(
            &home,
            &dir,
            &["--add", "out/amd64/backend:/backend", "--cmd", "/backend"],
        ),
    );
    assert!(
        stderr.contains(
            "error: out/amd64/backend is an ELF executable for amd64, which cannot run in the linux/arm64 image: give each platform its own build with --add linux/amd64=SRC:DEST and --add linux/arm64=SRC:DEST, or build only --platform linux/amd64"
        ),
        "{stderr}"
    );
    assert!(no_blob_written(&home));
}

#[test]
fn a_binary_per_platform_builds() {
    let dir = empty_changelog_extension();
    let home = TempDir::new("build-per-platform");
    let out = build(
        &home,
        &dir,
        &[
            "--add",
            "linux/amd64=out/amd64/backend:/backend",
            "--add",
            "linux/arm64=out/arm64/backend:/backend",
            "--cmd",
            "/backend",
            "--format",
            "json",
        ],
    );
    let (stdout, stderr) = support::texts(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    let built: Value = serde_json::from_str(&stdout).expect("json");
    let platforms = built["platforms"].as_array().expect("platforms");
    let names: Vec<&str> = platforms
        .iter()
        .map(|p| p["platform"].as_str().expect("platform"))
        .collect();
    assert_eq!(names, ["linux/amd64", "linux/arm64"]);
    assert_ne!(
        platforms[0]["digest"], platforms[1]["digest"],
        "each platform's image holds its own backend"
    );

    // Each platform's image holds its own binary.
    use dockhand_oci::extract::layer_inputs;
    use dockhand_oci::source::resolve;
    use dockhand_oci::store::Store;
    use dockhand_oci::unpack::find_file_top_down;
    let store = Store::open(home.0.join("store")).expect("store");
    let top = store
        .resolve("docker.io/dockhand-it/build:1")
        .expect("index.json reads")
        .expect("tagged");
    for (platform, machine) in [("linux/amd64", 62u16), ("linux/arm64", 183)] {
        let image = resolve(&store, &top, &platform.parse().expect("platform")).expect("image");
        let found = find_file_top_down(&layer_inputs(&store, &image), "backend", 1 << 20)
            .expect("layers read");
        assert_eq!(
            found.map(|(bytes, _)| bytes),
            Some(elf(machine)),
            "{platform}"
        );
    }
}

#[test]
fn a_source_outside_the_directory_is_called_that() {
    let dir = empty_changelog_extension();
    let home = TempDir::new("build-outside");
    let outside = TempDir::new("build-outside-src");
    let file = outside.write("backend", "#!/bin/sh\n");
    let src = file.display().to_string();
    let out = build(&home, &dir, &["--add", &format!("{src}:/backend")]);
    let stderr = support::failed("dockhand build", &out);
    let root = fs_err::canonicalize(&dir.0).expect("canonical");
    assert!(
        stderr.contains(&format!(
            "error: {src} is outside the directory {}: --add reads SRC inside DIR (relative to it); copy or build the file into {}",
            root.display(),
            root.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("symlink"), "{stderr}");
}
