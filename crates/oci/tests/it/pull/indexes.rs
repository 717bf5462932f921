//! Indexes that nest too deep or claim to loop, an index without the wanted
//! platform, and one that lists a manifest twice.

use dockhand_oci::image::{Descriptor, PlatformSpec, media};
use dockhand_oci::pull::{PullError, PullOptions};
use dockhand_oci::registry::RegistryError;
use dockhand_oci::{Digest, Platform};

use super::extension;
use super::fixture::{
    add_by_digest, assert_blob, assert_store_clean, gets, index, linux_amd64, linux_arm64, publish,
    publish_index, pull_new,
};
use dockhand_testkit::registry::FakeRegistry;

const REPO: &str = "acme/ext";

/// The fake with the amd64 extension's blobs and manifest (by digest, no
/// tag), and the image.
fn registry_with_amd64() -> (FakeRegistry, super::Image) {
    let reg = FakeRegistry::start();
    let img = extension(&linux_amd64(), "1.0");
    publish(&reg, REPO, &img);
    (reg, img)
}

#[tokio::test]
async fn indexes_nested_too_deep_are_refused() {
    let (reg, img) = registry_with_amd64();
    // index 5 → index 4 → … → index 0 → the image: six levels of indexes.
    let mut child = img.desc.clone();
    let mut chain = Vec::new();
    for level in 0..6 {
        let (bytes, desc) = index(std::slice::from_ref(&child));
        if level < 5 {
            add_by_digest(&reg, REPO, media::OCI_INDEX, &bytes);
        } else {
            reg.add_manifest(REPO, "deep", media::OCI_INDEX, &bytes);
        }
        chain.push(desc.digest.clone());
        child = desc;
    }
    let r = reg.reference("acme/ext:deep");

    let (_dir, store, pulled) = pull_new(&reg, "acme/ext:deep", &PullOptions::default()).await;
    let e = pulled.unwrap_err();

    assert!(
        matches!(&e, PullError::IndexLoop(name) if *name == r.to_string()),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!("{r}: image indexes nest too deep or loop back: refusing it")
    );
    let blob_gets = reg
        .log()
        .iter()
        .filter(|q| q.path().contains("/blobs/"))
        .count();
    assert_eq!(blob_gets, 0, "no config or layer was fetched");
    assert_eq!(
        gets(&reg, &format!("/v2/{REPO}/manifests/{}", img.desc.digest)),
        0
    );
    assert_store_clean(&store, &[&img.config_desc.digest]);
}

/// Content addressing makes a real loop impossible (an index would have to
/// contain its own digest); a registry can only claim one by serving an
/// index under a digest it does not have. That is caught as wrong data.
#[tokio::test]
async fn an_index_that_loops_back_is_wrong_data() {
    let reg = FakeRegistry::start();
    // A lists B (by the digest of an empty index); at that digest the
    // registry serves B', which lists A.
    let (_, claimed_b) = index(&[]);
    let (a_bytes, a) = index(std::slice::from_ref(&claimed_b));
    let (b_lie, _) = index(std::slice::from_ref(&a));
    reg.add_manifest(REPO, "loop", media::OCI_INDEX, &a_bytes);
    reg.set(|s| {
        s.manifests.insert(
            (REPO.to_owned(), claimed_b.digest.to_string()),
            (media::OCI_INDEX.to_owned(), b_lie.clone()),
        );
    });
    let (_dir, store, pulled) = pull_new(&reg, "acme/ext:loop", &PullOptions::default()).await;
    let e = pulled.unwrap_err();

    assert!(
        matches!(
            &e,
            PullError::Registry(RegistryError::DigestMismatch { expected, .. })
                if *expected == claimed_b.digest
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.starts_with(&format!(
            "{}/{REPO}:loop@{}: ",
            reg.host(),
            claimed_b.digest
        )),
        "{msg}"
    );
    assert!(msg.ends_with("the registry served wrong data"), "{msg}");
    // A was fetched once, B' once: nothing went round.
    assert_eq!(reg.log().len(), 2);
    assert_store_clean(&store, &[&claimed_b.digest, &Digest::sha256_of(&b_lie)]);
}

#[tokio::test]
async fn an_index_without_the_platform_says_what_it_has() {
    let reg = FakeRegistry::start();
    let amd = extension(&linux_amd64(), "1.0");
    let arm = extension(&linux_arm64(), "1.0");
    publish(&reg, REPO, &amd);
    publish(&reg, REPO, &arm);
    // buildx adds attestation manifests as `unknown/unknown`: not a platform.
    let mut attestation = Descriptor::new(media::OCI_MANIFEST, Digest::sha256_of(b"att"), 3);
    attestation.platform = Some(PlatformSpec::from(&Platform::new(
        "unknown", "unknown", None,
    )));
    let (bytes, _) = index(&[amd.desc.clone(), arm.desc.clone(), attestation]);
    reg.add_manifest(REPO, "1.0", media::OCI_INDEX, &bytes);
    let r = reg.reference("acme/ext:1.0");
    let want = Platform::new("linux", "riscv64", None);

    let options = PullOptions {
        platform: Some(want.clone()),
        ..PullOptions::default()
    };
    let (_dir, store, pulled) = pull_new(&reg, "acme/ext:1.0", &options).await;
    let e = pulled.unwrap_err();

    assert!(
        matches!(&e, PullError::NoPlatform { wanted, .. } if *wanted == want),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        format!(
            "{r} has no linux/riscv64 image (it has linux/amd64, linux/arm64): \
             it cannot run on this host"
        )
    );
    assert_eq!(reg.log().len(), 1, "only the index was fetched");
    assert_store_clean(&store, &[&amd.desc.digest, &arm.desc.digest]);
}

#[tokio::test]
async fn the_wanted_platform_only_is_fetched() {
    let reg = FakeRegistry::start();
    let amd = extension(&linux_amd64(), "1.0");
    let arm = extension(&linux_arm64(), "1.0");
    let top = publish_index(&reg, REPO, "1.0", &[&amd, &arm]);
    let r = reg.reference("acme/ext:1.0");

    let options = PullOptions {
        platform: Some(Platform::new("linux", "arm64", Some("v8"))),
        ..PullOptions::default()
    };
    let (_dir, store, pulled) = pull_new(&reg, "acme/ext:1.0", &options).await;
    let pulled = pulled.unwrap();

    assert_eq!(pulled.top, top);
    assert_eq!(pulled.manifests.len(), 1);
    assert_eq!(pulled.manifests[0].1.digest, arm.desc.digest);
    assert_eq!(pulled.blobs_fetched, 4);
    for (d, bytes) in arm.blobs() {
        assert_blob(&store, d, bytes);
    }
    assert!(!store.has_blob(&amd.desc.digest));
    assert!(!store.has_blob(&amd.config_desc.digest));
    assert_eq!(
        store.resolve(&r.to_string()).unwrap().unwrap().digest,
        top.digest
    );
}

/// An index may list one manifest for several platforms (a UI-only
/// extension runs anywhere): that is no loop.
#[tokio::test]
async fn an_index_listing_a_manifest_twice_is_pulled_once() {
    let (reg, img) = registry_with_amd64();
    let mut on_arm = img.desc.clone();
    on_arm.platform = Some(PlatformSpec::from(&linux_arm64()));
    let (bytes, top) = index(&[img.desc.clone(), on_arm]);
    reg.add_manifest(REPO, "1.0", media::OCI_INDEX, &bytes);
    let r = reg.reference("acme/ext:1.0");

    let (_dir, store, pulled) = pull_new(&reg, "acme/ext:1.0", &PullOptions::default()).await;
    let pulled = pulled.unwrap();

    assert_eq!(pulled.top, top);
    assert_eq!(pulled.blobs_fetched, 4);
    assert_eq!(
        gets(&reg, &format!("/v2/{REPO}/manifests/{}", img.desc.digest)),
        1
    );
    for (d, bytes) in img.blobs() {
        assert_blob(&store, d, bytes);
    }
    assert_eq!(
        store.resolve(&r.to_string()).unwrap().unwrap().digest,
        top.digest
    );
}
