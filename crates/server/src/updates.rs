//! Updates in the dashboard: the periodic check ([`run_periodic`]) that
//! keeps each extension's `update_available` (shown by `GET /api/extensions`)
//! fresh, `POST /api/updates/check` to check now, and
//! `POST /api/extensions/{id}/update/preview[?tag=TAG]` to see what the
//! latest compatible (or the named) version is and gets, and
//! `POST /api/extensions/{id}/update?tag=TAG&digest=DIGEST[&yes=true]` to
//! install exactly the image that preview showed.
//!
//! The preview answers the new version's consent summary (the one type the
//! CLI prints), its reference pinned to a digest, and whether it wants more
//! than the installed version (`widens`). The update takes only a pinned
//! version: a registry that retagged since serves the previewed image or
//! fails the digest check. An update that widens is refused with 409 unless
//! `yes=true` (the shell shows the summary and asks the person first).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::routing::post;
use axum::{Json, Router};
use dockhand_host::Hooks;
use dockhand_host::consent::{CannotConfirm, Summary};
use dockhand_host::update::{CheckReport, UpdateError, UpdateRequest, Updated};
use dockhand_spec::Diagnostic;
use dockhand_spec::ExtensionId;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::DashboardSession;
use crate::state::AppState;
pub use crate::state::UpdateService;

/// How long after start the first periodic check runs.
pub const FIRST_CHECK_DELAY: Duration = Duration::from_secs(3);
/// Checks running at once.
const CONCURRENCY: usize = 4;

/// The update routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/updates/check", post(check_now))
        .route("/api/extensions/{id}/update", post(update))
        .route("/api/extensions/{id}/update/preview", post(preview))
}

fn service(state: &AppState) -> Result<Arc<UpdateService>, ApiError> {
    state.updates().ok_or_else(|| {
        ApiError::not_found("this server does not check for updates: run `dockhand update` instead")
    })
}

/// Checks every installed extension once; returns what each said. The check
/// reads `dockhand.db` and the registry, so it runs off the server's thread.
pub async fn check_all(state: &AppState) -> Result<Vec<CheckReport>, ApiError> {
    let svc = service(state)?;
    let state = state.clone();
    crate::blocking::off_thread(move || async move { check_here(&state, &svc).await }).await?
}

async fn check_here(state: &AppState, svc: &UpdateService) -> Result<Vec<CheckReport>, ApiError> {
    let results = state
        .manager()
        .check_updates(&[], &svc.client, &svc.options, CONCURRENCY)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    state.forget_records();
    Ok(results
        .into_iter()
        .map(|(id, r)| match r {
            Ok(checked) => CheckReport::of(checked),
            Err(e) => CheckReport::failed(&id, String::new(), e.to_string()),
        })
        .collect())
}

async fn check_now(
    _s: DashboardSession,
    State(state): State<AppState>,
) -> Result<Json<Vec<CheckReport>>, ApiError> {
    Ok(Json(check_all(&state).await?))
}

/// Checks soon after start and then every interval, until the server stops.
pub async fn run_periodic(state: AppState) {
    let Some(interval) = state.updates().and_then(|s| s.interval) else {
        return;
    };
    let mut wait = FIRST_CHECK_DELAY.min(interval);
    loop {
        tokio::select! {
            () = state.shutdown_requested() => return,
            () = tokio::time::sleep(wait) => {}
        }
        // Failures are per extension and kept in the answer; the next round tries again.
        let _ = check_all(&state).await;
        wait = interval;
    }
}

#[derive(Debug, Deserialize)]
struct UpdateQuery {
    tag: Option<String>,
    digest: Option<String>,
    #[serde(default)]
    yes: bool,
}

fn parse_id(raw: &str) -> Result<ExtensionId, ApiError> {
    ExtensionId::parse(raw).map_err(|e| {
        ApiError::bad_request(format!(
            "`{raw}` is not an extension id ({e}): URL-encode the id in one path segment"
        ))
    })
}

/// What both routes of one extension act on: the extension the path names,
/// the query and the update service (`404` when this server has none).
struct UpdateTarget {
    id: ExtensionId,
    query: UpdateQuery,
    service: Arc<UpdateService>,
}

impl FromRequestParts<AppState> for UpdateTarget {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state).await?;
        let Query(query) = Query::<UpdateQuery>::from_request_parts(parts, state).await?;
        Ok(Self {
            id: parse_id(&raw)?,
            query,
            service: service(state)?,
        })
    }
}

/// `POST /api/extensions/{id}/update/preview` answers.
#[derive(Debug, Serialize)]
struct PreviewAnswer {
    id: String,
    /// `update`, `up-to-date` or `unchanged`.
    outcome: &'static str,
    /// The installed version.
    from: String,
    /// The version an update installs (the installed one otherwise).
    version: String,
    /// The tag and digest to post to the update route.
    #[serde(skip_serializing_if = "Option::is_none")]
    tag: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    digest: Option<String>,
    /// True when the new version asks for anything the installed one does
    /// not: the person confirms the summary first.
    widens: bool,
    /// The new version's consent summary.
    #[serde(skip_serializing_if = "Option::is_none")]
    summary: Option<crate::catalog::SummaryJson>,
}

async fn preview(
    _s: DashboardSession,
    State(state): State<AppState>,
    target: UpdateTarget,
) -> Result<Json<PreviewAnswer>, ApiError> {
    let req = UpdateRequest {
        id: target.id.clone(),
        tag: target.query.tag,
        check: target.service.options.clone(),
        yes: false,
        force: false,
        pin: None,
    };
    let manager = Arc::clone(state.manager());
    let client = target.service.client.clone();
    let (result, asked, before, from) = crate::blocking::off_thread(move || async move {
        let hooks = crate::catalog::Preview::default();
        let record = manager.get(&req.id);
        let before = record
            .as_ref()
            .ok()
            .and_then(|r| manager.summary_of_installed(r));
        let from = record
            .ok()
            .map(|r| r.version.clone().unwrap_or(r.digest.clone()))
            .unwrap_or_default();
        let result = manager.update(&req, &client, &hooks).await;
        let asked = hooks.asked.lock().unwrap_or_else(|e| e.into_inner()).take();
        (result, asked, before, from)
    })
    .await?;
    let answer = |outcome, version: String| PreviewAnswer {
        id: target.id.to_string(),
        outcome,
        from: from.clone(),
        version,
        tag: None,
        digest: None,
        widens: false,
        summary: None,
    };
    match result {
        Err(UpdateError::Install(e))
            if matches!(*e, dockhand_host::InstallError::NotConfirmed(_)) =>
        {
            let Some((ext, summary, warnings)) = asked else {
                return Err(ApiError::from(*e));
            };
            let pinned = summary
                .image
                .as_deref()
                .and_then(|i| dockhand_oci::Reference::parse(i).ok())
                .ok_or_else(|| {
                    ApiError::internal("the update preview named no pinned image: this is a bug in dockhand, please report it")
                })?;
            let widens = before.as_ref().is_none_or(|b| summary.widens(b));
            let json = crate::catalog::summary_json(&ext, &pinned, &summary, &warnings);
            Ok(Json(PreviewAnswer {
                tag: pinned.tag().map(str::to_owned),
                digest: pinned.digest().map(ToString::to_string),
                widens,
                summary: Some(json),
                ..answer("update", pinned.tag().unwrap_or_default().to_owned())
            }))
        }
        Ok(Updated::UpToDate(c)) => Ok(Json(answer("up-to-date", c.installed))),
        Ok(Updated::Unchanged(r)) => Ok(Json(answer(
            "unchanged",
            r.version.clone().unwrap_or_default(),
        ))),
        Ok(Updated::Updated { .. }) => Err(ApiError::internal(
            "the update preview installed the new version: this is a bug in dockhand, please report it",
        )),
        Err(e) => Err(update_error(e)),
    }
}

fn update_error(e: UpdateError) -> ApiError {
    match e {
        UpdateError::Install(e) => match *e {
            dockhand_host::InstallError::NotConfirmed(why) => ApiError::conflict(why.to_string()),
            other => other.into(),
        },
        UpdateError::State(e) => e.into(),
        e => ApiError::bad_gateway(e.to_string()),
    }
}

/// Hooks of a dashboard update: nobody to ask, so a widening update is refused.
struct DashboardHooks;

impl Hooks for DashboardHooks {
    fn confirm(
        &self,
        id: &ExtensionId,
        summary: &Summary,
        _: &[Diagnostic],
    ) -> Result<bool, CannotConfirm> {
        Err(CannotConfirm::Widens {
            id: id.clone(),
            summary: Box::new(summary.clone()),
        })
    }
}

/// `POST /api/extensions/{id}/update` answers.
#[derive(Debug, Serialize)]
struct UpdateAnswer {
    id: String,
    /// `updated`, `up-to-date` or `unchanged`.
    outcome: &'static str,
    version: String,
    from: Option<String>,
}

async fn update(
    _s: DashboardSession,
    State(state): State<AppState>,
    target: UpdateTarget,
) -> Result<Json<UpdateAnswer>, ApiError> {
    // Only the image a preview showed: its tag and digest.
    let (Some(tag), Some(digest)) = (target.query.tag.clone(), target.query.digest.as_deref())
    else {
        return Err(ApiError::bad_request(
            "an update from the dashboard names the version and digest its preview showed (`?tag=…&digest=sha256:…` from POST /api/extensions/{id}/update/preview)",
        ));
    };
    let pin = dockhand_oci::Digest::parse(digest).map_err(|e| {
        ApiError::bad_request(format!(
            "`{digest}` is not a digest ({e}): give the one the preview answered"
        ))
    })?;
    let req = UpdateRequest {
        id: target.id.clone(),
        tag: Some(tag),
        check: target.service.options.clone(),
        yes: target.query.yes,
        force: false,
        pin: Some(pin),
    };
    let manager = Arc::clone(state.manager());
    let client = target.service.client.clone();
    let result = crate::blocking::off_thread(move || async move {
        manager.update(&req, &client, &DashboardHooks).await
    })
    .await?;
    state.forget_records();
    let answer = match result {
        Ok(Updated::Updated { from, record }) => UpdateAnswer {
            id: target.id.to_string(),
            outcome: "updated",
            version: record.version.clone().unwrap_or_default(),
            from: Some(from),
        },
        Ok(Updated::Unchanged(record)) => UpdateAnswer {
            id: target.id.to_string(),
            outcome: "unchanged",
            version: record.version.clone().unwrap_or_default(),
            from: None,
        },
        Ok(Updated::UpToDate(c)) => UpdateAnswer {
            id: target.id.to_string(),
            outcome: "up-to-date",
            version: c.installed,
            from: None,
        },
        Err(e) => return Err(update_error(e)),
    };
    Ok(Json(answer))
}
