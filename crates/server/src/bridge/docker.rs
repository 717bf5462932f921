//! `docker.listContainers` / `docker.listImages`: the Engine API lists with
//! the extension's options passed through.
//!
//! Options are the Engine API's query parameters: containers `all`, `limit`,
//! `size`, `filters`; images `all`, `filters`, `shared-size` (also
//! `sharedSize`), `digests`, `manifests`. `filters` is a JSON string or an
//! object whose values are lists of strings, single strings, or the Engine
//! API's `{"value": true}` maps.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use dockhand_engine::{ListContainersOptions, ListImagesOptions};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::context::{BridgeJson, BridgeState, Caller};
use crate::error::ApiError;

/// The body of the list calls.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ListRequest {
    /// The options; absent means the Engine API's defaults.
    #[serde(default)]
    pub options: Option<Map<String, Value>>,
}

/// Engine API filters from a JSON string or object.
pub fn parse_filters(value: &Value) -> Result<Option<HashMap<String, Vec<String>>>, ApiError> {
    let object = match value {
        Value::Null => return Ok(None),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => serde_json::from_str::<Value>(s)
            .map_err(|e| ApiError::bad_request(format!("filters `{s}` is not JSON: {e}")))?,
        other => other.clone(),
    };
    let Value::Object(map) = object else {
        return Err(ApiError::bad_request(
            "filters must be an object such as {\"label\": [\"x\"]}",
        ));
    };
    let mut out = HashMap::with_capacity(map.len());
    for (key, v) in map {
        let values = match v {
            Value::String(s) => vec![s],
            Value::Array(items) => items
                .into_iter()
                .map(|i| match i {
                    Value::String(s) => Ok(s),
                    Value::Number(n) => Ok(n.to_string()),
                    Value::Bool(b) => Ok(b.to_string()),
                    other => Err(ApiError::bad_request(format!(
                        "filter {key}: {other} is not a string"
                    ))),
                })
                .collect::<Result<_, _>>()?,
            Value::Object(m) => m
                .into_iter()
                .filter(|(_, on)| on.as_bool() != Some(false))
                .map(|(k, _)| k)
                .collect(),
            other => {
                return Err(ApiError::bad_request(format!(
                    "filter {key}: {other} is not a list of strings"
                )));
            }
        };
        out.insert(key, values);
    }
    Ok(Some(out))
}

fn flag(options: &Map<String, Value>, names: &[&str]) -> Result<bool, ApiError> {
    for name in names {
        match options.get(*name) {
            None | Some(Value::Null) => {}
            Some(Value::Bool(b)) => return Ok(*b),
            Some(Value::String(s)) if s == "true" || s == "1" => return Ok(true),
            Some(Value::String(s)) if s == "false" || s == "0" => return Ok(false),
            Some(Value::Number(n)) => return Ok(n.as_i64().is_some_and(|n| n != 0)),
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "option {name} must be true or false, not {other}"
                )));
            }
        }
    }
    Ok(false)
}

/// Container list options from the extension's object.
pub fn container_options(options: &Map<String, Value>) -> Result<ListContainersOptions, ApiError> {
    let limit = match options.get("limit") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .and_then(|n| i32::try_from(n).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(format!("option limit must be a number, not {v}"))
                })?,
        ),
    };
    Ok(ListContainersOptions {
        all: flag(options, &["all"])?,
        limit,
        size: flag(options, &["size"])?,
        filters: parse_filters(options.get("filters").unwrap_or(&Value::Null))?,
    })
}

/// Image list options from the extension's object.
pub fn image_options(options: &Map<String, Value>) -> Result<ListImagesOptions, ApiError> {
    Ok(ListImagesOptions {
        all: flag(options, &["all"])?,
        filters: parse_filters(options.get("filters").unwrap_or(&Value::Null))?,
        shared_size: flag(options, &["shared-size", "sharedSize", "shared_size"])?,
        digests: flag(options, &["digests"])?,
        manifests: flag(options, &["manifests"])?,
    })
}

/// Lists containers as the Engine API does.
pub async fn list_containers(
    state: &BridgeState,
    options: ListContainersOptions,
) -> Result<Value, ApiError> {
    let engine = state.engine.get().await?;
    let list = engine.list_containers(&options).await?;
    serde_json::to_value(list)
        .map_err(|e| ApiError::internal(format!("cannot encode containers: {e}")))
}

/// Lists images as the Engine API does.
pub async fn list_images(
    state: &BridgeState,
    options: ListImagesOptions,
) -> Result<Value, ApiError> {
    let engine = state.engine.get().await?;
    let list = engine.list_images(&options).await?;
    serde_json::to_value(list).map_err(|e| ApiError::internal(format!("cannot encode images: {e}")))
}

/// `POST /.dockhand/api/docker/containers`.
pub async fn containers(
    State(state): State<Arc<BridgeState>>,
    _: Caller,
    BridgeJson(req): BridgeJson<ListRequest>,
) -> Result<Json<Value>, ApiError> {
    let options = container_options(&req.options.unwrap_or_default())?;
    Ok(Json(list_containers(&state, options).await?))
}

/// `POST /.dockhand/api/docker/images`.
pub async fn images(
    State(state): State<Arc<BridgeState>>,
    _: Caller,
    BridgeJson(req): BridgeJson<ListRequest>,
) -> Result<Json<Value>, ApiError> {
    let options = image_options(&req.options.unwrap_or_default())?;
    Ok(Json(list_images(&state, options).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    #[test]
    fn filters_as_string_or_object() {
        let want = HashMap::from([("label".to_owned(), vec!["x".to_owned()])]);
        assert_eq!(
            parse_filters(&Value::from(r#"{"label": ["x"]}"#)).unwrap(),
            Some(want.clone())
        );
        assert_eq!(
            parse_filters(&serde_json::json!({"label": ["x"]})).unwrap(),
            Some(want.clone())
        );
        assert_eq!(
            parse_filters(&serde_json::json!({"label": "x"})).unwrap(),
            Some(want.clone())
        );
        assert_eq!(
            parse_filters(&serde_json::json!({"label": {"x": true, "y": false}})).unwrap(),
            Some(want)
        );
        assert_eq!(parse_filters(&Value::from("")).unwrap(), None);
        assert!(parse_filters(&Value::from("{nope")).is_err());
        assert!(parse_filters(&serde_json::json!(["label"])).is_err());
    }

    #[test]
    fn options_pass_through() {
        let o = container_options(&obj(
            serde_json::json!({"all": true, "limit": 3, "size": "true",
            "filters": "{\"status\":[\"running\"]}"}),
        ))
        .unwrap();
        assert!(o.all && o.size);
        assert_eq!(o.limit, Some(3));
        assert_eq!(o.filters.unwrap()["status"], vec!["running"]);
        let o = container_options(&Map::new()).unwrap();
        assert!(!o.all && o.limit.is_none() && o.filters.is_none());
        let o = image_options(&obj(
            serde_json::json!({"sharedSize": true, "digests": true}),
        ))
        .unwrap();
        assert!(o.shared_size && o.digests && !o.all);
        assert!(container_options(&obj(serde_json::json!({"all": [1]}))).is_err());
    }
}
