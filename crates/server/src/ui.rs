//! An extension's origin outside the bridge: `/.dockhand/enter`,
//! `/.dockhand/ddclient.js` and the UI's own files (`docs/bridge.md`,
//! "Sessions" and "Serving the UI").
//!
//! Files come from the installed version's `root/<ui.dashboard-tab.root>/`
//! and never from outside it: a `..` segment (also percent-encoded) or a
//! symlink whose target lies outside is a `404`. Every HTML file gets
//! `<script src="/.dockhand/ddclient.js"></script>` ([`inject_ddclient`]).

use std::ffi::OsString;
use std::os::unix::ffi::OsStringExt as _;
use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::{Extension, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::assets::{SHELL_ORIGIN_PLACEHOLDER, with_type};
use crate::auth;
use crate::error::ApiError;
use crate::extract::ExtensionCaller;
use crate::mime::{content_type, extension_of};
use crate::state::{AppState, ExtensionPaths, Site, relative_inside, ui_field};

/// Where a ticket is redeemed.
pub const ENTER_PATH: &str = "/.dockhand/enter";
/// Where `ddclient.js` is served on every extension origin.
pub const DDCLIENT_PATH: &str = "/.dockhand/ddclient.js";
/// The tag inserted into every HTML page.
pub const SCRIPT_TAG: &str = "<script src=\"/.dockhand/ddclient.js\"></script>";

/// `/.dockhand/enter` and `/.dockhand/ddclient.js`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(ENTER_PATH, get(enter))
        .route(DDCLIENT_PATH, get(ddclient_js))
}

/// The value of `name` in a query string (percent-decoded, `+` as space).
pub fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    query?
        .split('&')
        .filter_map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k) == name).then(|| decode(v))
        })
        .next()
}

fn decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// `GET /.dockhand/enter?ticket=K[&…]`: spends the ticket, sets
/// `dockhand_ext` and redirects to the UI entry page, the rest of the query
/// string kept.
async fn enter(
    State(state): State<AppState>,
    Extension(site): Extension<Site>,
    uri: Uri,
) -> Result<Response, ApiError> {
    let Site::Extension(site) = site else {
        return Err(ApiError::misdirected(
            "tickets are redeemed on an extension's origin",
        ));
    };
    let ticket = query_param(uri.query(), "ticket").ok_or_else(|| {
        ApiError::unauthorized("no ticket: open the extension from the dashboard")
    })?;
    let secret = state
        .auth()
        .redeem_ticket(&ticket, &site.record.id)
        .map_err(|e| ApiError::internal(format!("cannot make a session: {e}")))?
        .ok_or_else(|| {
            ApiError::unauthorized(format!(
                "this ticket is not valid for {} (used, expired or for another extension): open the extension from the dashboard again",
                site.record.id
            ))
        })?;
    // In dev mode the tab opens where the dev server's URL points.
    let entry = match site.dev.as_ref().and_then(|d| d.ui_source.as_ref()) {
        Some(source) => source.entry(),
        None => ui_field(&site.record, "src").unwrap_or_else(|| "index.html".to_owned()),
    };
    // Never `//host`: the entry page stays on this origin.
    let entry = entry.trim_start_matches(['/', '\\']);
    let rest: Vec<&str> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("ticket=") && *p != "ticket")
        .collect();
    let mut location = format!("/{entry}");
    if !rest.is_empty() {
        location.push(if location.contains('?') { '&' } else { '?' });
        location.push_str(&rest.join("&"));
    }
    let location = HeaderValue::from_str(&location)
        .map_err(|_| ApiError::internal(format!("the entry page `{entry}` is not a valid URL")))?;
    let cookie = HeaderValue::from_str(&auth::extension_cookie(&secret))
        .map_err(|_| ApiError::internal("cannot write the session cookie"))?;
    let mut r = StatusCode::SEE_OTHER.into_response();
    let h = r.headers_mut();
    h.insert(header::LOCATION, location);
    h.insert(header::SET_COOKIE, cookie);
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    Ok(r)
}

/// What `ddclient.js` says where the extension's facts go.
pub const INFO_PLACEHOLDER: &str = "__DOCKHAND_INFO__";

/// The script served at [`DDCLIENT_PATH`]: `page-env.js` (what Docker
/// Desktop defines in extension pages besides `ddClient`: the MUI theme
/// globals) followed by `ddclient.js` as embedded from `web/`, with the
/// shell's origin and the extension's facts (`/.dockhand/api/info`) written
/// in, so that `window.ddClient` and the page environment are complete before
/// any page script runs.
pub fn ddclient_source(shell_origin: &str, info: &serde_json::Value) -> Option<String> {
    let env = crate::assets::get("page-env.js")?;
    let raw = crate::assets::get("ddclient.js")?;
    // A JSON string literal (a `Value` always serializes).
    let origin = serde_json::Value::from(shell_origin).to_string();
    let origin = origin.trim_matches('"');
    // `</script>` cannot occur: the file is served as a script, not inlined.
    let client = String::from_utf8_lossy(raw)
        .replace(SHELL_ORIGIN_PLACEHOLDER, origin)
        .replace(INFO_PLACEHOLDER, &info.to_string());
    let mut out = String::with_capacity(env.len() + 1 + client.len());
    out.push_str(&String::from_utf8_lossy(env));
    out.push('\n');
    out.push_str(&client);
    Some(out)
}

/// The facts `ddClient.extension` and `ddClient.host` expose, per
/// `docs/bridge.md` (`GET /.dockhand/api/info`).
pub fn extension_info(caller: &ExtensionCaller) -> serde_json::Value {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        other => other,
    };
    let hostname = fs_err::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_owned())
        .unwrap_or_default();
    serde_json::json!({
        "extension": caller.record.id.as_str(),
        "image": caller.record.image,
        "host": { "platform": "linux", "arch": arch, "hostname": hostname },
        "vm": caller.record.backend.is_some(),
        "hostBinaries": caller.record.host_binaries,
    })
}

async fn ddclient_js(
    State(state): State<AppState>,
    caller: ExtensionCaller,
) -> Result<Response, ApiError> {
    let js = ddclient_source(&state.dashboard_origin(), &extension_info(&caller))
        .ok_or_else(|| ApiError::not_found("this dockhand was built without web/ddclient.js"))?;
    let mut r = with_type("text/javascript; charset=utf-8", js);
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(r)
}

/// Any other path on an extension origin: a file of the UI.
pub async fn serve_file(
    caller: ExtensionCaller,
    method: Method,
    uri: Uri,
) -> Result<Response, ApiError> {
    if uri.path().starts_with("/.dockhand/") {
        return Err(ApiError::not_found(format!(
            "{} is not a dockhand route",
            uri.path()
        )));
    }
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::method_not_allowed(format!(
            "{method} {}: the UI's files are read with GET",
            uri.path()
        )));
    }
    let not_found = || {
        ApiError::not_found(format!(
            "{} is not a file of this extension's UI",
            uri.path()
        ))
    };
    let root = ui_root(&caller.paths)
        .ok_or_else(|| ApiError::not_found(format!("{} has no UI", caller.record.id)))?;
    let rel = url_path(uri.path()).ok_or_else(not_found)?;
    let file = resolve_inside(&root, &rel).await.ok_or_else(not_found)?;
    let bytes = tokio::fs::read(&file).await.map_err(|_| not_found())?;
    let content_type = content_type(&file);
    let body = if is_html(&file) {
        inject_ddclient(&bytes)
    } else {
        bytes
    };
    Ok(with_type(content_type, body))
}

fn ui_root(paths: &ExtensionPaths) -> Option<PathBuf> {
    paths.ui_root.clone()
}

/// A URL path as a relative file path: percent-decoded, then split on `/`;
/// `None` when a segment is `..` or it holds a NUL.
pub fn url_path(path: &str) -> Option<PathBuf> {
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(path).collect();
    if bytes.contains(&0) {
        return None;
    }
    let mut out = PathBuf::new();
    for seg in bytes.split(|b| *b == b'/') {
        match seg {
            b"" | b"." => {}
            b".." => return None,
            s => out.push(OsString::from_vec(s.to_vec())),
        }
    }
    Some(out)
}

/// `root/rel` when it is a file inside `root` once every symlink is
/// resolved (a directory gives its `index.html`); `None` otherwise.
pub async fn resolve_inside(root: &Path, rel: &Path) -> Option<PathBuf> {
    let root = tokio::fs::canonicalize(root).await.ok()?;
    let mut path = tokio::fs::canonicalize(root.join(rel)).await.ok()?;
    if !path.starts_with(&root) {
        return None;
    }
    if tokio::fs::metadata(&path).await.ok()?.is_dir() {
        path = tokio::fs::canonicalize(path.join("index.html"))
            .await
            .ok()?;
        if !path.starts_with(&root) {
            return None;
        }
    }
    tokio::fs::metadata(&path)
        .await
        .ok()?
        .is_file()
        .then_some(path)
}

/// A path (leading `/` allowed) under `root`, checked as [`resolve_inside`].
pub async fn file_inside(root: &Path, path: &str) -> Option<PathBuf> {
    resolve_inside(root, &relative_inside(path)?).await
}

fn is_html(path: &Path) -> bool {
    matches!(extension_of(path).as_str(), "html" | "htm")
}

/// Finds ASCII `needle` (lowercase) in `hay` ignoring ASCII case.
fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    if from > hay.len() {
        return None;
    }
    hay[from..]
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle))
        .map(|i| i + from)
}

/// The index just after the `>` closing the tag that starts at `start`
/// (quoted attribute values may hold `>`).
fn tag_end(html: &[u8], start: usize) -> Option<usize> {
    let mut quote = None;
    for (i, &b) in html.iter().enumerate().skip(start) {
        match quote {
            Some(q) if b == q => quote = None,
            Some(_) => {}
            None if b == b'"' || b == b'\'' => quote = Some(b),
            None if b == b'>' => return Some(i + 1),
            None => {}
        }
    }
    None
}

/// The first `<head>` start tag (any case, with attributes), as the index
/// just after it, when it comes before any `<script`.
fn after_head(html: &[u8]) -> Option<usize> {
    let mut from = 0;
    let head = loop {
        let at = find_ci(html, b"<head", from)?;
        match html.get(at + 5) {
            Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r' | b'\x0c') => break at,
            _ => from = at + 5,
        }
    };
    if find_ci(html, b"<script", 0).is_some_and(|s| s < head) {
        return None;
    }
    tag_end(html, head)
}

/// Where to insert when there is no `<head>`: after a UTF-8 byte-order mark
/// and a leading `<!DOCTYPE …>` (a script before it would put the page in
/// quirks mode), else at the very start.
fn at_start(html: &[u8]) -> usize {
    let bom = if html.starts_with(b"\xEF\xBB\xBF") {
        3
    } else {
        0
    };
    let mut i = bom;
    while html.get(i).is_some_and(|b| b.is_ascii_whitespace()) {
        i += 1;
    }
    if find_ci(html, b"<!doctype", i) == Some(i)
        && let Some(end) = tag_end(html, i)
    {
        return end;
    }
    bom
}

/// `html` with [`SCRIPT_TAG`] inserted before any other script: right after
/// the `<head …>` start tag when there is one, else at the start (after a
/// byte-order mark and a leading doctype).
pub fn inject_ddclient(html: &[u8]) -> Vec<u8> {
    let at = after_head(html).unwrap_or_else(|| at_start(html));
    let mut out = Vec::with_capacity(html.len() + SCRIPT_TAG.len());
    out.extend_from_slice(&html[..at]);
    out.extend_from_slice(SCRIPT_TAG.as_bytes());
    out.extend_from_slice(&html[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inject(s: &str) -> String {
        String::from_utf8(inject_ddclient(s.as_bytes())).unwrap()
    }

    #[test]
    fn after_head_of_any_case_and_attributes() {
        assert_eq!(
            inject("<!doctype html><html><head><script src=a.js></script>"),
            format!("<!doctype html><html><head>{SCRIPT_TAG}<script src=a.js></script>")
        );
        assert_eq!(
            inject("<HTML><HEAD lang=\"a>b\" data-x>x"),
            format!("<HTML><HEAD lang=\"a>b\" data-x>{SCRIPT_TAG}x")
        );
        assert_eq!(
            inject("<header><head\n>"),
            format!("<header><head\n>{SCRIPT_TAG}")
        );
    }

    #[test]
    fn without_head_at_the_start_after_a_doctype() {
        assert_eq!(inject("<p>hi"), format!("{SCRIPT_TAG}<p>hi"));
        assert_eq!(inject(""), SCRIPT_TAG);
        assert_eq!(
            inject("\n<!DOCTYPE html>\n<body><script>x</script>"),
            format!("\n<!DOCTYPE html>{SCRIPT_TAG}\n<body><script>x</script>")
        );
        assert_eq!(inject("\u{feff}<p>"), format!("\u{feff}{SCRIPT_TAG}<p>"));
        // A <head> that only appears after a script does not count.
        assert_eq!(
            inject("<script>'<head>'</script>"),
            format!("{SCRIPT_TAG}<script>'<head>'</script>")
        );
    }

    #[test]
    fn url_paths_never_climb() {
        assert_eq!(url_path("/a/./b//c.js"), Some(PathBuf::from("a/b/c.js")));
        assert_eq!(url_path("/a/%2e%2e/b"), None);
        assert_eq!(url_path("/..%2f..%2fetc"), None);
        assert_eq!(url_path("/a%00"), None);
        assert_eq!(url_path("/"), Some(PathBuf::new()));
        assert_eq!(url_path("/a%20b"), Some(PathBuf::from("a b")));
    }

    #[test]
    fn query_params() {
        assert_eq!(
            query_param(Some("a=1&ticket=k%2B+x"), "ticket"),
            Some("k+ x".into())
        );
        assert_eq!(query_param(Some("a=1"), "ticket"), None);
        assert_eq!(query_param(None, "ticket"), None);
    }

    #[test]
    fn types() {
        assert_eq!(
            content_type(Path::new("a/B.JS")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }
}
