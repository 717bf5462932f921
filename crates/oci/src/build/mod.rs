//! Daemonless, reproducible assembly of an extension image from a directory
//! laid out like its image root.
//!
//! The files metadata.json names go into their own layers — the UI, the host
//! binaries, the icon and compose file, and last a layer holding only
//! metadata.json, so that `inspect` reads one small blob. Entries are sorted,
//! owned by 0:0, with fixed modes and times (`SOURCE_DATE_EPOCH`, else 0), so
//! the same input gives the same digests, byte for byte. An optional base
//! image per platform supplies the backend's runtime (its layers and run
//! config) underneath.

pub mod context;
mod layer;
mod time;

use std::collections::BTreeMap;
use std::path::Path;

use dockhand_spec::{FileChecks, LabelsInput, Metadata, Os, Report, ValidateOptions};

pub use context::{ContextError, ExtensionDir, MetadataBytes};
pub use layer::{BuiltLayer, EntryKind, LayerSpec};

use crate::digest::Digest;
use crate::image::{
    Descriptor, ImageConfig, ImageIndex, ImageManifest, PlatformSpec, RootFs, media,
    to_canonical_json,
};
use crate::platform::Platform;

/// Where built blobs go: the content store, or any OCI layout.
pub trait BlobSink {
    /// Stores `bytes` and returns their sha256 digest.
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<Digest>;
}

impl BlobSink for crate::store::Store {
    fn put(&mut self, bytes: &[u8]) -> std::io::Result<Digest> {
        self.put_bytes(bytes).map_err(std::io::Error::other)
    }
}

/// A base image for one platform, whose blobs are already in the sink.
#[derive(Debug, Clone)]
pub struct BaseImage {
    /// Its layers, bottom first.
    pub layers: Vec<Descriptor>,
    /// Its config.
    pub config: ImageConfig,
}

/// What to build.
#[derive(Debug, Clone, Default)]
pub struct BuildOptions {
    /// Platforms of the index, in order (at least one).
    pub platforms: Vec<Platform>,
    /// Values for Dockerfile `ARG`s used by labels.
    pub build_args: BTreeMap<String, String>,
    /// Labels given on the command line; they win over the directory's.
    pub extra_labels: BTreeMap<String, String>,
    /// `SOURCE_DATE_EPOCH`: the time written into layers and configs.
    pub source_date_epoch: Option<u64>,
    /// Base image per platform.
    pub bases: BTreeMap<Platform, BaseImage>,
    /// Files metadata.json does not name that go into the image too (a
    /// backend binary): `(path in the directory, path in the image)`. They
    /// form one layer below the UI.
    pub extra_files: Vec<(String, String)>,
    /// The command a container of the image runs, set over the base's.
    pub cmd: Option<Vec<String>>,
    /// The signal that stops such a container (`SIGKILL`…), set over the base's.
    pub stop_signal: Option<String>,
}

/// Why a build failed. Nothing was written when validation failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// The directory is not a valid extension.
    #[error(
        "{dir} is not a valid extension ({errors} errors): run dockhand validate {dir} for details"
    )]
    Invalid {
        /// The directory.
        dir: String,
        /// Number of errors.
        errors: usize,
        /// The validation report.
        report: Box<Report>,
    },
    /// No labels at all.
    #[error(
        "{0} has no labels: add LABEL lines to its Dockerfile, a labels.json, or --label KEY=VALUE"
    )]
    NoLabels(String),
    /// No platform asked for.
    #[error("no platform given: pass --platform linux/amd64[,linux/arm64]")]
    NoPlatform,
    /// A file cannot be put into the image.
    #[error("{path}: {message}")]
    File {
        /// Path in the directory.
        path: String,
        /// What is wrong.
        message: String,
    },
    /// The directory cannot be read.
    #[error(transparent)]
    Context(#[from] ContextError),
    /// Reading files or writing blobs failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a build produced.
#[derive(Debug, Clone)]
pub struct BuildOutput {
    /// The image index.
    pub index: Descriptor,
    /// One manifest per platform.
    pub manifests: Vec<(Platform, Descriptor)>,
    /// The labels written.
    pub labels: BTreeMap<String, String>,
    /// The validation report (warnings only, since the build went ahead).
    pub report: Report,
}

/// Builds the extension in `dir` into `sink`.
pub fn build(
    dir: &ExtensionDir,
    options: &BuildOptions,
    sink: &mut dyn BlobSink,
) -> Result<BuildOutput, BuildError> {
    if options.platforms.is_empty() {
        return Err(BuildError::NoPlatform);
    }
    let shown = dir.root.display().to_string();
    let metadata_bytes = match dir.read_metadata()? {
        MetadataBytes::Read(b) => b,
        MetadataBytes::TooLarge(size) => {
            return Err(BuildError::File {
                path: "metadata.json".into(),
                message: format!("{size} bytes is over the 1 MiB limit"),
            });
        }
        MetadataBytes::Unreadable(m) => {
            return Err(BuildError::File {
                path: "metadata.json".into(),
                message: m,
            });
        }
    };
    let labels_input = merge_labels(dir.labels(&options.build_args), &options.extra_labels);
    let labels = match &labels_input {
        LabelsInput::Found { labels, .. } => labels.0.clone(),
        _ => BTreeMap::new(),
    };
    let validate_options = ValidateOptions {
        file_checks: FileChecks::All,
        ..Default::default()
    };
    let mut report =
        dockhand_spec::validate(&metadata_bytes, &labels_input, dir, &validate_options);
    // Building for an API newer than this host's is an author's right: the
    // constraint must parse, but need not admit 0.4.2.
    for d in &mut report.diagnostics {
        if d.code == dockhand_spec::Code::ApiVersionUnsatisfied {
            d.severity = dockhand_spec::Severity::Warning;
        }
    }
    if !report.is_valid() {
        let errors = report.errors();
        return Err(BuildError::Invalid {
            dir: shown,
            errors,
            report: Box::new(report),
        });
    }
    if labels.is_empty() {
        return Err(BuildError::NoLabels(shown));
    }
    let Some(metadata) = report.metadata.clone() else {
        return Err(BuildError::File {
            path: "metadata.json".into(),
            message: "unreadable".into(),
        });
    };
    let mtime = options.source_date_epoch.unwrap_or(0);
    let mut layers = vec![extra_layer(dir, &options.extra_files)?];
    layers.extend(extension_layers(dir, &metadata, metadata_bytes, mtime)?);
    let mut ours = Vec::new();
    for spec in layers.iter().filter(|l| !l.is_empty()) {
        let built = spec.build(mtime)?;
        let digest = sink.put(&built.blob)?;
        ours.push((
            Descriptor::new(media::OCI_LAYER_GZIP, digest, built.blob.len() as u64),
            built.diff_id,
        ));
    }
    let created = time::rfc3339(mtime);
    let mut manifests = Vec::new();
    for platform in &options.platforms {
        let base = options.bases.get(platform);
        let run = Run {
            labels: &labels,
            cmd: options.cmd.as_ref(),
            stop_signal: options.stop_signal.as_deref(),
        };
        let desc = platform_manifest(platform, base, &ours, &run, &created, sink)?;
        manifests.push((platform.clone(), desc));
    }
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(media::OCI_INDEX.to_owned()),
        manifests: manifests
            .iter()
            .map(|(p, d)| Descriptor {
                platform: Some(PlatformSpec::from(p)),
                ..d.clone()
            })
            .collect(),
        annotations: BTreeMap::new(),
        extra: Default::default(),
    };
    let bytes = to_canonical_json(&index);
    let digest = sink.put(&bytes)?;
    Ok(BuildOutput {
        index: Descriptor::new(media::OCI_INDEX, digest, bytes.len() as u64),
        manifests,
        labels,
        report,
    })
}

fn merge_labels(found: LabelsInput, extra: &BTreeMap<String, String>) -> LabelsInput {
    if extra.is_empty() {
        return found;
    }
    match found {
        LabelsInput::Found {
            mut labels,
            duplicates,
            unset_variables,
        } => {
            labels.0.extend(extra.clone());
            let unset_variables = unset_variables
                .into_iter()
                .filter(|(k, _)| !extra.contains_key(k))
                .collect();
            LabelsInput::Found {
                labels,
                duplicates,
                unset_variables,
            }
        }
        LabelsInput::Absent => LabelsInput::from_labels(dockhand_spec::Labels(extra.clone())),
        unreadable => unreadable,
    }
}

/// What the build sets in each platform's run config.
struct Run<'a> {
    labels: &'a BTreeMap<String, String>,
    cmd: Option<&'a Vec<String>>,
    stop_signal: Option<&'a str>,
}

fn platform_manifest(
    platform: &Platform,
    base: Option<&BaseImage>,
    ours: &[(Descriptor, Digest)],
    set: &Run<'_>,
    created: &str,
    sink: &mut dyn BlobSink,
) -> Result<Descriptor, BuildError> {
    let mut layers: Vec<Descriptor> = base.map(|b| b.layers.clone()).unwrap_or_default();
    let mut diff_ids: Vec<Digest> = base
        .map(|b| b.config.rootfs.diff_ids.clone())
        .unwrap_or_default();
    layers.extend(ours.iter().map(|(d, _)| d.clone()));
    diff_ids.extend(ours.iter().map(|(_, id)| id.clone()));
    let mut run = base.map(|b| b.config.config.clone()).unwrap_or_default();
    let mut all_labels = run.labels.clone().unwrap_or_default();
    all_labels.extend(set.labels.clone());
    run.labels = Some(all_labels);
    if let Some(cmd) = set.cmd {
        run.cmd = Some(cmd.clone());
    }
    if let Some(signal) = set.stop_signal {
        run.extra.insert(
            "StopSignal".to_owned(),
            serde_json::Value::String(signal.to_owned()),
        );
    }
    let config = ImageConfig {
        created: Some(created.to_owned()),
        architecture: platform.architecture().to_owned(),
        os: platform.os().to_owned(),
        variant: platform.variant().map(str::to_owned),
        config: run,
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids,
        },
        extra: Default::default(),
    };
    let config_bytes = to_canonical_json(&config);
    let config_digest = sink.put(&config_bytes)?;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_owned()),
        config: Descriptor::new(media::OCI_CONFIG, config_digest, config_bytes.len() as u64),
        layers,
        annotations: BTreeMap::new(),
        extra: Default::default(),
    };
    let bytes = to_canonical_json(&manifest);
    let digest = sink.put(&bytes)?;
    Ok(Descriptor::new(
        media::OCI_MANIFEST,
        digest,
        bytes.len() as u64,
    ))
}

/// The extension's own layers: UI, host binaries, icon + compose file, and
/// metadata.json alone on top.
fn extension_layers(
    dir: &ExtensionDir,
    metadata: &Metadata,
    metadata_bytes: Vec<u8>,
    _mtime: u64,
) -> Result<Vec<LayerSpec>, BuildError> {
    let mut ui = LayerSpec::default();
    if let Some(tab) = metadata.dashboard_tab() {
        add_tree(dir, tab.root_dir(), &mut ui)?;
    }
    let mut host = LayerSpec::default();
    for os in Os::ALL {
        for bin in metadata.host_binaries(os) {
            let path = bin.path.trim_matches('/');
            if bin.is_dir() {
                add_tree(dir, path, &mut host)?;
            } else {
                add_file(dir, path, &mut host)?;
            }
        }
    }
    let mut assets = LayerSpec::default();
    if let Some(icon) = metadata.icon.as_deref().filter(|i| !i.trim().is_empty()) {
        add_file(dir, icon.trim_start_matches('/'), &mut assets)?;
    }
    if let Some(compose) = metadata
        .vm
        .as_ref()
        .and_then(|vm| vm.composefile.as_deref())
    {
        add_file(dir, compose.trim_start_matches('/'), &mut assets)?;
    }
    let mut meta = LayerSpec::default();
    meta.add("metadata.json", EntryKind::Bytes(metadata_bytes));
    Ok(vec![ui, host, assets, meta])
}

/// The layer of files added besides those metadata.json names.
fn extra_layer(dir: &ExtensionDir, files: &[(String, String)]) -> Result<LayerSpec, BuildError> {
    let mut layer = LayerSpec::default();
    for (source, dest) in files {
        let source = source.trim_start_matches("./");
        let dest = dest.trim_matches('/');
        if dest.is_empty() || dest.split('/').any(|c| c == ".." || c == ".") {
            return Err(BuildError::File {
                path: source.to_owned(),
                message: format!(
                    "`{dest}` is not a path in the image: write an absolute path such as /backend"
                ),
            });
        }
        if fs_err::metadata(dir.root.join(source)).is_ok_and(|m| m.is_dir()) {
            return Err(BuildError::File {
                path: source.to_owned(),
                message: "is a directory: add its files one by one".into(),
            });
        }
        add_file_at(dir, source, dest, &mut layer)?;
    }
    Ok(layer)
}

fn add_file(dir: &ExtensionDir, rel: &str, layer: &mut LayerSpec) -> Result<(), BuildError> {
    add_file_at(dir, rel, rel, layer)
}

/// Adds the file `rel` of the directory at `dest` in the image.
fn add_file_at(
    dir: &ExtensionDir,
    rel: &str,
    dest: &str,
    layer: &mut LayerSpec,
) -> Result<(), BuildError> {
    let full = dir.root.join(rel);
    let meta = std::fs::metadata(&full).map_err(|e| BuildError::File {
        path: rel.to_owned(),
        message: e.to_string(),
    })?;
    let real = fs_err::canonicalize(&full)?;
    if !real.starts_with(&dir.root) {
        return Err(BuildError::File {
            path: rel.to_owned(),
            message: "is a symlink that leads outside the directory: copy the file in".into(),
        });
    }
    use std::os::unix::fs::PermissionsExt;
    let executable = meta.permissions().mode() & 0o111 != 0;
    layer.add(
        dest,
        EntryKind::File {
            source: real,
            executable,
        },
    );
    Ok(())
}

/// Adds every file under `rel` (symlinks inside the tree kept as links,
/// symlinks leading out refused, special files refused).
fn add_tree(dir: &ExtensionDir, rel: &str, layer: &mut LayerSpec) -> Result<(), BuildError> {
    let start = dir.root.join(rel);
    let mut stack = vec![start];
    while let Some(path) = stack.pop() {
        let rel_path = dir.relative(&path);
        let meta = fs_err::symlink_metadata(&path)?;
        let ft = meta.file_type();
        if ft.is_symlink() {
            let real = std::fs::canonicalize(&path).ok();
            let Some(real) = real.filter(|r| r.starts_with(&dir.root)) else {
                return Err(BuildError::File {
                    path: rel_path,
                    message:
                        "is a symlink that leads outside the directory or nowhere: copy the file in"
                            .into(),
                });
            };
            let target = relative_link(path.parent().unwrap_or(&dir.root), &real, &dir.root);
            layer.add(&rel_path, EntryKind::Symlink(target));
        } else if ft.is_dir() {
            layer.add(&rel_path, EntryKind::Dir);
            for entry in fs_err::read_dir(&path)? {
                stack.push(entry?.path());
            }
        } else if ft.is_file() {
            add_file(dir, &rel_path, layer)?;
        } else {
            return Err(BuildError::File {
                path: rel_path,
                message: "is not a regular file, directory or symlink".into(),
            });
        }
    }
    Ok(())
}

/// A relative symlink target from `from_dir` to `to` (both inside `root`).
fn relative_link(from_dir: &Path, to: &Path, root: &Path) -> String {
    let from_real = std::fs::canonicalize(from_dir).unwrap_or_else(|_| from_dir.to_path_buf());
    let from: Vec<_> = from_real
        .strip_prefix(root)
        .unwrap_or(Path::new(""))
        .components()
        .collect();
    let to: Vec<_> = to.strip_prefix(root).unwrap_or(to).components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_owned()
    } else {
        parts.join("/")
    }
}
