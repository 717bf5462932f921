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
//!
//! What stops a build is what stops an install
//! ([`dockhand_spec::Diagnostic::blocks_build`]); marketplace findings (empty
//! or missing listing labels…) come back as warnings, or stop it too with
//! [`BuildOptions::strict`]. Files added with `--add` go below the UI, for
//! every platform or one, and an executable among them must run on the
//! platform whose image it goes into ([`extra`]).

pub mod context;
pub mod executable;
pub mod extra;
mod layer;
mod time;

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use dockhand_spec::{
    FileChecks, Labels, LabelsInput, Metadata, MetadataBytes, Os, Report, Severity, ValidateOptions,
};

pub use context::{ContextError, ExtensionDir};
pub use extra::{ExtraFile, ExtraFileError};
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
    /// backend binary), each for every platform or for one. They form one
    /// layer per platform below the UI.
    pub extra_files: Vec<ExtraFile>,
    /// The command a container of the image runs, set over the base's.
    pub cmd: Option<Vec<String>>,
    /// The signal that stops such a container (`SIGKILL`…), set over the base's.
    pub stop_signal: Option<String>,
    /// Refuse what `validate` calls an error, marketplace findings included
    /// (without it they are warnings, as they do not stop an install).
    pub strict: bool,
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
    /// No platform asked for.
    #[error("no platform given: pass --platform linux/amd64[,linux/arm64]")]
    NoPlatform,
    /// An added executable cannot run on a platform whose image it goes into.
    #[error("{path} is {found}, which cannot run in the {platform} image: {hint}")]
    WrongArchitecture {
        /// Path in the directory.
        path: String,
        /// What the file is (`an ELF executable for amd64`).
        found: String,
        /// The platform.
        platform: String,
        /// What to do.
        hint: String,
    },
    /// An `--add` names a platform that is not built.
    #[error(
        "--add {add}: {platform} is not built here (building {building}): add it to --platform or drop this --add (for a file whose name holds `=`, write ./SRC)"
    )]
    AddPlatformNotBuilt {
        /// The `--add` value.
        add: String,
        /// Its platform.
        platform: String,
        /// The platforms built.
        building: String,
    },
    /// Two added files for one image path of one platform.
    #[error(
        "two --add files go to {dest} in the {platform} image: keep one, or qualify each with its platform (--add {platform}=SRC:DEST)"
    )]
    AddTwice {
        /// The path in the image.
        dest: String,
        /// The platform.
        platform: String,
    },
    /// An added file is outside the directory.
    #[error(
        "{path} is outside the directory {dir}: --add reads SRC inside DIR (relative to it); copy or build the file into {dir}"
    )]
    OutsideDir {
        /// The path as given.
        path: String,
        /// The directory.
        dir: String,
    },
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
    /// An image document does not serialize.
    #[error(transparent)]
    Document(#[from] crate::image::DocumentError),
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
    /// The validation report (warnings only, since the build went ahead;
    /// marketplace errors are warnings here unless `strict`).
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
    // No label source means an image without labels: check them as install
    // will see them.
    let labels_input = match merge_labels(dir.labels(&options.build_args), &options.extra_labels) {
        LabelsInput::Absent => LabelsInput::from_labels(Labels::default()),
        found => found,
    };
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
    // A build stops on what stops an install (the spec's rule); the rest are
    // warnings, and with `strict` so are only those that `validate` calls
    // warnings. Building for an API newer than this host's is an author's
    // right either way: the constraint must parse, but need not admit 0.4.2.
    for d in &mut report.diagnostics {
        let unsatisfied = d.code == dockhand_spec::Code::ApiVersionUnsatisfied;
        if d.severity == Severity::Error && !d.blocks_build() && (!options.strict || unsatisfied) {
            d.severity = Severity::Warning;
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
    let Some(metadata) = report.metadata.clone() else {
        return Err(BuildError::File {
            path: "metadata.json".into(),
            message: "unreadable".into(),
        });
    };
    let mtime = options.source_date_epoch.unwrap_or(0);
    let extras = extra::layers(dir, &options.extra_files, &options.platforms)?;
    let layers = extension_layers(dir, &metadata, metadata_bytes, mtime)?;
    let mut shared = Vec::new();
    for spec in layers.iter().filter(|l| !l.is_empty()) {
        shared.push(put_layer(spec, mtime, sink)?);
    }
    // Platforms given the same added files share their layer.
    let mut extra_blobs: Vec<(&LayerSpec, (Descriptor, Digest))> = Vec::new();
    let created = time::rfc3339(mtime);
    let mut manifests = Vec::new();
    for (platform, extra) in options.platforms.iter().zip(&extras) {
        let mut ours = Vec::new();
        if !extra.is_empty() {
            let built = match extra_blobs.iter().find(|(s, _)| *s == extra) {
                Some((_, built)) => built.clone(),
                None => {
                    let built = put_layer(extra, mtime, sink)?;
                    extra_blobs.push((extra, built.clone()));
                    built
                }
            };
            ours.push(built);
        }
        ours.extend(shared.iter().cloned());
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
    let bytes = to_canonical_json(&index)?;
    let digest = sink.put(&bytes)?;
    Ok(BuildOutput {
        index: Descriptor::new(media::OCI_INDEX, digest, bytes.len() as u64),
        manifests,
        labels,
        report,
    })
}

/// Builds a layer and stores its blob: its descriptor and diff id.
fn put_layer(
    spec: &LayerSpec,
    mtime: u64,
    sink: &mut dyn BlobSink,
) -> Result<(Descriptor, Digest), BuildError> {
    let built = spec.build(mtime)?;
    let digest = sink.put(&built.blob)?;
    Ok((
        Descriptor::new(media::OCI_LAYER_GZIP, digest, built.blob.len() as u64),
        built.diff_id,
    ))
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
    let config_bytes = to_canonical_json(&config)?;
    let config_digest = sink.put(&config_bytes)?;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(media::OCI_MANIFEST.to_owned()),
        config: Descriptor::new(media::OCI_CONFIG, config_digest, config_bytes.len() as u64),
        layers,
        annotations: BTreeMap::new(),
        extra: Default::default(),
    };
    let bytes = to_canonical_json(&manifest)?;
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

fn add_file(dir: &ExtensionDir, rel: &str, layer: &mut LayerSpec) -> Result<(), BuildError> {
    add_file_at(dir, rel, rel, layer).map(drop)
}

/// Adds the file `rel` of the directory at `dest` in the image and returns
/// its real path: a path outside the directory, or a symlink leading out of
/// it, is refused (each called what it is).
fn add_file_at(
    dir: &ExtensionDir,
    rel: &str,
    dest: &str,
    layer: &mut LayerSpec,
) -> Result<PathBuf, BuildError> {
    let full = dir.root.join(rel);
    let real = fs_err::canonicalize(&full).ok();
    let inside = real.as_ref().is_some_and(|r| r.starts_with(&dir.root));
    if !inside && !lexically_inside(&dir.root, &full) {
        return Err(BuildError::OutsideDir {
            path: rel.to_owned(),
            dir: dir.root.display().to_string(),
        });
    }
    let meta = fs_err::metadata(&full).map_err(|e| BuildError::File {
        path: rel.to_owned(),
        message: match e.kind() {
            std::io::ErrorKind::NotFound => format!(
                "does not exist in {} (a path is read relative to the directory)",
                dir.root.display()
            ),
            _ => e.to_string(),
        },
    })?;
    let Some(real) = real.filter(|_| inside) else {
        return Err(BuildError::File {
            path: rel.to_owned(),
            message: "is a symlink that leads outside the directory: copy the file in".into(),
        });
    };
    use std::os::unix::fs::PermissionsExt;
    let executable = meta.permissions().mode() & 0o111 != 0;
    layer.add(
        dest,
        EntryKind::File {
            source: real.clone(),
            executable,
        },
    );
    Ok(real)
}

/// True when `path`, with `.` and `..` taken as written (no symlink
/// followed), stays inside `root`.
fn lexically_inside(root: &Path, path: &Path) -> bool {
    let mut parts: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                parts.pop();
            }
            Component::CurDir => {}
            other => parts.push(other),
        }
    }
    parts.iter().collect::<PathBuf>().starts_with(root)
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
            let real = fs_err::canonicalize(&path).ok();
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
    let from_real = fs_err::canonicalize(from_dir).unwrap_or_else(|_| from_dir.to_path_buf());
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
