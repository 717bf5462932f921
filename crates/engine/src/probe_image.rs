//! The image the mode probe creates its throwaway container from: one layer
//! holding one empty directory, never run, written by dockhand as a
//! `docker save` tar and loaded through the Engine API (never pulled). The
//! bytes are the same on every run (fixed times, owners and order), so its
//! id is too.

use sha2::{Digest, Sha256};

/// The image's name in the engine.
pub const PROBE_IMAGE: &str = "dockhand-probe:1";
/// Where the probed directory is mounted in the container.
pub const PROBE_MOUNT: &str = "/dockhand-probe";

fn sha256_hex(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn header(path: &str, size: u64, dir: bool) -> tar::Header {
    let mut h = tar::Header::new_ustar();
    h.set_entry_type(if dir {
        tar::EntryType::Directory
    } else {
        tar::EntryType::Regular
    });
    h.set_size(size);
    h.set_mode(if dir { 0o755 } else { 0o644 });
    h.set_uid(0);
    h.set_gid(0);
    h.set_mtime(0);
    // Paths here are short ASCII: set_path cannot fail on them.
    let _ = h.set_path(path);
    h.set_cksum();
    h
}

fn tar_of(entries: &[(&str, &[u8])]) -> std::io::Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        if let Some(dir) = path.strip_suffix('/') {
            b.append(&header(&format!("{dir}/"), 0, true), std::io::empty())?;
        } else {
            b.append(&header(path, data.len() as u64, false), *data)?;
        }
    }
    b.into_inner()
}

/// The `docker save` tar of the probe image for `arch` (`amd64`, `arm64`:
/// the engine's, so that no engine warns about the platform).
pub fn save_tar(arch: &str) -> std::io::Result<Vec<u8>> {
    let mount = PROBE_MOUNT.trim_start_matches('/');
    let layer = tar_of(&[(&format!("{mount}/"), b"")])?;
    let layer_hex = sha256_hex(&layer);
    let config = serde_json::json!({
        "architecture": arch,
        "os": "linux",
        "config": {
            "Cmd": [PROBE_MOUNT],
            "Labels": {"io.dockhand.probe": "1"},
        },
        "rootfs": {"type": "layers", "diff_ids": [format!("sha256:{layer_hex}")]},
        "history": [{"created_by": "dockhand: the file-sharing probe (never run)"}],
    });
    let config = serde_json::to_vec(&config).map_err(std::io::Error::other)?;
    let config_hex = sha256_hex(&config);
    let manifest = serde_json::json!([{
        "Config": format!("{config_hex}.json"),
        "RepoTags": [PROBE_IMAGE],
        "Layers": [format!("{layer_hex}/layer.tar")],
    }]);
    let manifest = serde_json::to_vec(&manifest).map_err(std::io::Error::other)?;
    tar_of(&[
        (&format!("{config_hex}.json"), &config),
        (&format!("{layer_hex}/"), b""),
        (&format!("{layer_hex}/layer.tar"), &layer),
        ("manifest.json", &manifest),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn the_save_tar_is_reproducible_and_well_formed() {
        let a = save_tar("amd64").unwrap();
        assert_eq!(a, save_tar("amd64").unwrap());
        assert_ne!(a, save_tar("arm64").unwrap());
        let mut names = Vec::new();
        let mut manifest = Vec::new();
        let mut archive = tar::Archive::new(a.as_slice());
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            if name == "manifest.json" {
                entry.read_to_end(&mut manifest).unwrap();
            }
            names.push(name);
        }
        assert_eq!(names.len(), 4, "{names:?}");
        let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(manifest[0]["RepoTags"][0], PROBE_IMAGE);
        let config = manifest[0]["Config"].as_str().unwrap();
        assert!(names.iter().any(|n| n == config));
        let layer = manifest[0]["Layers"][0].as_str().unwrap();
        assert!(names.iter().any(|n| n == layer));
    }
}
