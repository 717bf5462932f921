//! `index.json`: the descriptors the store names, and how names map to the
//! `org.opencontainers.image.ref.name` annotation other tools read.

use std::io;

use super::error::StoreError;
use super::index_file::IndexFile;
use super::layout::Store;
use crate::Digest;

pub use crate::image::REF_NAME;
/// The annotation holding the full name when it is not a valid [`REF_NAME`].
pub const DOCKHAND_REF: &str = "dev.dockhand.ref";
pub use crate::image::Descriptor;
/// `application/vnd.oci.image.index.v1+json`.
pub const OCI_INDEX: &str = crate::image::media::OCI_INDEX;
/// `application/vnd.oci.image.manifest.v1+json`.
pub const OCI_MANIFEST: &str = crate::image::media::OCI_MANIFEST;
/// `application/vnd.docker.distribution.manifest.list.v2+json`.
pub const DOCKER_MANIFEST_LIST: &str = crate::image::media::DOCKER_LIST;
/// `application/vnd.docker.distribution.manifest.v2+json`.
pub const DOCKER_MANIFEST: &str = crate::image::media::DOCKER_MANIFEST;

/// The name dockhand gave an index entry: [`DOCKHAND_REF`], else [`REF_NAME`].
fn entry_name(d: &Descriptor) -> Option<&str> {
    d.annotations
        .get(DOCKHAND_REF)
        .or_else(|| d.annotations.get(REF_NAME))
        .map(String::as_str)
}

/// The `org.opencontainers.image.ref.name` written for `name`: `name` itself
/// when it fits the OCI grammar (`component ("/" component)*`, a component
/// being alphanumerics joined by one of `-._:@+` or `--`), which every usual
/// image reference does (`127.0.0.1:5000/acme/ext:1.0.0`,
/// `docker.io/acme/ext@sha256:…`), and `skopeo inspect oci:STORE:NAME`
/// addresses it; otherwise (`a__b/c:1`, tags starting with `_`) the
/// addressable stand-in `dockhand-<32 hex digits of its sha256>`, with `name`
/// itself kept in [`DOCKHAND_REF`].
pub fn oci_ref_name(name: &str) -> String {
    if is_oci_ref_name(name) {
        name.to_owned()
    } else {
        let digest = Digest::sha256_of(name.as_bytes());
        format!("dockhand-{}", &digest.hex()[..32])
    }
}

/// Whether `s` matches the image-spec grammar for [`REF_NAME`].
fn is_oci_ref_name(s: &str) -> bool {
    !s.is_empty() && s.split('/').all(is_component)
}

fn is_component(c: &str) -> bool {
    let b = c.as_bytes();
    let mut i = 0;
    let mut need_alnum = true;
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            need_alnum = false;
            i += 1;
        } else if need_alnum {
            return false;
        } else if b[i..].starts_with(b"--") {
            need_alnum = true;
            i += 2;
        } else if b"-._:@+".contains(&b[i]) {
            need_alnum = true;
            i += 1;
        } else {
            return false;
        }
    }
    !need_alnum
}

impl Store {
    /// Reads and parses `index.json`. It is only ever replaced by a rename, so
    /// reading needs no lock.
    pub(crate) fn read_index(&self) -> Result<IndexFile, StoreError> {
        let path = self.index_path();
        let bytes = match fs_err::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(StoreError::MissingIndex { path });
            }
            Err(e) => return Err(StoreError::io("read", path, e)),
        };
        serde_json::from_slice(&bytes).map_err(|source| StoreError::CorruptIndex { path, source })
    }

    /// Read-modify-write of `index.json` under the exclusive store lock.
    fn update_index<T>(&self, change: impl FnOnce(&mut IndexFile) -> T) -> Result<T, StoreError> {
        let _lock = self.lock_exclusive()?;
        let mut index = self.read_index()?;
        let out = change(&mut index);
        let path = self.index_path();
        let json = serde_json::to_vec(&index).map_err(|source| StoreError::CorruptIndex {
            path: path.clone(),
            source,
        })?;
        self.write_atomic(&path, &json)?;
        Ok(out)
    }

    /// Names `descriptor` `name` in `index.json`, replacing the entry that had
    /// that name (in its place) or appending. The descriptor's own
    /// annotations are kept; [`REF_NAME`] is set to [`oci_ref_name`]`(name)`,
    /// plus [`DOCKHAND_REF`] when that differs from `name`. The blob must be
    /// in the store with the descriptor's size.
    pub fn tag(&self, name: &str, descriptor: &Descriptor) -> Result<(), StoreError> {
        if name.is_empty() || name.chars().any(char::is_control) {
            return Err(StoreError::InvalidName {
                name: name.to_owned(),
                why: "names must be non-empty and without control characters; use an image reference",
            });
        }
        let actual = self.blob_size(&descriptor.digest)?;
        if actual != descriptor.size {
            return Err(StoreError::DescriptorSize {
                digest: descriptor.digest.clone(),
                expected: descriptor.size,
                actual,
            });
        }
        let ref_name = oci_ref_name(name);
        let mut entry = descriptor.clone();
        entry.annotations.remove(DOCKHAND_REF);
        entry
            .annotations
            .insert(REF_NAME.to_owned(), ref_name.clone());
        if ref_name != name {
            entry
                .annotations
                .insert(DOCKHAND_REF.to_owned(), name.to_owned());
        }
        self.update_index(|index| {
            let same = |d: &Descriptor| {
                entry_name(d) == Some(name) || d.annotations.get(REF_NAME) == Some(&ref_name)
            };
            let mut entry = Some(entry);
            let mut kept = Vec::with_capacity(index.manifests.len() + 1);
            for d in std::mem::take(&mut index.manifests) {
                if !same(&d) {
                    kept.push(d);
                } else if let Some(e) = entry.take() {
                    kept.push(e);
                }
            }
            kept.extend(entry);
            index.manifests = kept;
        })
    }

    /// The descriptor named `name`, if any.
    pub fn resolve(&self, name: &str) -> Result<Option<Descriptor>, StoreError> {
        Ok(self
            .read_index()?
            .manifests
            .into_iter()
            .find(|d| entry_name(d) == Some(name)))
    }

    /// Removes the entry named `name`; returns whether there was one. The
    /// blobs stay until the next [`Store::gc`].
    pub fn untag(&self, name: &str) -> Result<bool, StoreError> {
        if self.resolve(name)?.is_none() {
            return Ok(false);
        }
        self.update_index(|index| {
            let before = index.manifests.len();
            index.manifests.retain(|d| entry_name(d) != Some(name));
            index.manifests.len() != before
        })
    }

    /// Every named entry of `index.json`, in file order. Entries without a
    /// name (written by other tools) are left out.
    pub fn names(&self) -> Result<Vec<(String, Descriptor)>, StoreError> {
        Ok(self
            .read_index()?
            .manifests
            .into_iter()
            .filter_map(|d| Some((entry_name(&d)?.to_owned(), d)))
            .collect())
    }

    /// Every descriptor of `index.json`, named or not: the roots of [`Store::gc`].
    pub fn index_descriptors(&self) -> Result<Vec<Descriptor>, StoreError> {
        Ok(self.read_index()?.manifests)
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::testutil::temp_store;
    use super::*;
    use serde_json::Value;

    #[test]
    fn ref_name_grammar() {
        for ok in [
            "ext",
            "127.0.0.1:5000/acme/ext:1.0.0",
            "docker.io/docker/volumes-backup-extension:1.1.4",
            "acme/ext@sha256:abc",
            "x:1.0_beta",
            "Docker.IO/Library/X:Latest",
            "a--b",
            "localhost/a_b/c:t",
        ] {
            assert!(is_oci_ref_name(ok), "{ok}");
            assert_eq!(oci_ref_name(ok), ok);
        }
        for bad in [
            "", "a__b/c:1", "a/b:_x", "a//b", "x y", "/a", "a/", "a-", "-a", "a---b",
        ] {
            assert!(!is_oci_ref_name(bad), "{bad}");
            let alias = oci_ref_name(bad);
            assert!(alias.starts_with("dockhand-") && is_oci_ref_name(&alias));
        }
    }

    fn store_with_blob(tag: &str) -> (tempfile::TempDir, Store, Descriptor) {
        let (tmp, store) = temp_store(tag);
        let bytes = br#"{"schemaVersion":2}"#;
        let digest = store.put_bytes(bytes).unwrap();
        let desc = Descriptor::new(OCI_MANIFEST, digest, bytes.len() as u64);
        (tmp, store, desc)
    }

    #[test]
    fn tag_resolve_untag() {
        let (_tmp, store, desc) = store_with_blob("tags");
        let name = "127.0.0.1:5000/acme/ext:1.0.0";
        store.tag(name, &desc).unwrap();
        store.tag("other:1", &desc).unwrap();
        store.tag(name, &desc).unwrap();
        let names = store.names().unwrap();
        assert_eq!(names.len(), 2);
        assert_eq!(names[0].0, name, "replaced in place");
        let got = store.resolve(name).unwrap().unwrap();
        assert_eq!(got.digest, desc.digest);
        assert_eq!(got.annotations[REF_NAME], name);
        assert!(!got.annotations.contains_key(DOCKHAND_REF));
        assert!(store.untag(name).unwrap());
        assert!(!store.untag(name).unwrap());
        assert!(store.resolve(name).unwrap().is_none());
        assert_eq!(store.names().unwrap().len(), 1);
    }

    #[test]
    fn unaddressable_names_get_an_alias() {
        let (_tmp, store, desc) = store_with_blob("alias");
        store.tag("a__b/c:_1", &desc).unwrap();
        let got = store.resolve("a__b/c:_1").unwrap().unwrap();
        assert_eq!(got.annotations[DOCKHAND_REF], "a__b/c:_1");
        assert!(got.annotations[REF_NAME].starts_with("dockhand-"));
        assert_eq!(store.names().unwrap()[0].0, "a__b/c:_1");
    }

    #[test]
    fn tag_checks_the_blob() {
        let (_tmp, store, mut desc) = store_with_blob("tagcheck");
        desc.size += 1;
        assert!(matches!(
            store.tag("x", &desc),
            Err(StoreError::DescriptorSize { .. })
        ));
        let missing = Descriptor::new(OCI_MANIFEST, Digest::sha256_of(b"nope"), 4);
        assert!(matches!(
            store.tag("x", &missing),
            Err(StoreError::BlobMissing { .. })
        ));
        assert!(matches!(
            store.tag("", &missing),
            Err(StoreError::InvalidName { .. })
        ));
    }

    #[test]
    fn unknown_fields_survive_a_rewrite() {
        let (_tmp, store, desc) = store_with_blob("unknown");
        let foreign = serde_json::json!({
            "schemaVersion": 2,
            "x-top": {"keep": true},
            "manifests": [{
                "mediaType": OCI_MANIFEST,
                "digest": desc.digest.to_string(),
                "size": desc.size,
                "platform": {"os": "linux", "architecture": "arm64"},
                "annotations": {"com.example.note": "hi"},
                "urls": ["https://example.invalid/x"]
            }]
        });
        fs_err::write(store.index_path(), foreign.to_string()).unwrap();
        store.tag("n", &desc).unwrap();
        let v: Value = serde_json::from_slice(&fs_err::read(store.index_path()).unwrap()).unwrap();
        assert_eq!(v["x-top"]["keep"], true);
        let first = &v["manifests"][0];
        assert_eq!(first["annotations"]["com.example.note"], "hi");
        assert_eq!(first["urls"][0], "https://example.invalid/x");
        let all = store.index_descriptors().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].platform(),
            Some(crate::Platform::new("linux", "arm64", None))
        );
        assert_eq!(store.names().unwrap().len(), 1, "unnamed entry left out");
    }
}
