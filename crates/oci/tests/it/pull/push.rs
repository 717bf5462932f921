//! Pushing from the store: blobs the registry has are skipped (HEAD), blobs
//! another repository of the same registry has are mounted, the manifests
//! go by digest and the tag last.

use dockhand_oci::image::{Descriptor, PlatformSpec, media};
use dockhand_oci::push::{PushError, PushReport, push};
use dockhand_oci::registry::RegistryError;
use dockhand_oci::store::Store;

use super::extension;
use super::fixture::{Image, blob_path, index, layer, linux_amd64, store};
use crate::registry::client;
use dockhand_testkit::registry::{FakeRegistry, Request, Response};

/// Puts the image's blobs and manifest in the store.
fn put_image(store: &Store, img: &Image) {
    for (_, bytes) in img.blobs() {
        store.put_bytes(bytes).unwrap();
    }
    store.put_bytes(&img.manifest).unwrap();
}

struct Setup {
    reg: FakeRegistry,
    _dir: tempfile::TempDir,
    store: Store,
    img: Image,
    /// The index of `img`, in the store.
    top: Descriptor,
    top_bytes: Vec<u8>,
}

/// The store holds `acme/ext` (an index of one image) and `other/base`, an
/// image of the same registry sharing the backend layer, and an image of
/// another registry sharing the UI layer; the registry has the config
/// in `acme/ext` already and the backend layer in `other/base`.
async fn setup() -> Setup {
    let reg = FakeRegistry::start();
    let (dir, store) = store();
    let img = extension(&linux_amd64(), "2.0");
    put_image(&store, &img);
    let (top_bytes, top) = index(std::slice::from_ref(&img.desc));
    store.put_bytes(&top_bytes).unwrap();
    store
        .tag(&reg.reference("acme/ext:1.0").to_string(), &top)
        .unwrap();

    let base = Image::new(
        &linux_amd64(),
        &[("base", "yes")],
        vec![img.layers[0].clone()],
    );
    put_image(&store, &base);
    store
        .tag(&reg.reference("other/base:1").to_string(), &base.desc)
        .unwrap();
    let elsewhere = Image::new(
        &linux_amd64(),
        &[],
        vec![img.layers[1].clone(), layer(&[("x", b"x")])],
    );
    put_image(&store, &elsewhere);
    store
        .tag("docker.io/acme/lookalike:1", &elsewhere.desc)
        .unwrap();

    reg.add_blob("acme/ext", &img.config);
    reg.add_blob("other/base", &img.layers[0].bytes);
    Setup {
        reg,
        _dir: dir,
        store,
        img,
        top,
        top_bytes,
    }
}

fn line(r: &Request) -> String {
    format!("{} {}", r.method, r.target)
}

#[tokio::test]
async fn push_skips_mounts_uploads_and_tags_last() {
    let s = setup().await;
    let c = client(3);
    let target = s.reg.reference("acme/ext:2.0");

    let report = push(&c, &s.store, &s.top, &target).await.unwrap();

    assert_eq!(
        report,
        PushReport {
            uploaded: 2,
            skipped: 1,
            mounted: 1,
            digest: Some(s.top.digest.clone()),
        }
    );
    let log = s.reg.log();
    let all: Vec<String> = log.iter().map(line).collect();
    // The tag is the very last request.
    let last = log.last().unwrap();
    assert_eq!(
        (last.method.as_str(), last.path()),
        ("PUT", "/v2/acme/ext/manifests/2.0"),
        "{all:#?}"
    );
    // Writes in order: the mount, two uploads, the manifest by digest, the tag.
    let (backend, ui, meta) = (
        &s.img.layers[0].desc.digest,
        &s.img.layers[1].desc.digest,
        &s.img.layers[2].desc.digest,
    );
    let writes: Vec<String> = log
        .iter()
        .filter(|r| r.method != "HEAD")
        .map(|r| format!("{} {}", r.method, r.path()))
        .collect();
    assert_eq!(
        writes,
        vec![
            "POST /v2/acme/ext/blobs/uploads/".to_owned(),
            "POST /v2/acme/ext/blobs/uploads/".to_owned(),
            "PUT /v2/acme/ext/blobs/uploads/u1".to_owned(),
            "POST /v2/acme/ext/blobs/uploads/".to_owned(),
            "PUT /v2/acme/ext/blobs/uploads/u2".to_owned(),
            format!("PUT /v2/acme/ext/manifests/{}", s.img.desc.digest),
            "PUT /v2/acme/ext/manifests/2.0".to_owned(),
        ],
        "{all:#?}"
    );
    // The one mount: the backend layer, from the same registry's other/base.
    let mounts: Vec<&Request> = log.iter().filter(|r| r.query("mount").is_some()).collect();
    assert_eq!(mounts.len(), 1, "{all:#?}");
    assert_eq!(mounts[0].query("mount"), Some(backend.to_string()));
    assert_eq!(mounts[0].query("from").as_deref(), Some("other/base"));
    // Uploaded: the UI (only another registry had it) and metadata.
    let uploaded: Vec<String> = log
        .iter()
        .filter(|r| r.method == "PUT" && r.path().contains("/blobs/uploads/"))
        .map(|r| r.query("digest").unwrap())
        .collect();
    assert_eq!(uploaded, vec![ui.to_string(), meta.to_string()]);
    // Every blob was asked about first, and the config not sent at all.
    for (d, _) in s.img.blobs() {
        let head = log
            .iter()
            .position(|r| r.method == "HEAD" && r.path() == blob_path("acme/ext", &d.digest))
            .unwrap_or_else(|| panic!("no HEAD for {}: {all:#?}", d.digest));
        let first_write = log
            .iter()
            .position(|r| r.method != "HEAD" && r.target.contains(&d.digest.to_string()));
        assert!(first_write.is_none_or(|w| w > head), "{all:#?}");
    }
    let config = s.img.config_desc.digest.to_string();
    assert!(
        !log.iter()
            .any(|r| r.method != "HEAD" && r.target.contains(&config)),
        "{all:#?}"
    );
    // The registry now has the whole image under the tag.
    s.reg.set(|st| {
        let (mt, bytes) = &st.manifests[&("acme/ext".to_owned(), "2.0".to_owned())];
        assert_eq!(mt, media::OCI_INDEX);
        assert_eq!(*bytes, s.top_bytes);
        for (d, bytes) in s.img.blobs() {
            assert_eq!(
                st.blobs.get(&("acme/ext".to_owned(), d.digest.to_string())),
                Some(&bytes.to_vec())
            );
        }
    });
}

#[tokio::test]
async fn a_refused_mount_falls_back_to_an_upload() {
    let s = setup().await;
    s.reg.set(|st| st.refuse_mounts = true);
    let c = client(3);

    let report = push(&c, &s.store, &s.top, &s.reg.reference("acme/ext:2.0"))
        .await
        .unwrap();

    assert_eq!((report.uploaded, report.skipped, report.mounted), (3, 1, 0));
    let log = s.reg.log();
    assert_eq!(log.iter().filter(|r| r.query("mount").is_some()).count(), 1);
    assert_eq!(log.last().unwrap().path(), "/v2/acme/ext/manifests/2.0");
}

#[tokio::test]
async fn a_failed_upload_never_writes_the_tag() {
    let s = setup().await;
    let meta = s.img.layers[2].desc.digest.to_string();
    s.reg.hook(move |req| {
        (req.method == "PUT" && req.query("digest").as_deref() == Some(meta.as_str()))
            .then(|| Response::new(400).body("upload rejected"))
    });
    let c = client(3);

    let e = push(&c, &s.store, &s.top, &s.reg.reference("acme/ext:2.0"))
        .await
        .unwrap_err();

    assert!(
        matches!(
            e,
            PushError::Registry(RegistryError::Status { status: 400, .. })
        ),
        "{e:?}"
    );
    let msg = e.to_string();
    assert!(
        msg.contains(&format!("{}/acme/ext", s.reg.host())) && msg.contains("upload rejected"),
        "{msg}"
    );
    assert!(
        !s.reg
            .log()
            .iter()
            .any(|r| r.method == "PUT" && r.path().contains("/manifests/")),
        "no manifest was written"
    );
}

/// An index may list one manifest for several platforms: it is pushed once.
#[tokio::test]
async fn a_manifest_listed_twice_is_pushed_once() {
    let s = setup().await;
    let mut on_arm = s.img.desc.clone();
    on_arm.platform = Some(PlatformSpec::from(&super::fixture::linux_arm64()));
    let (bytes, top) = index(&[s.img.desc.clone(), on_arm]);
    s.store.put_bytes(&bytes).unwrap();
    let c = client(3);

    let report = push(&c, &s.store, &top, &s.reg.reference("acme/ext:any"))
        .await
        .unwrap();

    assert_eq!(report.digest, Some(top.digest.clone()));
    let manifest_puts: Vec<String> = s
        .reg
        .log()
        .iter()
        .filter(|r| r.method == "PUT" && r.path().contains("/manifests/"))
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(
        manifest_puts,
        vec![
            format!("/v2/acme/ext/manifests/{}", s.img.desc.digest),
            "/v2/acme/ext/manifests/any".to_owned(),
        ]
    );
}
