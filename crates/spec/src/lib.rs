//! dockhand-spec: the Docker Desktop extension format, as data.
//!
//! This crate owns what an extension *is*: the typed `metadata.json`
//! ([`Metadata`]), the image labels ([`Labels`]), API-version constraints
//! ([`ApiVersionReq`], with node-semver semantics and the format's
//! bare-version rule), the facts about a backend's compose file that the host
//! needs ([`ComposeFacts`]), an extension's identity ([`ExtensionId`], its
//! image repository's short name), the labels a Dockerfile sets
//! ([`labels_from_dockerfile`]) and validation with stable diagnostic codes
//! ([`validate()`], [`Code`]).
//!
//! It is pure: no file system, network, environment or printing. Callers read
//! bytes and hand them in; files of an image are seen through [`ImageFiles`].

pub mod api_version;
pub mod compose;
pub mod diagnostics;
pub mod dockerfile;
pub mod extension_dir;
pub mod extension_id;
pub mod icon;
pub mod labels;
pub mod metadata;
pub mod text;
pub mod validate;

pub use api_version::{API_VERSION, ApiVersionError, ApiVersionReq, implemented_api_version};
pub use compose::{
    ComposeError, ComposeFacts, Grant, GrantKind, ModelContext, Mount, ServiceFacts,
};
pub use diagnostics::{Class, Code, Diagnostic, Location, Severity};
pub use dockerfile::{DockerfileError, DockerfileLabels, labels_from_dockerfile};
pub use extension_dir::{MetadataBytes, labels_beside_metadata};
pub use extension_id::{ExtensionId, NameError, RepositoryName};
pub use labels::{AdditionalUrl, Category, Labels, Screenshot};
pub use metadata::{METADATA_MAX_BYTES, Metadata, MetadataError, Os};
pub use validate::{
    ComposeInput, FileChecks, FileKind, ImageFiles, LabelsInput, Report, ValidateOptions,
    compose_file_path, validate,
};
