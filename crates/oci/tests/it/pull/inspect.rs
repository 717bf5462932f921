//! `inspect_remote` reads the manifests, the config and the top layer only:
//! the big layers below metadata.json are never requested.

use dockhand_oci::inspect::inspect_remote;
use dockhand_oci::registry::RequestKind;

use super::fixture::{Image, blob_path, layer, layer_with, linux_amd64, linux_arm64, noise};
use super::fixture::{publish_index, store};
use crate::registry::client;
use dockhand_testkit::registry::FakeRegistry;

const REPO: &str = "acme/ext";
const MB2: usize = 2 * 1024 * 1024;

fn big_image(platform: &dockhand_oci::Platform, seed: u64) -> Image {
    Image::new(
        platform,
        &[
            ("org.opencontainers.image.title", "Big"),
            ("com.docker.desktop.extension.api.version", ">= 0.3.0"),
        ],
        vec![
            layer_with(&[("backend/server", &noise(seed, MB2))], true),
            layer_with(&[("ui/app.js", &noise(seed + 1, MB2))], true),
            layer(&[(
                "metadata.json",
                br#"{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"Big"}}}"#,
            )]),
        ],
    )
}

#[tokio::test]
async fn inspect_reads_only_the_top_layer() {
    let reg = FakeRegistry::start();
    let amd = big_image(&linux_amd64(), 10);
    let arm = super::extension(&linux_arm64(), "1.0");
    assert!(amd.layers[0].desc.size > MB2 as u64);
    let top = publish_index(&reg, REPO, "1.0", &[&amd, &arm]);
    let (_dir, store) = store();
    let c = client(3);

    let got = inspect_remote(&c, &store, &reg.reference("acme/ext:1.0"), &linux_amd64())
        .await
        .unwrap();

    assert_eq!(got.digest, top.digest);
    assert_eq!(got.manifest.digest, amd.desc.digest);
    assert_eq!(got.platforms, vec![linux_amd64(), linux_arm64()]);
    assert_eq!((got.layers_read, got.layers_total), (1, 3));
    assert_eq!(got.labels["org.opencontainers.image.title"], "Big");
    assert_eq!(
        got.metadata,
        Some(serde_json::json!({"icon":"icon.svg","ui":{"dashboard-tab":{"title":"Big"}}}))
    );
    // Exactly these requests, each once.
    let mut requests: Vec<String> = reg
        .log()
        .iter()
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    requests.sort();
    let mut want = vec![
        "GET /v2/acme/ext/manifests/1.0".to_owned(),
        format!("GET /v2/acme/ext/manifests/{}", amd.desc.digest),
        format!("GET {}", blob_path(REPO, &amd.config_desc.digest)),
        format!("GET {}", blob_path(REPO, &amd.layers[2].desc.digest)),
    ];
    want.sort();
    assert_eq!(requests, want);
    for lower in &amd.layers[..2] {
        assert_eq!(reg.count("GET", &blob_path(REPO, &lower.desc.digest)), 0);
        assert_eq!(reg.count("HEAD", &blob_path(REPO, &lower.desc.digest)), 0);
        assert!(!store.has_blob(&lower.desc.digest));
    }
    let stats = c.stats().snapshot();
    assert_eq!(stats.requests_of(RequestKind::Manifest), 2);
    assert_eq!(stats.requests_of(RequestKind::Blob), 2);
    assert!(
        stats.bytes_received <= 64 * 1024,
        "{} bytes received",
        stats.bytes_received
    );
    assert_eq!(
        stats.bytes_received,
        top.size + amd.desc.size + amd.config_desc.size + amd.layers[2].desc.size
    );
}
