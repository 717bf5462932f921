//! The image size cap: an image whose manifest says its config and layers
//! add up to more than `max_image_size` is refused from its manifest alone,
//! before any blob is downloaded; only the platform pulled counts.

use dockhand_oci::Platform;
use dockhand_oci::inspect::inspect_remote_within;
use dockhand_oci::pull::{PullError, PullOptions, Pulled};
use dockhand_oci::store::Store;

use super::extension;
use super::fixture::{Image, linux_amd64, linux_arm64, publish_index, pull_new};
use crate::registry::client;
use dockhand_testkit::registry::FakeRegistry;

const REPO: &str = "acme/ext";
const GIB: u64 = 1 << 30;

/// `extension()` with its first layer claiming `size` bytes in the manifest
/// (the registry never has to serve it: nothing may ask for it).
fn claiming(platform: &Platform, size: u64) -> Image {
    let real = extension(platform, "1.0");
    let mut layers = real.layers.clone();
    layers[0].desc.size = size;
    Image::new(
        platform,
        &[("com.docker.desktop.extension.api.version", ">= 0.3.0")],
        layers,
    )
}

fn blob_gets(reg: &FakeRegistry) -> usize {
    reg.count("GET", &format!("/v2/{REPO}/blobs/"))
}

/// Pulls `acme/ext:1.0` into a new store (of `platform` only, when given),
/// refusing an image past `limit` bytes.
async fn pull_capped(
    reg: &FakeRegistry,
    platform: Option<Platform>,
    limit: u64,
) -> (tempfile::TempDir, Store, Result<Pulled, PullError>) {
    let options = PullOptions {
        platform,
        max_image_size: Some(limit),
        ..PullOptions::default()
    };
    pull_new(reg, "acme/ext:1.0", &options).await
}

#[tokio::test]
async fn an_image_past_the_cap_is_refused_before_any_blob() {
    let reg = FakeRegistry::start();
    let huge = claiming(&linux_amd64(), 5 * GIB);
    publish_index(&reg, REPO, "1.0", &[&huge]);
    let r = reg.reference("acme/ext:1.0");

    let (_dir, store, pulled) = pull_capped(&reg, Some(linux_amd64()), 4 * GIB).await;
    let e = pulled.unwrap_err();

    let PullError::TooLarge {
        reference,
        platform,
        size,
        limit,
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!(*limit, 4 * GIB);
    assert!(*size > 5 * GIB, "{size}");
    assert_eq!(platform, "linux/amd64");
    assert!(reference.contains("acme/ext:1.0"), "{reference}");
    let msg = e.to_string();
    assert!(msg.contains(&format!("{size} bytes")), "{msg}");
    assert!(msg.contains("before downloading any layer"), "{msg}");
    assert_eq!(blob_gets(&reg), 0, "no config or layer was asked for");
    // inspect refuses it the same way.
    let e = inspect_remote_within(&client(3), &store, &r, &linux_amd64(), Some(4 * GIB))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("more than the limit"), "{e}");
    assert_eq!(blob_gets(&reg), 0);
}

#[tokio::test]
async fn only_the_platform_pulled_counts_and_images_under_the_cap_pull() {
    let reg = FakeRegistry::start();
    let small = extension(&linux_amd64(), "1.0");
    let huge = claiming(&linux_arm64(), 5 * GIB);
    publish_index(&reg, REPO, "1.0", &[&small, &huge]);
    let (_dir, _, pulled) = pull_capped(&reg, Some(linux_amd64()), 4 * GIB).await;
    assert_eq!(pulled.unwrap().blobs_fetched, 4, "config and three layers");

    // Every platform: the arm64 one is past the cap.
    let (_dir2, _, pulled) = pull_capped(&reg, None, 4 * GIB).await;
    let e = pulled.unwrap_err();
    assert!(
        matches!(&e, PullError::TooLarge { platform, .. } if platform == "linux/arm64"),
        "{e:?}"
    );

    // The size is config + layers: a cap one byte below it refuses.
    let exact: u64 = small.blobs().iter().map(|(d, _)| d.size).sum();
    let (_dir3, _, pulled) = pull_capped(&reg, Some(linux_amd64()), exact - 1).await;
    let e = pulled.unwrap_err();
    assert!(
        matches!(e, PullError::TooLarge { size, .. } if size == exact),
        "{e:?}"
    );
    let (_dir4, _, pulled) = pull_capped(&reg, Some(linux_amd64()), exact).await;
    pulled.unwrap();
}
