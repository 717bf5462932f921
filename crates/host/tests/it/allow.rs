//! The allow-list in the install path, against a registry that lies: a
//! digest pin is verified whether the install names the tag or the digest,
//! and an unlisted extension is refused before any request.
#![allow(clippy::unwrap_used)] // tests

use dockhand_host::{InstallError, Manager};
use dockhand_oci::source::ImageSource;
use dockhand_oci::{Digest, Reference};

use dockhand_testkit::registry::FakeRegistry;

use crate::support;

const LABELS: &[(&str, &str)] = &[
    ("org.opencontainers.image.title", "Pinned"),
    ("com.docker.desktop.extension.api.version", ">= 0.3.0"),
];

async fn install(m: &Manager, reference: &str) -> Result<(), InstallError> {
    support::install(
        m,
        ImageSource::Registry(Reference::parse(reference).unwrap()),
    )
    .await
}

/// Installs `reference` (a name on `reg`) under an allow-list of
/// `allowed` (also a name on `reg`), which must refuse it as not allowed:
/// the manager, and the error's message.
async fn not_allowed(
    reg: &FakeRegistry,
    home: &std::path::Path,
    allowed: &str,
    reference: &str,
) -> (Manager, String) {
    let host = reg.host();
    let policy = format!("[allow]\nextensions = [\"{host}/{allowed}\"]\n");
    let m = support::with_policy(home, &policy);
    let err = install(&m, &format!("{host}/{reference}"))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, InstallError::NotAllowed { .. }), "{msg}");
    (m, msg)
}

fn other_digest() -> Digest {
    Digest::sha256_of(b"the image the administrator approved")
}

#[tokio::test]
async fn a_tag_pinned_to_a_digest_is_fetched_by_it_and_a_lie_is_refused() {
    let reg = FakeRegistry::start();
    reg.image("acme/ext", "1.0.0", LABELS);
    let pin = other_digest();
    // The registry answers the pinned digest with another manifest.
    reg.lie("acme/ext", &pin, "1.0.0");
    let tmp = tempfile::tempdir().unwrap();
    let allowed = format!("acme/ext:1.0.0@{pin}");
    let (_m, msg) = not_allowed(&reg, tmp.path(), &allowed, "acme/ext:1.0.0").await;
    assert!(msg.contains(&format!("for the pinned {pin}")), "{msg}");
    assert!(msg.contains("system.toml"), "{msg}");
    let log = reg.take_log();
    assert!(
        log.iter().all(|l| !l.contains("/blobs/")),
        "no blob is fetched for a lying manifest: {log:?}"
    );
}

#[tokio::test]
async fn a_tag_must_resolve_to_the_pinned_digest() {
    let reg = FakeRegistry::start();
    let served = reg.image("acme/ext", "2.0.0", LABELS);
    let pin = other_digest();
    let tmp = tempfile::tempdir().unwrap();
    let allowed = format!("acme/ext@{pin}");
    let (m, msg) = not_allowed(&reg, tmp.path(), &allowed, "acme/ext:2.0.0").await;
    assert!(
        msg.contains(&format!(
            "resolved it to {served}, but the allow-list pins {pin}"
        )),
        "{msg}"
    );
    assert!(m.state.list().unwrap().is_empty());
}

#[tokio::test]
async fn an_unlisted_extension_is_refused_before_any_request() {
    let reg = FakeRegistry::start();
    reg.image("acme/ext", "1.0.0", LABELS);
    let tmp = tempfile::tempdir().unwrap();
    let m = support::with_policy(
        tmp.path(),
        &format!(
            "[allow]\nenabled = true\nextensions = [\"{}/acme/other\", \"{}/acme/ext:0.9.0\"]\n",
            reg.host(),
            reg.host()
        ),
    );
    let err = install(&m, &format!("{}/acme/unknown:1.0.0", reg.host()))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("acme/unknown is not listed"),
        "{err}"
    );
    let err = install(&m, &format!("{}/acme/ext:1.0.0", reg.host()))
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("only"), "{msg}");
    assert!(msg.contains("acme/ext:0.9.0"), "{msg}");
    assert!(msg.contains("system.toml:3 ([allow] extensions)"), "{msg}");
    assert!(reg.take_log().is_empty());
}
