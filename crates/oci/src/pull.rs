//! Registry → content store: manifests, configs and layers, fetched
//! concurrently, each verified while it streams, never twice.

use std::collections::HashSet;

use futures_util::StreamExt;

use crate::digest::Digest;
use crate::image::{Descriptor, ImageIndex, ImageManifest, media};
use crate::platform::Platform;
use crate::reference::Reference;
use crate::registry::{BlobSink, RegistryClient, RegistryError};
use crate::store::{BlobWriter, Store, StoreError};

/// Indexes may point at indexes; this many levels at most.
const MAX_DEPTH: usize = 4;

/// Why a pull failed. The store holds only complete, verified blobs.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    /// The registry failed or lied.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A manifest is not what its media type says.
    #[error("{reference}: {message}")]
    BadManifest {
        /// Where.
        reference: String,
        /// What is wrong.
        message: String,
    },
    /// Indexes nest too deep or loop.
    #[error("{0}: image indexes nest too deep or loop back: refusing it")]
    IndexLoop(String),
    /// The image (config and layers of one platform) is larger than the
    /// caller allows; nothing but manifests was downloaded.
    #[error(
        "{reference} ({platform}) is {size} bytes (its config and layers), more than the limit of {limit} bytes: refusing it before downloading any layer"
    )]
    TooLarge {
        /// The image.
        reference: String,
        /// The platform of the manifest (the one asked for when the image
        /// is a single manifest), or its digest when neither says.
        platform: String,
        /// What its manifest adds up to.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// No manifest for the wanted platform.
    #[error("{reference} has no {wanted} image (it has {available}): it cannot run on this host")]
    NoPlatform {
        /// The image.
        reference: String,
        /// What was asked for.
        wanted: Platform,
        /// What it has.
        available: String,
    },
}

/// What to pull.
#[derive(Debug, Clone)]
pub struct PullOptions {
    /// Only this platform of an index (`None`: every platform).
    pub platform: Option<Platform>,
    /// Fetch layers too (`false`: manifests and configs only).
    pub layers: bool,
    /// Blobs downloaded at once.
    pub concurrency: usize,
    /// The largest image accepted: what one platform's manifest says its
    /// config and layers add up to, checked before any of them is
    /// downloaded (`None`: no limit). Each blob is also refused as soon as
    /// the registry sends more bytes than its descriptor says.
    pub max_image_size: Option<u64>,
}

impl Default for PullOptions {
    fn default() -> Self {
        Self {
            platform: None,
            layers: true,
            concurrency: 4,
            max_image_size: None,
        }
    }
}

/// What a pull did.
#[derive(Debug, Clone)]
pub struct Pulled {
    /// The top descriptor (index or manifest), tagged in the store as the
    /// reference when layers were pulled too.
    pub top: Descriptor,
    /// The image manifests pulled, with their platform when the index said.
    pub manifests: Vec<(Option<Platform>, Descriptor)>,
    /// Blobs downloaded.
    pub blobs_fetched: usize,
    /// Blobs already in the store.
    pub blobs_reused: usize,
}

/// A store writer that can start over when the client retries.
struct StoreSink<'a> {
    store: &'a Store,
    digest: Digest,
    size: u64,
    writer: Option<BlobWriter>,
}

impl BlobSink for StoreSink<'_> {
    fn reset(&mut self) -> std::io::Result<()> {
        self.writer = Some(
            self.store
                .begin_blob(&self.digest, Some(self.size))
                .map_err(std::io::Error::other)?,
        );
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.writer.is_none() {
            self.reset()?;
        }
        match &mut self.writer {
            Some(w) => w.write(bytes).map_err(std::io::Error::other),
            None => Err(std::io::Error::other("no blob writer")),
        }
    }
}

pub(crate) async fn fetch_into_store(
    client: &RegistryClient,
    store: &Store,
    repo: &Reference,
    d: &Descriptor,
) -> Result<bool, PullError> {
    if store.has_blob(&d.digest) {
        return Ok(false);
    }
    let mut sink = StoreSink {
        store,
        digest: d.digest.clone(),
        size: d.size,
        writer: None,
    };
    sink.writer = Some(store.begin_blob(&d.digest, Some(d.size))?);
    client
        .fetch_blob(repo, &d.digest, d.size, &mut sink)
        .await?;
    if let Some(w) = sink.writer.take() {
        w.commit()?;
    }
    Ok(true)
}

/// Pulls `reference` into `store` and tags it there with its full name.
pub async fn pull(
    client: &RegistryClient,
    store: &Store,
    reference: &Reference,
    options: &PullOptions,
) -> Result<Pulled, PullError> {
    let top_manifest = client.get_manifest(reference).await?;
    let top = Descriptor::new(
        top_manifest.media_type.clone(),
        top_manifest.digest.clone(),
        top_manifest.bytes.len() as u64,
    );
    store.put_bytes(&top_manifest.bytes)?;
    let mut manifests: Vec<(Option<Platform>, Descriptor)> = Vec::new();
    let mut pending = vec![(None, top.clone(), top_manifest.bytes.to_vec(), 0usize)];
    let mut seen: HashSet<Digest> = HashSet::from([top.digest.clone()]);
    while let Some((platform, desc, bytes, depth)) = pending.pop() {
        if depth > MAX_DEPTH {
            return Err(PullError::IndexLoop(reference.to_string()));
        }
        let bad = |e: serde_json::Error| PullError::BadManifest {
            reference: format!("{reference}@{}", desc.digest),
            message: format!("not a valid manifest or index: {e}"),
        };
        let is_index = media::is_index(&desc.media_type)
            || serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .is_some_and(|v| v.get("manifests").is_some());
        if !is_index {
            manifests.push((platform, desc));
            continue;
        }
        let index: ImageIndex = serde_json::from_slice(&bytes).map_err(bad)?;
        let children: Vec<&Descriptor> = index
            .manifests
            .iter()
            .filter(|d| d.platform().is_none_or(|p| p.os() != "unknown"))
            .filter(|d| match (&options.platform, d.platform()) {
                (Some(want), Some(p)) => want.matches(&p),
                _ => true,
            })
            .collect();
        if children.is_empty()
            && let Some(want) = &options.platform
        {
            let available: Vec<String> = index
                .manifests
                .iter()
                .filter_map(Descriptor::platform)
                .filter(|p| p.os() != "unknown")
                .map(|p| p.to_string())
                .collect();
            return Err(PullError::NoPlatform {
                reference: reference.to_string(),
                wanted: want.clone(),
                available: available.join(", "),
            });
        }
        for child in children {
            // A manifest listed twice (for two platforms) is fetched once.
            // An index cannot list itself or an ancestor (it would contain
            // its own digest); MAX_DEPTH bounds the nesting.
            if !seen.insert(child.digest.clone()) {
                continue;
            }
            let bytes = if store.has_blob(&child.digest) {
                store.read_blob(&child.digest, client.options().max_manifest_bytes)?
            } else {
                let m = client
                    .get_manifest(&reference.with_digest(child.digest.clone()))
                    .await?;
                store.put_bytes(&m.bytes)?;
                m.bytes.to_vec()
            };
            pending.push((child.platform(), child.clone(), bytes, depth + 1));
        }
    }
    // Configs and layers, concurrently.
    let mut blobs: Vec<Descriptor> = Vec::new();
    let mut wanted: HashSet<Digest> = HashSet::new();
    for (platform, d) in &manifests {
        let bytes = store.read_blob(&d.digest, client.options().max_manifest_bytes)?;
        let m: ImageManifest =
            serde_json::from_slice(&bytes).map_err(|e| PullError::BadManifest {
                reference: format!("{reference}@{}", d.digest),
                message: format!("not a valid image manifest: {e}"),
            })?;
        if let Some(limit) = options.max_image_size {
            let size = m
                .layers
                .iter()
                .fold(m.config.size, |sum, l| sum.saturating_add(l.size));
            if size > limit {
                return Err(PullError::TooLarge {
                    reference: reference.to_string(),
                    platform: platform
                        .as_ref()
                        .or(options.platform.as_ref())
                        .map_or_else(|| d.digest.to_string(), ToString::to_string),
                    size,
                    limit,
                });
            }
        }
        let mut parts = vec![m.config];
        if options.layers {
            parts.extend(m.layers);
        }
        for p in parts {
            if wanted.insert(p.digest.clone()) {
                blobs.push(p);
            }
        }
    }
    let results: Vec<Result<bool, PullError>> = futures_util::stream::iter(blobs.iter())
        .map(|d| fetch_into_store(client, store, reference, d))
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    let mut fetched = 0;
    let mut reused = 0;
    for r in results {
        if r? {
            fetched += 1;
        } else {
            reused += 1;
        }
    }
    // A partial pull (manifests and configs only, for inspect) is not an
    // image the store can serve: it stays untagged, and gc may drop it.
    if options.layers {
        store.tag(&reference.to_string(), &top)?;
    }
    Ok(Pulled {
        top,
        manifests,
        blobs_fetched: fetched,
        blobs_reused: reused,
    })
}
