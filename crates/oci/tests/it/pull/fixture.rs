//! Small valid images (gzip tar layers, configs with labels, manifests,
//! indexes), publishing them to the fake registry, and checks that a store
//! holds nothing it should not.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::Path;

use dockhand_oci::image::{
    Descriptor, ImageConfig, ImageIndex, ImageManifest, PlatformSpec, RootFs, RunConfig, media,
    to_canonical_json,
};
use dockhand_oci::pull::{PullError, PullOptions, Pulled, pull};
use dockhand_oci::store::Store;
use dockhand_oci::{Digest, Platform};
use serde_json::Map;

use crate::registry::client;
use dockhand_testkit::registry::FakeRegistry;

/// A gzip tar layer.
#[derive(Debug, Clone)]
pub struct Layer {
    /// The compressed bytes, as served.
    pub bytes: Vec<u8>,
    /// The digest of the uncompressed tar.
    pub diff_id: Digest,
    pub desc: Descriptor,
}

/// A layer of these files. `stored` skips compression (still valid gzip),
/// which keeps big incompressible layers quick to make.
pub fn layer_with(files: &[(&str, &[u8])], stored: bool) -> Layer {
    let mut tar = tar::Builder::new(Vec::new());
    for (path, data) in files {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Regular);
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_mtime(0);
        tar.append_data(&mut h, path, *data).unwrap();
    }
    let tar = tar.into_inner().unwrap();
    let level = if stored {
        flate2::Compression::none()
    } else {
        flate2::Compression::fast()
    };
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), level);
    gz.write_all(&tar).unwrap();
    let bytes = gz.finish().unwrap();
    let desc = Descriptor::new(
        media::OCI_LAYER_GZIP,
        Digest::sha256_of(&bytes),
        bytes.len() as u64,
    );
    Layer {
        bytes,
        diff_id: Digest::sha256_of(&tar),
        desc,
    }
}

pub fn layer(files: &[(&str, &[u8])]) -> Layer {
    layer_with(files, false)
}

/// `len` pseudo-random (incompressible) bytes from `seed`.
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// One platform's image: config, layers and manifest.
#[derive(Debug, Clone)]
pub struct Image {
    pub config: Vec<u8>,
    pub config_desc: Descriptor,
    pub layers: Vec<Layer>,
    pub manifest: Vec<u8>,
    pub desc: Descriptor,
}

impl Image {
    pub fn new(platform: &Platform, labels: &[(&str, &str)], layers: Vec<Layer>) -> Self {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let config = ImageConfig {
            created: Some("2024-01-01T00:00:00Z".to_owned()),
            architecture: platform.architecture().to_owned(),
            os: platform.os().to_owned(),
            variant: platform.variant().map(str::to_owned),
            config: RunConfig {
                labels: Some(labels),
                ..RunConfig::default()
            },
            rootfs: RootFs {
                kind: "layers".to_owned(),
                diff_ids: layers.iter().map(|l| l.diff_id.clone()).collect(),
            },
            extra: Map::new(),
        };
        let config = to_canonical_json(&config).unwrap();
        let config_desc = Descriptor::new(
            media::OCI_CONFIG,
            Digest::sha256_of(&config),
            config.len() as u64,
        );
        let manifest = to_canonical_json(&ImageManifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.to_owned()),
            config: config_desc.clone(),
            layers: layers.iter().map(|l| l.desc.clone()).collect(),
            annotations: BTreeMap::new(),
            extra: Map::new(),
        })
        .unwrap();
        let mut desc = Descriptor::new(
            media::OCI_MANIFEST,
            Digest::sha256_of(&manifest),
            manifest.len() as u64,
        );
        desc.platform = Some(PlatformSpec::from(platform));
        Self {
            config,
            config_desc,
            layers,
            manifest,
            desc,
        }
    }

    /// Every blob the manifest names: config, then layers.
    pub fn blobs(&self) -> Vec<(&Descriptor, &[u8])> {
        std::iter::once((&self.config_desc, self.config.as_slice()))
            .chain(self.layers.iter().map(|l| (&l.desc, l.bytes.as_slice())))
            .collect()
    }
}

/// An OCI index of these entries (their `platform` as they carry it).
pub fn index(entries: &[Descriptor]) -> (Vec<u8>, Descriptor) {
    let bytes = to_canonical_json(&ImageIndex {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.to_owned()),
        manifests: entries.to_vec(),
        annotations: BTreeMap::new(),
        extra: Map::new(),
    })
    .unwrap();
    let desc = Descriptor::new(
        media::OCI_INDEX,
        Digest::sha256_of(&bytes),
        bytes.len() as u64,
    );
    (bytes, desc)
}

pub fn linux_amd64() -> Platform {
    Platform::new("linux", "amd64", None)
}

pub fn linux_arm64() -> Platform {
    Platform::new("linux", "arm64", None)
}

/// Makes a manifest available by digest only (no tag).
pub fn add_by_digest(reg: &FakeRegistry, repo: &str, media_type: &str, bytes: &[u8]) -> Digest {
    let d = Digest::sha256_of(bytes);
    reg.set(|s| {
        s.manifests.insert(
            (repo.to_owned(), d.to_string()),
            (media_type.to_owned(), bytes.to_vec()),
        );
    });
    d
}

/// Uploads the image's blobs and its manifest (by digest) to `repo`.
pub fn publish(reg: &FakeRegistry, repo: &str, image: &Image) {
    for (_, bytes) in image.blobs() {
        reg.add_blob(repo, bytes);
    }
    add_by_digest(reg, repo, media::OCI_MANIFEST, &image.manifest);
}

/// Publishes the images and an index of them under `repo:tag`.
pub fn publish_index(reg: &FakeRegistry, repo: &str, tag: &str, images: &[&Image]) -> Descriptor {
    for image in images {
        publish(reg, repo, image);
    }
    let entries: Vec<Descriptor> = images.iter().map(|i| i.desc.clone()).collect();
    let (bytes, desc) = index(&entries);
    reg.add_manifest(repo, tag, media::OCI_INDEX, &bytes);
    desc
}

/// A store in a fresh temp dir (the dir lives as long as the guard).
pub fn store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("store")).unwrap();
    (dir, store)
}

/// Pulls `name` from the fake into a new [`store`] with `options` and a
/// client of three attempts: the store (the dir lives as long as the guard)
/// and what the pull said.
pub async fn pull_new(
    reg: &FakeRegistry,
    name: &str,
    options: &PullOptions,
) -> (tempfile::TempDir, Store, Result<Pulled, PullError>) {
    let (dir, store) = store();
    let pulled = pull(&client(3), &store, &reg.reference(name), options).await;
    (dir, store, pulled)
}

/// Every file under `blobs/`, with the digest its name claims.
pub fn blob_files(root: &Path) -> Vec<(Digest, std::path::PathBuf)> {
    let mut out = Vec::new();
    let blobs = root.join("blobs");
    for alg in fs_err::read_dir(&blobs).unwrap() {
        let alg = alg.unwrap();
        for f in fs_err::read_dir(alg.path()).unwrap() {
            let f = f.unwrap();
            let name = format!(
                "{}:{}",
                alg.file_name().to_string_lossy(),
                f.file_name().to_string_lossy()
            );
            out.push((Digest::parse(&name).unwrap(), f.path()));
        }
    }
    out
}

/// Files left in `ingest/`.
pub fn ingest_files(root: &Path) -> Vec<std::path::PathBuf> {
    match fs_err::read_dir(root.join("ingest")) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

/// After a failed pull: every blob under `blobs/` hashes to its name, none
/// of `absent` is there, nothing is tagged, no temp file is left, and gc
/// (with nothing tagged) empties the store.
pub fn assert_store_clean(store: &Store, absent: &[&Digest]) {
    let root = store.root();
    for (digest, path) in blob_files(root) {
        let bytes = fs_err::read(&path).unwrap();
        assert_eq!(
            Digest::sha256_of(&bytes),
            digest,
            "{} does not hash to its name",
            path.display()
        );
    }
    for d in absent {
        assert!(!store.has_blob(d), "the store holds {d}");
    }
    assert_eq!(store.names().unwrap(), Vec::new(), "nothing is tagged");
    assert_eq!(ingest_files(root), Vec::<std::path::PathBuf>::new());
    let report = store.gc(&[]).unwrap();
    assert_eq!(report.temp_files_removed, 0);
    assert_eq!(blob_files(root), Vec::new(), "gc removes what is left");
}

/// Asserts the blob is in the store with exactly these bytes.
pub fn assert_blob(store: &Store, d: &Descriptor, bytes: &[u8]) {
    assert!(store.has_blob(&d.digest), "{} is missing", d.digest);
    store.verify_blob(&d.digest).unwrap();
    assert_eq!(fs_err::read(store.blob_path(&d.digest)).unwrap(), bytes);
}

/// GET requests for this path, in the fake's log.
pub fn gets(reg: &FakeRegistry, path: &str) -> usize {
    reg.log()
        .iter()
        .filter(|r| r.method == "GET" && r.path() == path)
        .count()
}

pub fn blob_path(repo: &str, d: &Digest) -> String {
    format!("/v2/{repo}/blobs/{d}")
}
