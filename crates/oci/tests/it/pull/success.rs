//! Pulls that succeed: after a transient 500, through a bearer challenge,
//! and an update that fetches only what changed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use dockhand_oci::image::Descriptor;
use dockhand_oci::pull::{PullOptions, Pulled, pull};
use dockhand_oci::registry::{RegistryClient, RequestKind};
use dockhand_oci::store::Store;

use super::extension;
use super::fixture::{
    Image, assert_blob, blob_path, gets, layer, layer_with, linux_amd64, noise, publish_index,
    store,
};
use crate::registry::client;
use dockhand_testkit::registry::{Auth, FakeRegistry, Response, TOKEN};

const REPO: &str = "acme/ext";

/// Asserts every blob of `img` is in the store, verified, and `tag` names `top`.
fn assert_pulled(store: &Store, img: &Image, name: &str, top: &Descriptor) {
    assert!(store.has_blob(&img.desc.digest));
    store.verify_blob(&img.desc.digest).unwrap();
    for (d, bytes) in img.blobs() {
        assert_blob(store, d, bytes);
    }
    assert_eq!(store.resolve(name).unwrap().unwrap().digest, top.digest);
}

async fn pull_all(c: &RegistryClient, store: &Store, reg: &FakeRegistry, tag: &str) -> Pulled {
    pull(
        c,
        store,
        &reg.reference(&format!("{REPO}:{tag}")),
        &PullOptions::default(),
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn a_500_then_success_is_retried_and_stored() {
    let reg = FakeRegistry::start();
    let img = extension(&linux_amd64(), "1.0");
    let top = publish_index(&reg, REPO, "1.0", &[&img]);
    let flaky = img.layers[0].desc.clone();
    let path = blob_path(REPO, &flaky.digest);
    let calls = Arc::new(AtomicUsize::new(0));
    let (p, seen) = (path.clone(), calls.clone());
    reg.hook(move |req| {
        (req.path() == p && seen.fetch_add(1, Ordering::SeqCst) == 0)
            .then(|| Response::new(500).body("try again"))
    });
    let (_dir, store) = store();
    let c = client(3);

    let pulled = pull_all(&c, &store, &reg, "1.0").await;

    assert_eq!(pulled.top, top);
    assert_eq!((pulled.blobs_fetched, pulled.blobs_reused), (4, 0));
    assert_pulled(
        &store,
        &img,
        &reg.reference("acme/ext:1.0").to_string(),
        &top,
    );
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(gets(&reg, &path), 2);
    let stats = c.stats().snapshot();
    assert_eq!(
        stats.requests_of(RequestKind::Manifest),
        2,
        "index, manifest"
    );
    assert_eq!(
        stats.requests_of(RequestKind::Blob),
        4 + 1,
        "4 blobs, 1 retry"
    );
    assert_eq!(stats.total_requests(), 2 + 5);
    // Every byte of the image arrived once, plus the 500's body.
    let image_bytes =
        top.size + img.desc.size + img.blobs().iter().map(|(d, _)| d.size).sum::<u64>();
    assert_eq!(stats.bytes_received, image_bytes + "try again".len() as u64);
}

#[tokio::test]
async fn a_bearer_challenge_is_answered_once() {
    let reg = FakeRegistry::start();
    reg.set(|s| s.auth = Auth::Bearer { basic: None });
    let img = extension(&linux_amd64(), "1.0");
    let top = publish_index(&reg, REPO, "1.0", &[&img]);
    let (_dir, store) = store();
    let c = client(3);

    let pulled = pull_all(&c, &store, &reg, "1.0").await;

    assert_eq!(pulled.top, top);
    assert_pulled(
        &store,
        &img,
        &reg.reference("acme/ext:1.0").to_string(),
        &top,
    );
    let log = reg.log();
    let bearer = format!("Bearer {TOKEN}");
    let unauthenticated: Vec<_> = log
        .iter()
        .filter(|r| r.path() != "/token" && r.header("authorization") != Some(bearer.as_str()))
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(
        unauthenticated,
        vec!["/v2/acme/ext/manifests/1.0".to_owned()],
        "only the first request went without the token"
    );
    let token = log.iter().find(|r| r.path() == "/token").unwrap();
    assert_eq!(
        token.query("scope").as_deref(),
        Some("repository:acme/ext:pull")
    );
    let stats = c.stats().snapshot();
    assert_eq!(stats.requests_of(RequestKind::Token), 1);
    // The challenged request, then again with the token; then the manifest.
    assert_eq!(stats.requests_of(RequestKind::Manifest), 3);
    assert_eq!(stats.requests_of(RequestKind::Blob), 4);
}

#[tokio::test]
async fn an_update_fetches_only_what_changed() {
    let reg = FakeRegistry::start();
    let backend = layer_with(&[("backend/server", &noise(7, 512 * 1024))], true);
    let ui = layer(&[("ui/index.html", b"<html>v1</html>")]);
    let version = |v: &str| {
        Image::new(
            &linux_amd64(),
            &[("org.opencontainers.image.version", v)],
            vec![
                backend.clone(),
                ui.clone(),
                layer(&[("metadata.json", format!(r#"{{"v":"{v}"}}"#).as_bytes())]),
            ],
        )
    };
    let (v1, v2) = (version("1.0"), version("1.1"));
    let top1 = publish_index(&reg, REPO, "1.0", &[&v1]);
    let top2 = publish_index(&reg, REPO, "1.1", &[&v2]);
    assert_ne!(v1.config_desc, v2.config_desc);
    let (_dir, store) = store();

    let first = pull_all(&client(3), &store, &reg, "1.0").await;
    assert_eq!((first.blobs_fetched, first.blobs_reused), (4, 0));
    let before = reg.log().len();
    let c = client(3);
    let second = pull_all(&c, &store, &reg, "1.1").await;

    assert_eq!((second.blobs_fetched, second.blobs_reused), (2, 2));
    let fetched: Vec<String> = reg.log()[before..]
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    let mut want = vec![
        "GET /v2/acme/ext/manifests/1.1".to_owned(),
        format!("GET /v2/acme/ext/manifests/{}", v2.desc.digest),
        format!("GET {}", blob_path(REPO, &v2.config_desc.digest)),
        format!("GET {}", blob_path(REPO, &v2.layers[2].desc.digest)),
    ];
    let mut got = fetched.clone();
    got.sort();
    want.sort();
    assert_eq!(got, want, "in order: {fetched:#?}");
    // Exactly the new documents and blobs arrived; the 512 KiB backend did not.
    let stats = c.stats().snapshot();
    assert_eq!(
        stats.bytes_received,
        top2.size + v2.desc.size + v2.config_desc.size + v2.layers[2].desc.size
    );
    assert!(stats.bytes_received < 4096, "{}", stats.bytes_received);
    assert_eq!(stats.requests_of(RequestKind::Blob), 2);
    assert_pulled(
        &store,
        &v1,
        &reg.reference("acme/ext:1.0").to_string(),
        &top1,
    );
    assert_pulled(
        &store,
        &v2,
        &reg.reference("acme/ext:1.1").to_string(),
        &top2,
    );
    assert_eq!(store.names().unwrap().len(), 2);

    // Pulling 1.1 again fetches no blob at all.
    let again = pull_all(&c, &store, &reg, "1.1").await;
    assert_eq!((again.blobs_fetched, again.blobs_reused), (0, 4));
    assert_eq!(c.stats().requests(RequestKind::Blob), 2);
}
