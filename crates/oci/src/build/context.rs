//! An extension laid out on disk like its image root (the build context):
//! its metadata.json, its labels and a view of its files that never follows a
//! symlink out of the directory. What the view means (the metadata read's
//! outcome, which file gives the labels) is `dockhand_spec::extension_dir`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use dockhand_spec::{
    FileKind, ImageFiles, LabelsInput, METADATA_MAX_BYTES, MetadataBytes, labels_beside_metadata,
};

/// Why an extension directory cannot be opened.
#[derive(Debug, thiserror::Error)]
pub enum ContextError {
    /// The target does not exist.
    #[error("{0} does not exist: pass a metadata.json or an extension's image-root directory")]
    NotFound(PathBuf),
    /// No metadata.json in the directory.
    #[error(
        "{0} has no metadata.json: pass an extension's image-root directory or its metadata.json"
    )]
    NoMetadata(PathBuf),
    /// metadata.json is a directory.
    #[error("{0} is a directory, not a file")]
    MetadataIsDir(PathBuf),
    /// metadata.json is a symlink leading outside the directory.
    #[error(
        "{path} is a symlink that leads outside {root}: refusing to follow it; copy the file into the directory"
    )]
    MetadataEscapes {
        /// metadata.json.
        path: PathBuf,
        /// The directory.
        root: PathBuf,
    },
    /// Another I/O error, naming the path.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

type Result<T> = std::result::Result<T, ContextError>;

/// Largest file this view reads (the compose file, labels.json, the Dockerfile).
pub const READ_LIMIT: u64 = 1024 * 1024;

/// An extension directory: the image root, or what stands for it.
#[derive(Debug)]
pub struct ExtensionDir {
    /// The directory, canonical.
    pub root: PathBuf,
    /// Path of metadata.json.
    pub metadata_path: PathBuf,
}

impl ExtensionDir {
    /// Opens TARGET: a metadata.json file or a directory that holds one.
    pub fn open(target: &Path) -> Result<Self> {
        let meta = match fs_err::symlink_metadata(target) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ContextError::NotFound(target.to_path_buf()));
            }
            Err(e) => return Err(e.into()),
        };
        let (root, metadata_path) = if meta.is_dir() || (meta.is_symlink() && target.is_dir()) {
            let root = fs_err::canonicalize(target)?;
            let m = root.join("metadata.json");
            (root, m)
        } else {
            let parent = match target.parent() {
                Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
                _ => PathBuf::from("."),
            };
            let root = fs_err::canonicalize(&parent)?;
            let name = target
                .file_name()
                .ok_or_else(|| ContextError::NotFound(target.to_path_buf()))?;
            (root.clone(), root.join(name))
        };
        match fs_err::symlink_metadata(&metadata_path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ContextError::NoMetadata(root));
            }
            Err(e) => return Err(e.into()),
        }
        let dir = Self {
            root,
            metadata_path,
        };
        let rel = dir.relative(&dir.metadata_path);
        if dir.kind(&rel) == FileKind::EscapingSymlink {
            return Err(ContextError::MetadataEscapes {
                path: dir.metadata_path,
                root: dir.root,
            });
        }
        if dir.metadata_path.is_dir() {
            return Err(ContextError::MetadataIsDir(dir.metadata_path));
        }
        Ok(dir)
    }

    /// `path` relative to the root, as a string.
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root)
            .unwrap_or(path)
            .to_string_lossy()
            .into_owned()
    }

    /// Reads metadata.json, refusing one over the size limit before reading it.
    pub fn read_metadata(&self) -> Result<MetadataBytes> {
        let size = fs_err::metadata(&self.metadata_path)?.len();
        if size > METADATA_MAX_BYTES as u64 {
            return Ok(MetadataBytes::TooLarge(size));
        }
        let mut bytes = Vec::new();
        let read = fs_err::File::open(&self.metadata_path).and_then(|f| {
            f.take(METADATA_MAX_BYTES as u64 + 1)
                .read_to_end(&mut bytes)
        });
        Ok(match read {
            Ok(_) => MetadataBytes::Read(bytes),
            Err(e) => MetadataBytes::Unreadable(format!("{e}: make it readable")),
        })
    }

    /// The labels beside metadata.json: `labels.json`, else the final stage
    /// of the `Dockerfile`, else none.
    pub fn labels(&self, build_args: &BTreeMap<String, String>) -> LabelsInput {
        labels_beside_metadata(self, build_args)
    }
}

impl ImageFiles for ExtensionDir {
    fn kind(&self, path: &str) -> FileKind {
        let full = self.root.join(path);
        if fs_err::symlink_metadata(&full).is_err() {
            // Nothing there, or a parent is a symlink to a missing place.
            return match escapes_through_parent(&self.root, path) {
                true => FileKind::EscapingSymlink,
                false => FileKind::Missing,
            };
        }
        match fs_err::canonicalize(&full) {
            Ok(real) if !real.starts_with(&self.root) => FileKind::EscapingSymlink,
            Ok(real) if real.is_dir() => FileKind::Dir,
            Ok(_) => FileKind::File,
            // A dangling symlink: where does it point?
            Err(_) => match fs_err::read_link(&full) {
                Ok(target) if leaves(&self.root, full.parent().unwrap_or(&self.root), &target) => {
                    FileKind::EscapingSymlink
                }
                _ => FileKind::Missing,
            },
        }
    }

    fn read(&self, path: &str) -> std::result::Result<Option<Vec<u8>>, String> {
        match self.kind(path) {
            FileKind::Missing => Ok(None),
            FileKind::Dir => Err(format!("{path} is a directory, not a file")),
            FileKind::EscapingSymlink => Err(format!(
                "{path} is a symlink that leads outside the directory: refusing to follow it"
            )),
            FileKind::File => {
                let full = self.root.join(path);
                let file = fs_err::File::open(&full).map_err(|e| e.to_string())?;
                let mut bytes = Vec::new();
                file.take(READ_LIMIT + 1)
                    .read_to_end(&mut bytes)
                    .map_err(|e| e.to_string())?;
                if bytes.len() as u64 > READ_LIMIT {
                    return Err(format!(
                        "{path} is larger than {READ_LIMIT} bytes: refusing to read it"
                    ));
                }
                Ok(Some(bytes))
            }
        }
    }
}

/// True when some existing parent of `path` is a symlink leading out of `root`.
fn escapes_through_parent(root: &Path, path: &str) -> bool {
    let mut cur = root.to_path_buf();
    for part in Path::new(path).components() {
        cur.push(part);
        match fs_err::canonicalize(&cur) {
            Ok(real) if !real.starts_with(root) => return true,
            Ok(_) => {}
            Err(_) => return false,
        }
    }
    false
}

/// True when a symlink in `dir` with `target` lexically leaves `root`.
fn leaves(root: &Path, dir: &Path, target: &Path) -> bool {
    let joined = if target.is_absolute() {
        target.to_path_buf()
    } else {
        dir.join(target)
    };
    let mut parts: Vec<std::path::Component<'_>> = Vec::new();
    for c in joined.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::CurDir => {}
            other => parts.push(other),
        }
    }
    let normal: PathBuf = parts.iter().collect();
    !normal.starts_with(root)
}
