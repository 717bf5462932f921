//! The images dockhand writes itself (the mode probe's, the relay's): one
//! layer, written as a `docker save` tar and loaded through the Engine API.
//! The bytes are the same on every run (fixed times, owners and order), so
//! the image id is too.

use std::io;

use sha2::{Digest, Sha256};

/// The hex SHA-256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// A tar entry header with fixed times and owners.
pub(crate) fn header(path: &str, size: u64, kind: tar::EntryType, mode: u32) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(mode);
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    // Paths here are short ASCII: set_path cannot fail on them.
    let _ = h.set_path(path);
    h.set_cksum();
    h
}

/// A directory entry (mode 0755) of a tar being built.
pub(crate) fn append_dir(tar: &mut tar::Builder<Vec<u8>>, path: &str) -> io::Result<()> {
    tar.append(
        &header(path, 0, tar::EntryType::Directory, 0o755),
        io::empty(),
    )
}

/// A one-layer image, besides its layer.
pub(crate) struct OneLayer<'a> {
    /// Its name in the engine (`RepoTags`).
    pub(crate) name: &'a str,
    /// Its architecture (`amd64`, `arm64`); the OS is Linux.
    pub(crate) arch: &'a str,
    /// The image config's `config` (command, labels…).
    pub(crate) config: serde_json::Value,
    /// Its one history entry's `created_by`.
    pub(crate) created_by: &'a str,
}

impl OneLayer<'_> {
    /// The `docker save` tar of the image whose layer is the tar `layer`.
    pub(crate) fn save_tar(self, layer: &[u8]) -> io::Result<Vec<u8>> {
        let layer_hex = sha256_hex(layer);
        let config = serde_json::json!({
            "architecture": self.arch,
            "os": "linux",
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_hex}")]},
            "history": [{"created_by": self.created_by}],
        });
        let config = serde_json::to_vec(&config).map_err(io::Error::other)?;
        let config_hex = sha256_hex(&config);
        let manifest = serde_json::json!([{
            "Config": format!("{config_hex}.json"),
            "RepoTags": [self.name],
            "Layers": [format!("{layer_hex}/layer.tar")],
        }]);
        let manifest = serde_json::to_vec(&manifest).map_err(io::Error::other)?;
        let mut out = tar::Builder::new(Vec::new());
        let file =
            |path: &str, len: usize| header(path, len as u64, tar::EntryType::Regular, 0o644);
        out.append(
            &file(&format!("{config_hex}.json"), config.len()),
            config.as_slice(),
        )?;
        append_dir(&mut out, &format!("{layer_hex}/"))?;
        out.append(&file(&format!("{layer_hex}/layer.tar"), layer.len()), layer)?;
        out.append(&file("manifest.json", manifest.len()), manifest.as_slice())?;
        out.into_inner()
    }
}
