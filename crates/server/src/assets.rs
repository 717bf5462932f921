//! The dashboard's files: the whole `web/` directory, embedded at build time
//! (`build.rs`), served on the dashboard origin as they are — nothing is
//! injected, not even into `index.html`. `/` is `web/index.html`; unknown
//! paths are `404` (under `/api/` as `{"message"}` JSON).

use axum::body::Body;
use axum::http::{HeaderValue, Method, Uri, header};
use axum::response::Response;

use crate::error::ApiError;
use crate::extract::DashboardSession;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/web_assets.rs"));
}

/// What `ddclient.js` says where the shell's origin goes.
pub const SHELL_ORIGIN_PLACEHOLDER: &str = "__DOCKHAND_SHELL_ORIGIN__";

/// A response with `body` and `content_type`.
pub(crate) fn with_type(content_type: &str, body: impl Into<Body>) -> Response {
    let mut r = Response::new(body.into());
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// Every embedded file: its path relative to `web/` and its bytes.
pub fn files() -> &'static [(&'static str, &'static [u8])] {
    embedded::FILES
}

/// The embedded file at `path` (relative to `web/`, `/`-separated).
pub fn get(path: &str) -> Option<&'static [u8]> {
    embedded::FILES
        .iter()
        .find(|(p, _)| *p == path)
        .map(|(_, bytes)| *bytes)
}

/// The fallback of the dashboard origin: an embedded file.
pub async fn serve(
    _session: DashboardSession,
    method: Method,
    uri: Uri,
) -> Result<Response, ApiError> {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return Err(ApiError::not_found(format!(
            "{method} {path} is not a dashboard API route"
        )));
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::method_not_allowed(format!(
            "{method} {path}: the dashboard's files are read with GET"
        )));
    }
    let rel = match path.trim_start_matches('/') {
        "" => "index.html",
        p if p.ends_with('/') => return serve_index(p),
        p => p,
    };
    let bytes =
        get(rel).ok_or_else(|| ApiError::not_found(format!("{path} is not a dashboard file")))?;
    Ok(with_type(
        crate::mime::content_type(std::path::Path::new(rel)),
        bytes,
    ))
}

fn serve_index(dir: &str) -> Result<Response, ApiError> {
    let rel = format!("{dir}index.html");
    let bytes =
        get(&rel).ok_or_else(|| ApiError::not_found(format!("/{dir} is not a dashboard file")))?;
    Ok(with_type("text/html; charset=utf-8", bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddclient_is_embedded() {
        let js = get("ddclient.js").expect("web/ddclient.js");
        assert!(
            String::from_utf8_lossy(js).contains(SHELL_ORIGIN_PLACEHOLDER),
            "ddclient.js must carry the shell-origin placeholder"
        );
        assert!(files().iter().all(|(p, _)| !p.starts_with('/')));
    }
}
