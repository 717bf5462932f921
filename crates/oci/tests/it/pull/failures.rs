//! Registries that lie or break: the pull fails with a message naming the
//! registry, repository and blob, and the store keeps nothing bad.

use std::time::{Duration, Instant};

use dockhand_oci::pull::{PullError, PullOptions, pull};
use dockhand_oci::registry::{RegistryClient, RegistryError, RegistryOptions, RetryPolicy};
use dockhand_oci::store::Store;

use super::extension;
use super::fixture::{assert_store_clean, blob_path, gets, linux_amd64, publish_index, store};
use crate::registry::client;
use dockhand_testkit::registry::{Body, FakeRegistry, Response};

const REPO: &str = "acme/ext";

/// The fake with `acme/ext:1.0` (an index of one image) and the image.
async fn registry() -> (FakeRegistry, super::Image) {
    let reg = FakeRegistry::start();
    let img = extension(&linux_amd64(), "1.0");
    publish_index(&reg, REPO, "1.0", &[&img]);
    (reg, img)
}

/// Pulls `acme/ext:1.0` with three attempts; the error it must end with.
async fn pull_fails(reg: &FakeRegistry, store: &Store) -> PullError {
    pull(
        &client(3),
        store,
        &reg.reference("acme/ext:1.0"),
        &PullOptions::default(),
    )
    .await
    .unwrap_err()
}

/// Asserts the message names the registry and repository (as
/// `host/acme/ext`) and each of `also`.
fn assert_names(e: &PullError, reg: &FakeRegistry, also: &[&str]) {
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("{}/{REPO}", reg.host())),
        "no registry/repository in: {msg}"
    );
    for a in also {
        assert!(msg.contains(a), "no `{a}` in: {msg}");
    }
}

#[tokio::test]
async fn a_layer_with_wrong_bytes_is_refused_and_not_stored() {
    let (reg, img) = registry().await;
    let bad = img.layers[1].desc.clone();
    let path = blob_path(REPO, &bad.digest);
    // Same length, one byte off: only the digest can tell.
    let mut wrong = img.layers[1].bytes.clone();
    let last = wrong.len() - 1;
    wrong[last] ^= 0xff;
    let p = path.clone();
    reg.hook(move |req| (req.path() == p).then(|| Response::new(200).body(wrong.clone())));
    let (_dir, store) = store();

    let e = pull_fails(&reg, &store).await;

    assert!(
        matches!(
            &e,
            PullError::Registry(RegistryError::DigestMismatch { expected, .. }) if *expected == bad.digest
        ),
        "{e:?}"
    );
    assert_names(
        &e,
        &reg,
        &[&bad.digest.to_string(), "the registry served wrong data"],
    );
    assert_eq!(gets(&reg, &path), 1, "wrong content is not retried");
    assert_store_clean(&store, &[&bad.digest]);
}

#[tokio::test]
async fn a_layer_longer_than_its_descriptor_is_refused() {
    let (reg, img) = registry().await;
    let bad = img.layers[2].desc.clone();
    let path = blob_path(REPO, &bad.digest);
    let mut longer = img.layers[2].bytes.clone();
    longer.extend_from_slice(b"trailing junk");
    let p = path.clone();
    reg.hook(move |req| (req.path() == p).then(|| Response::new(200).body(longer.clone())));
    let (_dir, store) = store();

    let e = pull_fails(&reg, &store).await;

    assert!(
        matches!(e, PullError::Registry(RegistryError::TooLarge { .. })),
        "{e:?}"
    );
    assert_names(
        &e,
        &reg,
        &[
            &bad.digest.to_string(),
            &format!("larger than {} bytes", bad.size),
        ],
    );
    assert_store_clean(&store, &[&bad.digest]);
}

#[tokio::test]
async fn a_body_cut_mid_blob_every_time_fails_after_the_retries() {
    let (reg, img) = registry().await;
    let bad = img.layers[0].desc.clone();
    let path = blob_path(REPO, &bad.digest);
    let half = img.layers[0].bytes[..img.layers[0].bytes.len() / 2].to_vec();
    let p = path.clone();
    reg.hook(move |req| {
        (req.path() == p).then(|| {
            Response::new(200).with_body(Body::Truncated {
                declared: bad.size,
                sent: half.clone(),
            })
        })
    });
    let (_dir, store) = store();

    let e = pull_fails(&reg, &store).await;

    assert_eq!(gets(&reg, &path), 3, "every attempt was made");
    let PullError::Registry(re) = &e else {
        panic!("{e:?}")
    };
    assert!(re.is_retryable(), "{e:?}");
    assert_names(&e, &reg, &[&bad.digest.to_string(), "the connection broke"]);
    assert_store_clean(&store, &[&bad.digest]);
}

#[tokio::test]
async fn a_500_every_time_fails_after_the_retries() {
    let (reg, img) = registry().await;
    let bad = img.config_desc.clone();
    let path = blob_path(REPO, &bad.digest);
    let p = path.clone();
    reg.hook(move |req| {
        (req.path() == p).then(|| Response::new(500).body("storage backend unavailable"))
    });
    let (_dir, store) = store();

    let e = pull(
        &client(4),
        &store,
        &reg.reference("acme/ext:1.0"),
        &PullOptions::default(),
    )
    .await
    .unwrap_err();

    assert!(
        matches!(
            e,
            PullError::Registry(RegistryError::Status { status: 500, .. })
        ),
        "{e:?}"
    );
    assert_names(
        &e,
        &reg,
        &[
            &format!("get blob {} failed with HTTP 500", bad.digest),
            "storage backend unavailable",
        ],
    );
    assert_eq!(gets(&reg, &path), 4);
    assert_store_clean(&store, &[&bad.digest]);
}

#[tokio::test]
async fn a_never_ending_layer_stops_at_its_size() {
    let (reg, img) = registry().await;
    let bad = img.layers[1].desc.clone();
    let path = blob_path(REPO, &bad.digest);
    let p = path.clone();
    reg.hook(move |req| {
        (req.path() == p).then(|| Response::new(200).with_body(Body::Endless(vec![7u8; 16 * 1024])))
    });
    let (_dir, store) = store();
    let c = client(3);

    let started = Instant::now();
    let e = pull(
        &c,
        &store,
        &reg.reference("acme/ext:1.0"),
        &PullOptions::default(),
    )
    .await
    .unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(
        matches!(e, PullError::Registry(RegistryError::TooLarge { .. })),
        "{e:?}"
    );
    assert_names(
        &e,
        &reg,
        &[&bad.digest.to_string(), "refusing to read more"],
    );
    assert_eq!(gets(&reg, &path), 1, "too much data is not retried");
    // It stopped reading soon after the declared size.
    let total: u64 = img.blobs().iter().map(|(d, _)| d.size).sum();
    assert!(
        c.stats().bytes_received() < total + 64 * 1024 + 4096,
        "{} bytes read",
        c.stats().bytes_received()
    );
    assert_store_clean(&store, &[&bad.digest]);
}

#[tokio::test]
async fn a_stalled_layer_times_out_promptly() {
    let (reg, img) = registry().await;
    let bad = img.layers[0].desc.clone();
    let path = blob_path(REPO, &bad.digest);
    let first = img.layers[0].bytes[..1000].to_vec();
    let p = path.clone();
    reg.hook(move |req| {
        (req.path() == p).then(|| {
            Response::new(200).with_body(Body::Stall {
                declared: bad.size,
                sent: first.clone(),
            })
        })
    });
    let (_dir, store) = store();
    let c = RegistryClient::new(RegistryOptions {
        read_timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        ..RegistryOptions::default()
    })
    .unwrap();

    let started = Instant::now();
    let e = pull(
        &c,
        &store,
        &reg.reference("acme/ext:1.0"),
        &PullOptions::default(),
    )
    .await
    .unwrap_err();

    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(gets(&reg, &path), 2);
    assert_names(
        &e,
        &reg,
        &[
            &img.layers[0].desc.digest.to_string(),
            "the connection broke",
        ],
    );
    assert_store_clean(&store, &[&img.layers[0].desc.digest]);
}
