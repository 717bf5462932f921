//! The dashboard's engine routes (`docs/bridge.md`, "Dashboard API"):
//! containers, their logs, stats and terminal, images, volumes, and the
//! directory listing behind the file picker.
//!
//! Every route takes [`DashboardAccess`], which the server grants after its
//! session check; the state is the bridge's `Arc<BridgeState>`.

mod terminal;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRef, FromRequestParts, Path as UrlPath, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use dockhand_engine::{ListContainersOptions, ListImagesOptions, StatsOptions};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::bridge::docker::{list_containers, list_images};
use crate::bridge::{BridgeState, DashboardAccess};
use crate::error::ApiError;

/// The dashboard's engine routes (see the module docs for what `S` must provide).
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<BridgeState>: FromRef<S>,
    DashboardAccess: FromRequestParts<S>,
{
    Router::new()
        .route("/api/containers", get(containers))
        .route("/api/containers/{id}", get(container))
        .route("/api/containers/{id}/logs", get(logs))
        .route("/api/containers/{id}/stats", get(stats))
        .route("/api/containers/{id}/terminal", get(terminal::terminal))
        .route("/api/images", get(images))
        .route("/api/images/{*id}", get(image))
        .route("/api/volumes", get(volumes))
        .route("/api/volumes/{name}", get(volume))
        .route("/api/fs", get(fs))
}

type Q<T> = Result<Query<T>, QueryRejection>;
type P = Result<UrlPath<String>, PathRejection>;

fn query<T>(q: Q<T>) -> Result<T, ApiError> {
    q.map(|Query(t)| t)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

fn path(p: P) -> Result<String, ApiError> {
    p.map(|UrlPath(s)| s)
        .map_err(|e| ApiError::bad_request(e.body_text()))
}

fn respond(result: Result<Value, ApiError>) -> Response {
    match result {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => e.into_response(),
    }
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v, Some("true" | "1" | "yes" | ""))
}

/// `?all=`.
#[derive(Debug, Default, Deserialize)]
pub struct AllQuery {
    /// `true` lists stopped containers too.
    pub all: Option<String>,
}

async fn containers(
    _: DashboardAccess,
    State(state): State<Arc<BridgeState>>,
    q: Q<AllQuery>,
) -> Response {
    respond(
        async {
            let all = truthy(query(q)?.all.as_deref());
            let options = ListContainersOptions {
                all,
                ..Default::default()
            };
            list_containers(&state, options).await
        }
        .await,
    )
}

async fn inspect_container(state: &BridgeState, id: &str) -> Result<Value, ApiError> {
    let engine = state.engine.get().await?;
    Ok(engine.inspect_container(id).await?.object.into_json())
}

async fn container(_: DashboardAccess, State(state): State<Arc<BridgeState>>, id: P) -> Response {
    respond(async { inspect_container(&state, &path(id)?).await }.await)
}

/// `?tail=&follow=`.
#[derive(Debug, Default, Deserialize)]
pub struct LogsQuery {
    /// The last N lines (`all` when absent).
    pub tail: Option<String>,
    /// Keep streaming new lines.
    pub follow: Option<String>,
}

async fn logs(
    _: DashboardAccess,
    State(state): State<Arc<BridgeState>>,
    id: P,
    q: Q<LogsQuery>,
) -> Response {
    let result = async {
        let id = path(id)?;
        let q = query(q)?;
        let tail = match q.tail.as_deref() {
            None | Some("" | "all") => None,
            Some(n) => Some(n.parse::<usize>().map_err(|_| {
                ApiError::bad_request(format!("tail must be a number of lines, not `{n}`"))
            })?),
        };
        let follow = truthy(q.follow.as_deref());
        // A missing container is a 404, not an empty stream.
        inspect_container(&state, &id).await?;
        let engine = state.engine.get().await?;
        let stream = engine
            .logs(&id, follow, tail)
            .map(|item| item.map(|chunk| chunk.data));
        Ok::<_, ApiError>(
            (
                StatusCode::OK,
                [
                    (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                    (header::CACHE_CONTROL, "no-store"),
                    (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
                ],
                Body::from_stream(stream),
            )
                .into_response(),
        )
    }
    .await;
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn stats(_: DashboardAccess, State(state): State<Arc<BridgeState>>, id: P) -> Response {
    respond(
        async {
            let id = path(id)?;
            let engine = state.engine.get().await?;
            let options = StatsOptions {
                stream: false,
                one_shot: false,
            };
            let mut stream = Box::pin(engine.container_stats(&id, options));
            let sample = stream.next().await.ok_or_else(|| {
                ApiError::bad_gateway(format!("the engine sent no stats for {id}"))
            })??;
            Ok(sample.into_json())
        }
        .await,
    )
}

async fn images(_: DashboardAccess, State(state): State<Arc<BridgeState>>) -> Response {
    respond(list_images(&state, ListImagesOptions::default()).await)
}

async fn image(_: DashboardAccess, State(state): State<Arc<BridgeState>>, id: P) -> Response {
    respond(
        async {
            let id = path(id)?;
            let engine = state.engine.get().await?;
            Ok(engine.inspect_image(&id).await?.into_json())
        }
        .await,
    )
}

async fn volumes(_: DashboardAccess, State(state): State<Arc<BridgeState>>) -> Response {
    respond(
        async {
            let engine = state.engine.get().await?;
            let list = engine.list_volumes().await?;
            serde_json::to_value(list).map_err(|e| ApiError::internal(e.to_string()))
        }
        .await,
    )
}

async fn volume(_: DashboardAccess, State(state): State<Arc<BridgeState>>, name: P) -> Response {
    respond(
        async {
            let name = path(name)?;
            let engine = state.engine.get().await?;
            Ok(engine.inspect_volume(&name).await?.into_json())
        }
        .await,
    )
}

/// `?path=&hidden=`.
#[derive(Debug, Default, Deserialize)]
pub struct FsQuery {
    /// An absolute directory; the user's home when absent.
    pub path: Option<String>,
    /// `true` lists names starting with `.` too.
    pub hidden: Option<String>,
}

/// One entry of a directory listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsEntry {
    /// The file name.
    pub name: String,
    /// True for a directory (or a link to one).
    pub dir: bool,
}

/// A directory listing for the file picker.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FsListing {
    /// The directory, absolute and without `.`/`..` components.
    pub path: String,
    /// Its parent, `null` at `/`.
    pub parent: Option<String>,
    /// Directories first, then files, each by name.
    pub entries: Vec<FsEntry>,
}

/// Lists `dir` (absolute; `.`/`..` resolved lexically).
pub fn list_dir(dir: &Path, hidden: bool) -> Result<FsListing, ApiError> {
    if !dir.is_absolute() {
        return Err(ApiError::bad_request(format!(
            "path {} must be absolute",
            dir.display()
        )));
    }
    let mut clean = PathBuf::from("/");
    for c in dir.components() {
        match c {
            std::path::Component::Normal(part) => clean.push(part),
            std::path::Component::ParentDir => {
                clean.pop();
            }
            _ => {}
        }
    }
    let io_error = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::NotFound => {
            ApiError::not_found(format!("{} does not exist", clean.display()))
        }
        std::io::ErrorKind::PermissionDenied => {
            ApiError::forbidden(format!("{}: permission denied", clean.display()))
        }
        std::io::ErrorKind::NotADirectory => {
            ApiError::bad_request(format!("{} is not a directory", clean.display()))
        }
        _ => ApiError::internal(format!("cannot list {}: {e}", clean.display())),
    };
    let mut entries = Vec::new();
    for entry in fs_err::read_dir(&clean).map_err(io_error)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if !hidden && name.starts_with('.') {
            continue;
        }
        // Follows links: a link to a directory can be opened.
        let dir = fs_err::metadata(entry.path()).is_ok_and(|m| m.is_dir());
        entries.push(FsEntry { name, dir });
    }
    entries.sort_by(|a, b| {
        b.dir
            .cmp(&a.dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(FsListing {
        parent: clean.parent().map(|p| p.to_string_lossy().into_owned()),
        path: clean.to_string_lossy().into_owned(),
        entries,
    })
}

async fn fs(_: DashboardAccess, State(state): State<Arc<BridgeState>>, q: Q<FsQuery>) -> Response {
    let result = async {
        let q = query(q)?;
        let dir = match q.path.as_deref() {
            None | Some("") => state.user_home.clone(),
            Some(p) => PathBuf::from(p),
        };
        let hidden = truthy(q.hidden.as_deref());
        tokio::task::spawn_blocking(move || list_dir(&dir, hidden))
            .await
            .map_err(|e| ApiError::internal(format!("listing a directory failed: {e}")))?
    }
    .await;
    match result {
        Ok(listing) => axum::Json(listing).into_response(),
        Err(e) => e.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listings_sort_hide_and_resolve() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        fs_err::create_dir(root.join("b-dir")).unwrap();
        fs_err::create_dir(root.join(".hidden")).unwrap();
        fs_err::write(root.join("A.txt"), "").unwrap();
        fs_err::write(root.join("c.txt"), "").unwrap();
        fs_err::os::unix::fs::symlink(root.join("b-dir"), root.join("link")).unwrap();
        let l = list_dir(root, false).unwrap();
        let names: Vec<_> = l.entries.iter().map(|e| (e.name.as_str(), e.dir)).collect();
        assert_eq!(
            names,
            vec![
                ("b-dir", true),
                ("link", true),
                ("A.txt", false),
                ("c.txt", false)
            ]
        );
        assert_eq!(l.path, root.to_string_lossy());
        assert!(
            list_dir(root, true)
                .unwrap()
                .entries
                .iter()
                .any(|e| e.name == ".hidden")
        );
        let l = list_dir(&root.join("b-dir/.."), false).unwrap();
        assert_eq!(l.path, root.to_string_lossy());
        let l = list_dir(Path::new("/"), false).unwrap();
        assert_eq!((l.path.as_str(), l.parent), ("/", None));
    }

    #[test]
    fn listing_errors_have_statuses() {
        let tmp = tempfile::tempdir().unwrap();
        fs_err::write(tmp.path().join("f"), "").unwrap();
        let status = |p: &Path| list_dir(p, false).unwrap_err().status;
        assert_eq!(status(&tmp.path().join("nope")), StatusCode::NOT_FOUND);
        assert_eq!(status(&tmp.path().join("f")), StatusCode::BAD_REQUEST);
        assert_eq!(status(Path::new("relative")), StatusCode::BAD_REQUEST);
    }
}
