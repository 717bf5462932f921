//! Errors as HTTP responses: a status and `{"message": str}` (`docs/bridge.md`).
//!
//! Every handler returns `Result<_, ApiError>`; nothing on a request path
//! panics. Messages follow the project's style: lowercase, no trailing
//! period, naming the thing and saying what to do.
//!
//! axum's own extractor rejections answer plain text; to keep every error
//! JSON, take [`crate::extract::ApiJson`] and [`crate::extract::ApiQuery`]
//! (or `Result<Path<T>, PathRejection>`, then `?`): the rejections convert
//! into [`ApiError`] with their status.

use std::borrow::Cow;

use axum::Json;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use dockhand_host::InstallError;
use dockhand_host::fs_message::without_repeated_paths;
use dockhand_host::state::{LockError, StateError};
use dockhand_host::update::untagged::ResolveError;

/// `pub fn $name(message) -> Self`, an [`ApiError`] with `StatusCode::$status`,
/// for each `$name => $status;` given (with its doc line).
macro_rules! status_constructors {
    ($($(#[$doc:meta])* $name:ident => $status:ident;)*) => {
        $(
            $(#[$doc])*
            pub fn $name(message: impl Into<String>) -> Self {
                Self::new(StatusCode::$status, message)
            }
        )*
    };
}

/// An error answered as `status` with `{"message": message}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ApiError {
    /// The HTTP status.
    pub status: StatusCode,
    /// What went wrong, for people.
    pub message: String,
}

impl ApiError {
    /// An error with any status. A path the message names twice (its own
    /// words, then fs_err's in the source it quotes) is named once.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        let message = message.into();
        Self {
            status,
            message: match without_repeated_paths(&message) {
                Cow::Borrowed(_) => message,
                Cow::Owned(shorter) => shorter,
            },
        }
    }

    status_constructors! {
        /// `400 Bad Request`.
        bad_request => BAD_REQUEST;
        /// `401 Unauthorized`: no valid credential for this origin.
        unauthorized => UNAUTHORIZED;
        /// `403 Forbidden`: a credential, but not for this (for example a foreign `Origin`).
        forbidden => FORBIDDEN;
        /// `404 Not Found`.
        not_found => NOT_FOUND;
        /// `405 Method Not Allowed`.
        method_not_allowed => METHOD_NOT_ALLOWED;
        /// `409 Conflict`.
        conflict => CONFLICT;
        /// `421 Misdirected Request`: a `Host` this server does not answer for.
        misdirected => MISDIRECTED_REQUEST;
        /// `500 Internal Server Error`.
        internal => INTERNAL_SERVER_ERROR;
        /// `502 Bad Gateway`: the engine or a backend failed.
        bad_gateway => BAD_GATEWAY;
        /// `503 Service Unavailable`.
        unavailable => SERVICE_UNAVAILABLE;
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "message": self.message });
        (
            self.status,
            [(header::CACHE_CONTROL, "no-store")],
            Json(body),
        )
            .into_response()
    }
}

impl From<InstallError> for ApiError {
    fn from(e: InstallError) -> Self {
        let status = match &e {
            InstallError::NotInstalled(_) => StatusCode::NOT_FOUND,
            InstallError::State(state) => match **state {
                StateError::NotInstalled { .. } => StatusCode::NOT_FOUND,
                StateError::Busy { .. } | StateError::OpPending { .. } => StatusCode::CONFLICT,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            InstallError::Lock(LockError::Busy { .. } | LockError::Repairing { .. })
            | InstallError::Lock(LockError::StateBusy) => StatusCode::CONFLICT,
            InstallError::Engine(_) | InstallError::Compose(_) | InstallError::NotReady(_) => {
                StatusCode::BAD_GATEWAY
            }
            InstallError::NotAllowed { .. } => StatusCode::FORBIDDEN,
            InstallError::ApiVersion { .. }
            | InstallError::ExtensionDir(_)
            | InstallError::NotValid { .. }
            | InstallError::UndoFailed { .. }
            | InstallError::HostBinaryMissing { .. }
            | InstallError::NoVm
            | InstallError::NoVmTarget
            | InstallError::ComposeFile(_)
            | InstallError::Override(_)
            | InstallError::NoName(_)
            | InstallError::ImageTooLarge { .. }
            | InstallError::NotConfirmed(_) => StatusCode::UNPROCESSABLE_ENTITY,
            InstallError::Pull(_) => StatusCode::BAD_GATEWAY,
            InstallError::Resolve(resolve) => match **resolve {
                ResolveError::Registry { .. } => StatusCode::BAD_GATEWAY,
                ResolveError::NoCompatible { .. }
                | ResolveError::OnlyPreReleases { .. }
                | ResolveError::NoTags { .. } => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::INTERNAL_SERVER_ERROR,
            },
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.to_string())
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(e: axum::extract::rejection::JsonRejection) -> Self {
        Self::new(e.status(), e.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for ApiError {
    fn from(e: axum::extract::rejection::QueryRejection) -> Self {
        Self::new(e.status(), e.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for ApiError {
    fn from(e: axum::extract::rejection::PathRejection) -> Self {
        Self::new(e.status(), e.body_text())
    }
}

impl From<StateError> for ApiError {
    fn from(e: StateError) -> Self {
        InstallError::from(e).into()
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
            E::Rejected { status, .. } => {
                StatusCode::from_u16(*status).unwrap_or(StatusCode::BAD_GATEWAY)
            }
            E::Api { .. } => StatusCode::BAD_GATEWAY,
            E::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Self::new(status, e.to_string())
    }
}

/// Reads a JSON request body of at most `limit` bytes: `413` beyond it,
/// `400` when it is not the expected JSON.
pub async fn read_json<T: serde::de::DeserializeOwned>(
    body: axum::body::Body,
    limit: usize,
) -> Result<T, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_installed_is_404_and_busy_is_409() {
        let e: ApiError =
            InstallError::NotInstalled(dockhand_spec::ExtensionId::parse("acme/x").unwrap()).into();
        assert_eq!(e.status, StatusCode::NOT_FOUND);
        assert!(e.message.contains("acme/x"));
        let e: ApiError = InstallError::Lock(LockError::StateBusy).into();
        assert_eq!(e.status, StatusCode::CONFLICT);
    }
}
