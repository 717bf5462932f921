//! Suite `oci`: moving extension images between a registry and dockhand's
//! content store.
//!
//! Setup builds a two-platform extension image of ~48 MiB of incompressible
//! content with `dockhand_oci::build` — per platform a backend layer
//! (16 MiB, its own per platform, given as a base image), the UI layer
//! (16 MiB, shared) and a layer holding only metadata.json on top — and a
//! second version of it that differs only in labels and metadata.json, and
//! pushes both to the registry with `dockhand_oci::push`. Then:
//!
//! 1. pull: `dockhand_oci::pull` into a fresh store against
//!    `skopeo copy --all` into a fresh OCI layout;
//! 2. inspect: what `inspect_remote` downloads (requests by kind, bytes) and
//!    how long it takes, against `skopeo inspect`;
//! 3. update delta: what pulling version 2 into a store holding version 1
//!    downloads, against the image's own changed blobs;
//! 4. build reproducibility: two builds of the example extensions into
//!    fresh stores give the same index digest.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use dockhand_oci::build::{
    BaseImage, BlobSink, BuildError, BuildOptions, BuildOutput, EntryKind, ExtensionDir, LayerSpec,
};
use dockhand_oci::image::{
    Descriptor, ImageConfig, ImageIndex, ImageManifest, RootFs, RunConfig, media,
};
use dockhand_oci::inspect::inspect_remote;
use dockhand_oci::pull::{PullOptions, Pulled, pull};
use dockhand_oci::push::push;
use dockhand_oci::registry::{RegistryClient, RegistryOptions, RequestKind, StatsSnapshot};
use dockhand_oci::store::Store;
use dockhand_oci::{Digest, Platform, Reference};
use tokio::runtime::Runtime;

use super::Options;
use crate::measure::{Contender, Samples, interleaved, time};
use crate::progress;
use crate::support;
use crate::table::{self, Report, Row, Table};

/// `SOURCE_DATE_EPOCH` of every build here.
const EPOCH: u64 = 1_700_000_000;
/// Size of the UI layer's and each backend layer's random file.
const LAYER_FILE_BYTES: usize = 16 << 20;
/// Where the bench image goes in the registry.
const REPOSITORY: &str = "dockhand-bench/oci-ext";
/// What inspect may download at most.
const INSPECT_BUDGET: u64 = 64 * 1024;
/// The pull time target: dockhand / skopeo.
const PULL_RATIO_TARGET: f64 = 1.2;
/// Documents are small; read them with this bound.
const DOC_MAX: u64 = 4 << 20;

/// What every measurement uses.
struct Env {
    registry: String,
    skopeo: PathBuf,
    skopeo_version: String,
    dockhand: Option<PathBuf>,
    rt: Runtime,
    scratch: tempfile::TempDir,
}

impl Env {
    /// A fresh client: no pooled connections, zeroed counters.
    fn client(&self) -> Result<RegistryClient> {
        Ok(RegistryClient::new(RegistryOptions::default())?)
    }

    /// A path in the scratch directory that does not exist yet.
    fn fresh(&self, what: &str) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.scratch.path().join(format!("{what}-{n}"))
    }

    fn skopeo(&self) -> Command {
        Command::new(&self.skopeo)
    }
}

pub fn run(options: &Options, report: &mut Report) -> Result<()> {
    let registry = support::require_env("DOCKHAND_TEST_REGISTRY")?;
    let skopeo = support::program("skopeo", "SKOPEO")?;
    let skopeo_version = support::version_line(Command::new(&skopeo).arg("--version"));
    let env = Env {
        registry,
        skopeo,
        skopeo_version,
        dockhand: support::dockhand_binary(),
        rt: support::runtime()?,
        scratch: support::scratch_dir("oci")?,
    };
    progress(&format!(
        "oci: registry {}, {}, scratch {}",
        env.registry,
        env.skopeo_version,
        env.scratch.path().display()
    ));
    let fixture = Fixture::create(&env)?;
    report.print(&pull_table(&env, &fixture, options)?);
    report.print(&inspect_table(&env, &fixture, options)?);
    report.print(&delta_table(&env, &fixture, options)?);
    report.print(&build_table()?);
    let scratch = env.scratch.path().to_path_buf();
    env.scratch
        .close()
        .with_context(|| format!("cannot remove {}", scratch.display()))?;
    Ok(())
}

// ---------------------------------------------------------------------------
// The bench image

/// Both versions of the bench image, built and pushed.
struct Fixture {
    /// The build store (both versions).
    store: Store,
    v1: Reference,
    v2: Reference,
    /// Every document and blob of each version, deduplicated.
    parts1: Vec<Part>,
    parts2: Vec<Part>,
}

/// A document or blob of an image.
#[derive(Debug, Clone)]
struct Part {
    kind: PartKind,
    desc: Descriptor,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PartKind {
    Index,
    Manifest,
    Config,
    Layer,
}

impl PartKind {
    fn is_document(self) -> bool {
        matches!(self, PartKind::Index | PartKind::Manifest)
    }
}

fn platforms() -> Result<Vec<Platform>> {
    Ok(vec!["linux/amd64".parse()?, "linux/arm64".parse()?])
}

/// Deterministic, incompressible bytes (splitmix64).
fn random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        out.extend_from_slice(&z.to_le_bytes());
    }
    out.truncate(len);
    out
}

fn metadata_json(title: &str) -> String {
    format!(r#"{{"ui":{{"dashboard-tab":{{"title":"{title}","root":"/ui","src":"index.html"}}}}}}"#)
}

fn labels(version: &str, changelog: &str) -> std::collections::BTreeMap<String, String> {
    [
        ("org.opencontainers.image.title", "Bench Extension"),
        (
            "org.opencontainers.image.description",
            "A generated extension image for dockhand's benchmarks.",
        ),
        ("org.opencontainers.image.vendor", "dockhand benchmarks"),
        ("org.opencontainers.image.version", version),
        ("com.docker.desktop.extension.api.version", ">= 0.3.0"),
        (
            "com.docker.desktop.extension.icon",
            "https://example.com/dockhand/bench/icon.svg",
        ),
        (
            "com.docker.extension.screenshots",
            r#"[{"alt":"Bench","url":"https://example.com/dockhand/bench/screenshot.png"}]"#,
        ),
        (
            "com.docker.extension.detailed-description",
            "<p>Random content, so that compression cannot shrink it.</p>",
        ),
        (
            "com.docker.extension.publisher-url",
            "https://example.com/dockhand",
        ),
        ("com.docker.extension.changelog", changelog),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

impl Fixture {
    fn create(env: &Env) -> Result<Fixture> {
        progress("setup: building the bench image (2 platforms, 3 layers each, ~48 MiB)");
        let root = env.scratch.path().join("fixture");
        let ext = root.join("ext");
        fs_err::create_dir_all(ext.join("ui"))?;
        fs_err::write(
            ext.join("ui/index.html"),
            "<!doctype html><title>bench</title><script src=\"bundle.bin\"></script>\n",
        )?;
        fs_err::write(ext.join("ui/bundle.bin"), random_bytes(1, LAYER_FILE_BYTES))?;
        let mut store = Store::open(root.join("store"))?;
        let mut bases = std::collections::BTreeMap::new();
        for (i, p) in platforms()?.into_iter().enumerate() {
            let mut spec = LayerSpec::default();
            spec.add(
                "backend",
                EntryKind::Bytes(random_bytes(100 + i as u64, LAYER_FILE_BYTES)),
            );
            let built = spec.build(EPOCH)?;
            let digest = store.put_bytes(&built.blob)?;
            bases.insert(
                p.clone(),
                BaseImage {
                    layers: vec![Descriptor::new(
                        media::OCI_LAYER_GZIP,
                        digest,
                        built.blob.len() as u64,
                    )],
                    config: ImageConfig {
                        created: None,
                        architecture: p.architecture().to_owned(),
                        os: p.os().to_owned(),
                        variant: p.variant().map(str::to_owned),
                        config: RunConfig {
                            cmd: Some(vec!["/backend".to_owned()]),
                            ..Default::default()
                        },
                        rootfs: RootFs {
                            kind: "layers".to_owned(),
                            diff_ids: vec![built.diff_id],
                        },
                        extra: Default::default(),
                    },
                },
            );
        }
        let mut options = BuildOptions {
            platforms: platforms()?,
            source_date_epoch: Some(EPOCH),
            bases,
            ..Default::default()
        };
        let versions = [
            ("1", "Bench Extension", labels("1.0.0", "<p>First.</p>")),
            ("2", "Bench Extension 2", labels("1.0.1", "<p>Second.</p>")),
        ];
        let mut tops = Vec::new();
        for (tag, title, labels) in versions {
            fs_err::write(ext.join("metadata.json"), metadata_json(title))?;
            options.extra_labels = labels;
            let dir = ExtensionDir::open(&ext)?;
            let out = build(&dir, &options, &mut store)?;
            let reference = Reference::parse(&format!("{}/{REPOSITORY}:{tag}", env.registry))?;
            store.tag(&reference.to_string(), &out.index)?;
            tops.push((reference, out.index));
        }
        let client = env.client()?;
        for (reference, top) in &tops {
            let pushed = env.rt.block_on(push(&client, &store, top, reference))?;
            progress(&format!(
                "setup: pushed {reference} ({}): {} blobs uploaded, {} already there",
                top.digest.short(),
                pushed.uploaded,
                pushed.skipped
            ));
        }
        let parts1 = image_parts(&store, &tops[0].1)?;
        let parts2 = image_parts(&store, &tops[1].1)?;
        let mut tops = tops.into_iter().map(|(r, _)| r);
        let (Some(v1), Some(v2)) = (tops.next(), tops.next()) else {
            bail!("two versions were built");
        };
        let fixture = Fixture {
            store,
            v1,
            v2,
            parts1,
            parts2,
        };
        // What the measurements assume: 3 layers per platform, metadata.json
        // alone on top, and version 2 sharing the UI and backend layers.
        let layers = fixture.parts1.iter().filter(|p| p.kind == PartKind::Layer);
        ensure!(
            layers.count() == 4,
            "the bench image should have 4 distinct layers (2 backends, UI, metadata)"
        );
        let changed: Vec<&Part> = fixture.changed().collect();
        ensure!(
            changed.iter().filter(|p| p.kind == PartKind::Layer).count() == 1,
            "version 2 of the bench image should differ from version 1 in one layer only"
        );
        Ok(fixture)
    }

    /// Parts of version 2 that version 1 does not have.
    fn changed(&self) -> impl Iterator<Item = &Part> {
        let old: HashSet<&Digest> = self.parts1.iter().map(|p| &p.desc.digest).collect();
        self.parts2
            .iter()
            .filter(move |p| !old.contains(&p.desc.digest))
    }

    fn size(parts: &[Part]) -> u64 {
        parts.iter().map(|p| p.desc.size).sum()
    }

    /// The top layer of the amd64 manifest of version 1, and the parts an
    /// amd64-only reader needs.
    fn amd64_parts(&self) -> Result<Vec<Part>> {
        let index = self
            .parts1
            .iter()
            .find(|p| p.kind == PartKind::Index)
            .context("no index")?;
        let idx: ImageIndex =
            serde_json::from_slice(&self.store.read_blob(&index.desc.digest, DOC_MAX)?)?;
        let amd64: Platform = "linux/amd64".parse()?;
        let m = idx
            .manifests
            .iter()
            .find(|d| d.platform().is_some_and(|p| p == amd64))
            .context("no amd64 manifest")?;
        let mut parts = vec![index.clone(), manifest_part(m.clone())];
        parts.extend(manifest_blobs(&self.store, m)?);
        Ok(parts)
    }
}

/// `dockhand_oci::build::build`, with the validation findings in the error.
fn build(
    dir: &ExtensionDir,
    options: &BuildOptions,
    sink: &mut dyn BlobSink,
) -> Result<BuildOutput> {
    match dockhand_oci::build::build(dir, options, sink) {
        Ok(out) => Ok(out),
        Err(BuildError::Invalid { dir, report, .. }) => {
            let found: Vec<String> = report
                .diagnostics
                .iter()
                .map(|d| format!("{:?} {:?}: {}", d.severity, d.location, d.message))
                .collect();
            bail!("{dir} is not a valid extension:\n  {}", found.join("\n  "))
        }
        Err(e) => Err(e.into()),
    }
}

fn manifest_part(desc: Descriptor) -> Part {
    Part {
        kind: PartKind::Manifest,
        desc,
    }
}

/// The config and layers of the manifest `m`.
fn manifest_blobs(store: &Store, m: &Descriptor) -> Result<Vec<Part>> {
    let manifest: ImageManifest = serde_json::from_slice(&store.read_blob(&m.digest, DOC_MAX)?)?;
    let mut parts = vec![Part {
        kind: PartKind::Config,
        desc: manifest.config,
    }];
    parts.extend(manifest.layers.into_iter().map(|desc| Part {
        kind: PartKind::Layer,
        desc,
    }));
    Ok(parts)
}

/// Every document and blob of the index `top`, each once.
fn image_parts(store: &Store, top: &Descriptor) -> Result<Vec<Part>> {
    let index: ImageIndex = serde_json::from_slice(&store.read_blob(&top.digest, DOC_MAX)?)?;
    let mut parts = vec![Part {
        kind: PartKind::Index,
        desc: top.clone(),
    }];
    for m in &index.manifests {
        parts.push(manifest_part(m.clone()));
        parts.extend(manifest_blobs(store, m)?);
    }
    let mut seen = HashSet::new();
    parts.retain(|p| seen.insert(p.desc.digest.clone()));
    Ok(parts)
}

// ---------------------------------------------------------------------------
// 1. pull

fn pull_into(env: &Env, dir: &Path, reference: &Reference) -> Result<(Pulled, StatsSnapshot)> {
    let store = Store::open(dir)?;
    let client = env.client()?;
    let pulled = env
        .rt
        .block_on(pull(&client, &store, reference, &PullOptions::default()))?;
    Ok((pulled, client.stats().snapshot()))
}

fn skopeo_copy(env: &Env, reference: &Reference, dest: &str) -> Result<Duration> {
    support::run_timed(env.skopeo().args([
        "copy",
        "--quiet",
        "--src-tls-verify=false",
        "--all",
        &format!("docker://{reference}"),
        &format!("oci:{dest}"),
    ]))
}

fn pull_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    progress("pull: dockhand_oci::pull vs skopeo copy --all, fresh destination each run");
    let mut last: Option<(Pulled, StatsSnapshot)> = None;
    let samples = {
        let mut contenders = [
            Contender::new("dockhand pull", || {
                let dir = env.fresh("pull-store");
                let (out, took) = time(|| pull_into(env, &dir, &fx.v1))?;
                last = Some(out);
                support::discard(&dir)?;
                Ok(took)
            }),
            Contender::new("skopeo copy", || {
                let dir = env.fresh("pull-oci");
                let took = skopeo_copy(env, &fx.v1, &dir.display().to_string())?;
                support::discard(&dir)?;
                Ok(took)
            }),
        ];
        interleaved(options.plan, &mut contenders)?
    };
    let (ours, skopeo) = (&samples[0], &samples[1]);
    let (pulled, stats) = last.context("no dockhand pull ran")?;
    let size = Fixture::size(&fx.parts1);
    let blobs = fx.parts1.iter().filter(|p| !p.kind.is_document()).count();
    let mut t = Table::new(format!(
        "oci: pull {} (2 platforms, 3 layers each, {} blobs, {})",
        fx.v1,
        blobs,
        table::bytes(size)
    ));
    t.row(Row::timed("pull into a fresh store", ours, skopeo).ratio_at_most(PULL_RATIO_TARGET, 2));
    let mib_s = |s: &Samples| {
        format!(
            "{:.0} MiB/s",
            size as f64 / (1 << 20) as f64 / s.median().as_secs_f64().max(1e-9)
        )
    };
    t.row(Row::new("throughput (median)", mib_s(ours)).baseline(mib_s(skopeo), None));
    t.row(
        Row::new("bytes downloaded", table::bytes(stats.bytes_received))
            .baseline(
                format!("{} (image)", table::bytes(size)),
                table::ratio(stats.bytes_received as f64, size as f64),
            )
            .target("= image size", stats.bytes_received == size),
    );
    t.row(
        Row::new(
            "blobs fetched (configs + layers)",
            pulled.blobs_fetched.to_string(),
        )
        .target(blobs.to_string(), pulled.blobs_fetched == blobs),
    );
    t.note(options.plan.describe());
    t.note("dockhand: dockhand_oci::pull::pull in process (concurrency 4), a fresh Store and RegistryClient each run");
    t.note(format!(
        "baseline: skopeo copy --src-tls-verify=false --all docker://REF oci:DIR, a fresh DIR each run ({})",
        env.skopeo_version
    ));
    t.note("both verify every digest and fsync every blob; ratio = dockhand / skopeo");
    t.note("after each run its destination is deleted and `sync` run, untimed");
    t.note(
        "skopeo's time includes starting its process (the inspect table compares two processes)",
    );
    Ok(t)
}

// ---------------------------------------------------------------------------
// 2. inspect

fn inspect_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    progress("inspect: inspect_remote (amd64) vs skopeo inspect, fresh store each run");
    let amd64: Platform = "linux/amd64".parse()?;
    let mut last = None;
    let mut contenders = vec![
        Contender::new("dockhand inspect", || {
            let dir = env.fresh("inspect-store");
            let (out, took) = time(|| {
                let store = Store::open(&dir)?;
                let client = env.client()?;
                let inspected = env
                    .rt
                    .block_on(inspect_remote(&client, &store, &fx.v1, &amd64))?;
                Ok((inspected, client.stats().snapshot()))
            })?;
            last = Some(out);
            support::discard(&dir)?;
            Ok(took)
        }),
        Contender::new("skopeo inspect", || {
            support::run_timed(env.skopeo().args([
                "inspect",
                "--tls-verify=false",
                "--override-os",
                "linux",
                "--override-arch",
                "amd64",
                &format!("docker://{}", fx.v1),
            ]))
        }),
    ];
    if let Some(bin) = &env.dockhand {
        contenders.push(Contender::new("dockhand CLI", move || {
            let home = env.fresh("inspect-home");
            let took = support::run_timed(
                Command::new(bin)
                    .env("DOCKHAND_HOME", &home)
                    .args(["--quiet", "inspect", "--platform", "linux/amd64"])
                    .args(["--format", "json", &fx.v1.to_string()]),
            )?;
            support::discard(&home)?;
            Ok(took)
        }));
    }
    let samples = interleaved(options.plan, &mut contenders)?;
    drop(contenders);
    let (inspected, stats) = last.context("no dockhand inspect ran")?;

    let full = fx.amd64_parts()?;
    let top_layer = full
        .iter()
        .rfind(|p| p.kind == PartKind::Layer)
        .context("no layers")?;
    let needed: Vec<&Part> = full
        .iter()
        .filter(|p| p.kind != PartKind::Layer || p.desc.digest == top_layer.desc.digest)
        .collect();
    let needed_bytes: u64 = needed.iter().map(|p| p.desc.size).sum();
    let full_bytes = Fixture::size(&full);

    let mut t = Table::new(format!("oci: inspect {} (linux/amd64)", fx.v1));
    let req = |k: RequestKind| stats.requests_of(k);
    t.row(
        Row::new("bytes downloaded", table::bytes(stats.bytes_received))
            .baseline(
                format!("{} (amd64 pull)", table::bytes(full_bytes)),
                table::ratio(stats.bytes_received as f64, full_bytes as f64),
            )
            .target(
                format!(
                    "≤ {} and = index+manifest+config+metadata layer ({})",
                    table::bytes(INSPECT_BUDGET),
                    table::bytes(needed_bytes)
                ),
                stats.bytes_received <= INSPECT_BUDGET && stats.bytes_received == needed_bytes,
            ),
    );
    t.row(
        Row::new("requests: manifest", req(RequestKind::Manifest).to_string())
            .target("2 (index, amd64 manifest)", req(RequestKind::Manifest) == 2),
    );
    t.row(
        Row::new("requests: blob", req(RequestKind::Blob).to_string())
            .target("2 (config, metadata layer)", req(RequestKind::Blob) == 2),
    );
    let others: u64 = [RequestKind::Token, RequestKind::Tags, RequestKind::Push]
        .into_iter()
        .map(req)
        .sum();
    t.row(Row::new("requests: token, tags, push", others.to_string()).target("0", others == 0));
    t.row(
        Row::new(
            "layers read",
            format!("{} of {}", inspected.layers_read, inspected.layers_total),
        )
        .target("1 (metadata.json alone on top)", inspected.layers_read == 1),
    );
    let title = inspected
        .metadata
        .as_ref()
        .and_then(|m| m.pointer("/ui/dashboard-tab/title"))
        .and_then(|v| v.as_str())
        .unwrap_or("(none)");
    t.row(
        Row::new("metadata.json title", format!("{title:?}"))
            .target("\"Bench Extension\"", title == "Bench Extension"),
    );
    t.row(
        Row::timed(
            "time, in process (inspect_remote)",
            &samples[0],
            &samples[1],
        )
        .goal("(none)"),
    );
    if let Some(cli) = samples.get(2) {
        t.row(Row::timed("time, `dockhand inspect` process", cli, &samples[1]).goal("(none)"));
    }
    t.note(options.plan.describe());
    t.note("requests and bytes: client.stats() of the last in-process run (a fresh store and client each run)");
    t.note(format!(
        "time baseline: skopeo inspect --tls-verify=false docker://REF (index, amd64 manifest, config; no metadata.json) ({})",
        env.skopeo_version
    ));
    if env.dockhand.is_none() {
        t.note("no dockhand binary next to dockhand-bench: the CLI row was skipped (scripts/bench builds it)");
    }
    Ok(t)
}

// ---------------------------------------------------------------------------
// 3. update delta

fn delta_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    progress("delta: pull version 2 into a store holding version 1");
    let mut last = None;
    let samples = {
        let mut contenders = [
            Contender::new("dockhand pull v2", || {
                let dir = env.fresh("delta-store");
                let store = Store::open(&dir)?;
                let client = env.client()?;
                let opts = PullOptions::default();
                env.rt.block_on(pull(&client, &store, &fx.v1, &opts))?;
                let before = client.stats().snapshot();
                let (pulled, took) =
                    time(|| Ok(env.rt.block_on(pull(&client, &store, &fx.v2, &opts))?))?;
                let after = client.stats().snapshot();
                last = Some((pulled, before, after));
                support::discard(&dir)?;
                Ok(took)
            }),
            Contender::new("skopeo copy v2", || {
                let dir = env.fresh("delta-oci");
                let shown = dir.display().to_string();
                skopeo_copy(env, &fx.v1, &format!("{shown}:1"))?;
                let took = skopeo_copy(env, &fx.v2, &format!("{shown}:2"))?;
                support::discard(&dir)?;
                Ok(took)
            }),
        ];
        interleaved(options.plan, &mut contenders)?
    };
    let (pulled, before, after) = last.context("no dockhand pull ran")?;
    let bytes = after.bytes_received - before.bytes_received;
    let manifests =
        after.requests_of(RequestKind::Manifest) - before.requests_of(RequestKind::Manifest);

    let changed: Vec<&Part> = fx.changed().collect();
    let changed_bytes: u64 = changed.iter().map(|p| p.desc.size).sum();
    let count = |f: &dyn Fn(&Part) -> bool| changed.iter().filter(|p| f(p)).count();
    let changed_docs = count(&|p| p.kind.is_document());
    let changed_configs = count(&|p| p.kind == PartKind::Config);
    let changed_layers = count(&|p| p.kind == PartKind::Layer);
    let changed_blobs = changed_configs + changed_layers;
    let blobs2 = fx.parts2.iter().filter(|p| !p.kind.is_document()).count();
    let v2_size = Fixture::size(&fx.parts2);

    let mut t = Table::new(format!(
        "oci: update delta {} -> :{} (labels and metadata.json changed)",
        fx.v1,
        fx.v2.tag().unwrap_or("?")
    ));
    t.row(
        Row::new("bytes downloaded by the 2nd pull", table::bytes(bytes))
            .baseline(
                format!("{} (v2 image)", table::bytes(v2_size)),
                table::ratio(bytes as f64, v2_size as f64),
            )
            .target(
                format!("≤ changed blobs ({})", table::bytes(changed_bytes)),
                bytes <= changed_bytes,
            ),
    );
    t.row(
        Row::new("blobs fetched", pulled.blobs_fetched.to_string()).target(
            format!("{changed_blobs} ({changed_configs} configs, {changed_layers} metadata layer)"),
            pulled.blobs_fetched == changed_blobs,
        ),
    );
    t.row(
        Row::new("blobs reused", pulled.blobs_reused.to_string()).target(
            format!("{} (UI, backends)", blobs2 - changed_blobs),
            pulled.blobs_reused == blobs2 - changed_blobs,
        ),
    );
    t.row(Row::new("manifest requests", manifests.to_string()).target(
        format!("{changed_docs} (index, {} manifests)", changed_docs - 1),
        manifests == changed_docs as u64,
    ));
    t.row(Row::timed("time of the 2nd pull", &samples[0], &samples[1]).goal("(none)"));
    t.note(options.plan.describe());
    t.note("each run: a fresh store, v1 pulled untimed, then v2 pulled with the same client (bytes, requests: the difference of its stats)");
    t.note("baseline: skopeo copy --all of v1 into oci:DIR:1 untimed, then of v2 into oci:DIR:2 (skopeo reuses blobs the layout holds)");
    Ok(t)
}

// ---------------------------------------------------------------------------
// 4. build reproducibility

fn build_table() -> Result<Table> {
    progress("build: each example twice into fresh stores");
    let mut t = Table::new("oci: build reproducibility (linux/amd64 + linux/arm64)");
    let scratch = support::scratch_dir("build")?;
    for name in ["backend-image", "minimal-ui"] {
        let dir = ExtensionDir::open(&support::repo_root().join("examples").join(name))
            .with_context(|| format!("examples/{name}"))?;
        let options = BuildOptions {
            platforms: platforms()?,
            source_date_epoch: Some(EPOCH),
            ..Default::default()
        };
        let mut runs = Vec::new();
        for i in 1..=2 {
            let mut store = Store::open(scratch.path().join(format!("{name}-{i}")))?;
            let (out, took) = time(|| build(&dir, &options, &mut store))?;
            progress(&format!("  {name} build {i}: {}", table::duration(took)));
            runs.push((out, took));
        }
        let [(a, ta), (b, tb)] =
            <[_; 2]>::try_from(runs).map_err(|_| anyhow::anyhow!("two builds"))?;
        t.row(Row::new(
            format!("{name}: build 1, fresh store"),
            table::duration(ta),
        ));
        t.row(Row::new(
            format!("{name}: build 2, fresh store"),
            table::duration(tb),
        ));
        t.row(
            Row::new(
                format!("{name}: index digest"),
                a.index.digest.short().to_owned(),
            )
            .baseline(b.index.digest.short().to_owned(), None)
            .target("equal", a.index.digest == b.index.digest),
        );
    }
    t.note("single builds (not medians): the check is that two builds give the same digest");
    t.note("dockhand column: build 1; baseline column: build 2 (digests shortened); SOURCE_DATE_EPOCH fixed");
    t.note("backend-image is built WITHOUT --base (no arm64 backend toolchain here): only its own layers (UI, icon, metadata.json), which are platform-independent");
    scratch
        .close()
        .context("cannot remove the build scratch directory")?;
    Ok(t)
}
