//! Garbage collection: removing blobs nothing in `index.json` reaches, and
//! temp files their writers left behind.

use std::collections::HashSet;
use std::fs::TryLockError;
use std::io;

use fs_err::{self as fs, File};
use serde::Deserialize;

use super::error::{IoContext, StoreError};
use super::index::{DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, OCI_INDEX, OCI_MANIFEST};
use super::layout::{Store, sync_dir};
use crate::{Algorithm, Digest};

/// How deep indexes may nest below `index.json` (real images use one level).
pub const MAX_DEPTH: usize = 16;
/// The largest manifest or index gc parses (the distribution spec's limit).
pub const MANIFEST_MAX_BYTES: u64 = 4 * 1024 * 1024;
/// The pre-1.1 OCI artifact manifest, whose children are under `blobs`.
const OCI_ARTIFACT: &str = "application/vnd.oci.artifact.manifest.v1+json";

/// What [`Store::gc`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GcReport {
    /// Blobs removed.
    pub blobs_removed: usize,
    /// Bytes those blobs took.
    pub bytes_freed: u64,
    /// Blobs kept because something reaches them.
    pub blobs_kept: usize,
    /// Temp files of writers that are gone (killed or crashed), removed.
    pub temp_files_removed: usize,
}

/// The references a manifest or index holds, in any of the formats gc reads.
#[derive(Debug, Deserialize)]
struct Children {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Vec<Child>,
    #[serde(default)]
    config: Option<Child>,
    #[serde(default)]
    layers: Vec<Child>,
    #[serde(default)]
    blobs: Vec<Child>,
    #[serde(default)]
    subject: Option<Child>,
}

#[derive(Debug, Deserialize)]
struct Child {
    #[serde(rename = "mediaType", default)]
    media_type: Option<String>,
    /// Kept as text: a digest the store cannot hold is simply not followed.
    digest: String,
}

fn is_manifest_type(media_type: &str) -> bool {
    [
        OCI_INDEX,
        DOCKER_MANIFEST_LIST,
        OCI_MANIFEST,
        DOCKER_MANIFEST,
        OCI_ARTIFACT,
    ]
    .contains(&media_type)
}

impl Store {
    /// Removes every blob not reachable from the entries of `index.json` or
    /// from `extra_roots` (following indexes to manifests to configs and
    /// layers, in OCI and Docker formats), and every temp file in `ingest/`
    /// whose writer is gone. Runs under the exclusive store lock.
    ///
    /// A referenced child that is missing is not an error. A reachable
    /// manifest that cannot be parsed, or indexes nested deeper than
    /// [`MAX_DEPTH`], stop gc before it removes anything.
    ///
    /// A blob a concurrent process has committed but not yet tagged is
    /// unreachable: pass it in `extra_roots`, or tag before collecting.
    pub fn gc(&self, extra_roots: &[Digest]) -> Result<GcReport, StoreError> {
        let _lock = self.lock_exclusive()?;
        let reachable = self.reachable(extra_roots)?;
        let mut report = GcReport {
            temp_files_removed: self.remove_stale_temp_files()?,
            ..GcReport::default()
        };
        for alg in [Algorithm::Sha256, Algorithm::Sha512] {
            self.sweep(alg, &reachable, &mut report)?;
        }
        Ok(report)
    }

    /// The digests reachable from index.json and `extra_roots`.
    fn reachable(&self, extra_roots: &[Digest]) -> Result<HashSet<Digest>, StoreError> {
        let mut todo: Vec<(Digest, Option<String>, usize)> = self
            .read_index()?
            .manifests
            .into_iter()
            .map(|d| (d.digest, Some(d.media_type), 0))
            .collect();
        todo.extend(extra_roots.iter().map(|d| (d.clone(), None, 0)));
        let mut seen = HashSet::new();
        while let Some((digest, media_type, depth)) = todo.pop() {
            if !seen.insert(digest.clone()) || !self.has_blob(&digest) {
                continue;
            }
            let Some(children) = self.children(&digest, media_type.as_deref())? else {
                continue;
            };
            if depth >= MAX_DEPTH {
                return Err(StoreError::TooDeep {
                    digest,
                    max: MAX_DEPTH,
                });
            }
            let all = children
                .manifests
                .into_iter()
                .chain(children.config)
                .chain(children.layers)
                .chain(children.blobs)
                .chain(children.subject);
            for child in all {
                if let Ok(d) = Digest::parse(&child.digest) {
                    todo.push((d, child.media_type, depth + 1));
                }
            }
        }
        Ok(seen)
    }

    /// The references held by the blob, if it is a manifest or index. With
    /// a known media type a parse failure is an error; without one (extra
    /// roots, children lacking `mediaType`), the blob is sniffed.
    fn children(
        &self,
        digest: &Digest,
        media_type: Option<&str>,
    ) -> Result<Option<Children>, StoreError> {
        match media_type {
            Some(mt) if is_manifest_type(mt) => {
                let bytes = self.read_blob(digest, MANIFEST_MAX_BYTES)?;
                serde_json::from_slice(&bytes).map(Some).map_err(|source| {
                    StoreError::CorruptManifest {
                        digest: digest.clone(),
                        media_type: mt.to_owned(),
                        path: self.blob_path(digest),
                        source,
                    }
                })
            }
            Some(_) => Ok(None),
            None => {
                if self.blob_size(digest)? > MANIFEST_MAX_BYTES {
                    return Ok(None);
                }
                let bytes = self.read_blob(digest, MANIFEST_MAX_BYTES)?;
                match serde_json::from_slice::<Children>(&bytes) {
                    Ok(c) if c.media_type.as_deref().is_none_or(is_manifest_type) => Ok(Some(c)),
                    _ => Ok(None),
                }
            }
        }
    }

    /// Removes the unreachable blobs of `blobs/<alg>/`. Files whose names are
    /// not digests are not blobs and are left alone.
    fn sweep(
        &self,
        alg: Algorithm,
        reachable: &HashSet<Digest>,
        report: &mut GcReport,
    ) -> Result<(), StoreError> {
        let dir = self.blobs_dir(alg);
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(StoreError::io("list", dir, e)),
        };
        let mut removed_any = false;
        for entry in entries {
            let entry = entry.ctx("list", &dir)?;
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue;
            };
            let Ok(digest) = Digest::parse(&format!("{}:{name}", alg.name())) else {
                continue;
            };
            let path = entry.path();
            let meta = entry.metadata().ctx("inspect", &path)?;
            if !meta.is_file() {
                continue;
            }
            if reachable.contains(&digest) {
                report.blobs_kept += 1;
                continue;
            }
            match fs::remove_file(&path) {
                Ok(()) => {
                    report.blobs_removed += 1;
                    report.bytes_freed += meta.len();
                    removed_any = true;
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("remove", path, e)),
            }
        }
        if removed_any {
            sync_dir(&dir)?;
        }
        Ok(())
    }

    /// Removes the files in `ingest/` no live writer holds locked.
    fn remove_stale_temp_files(&self) -> Result<usize, StoreError> {
        let dir = self.ingest_dir();
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(StoreError::io("list", dir, e)),
        };
        let mut removed = 0;
        for entry in entries {
            let path = entry.ctx("list", &dir)?.path();
            let file = match File::open(&path) {
                Ok(f) => f,
                Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
                Err(e) => return Err(StoreError::io("open", path, e)),
            };
            if !file.metadata().ctx("inspect", &path)?.is_file() {
                continue;
            }
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => continue,
                Err(TryLockError::Error(e)) => return Err(StoreError::io("lock", path, e)),
            }
            match fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(StoreError::io("remove", path, e)),
            }
        }
        Ok(removed)
    }
}

#[cfg(test)]
mod tests {
    use super::super::index::Descriptor;
    use super::super::layout::testutil::temp_store;
    use super::*;
    use serde_json::json;

    fn put_json(store: &Store, v: &serde_json::Value) -> (Digest, u64) {
        let bytes = serde_json::to_vec(v).unwrap();
        (store.put_bytes(&bytes).unwrap(), bytes.len() as u64)
    }

    #[test]
    fn follows_docker_lists_and_sniffs_extra_roots() {
        let (_tmp, store) = temp_store("gc-docker");
        let layer = store.put_bytes(b"layer").unwrap();
        let config = store.put_bytes(b"{}").unwrap();
        let junk = store.put_bytes(b"junk").unwrap();
        let (manifest, msize) = put_json(
            &store,
            &json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": config.to_string(), "size": 2},
                "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": layer.to_string(), "size": 5},
                           {"digest": "sha384:abc", "size": 1}]}),
        );
        let (list, lsize) = put_json(
            &store,
            &json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST_LIST,
                "manifests": [{"mediaType": DOCKER_MANIFEST, "digest": manifest.to_string(), "size": msize},
                              {"mediaType": DOCKER_MANIFEST, "digest": Digest::sha256_of(b"gone").to_string(), "size": 1}]}),
        );
        let (orphan_list, _) = put_json(
            &store,
            &json!({"manifests": [{"digest": junk.to_string()}]}),
        );

        let report = store.gc(std::slice::from_ref(&list)).unwrap();
        assert_eq!(report.blobs_removed, 2, "{report:?}");
        assert!(!store.has_blob(&junk) && !store.has_blob(&orphan_list));
        assert_eq!(report.blobs_kept, 4);
        for d in [&layer, &config, &manifest, &list] {
            assert!(store.has_blob(d));
        }

        store
            .tag("l", &Descriptor::new(DOCKER_MANIFEST_LIST, list, lsize))
            .unwrap();
        let report = store.gc(&[]).unwrap();
        assert_eq!((report.blobs_removed, report.blobs_kept), (0, 4));
    }

    #[test]
    fn corrupt_reachable_manifest_stops_gc() {
        let (_tmp, store) = temp_store("gc-corrupt");
        let bad = store.put_bytes(b"not json").unwrap();
        let other = store.put_bytes(b"other").unwrap();
        store
            .tag("bad", &Descriptor::new(OCI_MANIFEST, bad.clone(), 8))
            .unwrap();
        let err = store.gc(&[]).unwrap_err();
        assert!(matches!(err, StoreError::CorruptManifest { .. }), "{err}");
        assert!(err.to_string().contains(bad.hex()), "{err}");
        assert!(store.has_blob(&other), "nothing removed");
    }

    #[test]
    fn too_deep_is_refused() {
        let (_tmp, store) = temp_store("gc-deep");
        let (mut d, mut size) = put_json(&store, &json!({"schemaVersion": 2, "layers": []}));
        let mut mt = OCI_MANIFEST;
        for _ in 0..=MAX_DEPTH {
            (d, size) = put_json(
                &store,
                &json!({"schemaVersion": 2, "manifests": [{"mediaType": mt, "digest": d.to_string(), "size": size}]}),
            );
            mt = OCI_INDEX;
        }
        store
            .tag("deep", &Descriptor::new(OCI_INDEX, d, size))
            .unwrap();
        assert!(matches!(store.gc(&[]), Err(StoreError::TooDeep { .. })));
    }
}
