//! Registries that lie or break: the pull fails with a message naming the
//! registry, repository and blob, and the store keeps nothing bad.

use std::time::{Duration, Instant};

use dockhand_oci::Digest;
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
    pull_fails_with(&client(3), reg, store).await
}

/// Pulls `acme/ext:1.0` with `c`; the error it must end with.
async fn pull_fails_with(c: &RegistryClient, reg: &FakeRegistry, store: &Store) -> PullError {
    pull(
        c,
        store,
        &reg.reference("acme/ext:1.0"),
        &PullOptions::default(),
    )
    .await
    .unwrap_err()
}

/// Answers every request for the blob `d` of [`REPO`] with what `answer`
/// makes; returns the blob's path.
fn break_blob(
    reg: &FakeRegistry,
    d: &Digest,
    answer: impl Fn() -> Response + Send + Sync + 'static,
) -> String {
    let path = blob_path(REPO, d);
    let p = path.clone();
    reg.hook(move |req| (req.path() == p).then(&answer));
    path
}

/// Asserts the message names the registry, repository, the blob `bad` and
/// `what`, and that the store keeps nothing of `bad`.
fn assert_refused(e: &PullError, reg: &FakeRegistry, store: &Store, bad: &Digest, what: &str) {
    assert_names(e, reg, &[&bad.to_string(), what]);
    assert_store_clean(store, &[bad]);
}

/// Answers every request for the first layer of `img` with a body that
/// `body` makes of the layer's declared size and its first `sent` bytes;
/// returns the blob's path.
fn serve_part(
    reg: &FakeRegistry,
    img: &super::Image,
    sent: usize,
    body: fn(u64, Vec<u8>) -> Body,
) -> String {
    let layer = &img.layers[0];
    let (declared, first) = (layer.desc.size, layer.bytes[..sent].to_vec());
    break_blob(reg, &layer.desc.digest, move || {
        Response::new(200).with_body(body(declared, first.clone()))
    })
}

/// Asserts that what `started` took stays under `secs` seconds.
fn assert_prompt(started: Instant, secs: u64) {
    let took = started.elapsed();
    assert!(took < Duration::from_secs(secs), "{took:?}");
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
    // Same length, one byte off: only the digest can tell.
    let mut wrong = img.layers[1].bytes.clone();
    let last = wrong.len() - 1;
    wrong[last] ^= 0xff;
    let path = break_blob(&reg, &bad.digest, move || {
        Response::new(200).body(wrong.clone())
    });
    let (_dir, store) = store();

    let e = pull_fails(&reg, &store).await;

    assert!(
        matches!(
            &e,
            PullError::Registry(RegistryError::DigestMismatch { expected, .. }) if *expected == bad.digest
        ),
        "{e:?}"
    );
    assert_eq!(gets(&reg, &path), 1, "wrong content is not retried");
    assert_refused(
        &e,
        &reg,
        &store,
        &bad.digest,
        "the registry served wrong data",
    );
}

#[tokio::test]
async fn a_layer_longer_than_its_descriptor_is_refused() {
    let (reg, img) = registry().await;
    let bad = img.layers[2].desc.clone();
    let mut longer = img.layers[2].bytes.clone();
    longer.extend_from_slice(b"trailing junk");
    break_blob(&reg, &bad.digest, move || {
        Response::new(200).body(longer.clone())
    });
    let (_dir, store) = store();

    let e = pull_fails(&reg, &store).await;

    assert!(
        matches!(e, PullError::Registry(RegistryError::TooLarge { .. })),
        "{e:?}"
    );
    let what = format!("larger than {} bytes", bad.size);
    assert_refused(&e, &reg, &store, &bad.digest, &what);
}

#[tokio::test]
async fn a_body_cut_mid_blob_every_time_fails_after_the_retries() {
    let (reg, img) = registry().await;
    let bad = img.layers[0].desc.clone();
    let half = img.layers[0].bytes.len() / 2;
    let path = serve_part(&reg, &img, half, |declared, sent| Body::Truncated {
        declared,
        sent,
    });
    let (_dir, store) = store();

    let e = pull_fails(&reg, &store).await;

    assert_eq!(gets(&reg, &path), 3, "every attempt was made");
    let PullError::Registry(re) = &e else {
        panic!("{e:?}")
    };
    assert!(re.is_retryable(), "{e:?}");
    assert_refused(&e, &reg, &store, &bad.digest, "the connection broke");
}

#[tokio::test]
async fn a_500_every_time_fails_after_the_retries() {
    let (reg, img) = registry().await;
    let bad = img.config_desc.clone();
    let path = break_blob(&reg, &bad.digest, || {
        Response::new(500).body("storage backend unavailable")
    });
    let (_dir, store) = store();

    let e = pull_fails_with(&client(4), &reg, &store).await;

    assert!(
        matches!(
            e,
            PullError::Registry(RegistryError::Status { status: 500, .. })
        ),
        "{e:?}"
    );
    assert_names(&e, &reg, &["storage backend unavailable"]);
    assert_eq!(gets(&reg, &path), 4);
    let what = format!("get blob {} failed with HTTP 500", bad.digest);
    assert_refused(&e, &reg, &store, &bad.digest, &what);
}

#[tokio::test]
async fn a_never_ending_layer_stops_at_its_size() {
    let (reg, img) = registry().await;
    let bad = img.layers[1].desc.clone();
    let path = break_blob(&reg, &bad.digest, || {
        Response::new(200).with_body(Body::Endless(vec![7u8; 16 * 1024]))
    });
    let (_dir, store) = store();
    let c = client(3);

    let started = Instant::now();
    let e = pull_fails_with(&c, &reg, &store).await;

    assert_prompt(started, 5);
    assert!(
        matches!(e, PullError::Registry(RegistryError::TooLarge { .. })),
        "{e:?}"
    );
    assert_eq!(gets(&reg, &path), 1, "too much data is not retried");
    // It stopped reading soon after the declared size.
    let total: u64 = img.blobs().iter().map(|(d, _)| d.size).sum();
    assert!(
        c.stats().bytes_received() < total + 64 * 1024 + 4096,
        "{} bytes read",
        c.stats().bytes_received()
    );
    assert_refused(&e, &reg, &store, &bad.digest, "refusing to read more");
}

#[tokio::test]
async fn a_stalled_layer_times_out_promptly() {
    let (reg, img) = registry().await;
    let bad = img.layers[0].desc.clone();
    let path = serve_part(&reg, &img, 1000, |declared, sent| Body::Stall {
        declared,
        sent,
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
    let e = pull_fails_with(&c, &reg, &store).await;

    assert_prompt(started, 4);
    assert_eq!(gets(&reg, &path), 2);
    assert_refused(&e, &reg, &store, &bad.digest, "the connection broke");
}
