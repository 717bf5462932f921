//! Content store → registry: blobs the registry lacks (checked with HEAD),
//! mounted from another repository of the same registry when the store knows
//! one that has them, then the manifests, and the index last so the tag only
//! ever points at a complete image.

use std::collections::{BTreeMap, HashSet};

use bytes::Bytes;

use crate::digest::Digest;
use crate::image::{Descriptor, ImageIndex, ImageManifest, media};
use crate::reference::Reference;
use crate::registry::{BlobBody, RegistryClient, RegistryError};
use crate::store::{Store, StoreError};

const DOC_MAX: u64 = 4 * 1024 * 1024;

/// Why a push failed.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The registry refused or failed.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A stored document is not valid.
    #[error("{0} in the store is not a valid manifest or index: pull or build the image again")]
    BadDocument(Digest),
}

/// What a push did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Blobs uploaded.
    pub uploaded: usize,
    /// Blobs the registry already had.
    pub skipped: usize,
    /// Blobs mounted from another repository.
    pub mounted: usize,
    /// The digest the tag points at.
    pub digest: Option<Digest>,
}

struct Plan {
    /// Config and layer blobs, in push order.
    blobs: Vec<Descriptor>,
    /// Image manifests (pushed by digest), then indexes (children first).
    documents: Vec<Descriptor>,
}

fn plan(store: &Store, top: &Descriptor) -> Result<Plan, PushError> {
    let mut plan = Plan {
        blobs: Vec::new(),
        documents: Vec::new(),
    };
    let mut seen = HashSet::new();
    walk(store, top, &mut plan, &mut seen, 0)?;
    Ok(plan)
}

fn walk(
    store: &Store,
    d: &Descriptor,
    plan: &mut Plan,
    seen: &mut HashSet<Digest>,
    depth: usize,
) -> Result<(), PushError> {
    if depth > 4 {
        return Err(PushError::BadDocument(d.digest.clone()));
    }
    // A manifest listed twice (for two platforms) is pushed once.
    if !seen.insert(d.digest.clone()) {
        return Ok(());
    }
    let bytes = store.read_blob(&d.digest, DOC_MAX)?;
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| PushError::BadDocument(d.digest.clone()))?;
    if media::is_index(&d.media_type) || value.get("manifests").is_some() {
        let index: ImageIndex =
            serde_json::from_value(value).map_err(|_| PushError::BadDocument(d.digest.clone()))?;
        for child in &index.manifests {
            walk(store, child, plan, seen, depth + 1)?;
        }
    } else {
        let m: ImageManifest =
            serde_json::from_value(value).map_err(|_| PushError::BadDocument(d.digest.clone()))?;
        for b in std::iter::once(&m.config).chain(&m.layers) {
            if !plan.blobs.iter().any(|x| x.digest == b.digest) {
                plan.blobs.push(b.clone());
            }
        }
    }
    plan.documents.push(d.clone());
    Ok(())
}

/// Repositories of `target`'s registry that the store holds images of, with
/// the blobs each holds: where a blob can be mounted from.
fn mount_sources(store: &Store, target: &Reference) -> BTreeMap<String, HashSet<Digest>> {
    let mut out: BTreeMap<String, HashSet<Digest>> = BTreeMap::new();
    let Ok(names) = store.names() else { return out };
    for (name, d) in names {
        let Ok(r) = Reference::parse(&name) else {
            continue;
        };
        if r.registry() != target.registry() || r.repository() == target.repository() {
            continue;
        }
        if let Ok(p) = plan(store, &d) {
            out.entry(r.repository().to_owned())
                .or_default()
                .extend(p.blobs.into_iter().map(|b| b.digest));
        }
    }
    out
}

/// Pushes the image `top` of `store` to `target` (its tag, or its digest).
pub async fn push(
    client: &RegistryClient,
    store: &Store,
    top: &Descriptor,
    target: &Reference,
) -> Result<PushReport, PushError> {
    let plan = plan(store, top)?;
    let sources = mount_sources(store, target);
    let mut report = PushReport::default();
    for blob in &plan.blobs {
        if client.head_blob(target, &blob.digest).await? {
            report.skipped += 1;
            continue;
        }
        let from = sources
            .iter()
            .find(|(_, blobs)| blobs.contains(&blob.digest))
            .and_then(|(repo, _)| {
                Reference::parse_loose(&format!("{}/{repo}", target.registry())).ok()
            });
        if let Some(from) = from
            && client.mount_blob(target, &from, &blob.digest).await?
        {
            report.mounted += 1;
            continue;
        }
        let body = BlobBody::File(store.blob_path(&blob.digest));
        client
            .push_blob(target, &blob.digest, blob.size, body)
            .await?;
        report.uploaded += 1;
    }
    let last = plan.documents.len().saturating_sub(1);
    for (i, doc) in plan.documents.iter().enumerate() {
        let bytes = Bytes::from(store.read_blob(&doc.digest, DOC_MAX)?);
        // Children by digest; the tag last, once everything it needs is there.
        let at = if i == last {
            target.clone()
        } else {
            Reference::parse(&format!("{}@{}", target.name(), doc.digest))
                .unwrap_or_else(|_| target.with_digest(doc.digest.clone()))
        };
        let digest = client.put_manifest(&at, &doc.media_type, bytes).await?;
        if i == last {
            report.digest = Some(digest);
        }
    }
    Ok(report)
}
