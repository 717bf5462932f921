//! The `index.json` document itself, read and written whole by the store.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::image::Descriptor;
use crate::image::media::OCI_INDEX;

/// The contents of `index.json`; unknown fields are kept.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct IndexFile {
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    #[serde(rename = "mediaType", default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub manifests: Vec<Descriptor>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl IndexFile {
    /// An empty index, as JSON.
    pub(crate) fn empty_json() -> Vec<u8> {
        format!(r#"{{"schemaVersion":2,"mediaType":"{OCI_INDEX}","manifests":[]}}"#).into_bytes()
    }
}
