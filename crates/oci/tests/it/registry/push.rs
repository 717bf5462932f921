//! Pushing to the fake registry: uploads, skips, mounts, manifests.

use bytes::Bytes;
use dockhand_oci::Digest;
use dockhand_oci::registry::{BlobBody, OCI_MANIFEST, RegistryError, RequestKind};

use super::{client, image_manifest};
use dockhand_testkit::registry::{FakeRegistry, Response};

#[tokio::test]
async fn pushes_blobs_once_and_manifests() {
    let reg = FakeRegistry::start();
    let c = client(3);
    let repo = reg.reference("acme/ext");
    let layer = Bytes::from(vec![5u8; 300_000]);
    let d = Digest::sha256_of(&layer);
    let size = layer.len() as u64;
    assert!(
        c.push_blob(&repo, &d, size, BlobBody::Bytes(layer.clone()))
            .await
            .unwrap()
    );
    assert!(
        !c.push_blob(&repo, &d, size, BlobBody::Bytes(layer.clone()))
            .await
            .unwrap()
    );
    assert_eq!(
        reg.count("PUT", "/v2/acme/ext/blobs/uploads/"),
        1,
        "the second push skipped"
    );
    let put = reg.log().into_iter().find(|r| r.method == "PUT").unwrap();
    assert_eq!(put.query("digest"), Some(d.to_string()));
    assert_eq!(
        put.query("_state").as_deref(),
        Some("x"),
        "the Location's query is kept"
    );

    let config = Bytes::from_static(b"{}");
    let cd = Digest::sha256_of(&config);
    c.push_blob(&repo, &cd, 2, BlobBody::Bytes(config.clone()))
        .await
        .unwrap();
    let manifest = image_manifest(&config, &layer);
    let tagged = reg.reference("acme/ext:1.0");
    let md = c
        .put_manifest(&tagged, OCI_MANIFEST, Bytes::from(manifest.clone()))
        .await
        .unwrap();
    assert_eq!(md, Digest::sha256_of(&manifest));
    assert_eq!(c.get_manifest(&tagged).await.unwrap().digest, md);
    let by_digest = repo.with_digest(md.clone());
    assert_eq!(
        c.put_manifest(&by_digest, OCI_MANIFEST, Bytes::from(manifest.clone()))
            .await
            .unwrap(),
        md
    );
    let e = c
        .put_manifest(&repo.with_digest(cd), OCI_MANIFEST, Bytes::from(manifest))
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e:?}");
    assert!(c.stats().requests(RequestKind::Push) >= 6);
}

#[tokio::test]
async fn pushes_from_a_file_with_an_absolute_location() {
    let reg = FakeRegistry::start();
    reg.set(|s| s.absolute_locations = true);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("layer.tar.gz");
    let content = vec![9u8; 700_000];
    fs_err::write(&path, &content).unwrap();
    let d = Digest::sha256_of(&content);
    let c = client(3);
    let repo = reg.reference("acme/ext");
    assert!(
        c.push_blob(&repo, &d, 700_000, BlobBody::File(path.clone()))
            .await
            .unwrap()
    );
    let stored = reg.state.lock().unwrap().blobs[&("acme/ext".to_owned(), d.to_string())].clone();
    assert_eq!(stored, content);
    // A size that does not match the file is refused before uploading.
    let e = c
        .push_blob(&reg.reference("acme/other"), &d, 5, BlobBody::File(path))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("the blob has 700000 bytes"), "{e}");
}

#[tokio::test]
async fn uploads_are_retried_from_the_start() {
    let reg = FakeRegistry::start();
    let puts = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let seen = puts.clone();
    reg.hook(move |req| {
        (req.method == "PUT" && seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0)
            .then(|| Response::new(503))
    });
    let c = client(3);
    let body = Bytes::from_static(b"retry me");
    let d = Digest::sha256_of(&body);
    assert!(
        c.push_blob(&reg.reference("acme/ext"), &d, 8, BlobBody::Bytes(body))
            .await
            .unwrap()
    );
    assert_eq!(
        reg.count("POST", "/v2/acme/ext/blobs/uploads/"),
        2,
        "a new upload session"
    );
}

#[tokio::test]
async fn mounts_or_declines() {
    let reg = FakeRegistry::start();
    let d = reg.add_blob("acme/base", b"shared layer");
    let c = client(3);
    let from = reg.reference("acme/base");
    assert!(
        c.mount_blob(&reg.reference("acme/ext"), &from, &d)
            .await
            .unwrap()
    );
    assert!(c.head_blob(&reg.reference("acme/ext"), &d).await.unwrap());
    let post = reg.log().into_iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.query("mount"), Some(d.to_string()));
    assert_eq!(post.query("from").as_deref(), Some("acme/base"));

    reg.set(|s| s.refuse_mounts = true);
    assert!(
        !c.mount_blob(&reg.reference("acme/third"), &from, &d)
            .await
            .unwrap()
    );
    let other: dockhand_oci::Reference = "ghcr.io/acme/base".parse().unwrap();
    let before = reg.log().len();
    assert!(
        !c.mount_blob(&reg.reference("acme/third"), &other, &d)
            .await
            .unwrap()
    );
    assert_eq!(reg.log().len(), before, "no request across registries");
}

#[tokio::test]
async fn a_mount_asks_for_both_scopes() {
    let reg = FakeRegistry::start();
    reg.set(|s| s.auth = dockhand_testkit::registry::Auth::Bearer { basic: None });
    let d = reg.add_blob("acme/base", b"shared layer");
    let c = client(3);
    let mounted = c
        .mount_blob(&reg.reference("acme/ext"), &reg.reference("acme/base"), &d)
        .await
        .unwrap();
    assert!(mounted);
    let token = reg
        .log()
        .into_iter()
        .find(|r| r.path() == "/token")
        .unwrap();
    let mut scopes = token.query_all("scope");
    scopes.sort();
    assert_eq!(
        scopes,
        ["repository:acme/base:pull", "repository:acme/ext:pull,push"]
    );
}
