//! Errors as HTTP answers: a status and `{"message": str}`.

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// A failed request: the status and a message that says what to do.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// Lowercase, names the thing, says what to do.
    pub message: String,
}

impl ApiError {
    /// An error with `status`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// `400`: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// `403`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// `404`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// `500`: something on this side went wrong.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// `502`: what we proxy to failed.
    pub fn bad_gateway(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_GATEWAY, message)
    }

    /// `503`: what we need is not running.
    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message }).to_string();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

impl From<dockhand_engine::EngineError> for ApiError {
    fn from(e: dockhand_engine::EngineError) -> Self {
        use dockhand_engine::EngineError as E;
        let status = match &e {
            E::NoSuchContainer(_) | E::NoSuchImage(_) => StatusCode::NOT_FOUND,
            E::NotRunning(_) => StatusCode::SERVICE_UNAVAILABLE,
            E::Unreachable { .. } | E::Tls { .. } | E::Ssh { .. } => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            E::Api { .. } => StatusCode::BAD_GATEWAY,
            E::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.to_string())
    }
}

/// An Engine API error as an answer: the engine's own 4xx status passes
/// through (`404` for a missing object), anything else is a `502`/`503`.
pub fn engine_error(host: &str, doing: &str, e: bollard::errors::Error) -> ApiError {
    use bollard::errors::Error as B;
    match e {
        B::DockerResponseServerError {
            status_code,
            message,
        } if (400..500).contains(&status_code) => ApiError::new(
            StatusCode::from_u16(status_code).unwrap_or(StatusCode::BAD_GATEWAY),
            format!("{doing}: {message}"),
        ),
        B::DockerResponseServerError { message, .. } => ApiError::bad_gateway(format!(
            "the Docker engine at {host} failed {doing}: {message}"
        )),
        other => ApiError::unavailable(format!(
            "cannot reach the Docker engine at {host} ({doing}): {other}; start the engine and retry"
        )),
    }
}

/// Reads a JSON request body of at most `limit` bytes: `413` beyond it,
/// `400` when it is not the expected JSON.
pub async fn read_json<T: DeserializeOwned>(body: Body, limit: usize) -> Result<T, ApiError> {
    use http_body_util::BodyExt;
    let collected = http_body_util::Limited::new(body, limit)
        .collect()
        .await
        .map_err(|e| {
            if e.is::<http_body_util::LengthLimitError>() {
                ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    format!("the request body is larger than {limit} bytes"),
                )
            } else {
                ApiError::bad_request(format!("cannot read the request body: {e}"))
            }
        })?;
    let bytes = collected.to_bytes();
    serde_json::from_slice(&bytes).map_err(|e| {
        ApiError::bad_request(format!("the request body is not the expected JSON: {e}"))
    })
}

/// Checks that `Origin` is exactly `origin` (`403` otherwise): the bridge's
/// state-changing calls and its WebSocket come only from the extension's own pages.
pub fn check_origin(headers: &HeaderMap, origin: &str) -> Result<(), ApiError> {
    match headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        Some(o) if o == origin => Ok(()),
        Some(o) => Err(ApiError::forbidden(format!(
            "origin {o} may not call this extension's bridge; only {origin} may"
        ))),
        None => Err(ApiError::forbidden(format!(
            "the request has no Origin header; only pages of {origin} may call this bridge"
        ))),
    }
}

/// A JSON answer with status 200.
pub fn json_response(value: &impl serde::Serialize) -> Response {
    match serde_json::to_vec(value) {
        Ok(bytes) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            Body::from(bytes),
        )
            .into_response(),
        Err(e) => ApiError::internal(format!("cannot encode the answer: {e}")).into_response(),
    }
}
