//! From a stored index or manifest to one platform's image.

use crate::digest::Digest;
use crate::image::{Descriptor, ImageConfig, ImageIndex, ImageManifest, media};
use crate::platform::Platform;
use crate::store::Store;

use super::SourceError;

/// Indexes may point at indexes; this many levels at most.
const MAX_DEPTH: usize = 4;
/// Manifests and configs larger than this are refused.
const DOC_MAX: u64 = 4 * 1024 * 1024;

/// One platform's image, read from the store.
#[derive(Debug, Clone)]
pub struct ResolvedImage {
    /// The descriptor resolved from (an index or a manifest).
    pub top: Descriptor,
    /// The platform's manifest.
    pub manifest_descriptor: Descriptor,
    /// The manifest.
    pub manifest: ImageManifest,
    /// The config.
    pub config: ImageConfig,
}

fn read_json<T: serde::de::DeserializeOwned>(
    store: &Store,
    digest: &Digest,
    kind: &'static str,
) -> Result<T, SourceError> {
    let bytes = store.read_blob(digest, DOC_MAX)?;
    serde_json::from_slice(&bytes).map_err(SourceError::bad_document(digest, kind))
}

fn is_index(d: &Descriptor, store: &Store) -> Result<bool, SourceError> {
    if media::is_index(&d.media_type) {
        return Ok(true);
    }
    if media::is_manifest(&d.media_type) {
        return Ok(false);
    }
    // No or an unusual media type: look inside.
    let v: serde_json::Value = read_json(store, &d.digest, "image manifest or index")?;
    Ok(v.get("manifests").is_some())
}

/// The platforms an index offers (or the one a manifest's config declares).
pub fn platforms(store: &Store, top: &Descriptor) -> Result<Vec<Platform>, SourceError> {
    if is_index(top, store)? {
        let index: ImageIndex = read_json(store, &top.digest, "image index")?;
        Ok(index
            .manifests
            .iter()
            .filter_map(Descriptor::platform)
            .filter(|p| p.os() != "unknown")
            .collect())
    } else {
        let manifest: ImageManifest = read_json(store, &top.digest, "image manifest")?;
        let config: ImageConfig = read_json(store, &manifest.config.digest, "image config")?;
        Ok(vec![config.platform()])
    }
}

/// Resolves `top` to the image for `platform`. A single manifest resolves
/// only when its config's platform matches.
pub fn resolve(
    store: &Store,
    top: &Descriptor,
    platform: &Platform,
) -> Result<ResolvedImage, SourceError> {
    let mut current = top.clone();
    let mut seen = vec![top.digest.clone()];
    for _ in 0..=MAX_DEPTH {
        if is_index(&current, store)? {
            let index: ImageIndex = read_json(store, &current.digest, "image index")?;
            let next = index
                .manifests
                .iter()
                .find(|d| d.platform().is_some_and(|p| platform.matches(&p)))
                .or_else(|| {
                    // An index without platforms (nested indexes): take its only entry.
                    (index.manifests.len() == 1 && index.manifests[0].platform.is_none())
                        .then(|| &index.manifests[0])
                })
                .cloned();
            let Some(next) = next else {
                let available: Vec<String> = index
                    .manifests
                    .iter()
                    .filter_map(Descriptor::platform)
                    .map(|p| p.to_string())
                    .collect();
                return Err(SourceError::NoPlatform {
                    image: top.digest.to_string(),
                    wanted: platform.clone(),
                    available: if available.is_empty() {
                        "none".into()
                    } else {
                        available.join(", ")
                    },
                });
            };
            if seen.contains(&next.digest) {
                return Err(SourceError::IndexLoop(top.digest.clone()));
            }
            seen.push(next.digest.clone());
            current = next;
            continue;
        }
        let manifest: ImageManifest = read_json(store, &current.digest, "image manifest")?;
        let config: ImageConfig = read_json(store, &manifest.config.digest, "image config")?;
        if !platform.matches(&config.platform()) {
            return Err(SourceError::NoPlatform {
                image: top.digest.to_string(),
                wanted: platform.clone(),
                available: config.platform().to_string(),
            });
        }
        return Ok(ResolvedImage {
            top: top.clone(),
            manifest_descriptor: current,
            manifest,
            config,
        });
    }
    Err(SourceError::IndexLoop(top.digest.clone()))
}
