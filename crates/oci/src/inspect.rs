//! What an extension image is, from as little of it as possible: labels from
//! the manifest and config, metadata.json from the layers read top down and
//! no further than the first one that decides it. The UI and backend layers
//! below that are never downloaded.

use std::collections::BTreeMap;

use dockhand_spec::{ApiVersionReq, Labels, METADATA_MAX_BYTES, labels::name};

use crate::digest::Digest;
use crate::image::Descriptor;
use crate::platform::Platform;
use crate::pull::{PullError, PullOptions, fetch_into_store, pull};
use crate::reference::Reference;
use crate::registry::RegistryClient;
use crate::source::{ResolvedImage, SourceError, platforms, resolve};
use crate::store::Store;
use crate::unpack::{LayerInput, Limits, Outcome, UnpackError, lookup_top_down};

/// Why an image could not be inspected.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    /// Fetching from the registry failed.
    #[error(transparent)]
    Pull(#[from] PullError),
    /// Reading the stored image failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A layer could not be read.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
    /// metadata.json is not JSON.
    #[error("{image}: metadata.json in layer {layer} is not valid JSON: {message}")]
    BadMetadata {
        /// The image.
        image: String,
        /// The layer digest.
        layer: Digest,
        /// The parser's message.
        message: String,
    },
}

/// What `inspect` reports.
#[derive(Debug, Clone)]
pub struct Inspected {
    /// The top digest (index or manifest).
    pub digest: Digest,
    /// Platforms the image offers.
    pub platforms: Vec<Platform>,
    /// The platform whose config and layers were read.
    pub platform: Platform,
    /// The config's labels.
    pub labels: BTreeMap<String, String>,
    /// metadata.json, when the image has one.
    pub metadata: Option<serde_json::Value>,
    /// Layers read to find metadata.json, of how many.
    pub layers_read: usize,
    /// Layers of the image.
    pub layers_total: usize,
    /// The platform manifest's descriptor.
    pub manifest: Descriptor,
}

impl Inspected {
    /// True when this host's API version satisfies the api.version label.
    pub fn api_compatible(&self) -> bool {
        Labels(self.labels.clone())
            .non_empty(name::API_VERSION)
            .and_then(|v| ApiVersionReq::parse(v).ok())
            .is_some_and(|r| r.satisfied_by_implemented())
    }
}

/// Inspects `reference` on its registry, fetching into `store` only the
/// manifests, the config and the top layers down to metadata.json.
pub async fn inspect_remote(
    client: &RegistryClient,
    store: &Store,
    reference: &Reference,
    platform: &Platform,
) -> Result<Inspected, InspectError> {
    inspect_remote_within(client, store, reference, platform, None).await
}

/// [`inspect_remote`], refusing an image whose config and layers add up to
/// more than `max_image_size` bytes before any layer is downloaded
/// ([`PullError::TooLarge`]).
pub async fn inspect_remote_within(
    client: &RegistryClient,
    store: &Store,
    reference: &Reference,
    platform: &Platform,
    max_image_size: Option<u64>,
) -> Result<Inspected, InspectError> {
    let options = PullOptions {
        platform: Some(platform.clone()),
        layers: false,
        concurrency: 2,
        max_image_size,
    };
    let pulled = pull(client, store, reference, &options).await?;
    let image = resolve(store, &pulled.top, platform)?;
    let all = platforms(store, &pulled.top)?;
    read_metadata(store, &image, all, platform, Some((client, reference))).await
}

/// Inspects an image already in `store`.
pub async fn inspect_stored(
    store: &Store,
    top: &Descriptor,
    platform: &Platform,
) -> Result<Inspected, InspectError> {
    let image = resolve(store, top, platform)?;
    let all = platforms(store, top)?;
    read_metadata(store, &image, all, platform, None).await
}

async fn read_metadata(
    store: &Store,
    image: &ResolvedImage,
    platforms: Vec<Platform>,
    platform: &Platform,
    remote: Option<(&RegistryClient, &Reference)>,
) -> Result<Inspected, InspectError> {
    let layers = &image.manifest.layers;
    let mut metadata = None;
    let mut read = 0;
    for layer in layers.iter().rev() {
        if let Some((client, reference)) = remote {
            fetch_into_store(client, store, reference, layer).await?;
        }
        read += 1;
        let input = LayerInput {
            digest: layer.digest.clone(),
            media_type: layer.media_type.clone(),
            path: store.blob_path(&layer.digest),
        };
        let found = lookup_top_down(
            &[input],
            "metadata.json",
            METADATA_MAX_BYTES as u64,
            &Limits::default(),
        )?;
        match found.outcome {
            Outcome::Found { bytes, .. } => {
                let v = serde_json::from_slice(&bytes).map_err(|e| InspectError::BadMetadata {
                    image: image.top.digest.to_string(),
                    layer: layer.digest.clone(),
                    message: e.to_string(),
                })?;
                metadata = Some(v);
                break;
            }
            Outcome::Deleted { .. } => break,
            Outcome::Absent => {}
        }
    }
    Ok(Inspected {
        digest: image.top.digest.clone(),
        platforms,
        platform: platform.clone(),
        labels: image.config.labels(),
        metadata,
        layers_read: read,
        layers_total: layers.len(),
        manifest: image.manifest_descriptor.clone(),
    })
}
