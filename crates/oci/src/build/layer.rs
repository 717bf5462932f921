//! Reproducible layers: a tar of chosen files with sorted entries, fixed
//! owners, modes and times, gzip-compressed with a fixed header.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::GzBuilder;

use crate::digest::Digest;

/// What a layer entry is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryKind {
    /// A directory.
    Dir,
    /// A regular file read from `source`; `executable` sets mode 0755.
    File {
        /// Where to read it.
        source: PathBuf,
        /// Any execute bit was set on the source.
        executable: bool,
    },
    /// A regular file with the given content.
    Bytes(Vec<u8>),
    /// A symlink with a relative target inside the image.
    Symlink(String),
}

/// A layer being put together: image paths (no leading `/`) to entries.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LayerSpec {
    entries: BTreeMap<String, EntryKind>,
}

/// A finished layer.
#[derive(Debug, Clone)]
pub struct BuiltLayer {
    /// The gzip-compressed tar.
    pub blob: Vec<u8>,
    /// Digest of the uncompressed tar (the config's diff id).
    pub diff_id: Digest,
}

impl LayerSpec {
    /// True when nothing was added.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Adds an entry and every parent directory.
    pub fn add(&mut self, path: &str, kind: EntryKind) {
        let path = path.trim_matches('/').to_owned();
        let mut parent = Path::new(&path).parent();
        while let Some(p) = parent.filter(|p| !p.as_os_str().is_empty()) {
            self.entries
                .entry(p.to_string_lossy().into_owned())
                .or_insert(EntryKind::Dir);
            parent = p.parent();
        }
        self.entries.insert(path, kind);
    }

    /// Writes the tar (entries sorted by path, owner 0:0, mtime `mtime`,
    /// modes 0755 for directories and executables, 0644 otherwise) and
    /// compresses it.
    pub fn build(&self, mtime: u64) -> std::io::Result<BuiltLayer> {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        for (path, kind) in &self.entries {
            let mut header = tar::Header::new_ustar();
            header.set_uid(0);
            header.set_gid(0);
            header.set_mtime(mtime);
            match kind {
                EntryKind::Dir => {
                    header.set_entry_type(tar::EntryType::Directory);
                    header.set_mode(0o755);
                    header.set_size(0);
                    builder.append_data(&mut header, format!("{path}/"), std::io::empty())?;
                }
                EntryKind::File { source, executable } => {
                    let data = fs_err::read(source)?;
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(if *executable { 0o755 } else { 0o644 });
                    header.set_size(data.len() as u64);
                    builder.append_data(&mut header, path, data.as_slice())?;
                }
                EntryKind::Bytes(data) => {
                    header.set_entry_type(tar::EntryType::Regular);
                    header.set_mode(0o644);
                    header.set_size(data.len() as u64);
                    builder.append_data(&mut header, path, data.as_slice())?;
                }
                EntryKind::Symlink(target) => {
                    header.set_entry_type(tar::EntryType::Symlink);
                    header.set_mode(0o777);
                    header.set_size(0);
                    builder.append_link(&mut header, path, target)?;
                }
            }
        }
        let tar = builder.into_inner()?;
        let diff_id = Digest::sha256_of(&tar);
        let mut gz = GzBuilder::new()
            .mtime(0)
            .write(Vec::new(), Compression::new(6));
        gz.write_all(&tar)?;
        let blob = gz.finish()?;
        Ok(BuiltLayer { blob, diff_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_input_same_bytes_and_parents_added() {
        let mut a = LayerSpec::default();
        a.add("ui/js/app.js", EntryKind::Bytes(b"x".to_vec()));
        a.add("metadata.json", EntryKind::Bytes(b"{}".to_vec()));
        let mut b = LayerSpec::default();
        b.add("metadata.json", EntryKind::Bytes(b"{}".to_vec()));
        b.add("ui/js/app.js", EntryKind::Bytes(b"x".to_vec()));
        let (la, lb) = (a.build(0).unwrap(), b.build(0).unwrap());
        assert_eq!(la.blob, lb.blob);
        assert_eq!(la.diff_id, lb.diff_id);
        assert_ne!(
            a.build(1).unwrap().diff_id,
            la.diff_id,
            "mtime is part of the layer"
        );
        let mut names = Vec::new();
        let gz = flate2::read::GzDecoder::new(la.blob.as_slice());
        for e in tar::Archive::new(gz).entries().unwrap() {
            names.push(e.unwrap().path().unwrap().to_string_lossy().into_owned());
        }
        assert_eq!(
            names,
            vec!["metadata.json", "ui/", "ui/js/", "ui/js/app.js"]
        );
    }
}
