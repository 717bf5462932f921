//! `POST /.dockhand/api/page/error`: an uncaught exception or unhandled
//! rejection of the extension's page, reported by the hook `ddclient.js`
//! installs before the page's scripts (`docs/bridge.md`, "Page errors").
//!
//! The route only checks and acknowledges the report (`204`); with
//! `dockhand dev debug` on, the bridge call log writes it as a `page.error`
//! entry ([`crate::dev::calllog`]), which is where authors and the
//! compatibility lab read it. A report is small: at most [`MAX_REPORT`] bytes.

use axum::body::Body;
use axum::http::StatusCode;
use serde::Deserialize;

use crate::error::{ApiError, read_json};

/// The largest report accepted (`413` beyond).
pub const MAX_REPORT: usize = 64 * 1024;

/// What the page's hook sends.
#[derive(Debug, Clone, Deserialize)]
pub struct PageError {
    /// `error` (an uncaught exception) or `unhandledrejection`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The error's name and message, or the rejection reason as text.
    pub message: String,
    /// The script the exception came from, when known.
    #[serde(default)]
    pub source: Option<String>,
    /// Its line, when known.
    #[serde(default)]
    pub line: Option<u64>,
    /// Its column, when known.
    #[serde(default)]
    pub column: Option<u64>,
    /// The stack, when the thrown value had one.
    #[serde(default)]
    pub stack: Option<String>,
}

/// `POST /.dockhand/api/page/error`.
///
/// Takes the [`Caller`](super::Caller) so that only an extension origin's
/// session reaches it.
pub async fn page_error(_: super::Caller, body: Body) -> Result<StatusCode, ApiError> {
    let report: PageError = read_json(body, MAX_REPORT).await?;
    if !matches!(report.kind.as_str(), "error" | "unhandledrejection") {
        return Err(ApiError::bad_request(format!(
            "type `{}` is neither `error` nor `unhandledrejection`",
            report.kind
        )));
    }
    Ok(StatusCode::NO_CONTENT)
}
