//! The client against a real registry (Debian's docker-registry, started by
//! `scripts/deps`), named by `DOCKHAND_TEST_REGISTRY`.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use dockhand_oci::Digest;
use dockhand_oci::registry::{
    BlobBody, ManifestKind, NoCredentials, OCI_MANIFEST, RegistryClient, RegistryOptions,
    RequestKind, RetryPolicy,
};

use super::image_manifest;

/// The registry's `host:port`, or `None` after saying why the test skips.
fn real_registry(test: &str) -> Option<String> {
    dockhand_testkit::env::require_var(
        test,
        "DOCKHAND_TEST_REGISTRY",
        "DOCKHAND_TEST_REGISTRY is not set",
    )
}

fn unique() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{}-{nanos}", std::process::id())
}

#[tokio::test]
async fn push_read_list_and_mount_on_a_real_registry() {
    let Some(host) = real_registry("push_read_list_and_mount_on_a_real_registry") else {
        return;
    };
    let c = RegistryClient::new(RegistryOptions {
        credentials: Arc::new(NoCredentials),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(100),
        },
        tag_page_size: Some(1),
        ..RegistryOptions::default()
    })
    .unwrap();
    let id = unique();
    let repo: dockhand_oci::Reference =
        format!("{host}/dockhand-test/client-{id}").parse().unwrap();
    let layer: Vec<u8> = (0..200_000u32)
        .map(|i| (i * 7 % 251) as u8)
        .chain(id.bytes())
        .collect();
    let config = format!(r#"{{"architecture":"amd64","os":"linux","id":"{id}"}}"#).into_bytes();
    let (ld, cd) = (Digest::sha256_of(&layer), Digest::sha256_of(&config));

    // Push: blobs (the second time is a skip), then the manifest under two tags.
    let body = BlobBody::Bytes(Bytes::from(layer.clone()));
    assert!(
        c.push_blob(&repo, &ld, layer.len() as u64, body.clone())
            .await
            .unwrap()
    );
    assert!(
        !c.push_blob(&repo, &ld, layer.len() as u64, body)
            .await
            .unwrap()
    );
    let cbody = BlobBody::Bytes(Bytes::from(config.clone()));
    assert!(
        c.push_blob(&repo, &cd, config.len() as u64, cbody)
            .await
            .unwrap()
    );
    let manifest = Bytes::from(image_manifest(&config, &layer));
    let md = c
        .put_manifest(
            &repo.with_tag("1.0").unwrap(),
            OCI_MANIFEST,
            manifest.clone(),
        )
        .await
        .unwrap();
    assert_eq!(md, Digest::sha256_of(&manifest));
    c.put_manifest(
        &repo.with_tag("1.1").unwrap(),
        OCI_MANIFEST,
        manifest.clone(),
    )
    .await
    .unwrap();

    // Read back.
    let m = c
        .get_manifest(&repo.with_tag("1.0").unwrap())
        .await
        .unwrap();
    assert_eq!(
        (m.digest.clone(), m.media_type.as_str()),
        (md.clone(), OCI_MANIFEST)
    );
    let ManifestKind::Image(img) = m.parse().unwrap() else {
        panic!("expected an image manifest")
    };
    assert_eq!(img.layers[0].digest, ld);
    let pinned = c.get_manifest(&repo.with_digest(md.clone())).await.unwrap();
    assert_eq!(pinned.bytes, manifest);
    let head = c
        .head_manifest(&repo.with_tag("1.1").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(head.digest, Some(md.clone()));
    assert!(
        c.head_manifest(&repo.with_tag("nope").unwrap())
            .await
            .unwrap()
            .is_none()
    );
    let mut sink = Vec::new();
    c.fetch_blob(&repo, &ld, layer.len() as u64, &mut sink)
        .await
        .unwrap();
    assert_eq!(sink, layer);

    // Tags. (Distribution 2.8 ignores `n` for tags and sends no Link, in
    // no particular order; the fake registry covers pagination.)
    let mut tags = c.list_tags(&repo, 100).await.unwrap();
    tags.sort();
    assert_eq!(tags, ["1.0", "1.1"]);
    assert_eq!(c.list_tags(&repo, 1).await.unwrap().len(), 1);

    // Mount the layer into another repository.
    let other: dockhand_oci::Reference = format!("{host}/dockhand-test/mounted-{id}")
        .parse()
        .unwrap();
    assert!(!c.head_blob(&other, &ld).await.unwrap());
    assert!(c.mount_blob(&other, &repo, &ld).await.unwrap());
    assert!(c.head_blob(&other, &ld).await.unwrap());

    // Errors from the real thing.
    let e = c
        .get_manifest(&repo.with_tag("missing").unwrap())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("manifest unknown"), "{e}");
    let e = c
        .fetch_blob(&repo, &Digest::sha256_of(b"none"), 4, &mut Vec::new())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("unknown"), "{e}");

    let s = c.stats().snapshot();
    eprintln!(
        "real registry: {} requests ({} manifest, {} blob, {} tags, {} push), {} bytes received",
        s.total_requests(),
        s.requests_of(RequestKind::Manifest),
        s.requests_of(RequestKind::Blob),
        s.requests_of(RequestKind::Tags),
        s.requests_of(RequestKind::Push),
        s.bytes_received
    );
    assert!(s.bytes_received >= layer.len() as u64);
}
