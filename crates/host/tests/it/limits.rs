//! Limits of the install path: an image larger than `[limits] image_size`
//! is refused from its manifest, and the staging directories of a crashed
//! install are removed when a manager opens (a running one's are kept).
#![allow(clippy::unwrap_used)] // tests

use dockhand_host::config::Config;
use dockhand_host::{InstallError, Quiet};
use dockhand_oci::Reference;
use dockhand_oci::registry::{RegistryClient, RegistryOptions};
use dockhand_oci::source::ImageSource;
use dockhand_spec::ExtensionId;

use dockhand_testkit::registry::FakeRegistry;

use crate::support;

#[tokio::test]
async fn an_image_past_the_size_limit_is_refused_before_any_blob() {
    let reg = FakeRegistry::start();
    reg.image(
        "acme/ext",
        "1.0.0",
        &[("com.docker.desktop.extension.api.version", ">= 0.3.0")],
    );
    let tmp = tempfile::tempdir().unwrap();
    let mut m = support::open(tmp.path());
    assert_eq!(m.max_image_size, Some(4 << 30), "4GiB unless configured");
    let config = Config::parse(
        &tmp.path().join("config.toml"),
        "[limits]\nimage_size = \"100\"\n",
    )
    .unwrap();
    m.max_image_size = config.image_size();
    let reference = format!("{}/acme/ext:1.0.0", reg.host());
    let req = support::request(ImageSource::Registry(Reference::parse(&reference).unwrap()));
    let client = RegistryClient::new(RegistryOptions::default()).unwrap();
    let err = m.install(&req, &client, &Quiet).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, InstallError::ImageTooLarge { .. }), "{msg}");
    for part in [
        reference.as_str(),
        "linux/amd64",
        "more than the 100B limit",
        "[limits] image_size",
    ] {
        assert!(msg.contains(part), "{part}: {msg}");
    }
    let log = reg.take_log();
    assert!(
        log.iter().all(|l| !l.contains("/blobs/")),
        "no config or layer is fetched: {log:?}"
    );
    assert!(m.state.list().unwrap().is_empty());
}

/// A process that has exited: its pid, free to be reused.
fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    child.wait().unwrap();
    pid
}

#[test]
fn staging_left_by_a_crashed_install_is_removed_at_open() {
    let tmp = tempfile::tempdir().unwrap();
    drop(support::open(tmp.path()));
    let ext = support::layout(tmp.path()).extension(&ExtensionId::parse("acme/ext").unwrap());
    let dead = dead_pid();
    let me = std::process::id();
    let my_start: u64 = fs_err::read_to_string(format!("/proc/{me}/stat"))
        .unwrap()
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .nth(19)
        .unwrap()
        .parse()
        .unwrap();
    let stale = [
        ext.join(format!(".staging-{dead}-12345")),
        ext.join(format!(".staging-{dead}")),
        // This pid, but another process's start time: a reused pid.
        ext.join(format!(".staging-{me}-{}", my_start + 1)),
    ];
    let live = ext.join(format!(".staging-{me}-{my_start}"));
    let unrelated = ext.join("sha256-0123");
    for dir in stale.iter().chain([&live, &unrelated]) {
        fs_err::create_dir_all(dir.join("root/ui")).unwrap();
        fs_err::write(dir.join("root/ui/index.html"), "x").unwrap();
    }
    drop(support::open(tmp.path()));
    for dir in &stale {
        assert!(!dir.exists(), "{} is removed", dir.display());
    }
    assert!(live.exists(), "a running install's staging stays");
    assert!(unrelated.exists(), "an installed version stays");
}
