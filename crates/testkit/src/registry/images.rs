//! Extension images made of plain files for the fake registry: a one-layer
//! image whose layer is an uncompressed tar, and tags that can move.

use dockhand_oci::Digest;

use super::FakeRegistry;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";

/// A ustar archive of `files`, each `(path, bytes)` in order; a path ending
/// in `/` is a directory. Mode 0644 (0755 for directories), owner 0, a fixed
/// mtime: the same files give the same bytes.
pub fn tar(files: &[(&str, &[u8])]) -> Vec<u8> {
    fn header(name: &str, size: usize, dir: bool) -> [u8; 512] {
        let mut h = [0u8; 512];
        h[..name.len()].copy_from_slice(name.as_bytes());
        let octal = |h: &mut [u8; 512], at: usize, width: usize, v: u64| {
            let text = format!("{v:0w$o}\0", w = width - 1);
            h[at..at + width].copy_from_slice(text.as_bytes());
        };
        octal(&mut h, 100, 8, if dir { 0o755 } else { 0o644 });
        octal(&mut h, 108, 8, 0);
        octal(&mut h, 116, 8, 0);
        octal(&mut h, 124, 12, size as u64);
        octal(&mut h, 136, 12, 1_700_000_000);
        h[156] = if dir { b'5' } else { b'0' };
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
        h
    }
    let mut out = Vec::new();
    for (name, bytes) in files {
        let dir = name.ends_with('/');
        out.extend_from_slice(&header(name, bytes.len(), dir));
        out.extend_from_slice(bytes);
        out.resize(out.len().div_ceil(512) * 512, 0);
    }
    out.resize(out.len() + 1024, 0);
    out
}

impl FakeRegistry {
    /// Publishes to `repo`, untagged, a linux/`arch` image with `labels`
    /// and one uncompressed layer holding `files` (see [`tar`]); returns the
    /// manifest's digest.
    pub fn files_image(
        &self,
        repo: &str,
        arch: &str,
        labels: &[(&str, &str)],
        files: &[(&str, &[u8])],
    ) -> Digest {
        let layer = tar(files);
        let ld = self.add_blob(repo, &layer);
        let labels: serde_json::Map<String, serde_json::Value> = labels
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).into()))
            .collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": arch, "os": "linux",
            "config": { "Labels": labels },
            "rootfs": { "type": "layers", "diff_ids": [ld.to_string()] }
        }))
        .expect("the config serializes");
        let cd = self.add_blob(repo, &config);
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": { "mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": config.len() },
            "layers": [{ "mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": ld.to_string(), "size": layer.len() }]
        }))
        .expect("the manifest serializes");
        let md = Digest::sha256_of(&manifest);
        self.set(|s| {
            s.manifests.insert(
                (repo.to_owned(), md.to_string()),
                (OCI_MANIFEST.to_owned(), manifest),
            );
        });
        md
    }

    /// Points `tag` of `repo` at the manifest `digest` (moving it when it
    /// exists); the tag list stays sorted.
    pub fn tag(&self, repo: &str, tag: &str, digest: &Digest) {
        self.set(|s| {
            let manifest = s
                .manifests
                .get(&(repo.to_owned(), digest.to_string()))
                .cloned()
                .unwrap_or_else(|| panic!("no manifest {digest} in {repo} to tag"));
            s.manifests
                .insert((repo.to_owned(), tag.to_owned()), manifest);
            let tags = s.tags.entry(repo.to_owned()).or_default();
            if !tags.iter().any(|t| t == tag) {
                tags.push(tag.to_owned());
                tags.sort();
            }
        });
    }
}
