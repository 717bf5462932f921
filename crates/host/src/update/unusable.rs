//! Why what a registry answered cannot be used for an update check or an
//! untagged reference's resolution.

use dockhand_oci::ReferenceError;
use dockhand_oci::registry::ManifestError;

use super::{MAX_CONFIG_BYTES, UpdateError};

/// What is wrong with a registry's answer (the reason of
/// [`UpdateError::Invalid`] and [`super::untagged::ResolveError::Invalid`]).
#[derive(Debug, thiserror::Error)]
pub enum Unusable {
    /// A tag the registry listed does not make a reference.
    #[error("{0}")]
    Tag(ReferenceError),
    /// A manifest cannot be read.
    #[error("{0}")]
    Manifest(ManifestError),
    /// An index entry for the platform is an index again.
    #[error("the index entry for {platform} is another index")]
    NestedIndex {
        /// The platform.
        platform: String,
    },
    /// The image config is over [`MAX_CONFIG_BYTES`].
    #[error("it is {size} bytes, more than the {MAX_CONFIG_BYTES} an image config may have")]
    ConfigTooLarge {
        /// Its size in the manifest.
        size: u64,
    },
    /// The image config is not JSON of a config's shape.
    #[error("not a valid image config: {error}")]
    NotAConfig {
        /// What the parser said.
        error: serde_json::Error,
    },
    /// A check failed for another reason while resolving versions.
    #[error("{0}")]
    Check(Box<UpdateError>),
}
