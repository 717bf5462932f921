//! The image the mode probe creates its throwaway container from: one layer
//! holding one empty directory, never run, written by dockhand as a
//! `docker save` tar and loaded through the Engine API (never pulled). The
//! bytes are the same on every run (fixed times, owners and order), so its
//! id is too.

use crate::saved_image::{OneLayer, append_dir};

/// The image's name in the engine.
pub const PROBE_IMAGE: &str = "dockhand-probe:1";
/// Where the probed directory is mounted in the container.
pub const PROBE_MOUNT: &str = "/dockhand-probe";

/// The `docker save` tar of the probe image for `arch` (`amd64`, `arm64`:
/// the engine's, so that no engine warns about the platform).
pub fn save_tar(arch: &str) -> std::io::Result<Vec<u8>> {
    let mut layer = tar::Builder::new(Vec::new());
    append_dir(
        &mut layer,
        &format!("{}/", PROBE_MOUNT.trim_start_matches('/')),
    )?;
    OneLayer {
        name: PROBE_IMAGE,
        arch,
        config: serde_json::json!({
            "Cmd": [PROBE_MOUNT],
            "Labels": {"io.dockhand.probe": "1"},
        }),
        created_by: "dockhand: the file-sharing probe (never run)",
    }
    .save_tar(&layer.into_inner()?)
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
