//! An Engine API object kept as the engine describes it.
//!
//! The dashboard and the ddClient bridge hand the engine's own descriptions
//! on (`docker.listContainers`, `GET /api/images/{id}`, …) as Docker Desktop
//! does; what dockhand itself reads from them has named fields elsewhere
//! ([`crate::ContainerDetails`], [`crate::ExecDetails`]).

use serde::Serialize;

use crate::{Engine, EngineError};

/// A container, image, volume or stats sample in the Engine API's JSON
/// (its field names, as the engine's documentation gives them).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(transparent)]
pub struct ApiObject(serde_json::Value);

impl ApiObject {
    /// The JSON.
    pub fn json(&self) -> &serde_json::Value {
        &self.0
    }

    /// The JSON, owned.
    pub fn into_json(self) -> serde_json::Value {
        self.0
    }

    /// A field of the object (`Id`, `Name`, `RepoTags`), when it has it.
    pub fn get(&self, field: &str) -> Option<&serde_json::Value> {
        self.0.get(field)
    }
}

impl Engine {
    /// `value` (an answer of the engine) as an [`ApiObject`].
    pub(crate) fn object(
        &self,
        action: &str,
        value: impl Serialize,
    ) -> Result<ApiObject, EngineError> {
        serde_json::to_value(value)
            .map(ApiObject)
            .map_err(|e| EngineError::Api {
                host: self.host.describe(),
                action: action.to_owned(),
                message: format!("its answer cannot be encoded as JSON: {e}"),
            })
    }

    /// The answer to one request (see [`Engine::request`]) as an [`ApiObject`].
    pub(crate) async fn request_object(
        &self,
        action: &str,
        request: impl Future<Output = Result<impl Serialize, bollard::errors::Error>>,
    ) -> Result<ApiObject, EngineError> {
        let answer = self.request(action, request).await?;
        self.object(action, answer)
    }

    /// The answer to one listing request (see [`Engine::request`]), each
    /// of its items as an [`ApiObject`].
    pub(crate) async fn request_objects<T: Serialize>(
        &self,
        action: &str,
        list: impl Future<Output = Result<Vec<T>, bollard::errors::Error>>,
    ) -> Result<Vec<ApiObject>, EngineError> {
        let items = self.request(action, list).await?;
        self.objects(action, items)
    }

    /// Each of `values` as an [`ApiObject`].
    pub(crate) fn objects<T: Serialize>(
        &self,
        action: &str,
        values: impl IntoIterator<Item = T>,
    ) -> Result<Vec<ApiObject>, EngineError> {
        values.into_iter().map(|v| self.object(action, v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_serialize_as_their_json() {
        let o = ApiObject(serde_json::json!({"Id": "abc", "Names": ["/x"]}));
        assert_eq!(o.get("Id").and_then(|v| v.as_str()), Some("abc"));
        assert_eq!(
            serde_json::to_string(&o).unwrap(),
            r#"{"Id":"abc","Names":["/x"]}"#
        );
        assert!(o.get("Nope").is_none());
    }
}
