//! Media types and the manifest shapes dockhand reads: image indexes
//! (OCI index, Docker manifest list) and image manifests (OCI, Docker v2).

use std::collections::BTreeMap;

use bytes::Bytes;
use serde::Deserialize;

use crate::digest::Digest;
use crate::platform::Platform;

/// `application/vnd.oci.image.index.v1+json`
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// `application/vnd.oci.image.manifest.v1+json`
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// `application/vnd.oci.image.config.v1+json`
pub const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// `application/vnd.oci.image.layer.v1.tar+gzip`
pub const OCI_LAYER_GZIP: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
/// `application/vnd.docker.distribution.manifest.list.v2+json`
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// `application/vnd.docker.distribution.manifest.v2+json`
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// `application/vnd.docker.container.image.v1+json`
pub const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";
/// `application/vnd.docker.image.rootfs.diff.tar.gzip`
pub const DOCKER_LAYER_GZIP: &str = "application/vnd.docker.image.rootfs.diff.tar.gzip";

/// The `Accept` header for manifests: every kind [`ManifestKind`] reads.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json";

/// True for the index media types (OCI index, Docker manifest list).
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// True for the image manifest media types (OCI, Docker v2).
pub fn is_image_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

/// A manifest as the registry served it: verified bytes and their digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// The media type (from `Content-Type`, else the document's `mediaType`).
    pub media_type: String,
    /// The bytes, exactly as served (the digest covers them).
    pub bytes: Bytes,
    /// The digest of `bytes`.
    pub digest: Digest,
}

impl Manifest {
    /// Parses the bytes as an index or an image manifest.
    pub fn parse(&self) -> Result<ManifestKind, ManifestError> {
        ManifestKind::parse(&self.media_type, &self.bytes)
    }
}

/// Why manifest bytes could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Not JSON of the expected shape.
    #[error("not a valid {kind}: {reason}")]
    Invalid {
        /// What it was parsed as.
        kind: &'static str,
        /// The parser's complaint.
        reason: String,
    },
    /// A media type dockhand does not read (Docker schema 1, artifacts…).
    #[error("media type `{0}` is not supported: push the image as an OCI or Docker v2 manifest")]
    Unsupported(String),
}

/// A manifest, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestKind {
    /// A multi-platform index (OCI index or Docker manifest list).
    Index(Index),
    /// A single image (OCI or Docker v2 image manifest).
    Image(ImageManifest),
}

/// An image index: one entry per platform (and attestations).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Index {
    /// The media type.
    pub media_type: String,
    /// The entries.
    pub manifests: Vec<Descriptor>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

impl Index {
    /// The first entry that runs on `platform` (attestation entries, with
    /// platform `unknown/unknown`, never match).
    pub fn find_platform(&self, platform: &Platform) -> Option<&Descriptor> {
        self.manifests
            .iter()
            .find(|d| d.platform.as_ref().is_some_and(|p| platform.matches(p)))
    }
}

/// An image manifest: a config and layers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageManifest {
    /// The media type.
    pub media_type: String,
    /// The image config blob.
    pub config: Descriptor,
    /// The layers, bottom first.
    pub layers: Vec<Descriptor>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

/// A content descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Descriptor {
    /// The media type of the content.
    pub media_type: String,
    /// Its digest.
    pub digest: Digest,
    /// Its size in bytes.
    pub size: u64,
    /// The platform (index entries only).
    pub platform: Option<Platform>,
    /// Annotations.
    pub annotations: BTreeMap<String, String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDoc {
    #[serde(default)]
    schema_version: Option<u32>,
    #[serde(default)]
    media_type: Option<String>,
    #[serde(default)]
    manifests: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    config: Option<RawDescriptor>,
    #[serde(default)]
    layers: Option<Vec<RawDescriptor>>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDescriptor {
    media_type: String,
    digest: Digest,
    size: u64,
    #[serde(default)]
    platform: Option<RawPlatform>,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawPlatform {
    os: String,
    architecture: String,
    #[serde(default)]
    variant: Option<String>,
}

impl From<RawDescriptor> for Descriptor {
    fn from(r: RawDescriptor) -> Self {
        Self {
            media_type: r.media_type,
            digest: r.digest,
            size: r.size,
            platform: r
                .platform
                .map(|p| Platform::new(&p.os, &p.architecture, p.variant.as_deref())),
            annotations: r.annotations.unwrap_or_default(),
        }
    }
}

/// The media type named inside a manifest document, else guessed from its
/// shape (`manifests` → OCI index, `config` → OCI manifest).
pub fn media_type_of(bytes: &[u8]) -> Option<String> {
    let raw: RawDoc = serde_json::from_slice(bytes).ok()?;
    if let Some(mt) = raw.media_type.filter(|m| !m.is_empty()) {
        return Some(mt);
    }
    if raw.schema_version == Some(1) {
        return Some("application/vnd.docker.distribution.manifest.v1+json".to_owned());
    }
    if raw.manifests.is_some() {
        Some(OCI_INDEX.to_owned())
    } else if raw.config.is_some() {
        Some(OCI_MANIFEST.to_owned())
    } else {
        None
    }
}

impl ManifestKind {
    /// Parses `bytes` served as `media_type`.
    pub fn parse(media_type: &str, bytes: &[u8]) -> Result<Self, ManifestError> {
        let kind = if is_index(media_type) {
            "image index"
        } else if is_image_manifest(media_type) {
            "image manifest"
        } else {
            return Err(ManifestError::Unsupported(media_type.to_owned()));
        };
        let invalid = |reason: String| ManifestError::Invalid { kind, reason };
        let raw: RawDoc = serde_json::from_slice(bytes).map_err(|e| invalid(e.to_string()))?;
        if raw.schema_version != Some(2) {
            return Err(invalid("schemaVersion must be 2".to_owned()));
        }
        if let Some(inner) = raw.media_type.as_deref()
            && inner != media_type
        {
            return Err(invalid(format!(
                "served as {media_type} but its mediaType says {inner}"
            )));
        }
        let annotations = raw.annotations.unwrap_or_default();
        if is_index(media_type) {
            let manifests = raw
                .manifests
                .ok_or_else(|| invalid("`manifests` is missing".to_owned()))?;
            Ok(ManifestKind::Index(Index {
                media_type: media_type.to_owned(),
                manifests: manifests.into_iter().map(Descriptor::from).collect(),
                annotations,
            }))
        } else {
            let config = raw
                .config
                .ok_or_else(|| invalid("`config` is missing".to_owned()))?;
            Ok(ManifestKind::Image(ImageManifest {
                media_type: media_type.to_owned(),
                config: config.into(),
                layers: raw
                    .layers
                    .unwrap_or_default()
                    .into_iter()
                    .map(Descriptor::from)
                    .collect(),
                annotations,
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const D1: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
    const D2: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

    #[test]
    fn parses_an_index_with_platforms() {
        let text = format!(
            r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D1}","size":10,
                "platform":{{"os":"linux","architecture":"arm64","variant":"v8"}}}},
              {{"mediaType":"{OCI_MANIFEST}","digest":"{D2}","size":11,
                "platform":{{"os":"unknown","architecture":"unknown"}},
                "annotations":{{"vnd.docker.reference.type":"attestation-manifest"}}}}
            ],"annotations":{{"a":"b"}}}}"#
        );
        let ManifestKind::Index(ix) = ManifestKind::parse(OCI_INDEX, text.as_bytes()).unwrap()
        else {
            panic!("not an index")
        };
        assert_eq!(ix.manifests.len(), 2);
        assert_eq!(ix.annotations["a"], "b");
        let arm = ix.find_platform(&"linux/arm64".parse().unwrap()).unwrap();
        assert_eq!(arm.digest.to_string(), D1);
        assert!(ix.find_platform(&"linux/amd64".parse().unwrap()).is_none());
        assert_eq!(media_type_of(text.as_bytes()).as_deref(), Some(OCI_INDEX));
    }

    #[test]
    fn parses_a_docker_manifest() {
        let text = format!(
            r#"{{"schemaVersion":2,"mediaType":"{DOCKER_MANIFEST}",
              "config":{{"mediaType":"{DOCKER_CONFIG}","digest":"{D1}","size":3}},
              "layers":[{{"mediaType":"{DOCKER_LAYER_GZIP}","digest":"{D2}","size":4}}]}}"#
        );
        let ManifestKind::Image(m) = ManifestKind::parse(DOCKER_MANIFEST, text.as_bytes()).unwrap()
        else {
            panic!("not an image")
        };
        assert_eq!(m.config.size, 3);
        assert_eq!(m.layers[0].digest.to_string(), D2);
    }

    #[test]
    fn rejects_bad_manifests() {
        assert!(matches!(
            ManifestKind::parse("application/json", b"{}"),
            Err(ManifestError::Unsupported(_))
        ));
        let e = ManifestKind::parse(OCI_MANIFEST, b"{\"schemaVersion\":2}").unwrap_err();
        assert!(e.to_string().contains("`config` is missing"), "{e}");
        let e = ManifestKind::parse(
            OCI_INDEX,
            format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_MANIFEST}","manifests":[]}}"#)
                .as_bytes(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("but its mediaType says"), "{e}");
        let e = ManifestKind::parse(
            OCI_INDEX,
            br#"{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:bad","size":1}]}"#,
        )
        .unwrap_err();
        assert!(matches!(e, ManifestError::Invalid { .. }));
        assert_eq!(
            media_type_of(br#"{"schemaVersion":1,"name":"x"}"#).as_deref(),
            Some("application/vnd.docker.distribution.manifest.v1+json")
        );
    }
}
