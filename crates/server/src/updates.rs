//! Updates in the dashboard: the periodic check ([`run_periodic`]) that
//! keeps each extension's `update_available` (shown by `GET /api/extensions`)
//! fresh, `POST /api/updates/check` to check now, and
//! `POST /api/extensions/{id}/update[?tag=TAG][&yes=true]` to install the
//! latest compatible (or the named) version.
//!
//! The dashboard cannot show the consent summary for an update, so an update
//! whose new version wants more than the installed one is refused with 409
//! unless `yes=true` (the shell asks the user first).

use std::sync::Arc;
use std::time::Duration;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::routing::post;
use axum::{Json, Router};
use dockhand_host::Hooks;
use dockhand_host::consent::Summary;
use dockhand_host::update::{CheckOptions, CheckReport, UpdateError, UpdateRequest, Updated};
use dockhand_oci::ExtensionId;
use dockhand_oci::registry::RegistryClient;
use dockhand_spec::Diagnostic;
use serde::{Deserialize, Serialize};

use crate::app::{AppState, DashboardSession};
use crate::error::ApiError;

/// How the dashboard checks for updates.
#[derive(Debug, Clone)]
pub struct UpdateService {
    /// The registry client (the user's credentials).
    pub client: RegistryClient,
    /// How often [`run_periodic`] checks; `None`: never by itself.
    pub interval: Option<Duration>,
    /// Check options.
    pub options: CheckOptions,
}

/// How long after start the first periodic check runs.
pub const FIRST_CHECK_DELAY: Duration = Duration::from_secs(3);
/// Checks running at once.
const CONCURRENCY: usize = 4;

/// The update routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/updates/check", post(check_now))
        .route("/api/extensions/{id}/update", post(update))
}

fn service(state: &AppState) -> Result<Arc<UpdateService>, ApiError> {
    state.updates().ok_or_else(|| {
        ApiError::not_found("this server does not check for updates: run `dockhand update` instead")
    })
}

/// Checks every installed extension once; returns what each said.
pub async fn check_all(state: &AppState) -> Result<Vec<CheckReport>, ApiError> {
    let svc = service(state)?;
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
    #[serde(default)]
    yes: bool,
}

/// Hooks of a dashboard update: nobody to ask, so a widening update is refused.
struct DashboardHooks;

impl Hooks for DashboardHooks {
    fn confirm(
        &self,
        id: &ExtensionId,
        summary: &Summary,
        _: &[Diagnostic],
    ) -> Result<bool, String> {
        Err(format!(
            "the new version of {id} wants more than the installed one:\n{summary}\nconfirm to update anyway"
        ))
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
    Path(raw): Path<String>,
    query: Result<Query<UpdateQuery>, QueryRejection>,
) -> Result<Json<UpdateAnswer>, ApiError> {
    let Query(q) = query?;
    let id = ExtensionId::parse(&raw).map_err(|e| {
        ApiError::bad_request(format!(
            "`{raw}` is not an extension id ({e}): URL-encode the id in one path segment"
        ))
    })?;
    let svc = service(&state)?;
    let req = UpdateRequest {
        id: id.clone(),
        tag: q.tag,
        check: svc.options.clone(),
        yes: q.yes,
        force: false,
    };
    let manager = Arc::clone(state.manager());
    let client = svc.client.clone();
    let result = crate::app::off_thread(move || async move {
        manager.update(&req, &client, &DashboardHooks).await
    })
    .await?;
    state.forget_records();
    let answer = match result {
        Ok(Updated::Updated { from, record }) => UpdateAnswer {
            id: id.to_string(),
            outcome: "updated",
            version: record.version.clone().unwrap_or_default(),
            from: Some(from),
        },
        Ok(Updated::Unchanged(record)) => UpdateAnswer {
            id: id.to_string(),
            outcome: "unchanged",
            version: record.version.clone().unwrap_or_default(),
            from: None,
        },
        Ok(Updated::UpToDate(c)) => UpdateAnswer {
            id: id.to_string(),
            outcome: "up-to-date",
            version: c.installed,
            from: None,
        },
        Err(UpdateError::Install(e)) => {
            return Err(match *e {
                dockhand_host::InstallError::NotConfirmed(why) => ApiError::conflict(why),
                other => other.into(),
            });
        }
        Err(UpdateError::State(e)) => return Err(e.into()),
        Err(e) => return Err(ApiError::bad_gateway(e.to_string())),
    };
    Ok(Json(answer))
}
