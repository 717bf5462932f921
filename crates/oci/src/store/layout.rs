//! The layout on disk: opening or creating it, its paths, the store lock and
//! the small durable-write helpers the rest of the store is built on.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use fs_err::{self as fs, File, OpenOptions};

use super::error::{IoContext, StoreError};
use super::index_file::IndexFile;
use crate::{Algorithm, Digest};

/// The `oci-layout` file name.
pub(crate) const OCI_LAYOUT: &str = "oci-layout";
/// The `index.json` file name.
pub(crate) const INDEX_JSON: &str = "index.json";
/// The blobs directory.
pub(crate) const BLOBS: &str = "blobs";
/// Where blobs and index.json are written before they are renamed into place.
pub(crate) const INGEST: &str = "ingest";
/// The lock file serialising index.json updates, gc and temp-file creation.
pub(crate) const LOCK: &str = "dockhand.lock";
/// The layout version this store reads and writes.
pub const LAYOUT_VERSION: &str = "1.0.0";

/// An OCI image layout on disk. Cheap to clone; every method takes `&self`
/// and is safe to call from several threads and processes at once.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

/// A held lock on the store's lock file, released on drop.
#[derive(Debug)]
pub(crate) struct LockGuard {
    _file: File,
}

impl Store {
    /// Opens the store in `dir`, creating the layout when `dir` is missing or
    /// empty, and checking `oci-layout` and `index.json` when it exists.
    pub fn open(dir: impl AsRef<Path>) -> Result<Store, StoreError> {
        let root = dir.as_ref().to_path_buf();
        fs::create_dir_all(&root).ctx("create the store directory", &root)?;
        let store = Store { root };
        let layout = store.root.join(OCI_LAYOUT);
        if !exists(&layout)? {
            // Creation happens under the lock so that two processes opening a
            // new store at once cannot overwrite each other's index.json.
            let _lock = store.lock_exclusive()?;
            if !exists(&layout)? {
                store.create()?;
            }
        }
        store.validate()?;
        for dir in [store.ingest_dir(), store.blobs_dir(Algorithm::Sha256)] {
            fs::create_dir_all(&dir).ctx("create", &dir)?;
        }
        Ok(store)
    }

    /// The store directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes a new layout into a directory holding nothing else; the
    /// `oci-layout` file comes last, so a crash leaves a directory that the
    /// next open recreates.
    fn create(&self) -> Result<(), StoreError> {
        let ours = [OCI_LAYOUT, INDEX_JSON, BLOBS, INGEST, LOCK];
        for entry in fs::read_dir(&self.root).ctx("list", &self.root)? {
            let entry = entry.ctx("list", &self.root)?;
            let name = entry.file_name();
            if !ours.iter().any(|o| name == *o) {
                return Err(StoreError::NotALayout {
                    path: self.root.clone(),
                });
            }
        }
        for dir in [self.ingest_dir(), self.blobs_dir(Algorithm::Sha256)] {
            fs::create_dir_all(&dir).ctx("create", &dir)?;
        }
        self.write_atomic(&self.index_path(), &IndexFile::empty_json())?;
        let layout = format!("{{\"imageLayoutVersion\":\"{LAYOUT_VERSION}\"}}");
        self.write_atomic(&self.root.join(OCI_LAYOUT), layout.as_bytes())
    }

    fn validate(&self) -> Result<(), StoreError> {
        let path = self.root.join(OCI_LAYOUT);
        let text = fs::read(&path).ctx("read", &path)?;
        let found = match serde_json::from_slice::<serde_json::Value>(&text) {
            Ok(v) => match v.get("imageLayoutVersion").and_then(|v| v.as_str()) {
                Some(LAYOUT_VERSION) => return self.read_index().map(drop),
                Some(other) => format!("version `{other}`"),
                None => "no imageLayoutVersion".to_owned(),
            },
            Err(e) => format!("invalid JSON: {e}"),
        };
        Err(StoreError::LayoutVersion { path, found })
    }

    /// `index.json`.
    pub(crate) fn index_path(&self) -> PathBuf {
        self.root.join(INDEX_JSON)
    }

    /// `blobs/<alg>/`.
    pub(crate) fn blobs_dir(&self, alg: Algorithm) -> PathBuf {
        self.root.join(BLOBS).join(alg.name())
    }

    /// `ingest/`.
    pub(crate) fn ingest_dir(&self) -> PathBuf {
        self.root.join(INGEST)
    }

    /// Takes the store lock exclusively, waiting for other holders.
    pub(crate) fn lock_exclusive(&self) -> Result<LockGuard, StoreError> {
        let file = self.lock_file()?;
        file.lock().ctx("lock", &self.root.join(LOCK))?;
        Ok(LockGuard { _file: file })
    }

    /// Takes the store lock shared, waiting for an exclusive holder.
    pub(crate) fn lock_shared(&self) -> Result<LockGuard, StoreError> {
        let file = self.lock_file()?;
        file.lock_shared().ctx("lock", &self.root.join(LOCK))?;
        Ok(LockGuard { _file: file })
    }

    fn lock_file(&self) -> Result<File, StoreError> {
        let path = self.root.join(LOCK);
        OpenOptions::new()
            .create(true)
            .truncate(false)
            .read(true)
            .write(true)
            .open(&path)
            .ctx("open the lock file", &path)
    }

    /// A fresh, unique path in `ingest/` beginning with `prefix`.
    pub(crate) fn temp_path(&self, prefix: &str) -> PathBuf {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        let n = COUNTER.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        self.ingest_dir()
            .join(format!("{prefix}.{}.{n}.{nanos:x}.tmp", std::process::id()))
    }

    /// Writes `bytes` to `path` through a temp file in `ingest/`: written,
    /// fsynced, renamed over `path`, and the directory fsynced.
    pub(crate) fn write_atomic(&self, path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("file")
            .to_owned();
        let temp = TempFile::create(self.temp_path(&name))?;
        let mut file = &temp.file;
        file.write_all(bytes).ctx("write", &temp.path)?;
        temp.persist(path)
    }

    /// The final path of a blob.
    pub(crate) fn blob_file(&self, digest: &Digest) -> PathBuf {
        self.blobs_dir(digest.algorithm()).join(digest.hex())
    }
}

/// A file in `ingest/` that is removed on drop unless persisted. It holds an
/// exclusive lock on itself while open, which tells `gc` it is in use.
#[derive(Debug)]
pub(crate) struct TempFile {
    pub(crate) file: File,
    pub(crate) path: PathBuf,
    persisted: bool,
}

impl TempFile {
    /// Creates `path`, which must not exist, and locks it.
    pub(crate) fn create(path: PathBuf) -> Result<Self, StoreError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .ctx("create", &path)?;
        let temp = TempFile {
            file,
            path,
            persisted: false,
        };
        temp.file.lock().ctx("lock", &temp.path)?;
        Ok(temp)
    }

    /// Fsyncs the file, renames it to `dest` and fsyncs `dest`'s directory.
    pub(crate) fn persist(mut self, dest: &Path) -> Result<(), StoreError> {
        self.file.sync_all().ctx("sync", &self.path)?;
        fs::rename(&self.path, dest).ctx("move a finished file into place at", dest)?;
        self.persisted = true;
        if let Some(dir) = dest.parent() {
            sync_dir(dir)?;
        }
        Ok(())
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.persisted {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Fsyncs a directory so that a rename into it survives a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .ctx("sync the directory", dir)
}

/// Whether `path` exists; errors other than "not found" are errors.
pub(crate) fn exists(path: &Path) -> Result<bool, StoreError> {
    match fs::symlink_metadata(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(StoreError::io("inspect", path, e)),
    }
}

#[cfg(test)]
pub(crate) mod testutil {
    //! Temp directories and stores for unit tests.
    use super::Store;

    /// A new empty directory under the system temp dir, removed when
    /// dropped; `tag` names the test in its name.
    pub fn temp_dir(tag: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("dockhand-oci-{tag}-"))
            .tempdir()
            .unwrap()
    }

    /// A store opened in a new [`temp_dir`], with the directory (keep it
    /// alive as long as the store).
    pub fn temp_store(tag: &str) -> (tempfile::TempDir, Store) {
        let tmp = temp_dir(tag);
        let store = Store::open(tmp.path()).unwrap();
        (tmp, store)
    }
}

#[cfg(test)]
mod tests {
    use super::testutil::{temp_dir, temp_store};
    use super::*;

    #[test]
    fn creates_then_reopens() {
        let tmp = temp_dir("layout");
        let dir = tmp.path().join("store");
        let store = Store::open(&dir).unwrap();
        assert_eq!(
            fs::read_to_string(dir.join(OCI_LAYOUT)).unwrap(),
            r#"{"imageLayoutVersion":"1.0.0"}"#
        );
        assert!(dir.join("blobs/sha256").is_dir());
        assert_eq!(store.read_index().unwrap().manifests.len(), 0);
        Store::open(&dir).unwrap();
    }

    #[test]
    fn refuses_a_foreign_directory() {
        let tmp = temp_dir("foreign");
        fs::write(tmp.path().join("notes.txt"), "mine").unwrap();
        let err = Store::open(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::NotALayout { .. }), "{err}");
        assert!(!tmp.path().join(OCI_LAYOUT).exists());
    }

    #[test]
    fn finishes_an_interrupted_creation() {
        let tmp = temp_dir("interrupted");
        fs::create_dir_all(tmp.path().join("blobs/sha256")).unwrap();
        fs::write(tmp.path().join(INDEX_JSON), "{").unwrap();
        Store::open(tmp.path()).unwrap();
        assert!(tmp.path().join(OCI_LAYOUT).is_file());
    }

    #[test]
    fn rejects_wrong_version_and_corrupt_index() {
        let tmp = temp_dir("bad");
        Store::open(tmp.path()).unwrap();
        let layout = tmp.path().join(OCI_LAYOUT);
        fs::write(&layout, r#"{"imageLayoutVersion":"2.0.0"}"#).unwrap();
        let err = Store::open(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::LayoutVersion { .. }));
        let msg = err.to_string();
        assert!(msg.contains("oci-layout") && msg.contains("2.0.0"), "{msg}");

        fs::write(&layout, r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
        fs::write(tmp.path().join(INDEX_JSON), "{\"manifests\": 3}").unwrap();
        let err = Store::open(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::CorruptIndex { .. }));
        assert!(err.to_string().contains("index.json"), "{err}");

        fs::remove_file(tmp.path().join(INDEX_JSON)).unwrap();
        let err = Store::open(tmp.path()).unwrap_err();
        assert!(matches!(err, StoreError::MissingIndex { .. }), "{err}");
    }

    #[test]
    fn temp_file_is_removed_unless_persisted() {
        let (tmp, store) = temp_store("temp");
        let path = store.temp_path("x");
        drop(TempFile::create(path.clone()).unwrap());
        assert!(!path.exists());
        let dest = tmp.path().join("dest");
        store.write_atomic(&dest, b"hi").unwrap();
        assert_eq!(fs::read(&dest).unwrap(), b"hi");
        assert_eq!(fs::read_dir(store.ingest_dir()).unwrap().count(), 0);
    }
}
