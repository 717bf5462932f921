//! Update checks against the fake registry (testkit): tags listed across
//! `Link` pages (10,000 of them), non-semver tags ignored, the walk from the
//! highest version down to the first compatible one, indexes, the cache, and
//! not one layer request.

#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::collections::{HashMap, HashSet};

use dockhand_host::Manager;
use dockhand_host::state::ExtensionRecord;
use dockhand_host::update::{CheckOptions, Checked, UpdateCheck};
use dockhand_oci::{Digest, Platform};
use dockhand_spec::ExtensionId;
use dockhand_testkit::registry::FakeRegistry;

use crate::support::{self, client};

/// What the fake registry serves: one repository `acme/ext`.
struct Repo {
    /// Tags in listing order.
    tags: Vec<String>,
    /// tag → api.version label (absent: no label).
    api: HashMap<String, Option<String>>,
    /// Serve tags whose name starts with this as an index (amd64 + arm64).
    index_prefix: Option<String>,
    /// Tags per page.
    page: usize,
}

#[derive(Default)]
struct Docs {
    /// digest → (media type, bytes)
    manifests: HashMap<String, (String, Vec<u8>)>,
    /// tag → digest of what the tag names
    tags: HashMap<String, String>,
    configs: HashMap<String, Vec<u8>>,
    layers: HashSet<String>,
}

/// The fake registry serving `acme/ext` as its [`Repo`] says, and which
/// blobs are configs and which layers (the layers are never served).
struct Fake {
    reg: FakeRegistry,
    addr: String,
    configs: HashSet<String>,
    layers: HashSet<String>,
}

const REPO: &str = "acme/ext";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

fn sha(bytes: &[u8]) -> String {
    Digest::sha256_of(bytes).to_string()
}

fn image_docs(docs: &mut Docs, tag: &str, arch: &str, api: Option<&str>) -> (String, usize) {
    let labels = match api {
        Some(a) => serde_json::json!({ "com.docker.desktop.extension.api.version": a }),
        None => serde_json::json!({}),
    };
    let config = serde_json::to_vec(&serde_json::json!({
        "architecture": arch, "os": "linux",
        "config": { "Labels": labels },
        "rootfs": { "type": "layers", "diff_ids": [] }
    }))
    .unwrap();
    let config_digest = sha(&config);
    let layer = sha(format!("layer of {tag} {arch}").as_bytes());
    docs.layers.insert(layer.clone());
    let manifest = serde_json::to_vec(&serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len() },
        "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": layer, "size": 1234 }]
    }))
    .unwrap();
    let digest = sha(&manifest);
    let size = manifest.len();
    docs.configs.insert(config_digest, config);
    docs.manifests
        .insert(digest.clone(), (OCI_MANIFEST.into(), manifest));
    (digest, size)
}

impl Fake {
    fn start(repo: Repo) -> Fake {
        let mut docs = Docs::default();
        for tag in &repo.tags {
            let api = repo.api.get(tag).cloned().flatten();
            let indexed = repo
                .index_prefix
                .as_deref()
                .is_some_and(|p| tag.starts_with(p));
            let digest = if indexed {
                let (arm, arm_size) = image_docs(&mut docs, tag, "arm64", Some(">= 99.0.0"));
                let (amd, amd_size) = image_docs(&mut docs, tag, "amd64", api.as_deref());
                let index = serde_json::to_vec(&serde_json::json!({
                    "schemaVersion": 2, "mediaType": OCI_INDEX,
                    "manifests": [
                        { "mediaType": OCI_MANIFEST, "digest": arm, "size": arm_size, "platform": { "os": "linux", "architecture": "arm64" } },
                        { "mediaType": OCI_MANIFEST, "digest": amd, "size": amd_size, "platform": { "os": "linux", "architecture": "amd64" } }
                    ]
                }))
                .unwrap();
                let d = sha(&index);
                docs.manifests.insert(d.clone(), (OCI_INDEX.into(), index));
                d
            } else {
                image_docs(&mut docs, tag, "amd64", api.as_deref()).0
            };
            docs.tags.insert(tag.clone(), digest);
        }
        let reg = FakeRegistry::start();
        let configs = docs.configs.keys().cloned().collect();
        reg.set(|s| {
            for (tag, digest) in &docs.tags {
                let manifest = docs.manifests[digest].clone();
                s.manifests.insert((REPO.into(), tag.clone()), manifest);
            }
            for (digest, manifest) in docs.manifests {
                s.manifests.insert((REPO.into(), digest), manifest);
            }
            for (digest, config) in docs.configs {
                s.blobs.insert((REPO.into(), digest), config);
            }
            s.tags.insert(REPO.into(), repo.tags);
            s.page_size = Some(repo.page);
        });
        Fake {
            addr: reg.host(),
            reg,
            configs,
            layers: docs.layers,
        }
    }

    /// Requests for a blob among `digests`.
    fn blob_requests(&self, digests: &HashSet<String>) -> u64 {
        let prefix = format!("/v2/{REPO}/blobs/");
        self.reg
            .log()
            .iter()
            .filter(|r| {
                r.path()
                    .strip_prefix(&prefix)
                    .is_some_and(|d| digests.contains(d))
            })
            .count() as u64
    }

    fn layer_requests(&self) -> u64 {
        self.blob_requests(&self.layers)
    }

    fn config_requests(&self) -> u64 {
        self.blob_requests(&self.configs)
    }

    /// Tag-list pages served.
    fn pages(&self) -> u64 {
        let path = format!("/v2/{REPO}/tags/list");
        self.reg.log().iter().filter(|r| r.path() == path).count() as u64
    }
}

fn record(id: &str, source: &str, version: Option<&str>, digest: &str) -> ExtensionRecord {
    ExtensionRecord {
        id: ExtensionId::parse(id).unwrap(),
        image: source.into(),
        source: source.into(),
        digest: digest.into(),
        version: version.map(Into::into),
        title: "Ext".into(),
        vendor: "Acme".into(),
        enabled: true,
        installed_at: 1,
        dir: "/nonexistent".into(),
        compose_project: None,
        backend: None,
        host_binaries: vec![],
        ui_title: None,
        metadata: serde_json::json!({}),
        labels: Default::default(),
        update_available: None,
    }
}

fn amd64() -> CheckOptions {
    CheckOptions {
        platform: Platform::new("linux", "amd64", None),
        ..Default::default()
    }
}

/// Puts `fake`'s `acme/ext` in `m`'s state as installed from
/// `{id}{suffix}` (at `version`, with the manifest `digest`); its id as text
/// and parsed.
fn install(
    m: &Manager,
    fake: &Fake,
    suffix: &str,
    version: Option<&str>,
    digest: &str,
) -> (String, ExtensionId) {
    let id = format!("{}/acme/ext", fake.addr);
    let source = format!("{id}{suffix}");
    m.state.put(&record(&id, &source, version, digest)).unwrap();
    let parsed = ExtensionId::parse(&id).unwrap();
    (id, parsed)
}

/// Checks `id` for an update on `rt`; the check, which must have run.
fn check(
    rt: &tokio::runtime::Runtime,
    m: &Manager,
    id: &ExtensionId,
    options: &CheckOptions,
) -> UpdateCheck {
    checked(rt.block_on(m.check_update(id, &client(), options)).unwrap())
}

fn checked(c: Checked) -> UpdateCheck {
    match c {
        Checked::Checked(c) => c,
        other => panic!("not checked: {other:?}"),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn small_repo() -> Repo {
    let tags = [
        "1.0.0",
        "latest",
        "foo",
        "v1.1.0",
        "2.0.0",
        "1.2.0-rc.1",
        "1.0",
    ];
    let mut api = HashMap::new();
    for t in tags {
        api.insert(t.to_owned(), Some(">= 0.3.0".to_owned()));
    }
    api.insert("2.0.0".into(), Some(">= 9.0.0".into()));
    Repo {
        tags: tags.iter().map(|t| t.to_string()).collect(),
        api,
        index_prefix: Some("v1.1".into()),
        page: 3,
    }
}

#[test]
fn picks_the_highest_compatible_tag_without_a_layer_request_and_caches() {
    let fake = Fake::start(small_repo());
    let tmp = tempfile::tempdir().unwrap();
    let m = support::open(tmp.path());
    let (_, id) = install(&m, &fake, ":1.0.0", Some("1.0.0"), "sha256:00");
    let rt = rt();
    let c = check(&rt, &m, &id, &amd64());
    assert_eq!(c.latest.as_deref(), Some("v1.1.0"));
    assert!(c.update_available);
    assert_eq!(c.blocked_by_api.as_deref(), Some("2.0.0"));
    assert_eq!(c.counts.tags, 7);
    // latest, foo, 1.0 and the pre-release.
    assert_eq!(c.counts.ignored, 4);
    assert_eq!(c.counts.configs_read, 2);
    assert_eq!(fake.layer_requests(), 0);
    assert_eq!(fake.config_requests(), 2);
    assert_eq!(fake.pages(), 3);
    // The record and the cache say so.
    let r = m.state.get(&id).unwrap().unwrap();
    assert_eq!(r.update_available.as_deref(), Some("v1.1.0"));
    assert!(m.state.get_check(&id).unwrap().unwrap().update_available);

    // Again: every candidate from the cache, no config read.
    let c2 = check(&rt, &m, &id, &amd64());
    assert_eq!(c2.latest, c.latest);
    assert_eq!(c2.counts.configs_read, 0);
    assert_eq!(c2.counts.cached, 2);
    assert_eq!(fake.config_requests(), 2);

    // With --pre the release candidate counts (and is compatible).
    let pre = CheckOptions {
        pre: true,
        ..amd64()
    };
    let c3 = check(&rt, &m, &id, &pre);
    assert_eq!(c3.latest.as_deref(), Some("1.2.0-rc.1"));
    assert_eq!(fake.layer_requests(), 0);
}

#[test]
fn the_highest_installed_is_up_to_date_and_local_sources_are_skipped() {
    let fake = Fake::start(small_repo());
    let tmp = tempfile::tempdir().unwrap();
    let m = support::open(tmp.path());
    install(&m, &fake, ":v1.1.0", Some("v1.1.0"), "sha256:00");
    m.state
        .put(&record(
            "local/ext",
            "engine:local/ext:1",
            Some("1"),
            "sha256:11",
        ))
        .unwrap();
    let rt = rt();
    let all = rt
        .block_on(m.check_updates(&[], &client(), &amd64(), 4))
        .unwrap();
    assert_eq!(all.len(), 2);
    let local = all.iter().find(|(i, _)| i.as_str() == "local/ext").unwrap();
    match local.1.as_ref().unwrap() {
        Checked::Skipped { reason, .. } => assert!(reason.contains("engine:"), "{reason}"),
        other => panic!("{other:?}"),
    }
    let remote = all.iter().find(|(i, _)| i.as_str() != "local/ext").unwrap();
    let c = checked(remote.1.as_ref().unwrap().clone());
    assert_eq!(c.latest.as_deref(), Some("v1.1.0"));
    assert!(!c.update_available);
    assert_eq!(c.blocked_by_api.as_deref(), Some("2.0.0"));
}

#[test]
fn an_extension_installed_by_digest_compares_manifests() {
    let fake = Fake::start(small_repo());
    let tmp = tempfile::tempdir().unwrap();
    let m = support::open(tmp.path());
    let suffix = format!("@sha256:{}", "ab".repeat(32));
    let (id, idv) = install(&m, &fake, &suffix, None, "sha256:0000");
    let rt = rt();
    let c = check(&rt, &m, &idv, &amd64());
    assert_eq!(c.latest.as_deref(), Some("v1.1.0"));
    assert!(c.update_available, "another digest than the installed one");
    // Installed the very manifest v1.1.0 names for amd64: nothing to do.
    let cached = m
        .state
        .get_manifest_api(&id, &head_digest(&fake, "v1.1.0"), "linux/amd64")
        .unwrap()
        .unwrap();
    install(&m, &fake, &suffix, None, &cached.manifest);
    let c = check(&rt, &m, &idv, &amd64());
    assert!(!c.update_available);
}

fn head_digest(fake: &Fake, tag: &str) -> String {
    let head = format!(
        "HEAD /v2/acme/ext/manifests/{tag} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    );
    dockhand_testkit::http::tcp_exchange(&fake.addr, &head)
        .header("docker-content-digest")
        .unwrap_or_else(|| panic!("no digest for {tag}"))
        .to_owned()
}

#[test]
fn ten_thousand_tags_across_link_pages() {
    // 10,000 versions X.Y.Z and ten tags that are not versions, in the
    // registry's (lexical) order, 1,000 a page. Versions from 9.9.0 up need
    // a newer API; 9.8.99 is the answer.
    let mut tags: Vec<String> = (0..10_000)
        .map(|i| format!("{}.{}.{}", i / 1000, (i / 100) % 10, i % 100))
        .collect();
    for t in [
        "latest", "main", "foo", "sha-abc", "1.0", "v", "x.y.z", "stable", "edge", "nightly",
    ] {
        tags.push(t.to_owned());
    }
    tags.sort();
    let mut api = HashMap::new();
    for t in &tags {
        let needs_new = t.starts_with("9.9.");
        api.insert(
            t.clone(),
            Some(if needs_new { ">= 9.0.0" } else { ">= 0.2.0" }.to_owned()),
        );
    }
    let total = tags.len();
    let fake = Fake::start(Repo {
        tags,
        api,
        index_prefix: None,
        page: 1000,
    });
    let tmp = tempfile::tempdir().unwrap();
    let m = support::open(tmp.path());
    let (_, idv) = install(&m, &fake, ":0.5.0", Some("0.5.0"), "sha256:00");
    let c = check(&rt(), &m, &idv, &amd64());
    assert_eq!(c.counts.tags, total);
    assert_eq!(c.counts.ignored, 10);
    assert_eq!(c.latest.as_deref(), Some("9.8.99"));
    assert_eq!(c.blocked_by_api.as_deref(), Some("9.9.99"));
    // 9.9.0–9.9.99 and then 9.8.99: 101 configs, not thousands.
    assert_eq!(c.counts.configs_read, 101);
    assert_eq!(fake.layer_requests(), 0);
    assert_eq!(fake.pages(), total.div_ceil(1000) as u64);
}
