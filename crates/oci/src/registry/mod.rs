//! The registry client (distribution API): manifests, blobs, tags, push, auth.
//!
//! [`RegistryClient`] speaks the OCI distribution API over HTTPS (plain HTTP
//! only to loopback and configured insecure registries, as dockerd),
//! answers `Bearer` and `Basic` challenges with credentials from a
//! [`CredentialSource`] (the docker CLI's config and credential helpers:
//! [`DockerConfig`]), retries transient failures with backoff
//! ([`RetryPolicy`]), verifies every manifest and blob against its digest
//! while it streams, bounds what it reads, and counts requests and bytes
//! ([`Stats`]).

mod auth;
mod auth_cache;
mod blob;
mod body;
mod catalog;
mod challenge;
mod client;
mod credentials;
mod error;
mod manifest;
mod media;
mod pages;
mod push;
mod retry;
mod stats;
mod tags;

pub use blob::BlobSink;
pub use body::BlobBody;
pub use client::{DEFAULT_MAX_MANIFEST_BYTES, RegistryClient, RegistryOptions};
pub use credentials::{
    Credential, CredentialError, CredentialSource, DOCKER_HUB_AUTH_KEY, DockerConfig,
    NoCredentials, StaticCredentials, server_url,
};
pub use error::RegistryError;
pub use manifest::ManifestHead;
pub use media::{
    DOCKER_CONFIG, DOCKER_LAYER_GZIP, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, Descriptor,
    ImageManifest, Index, MANIFEST_ACCEPT, Manifest, ManifestError, ManifestKind, OCI_CONFIG,
    OCI_INDEX, OCI_LAYER_GZIP, OCI_MANIFEST, is_image_manifest, is_index, media_type_of,
};
pub use pages::MAX_TAG_PAGES;
pub use retry::RetryPolicy;
pub use stats::{RequestKind, Stats, StatsSnapshot};
