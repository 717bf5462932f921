//! The dashboard's catalog and install routes (`docs/bridge.md`, "Catalog
//! and install"):
//!
//! - `GET /api/catalog?q=&category=`: the configured catalogs' entries, as
//!   `dockhand catalog --format json`;
//! - `GET /api/catalog/{ref}`: one entry with screenshots, links, the
//!   detailed description and changelog (untrusted HTML: the page sanitizes);
//! - `POST /api/install/preview` `{"reference"}`: what the extension will get
//!   (the consent summary), without installing, and the reference pinned to
//!   the digest that summary is about (`repo:tag@sha256:…`);
//! - `POST /api/install` `{"reference"}`: installs that pinned reference and
//!   nothing else (the person confirmed its summary in the page's dialog): a
//!   reference without a digest is refused, and a registry that retagged in
//!   between serves the previewed image or fails the digest check.
//!
//! Installs go through the manager's install path, so the allow-list applies
//! exactly as on the CLI; a refusal is `403` with its message. Only registry
//! references are accepted here: local sources (`engine:`, `oci:`,
//! `archive:`) stay on the CLI.

use std::sync::Mutex;

use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};
use dockhand_host::catalog::{self, CatalogDetails, CatalogError, CatalogItem, CatalogOptions};
use dockhand_host::consent::{CannotConfirm, Summary};
use dockhand_host::install::{InstallRequest, Installed};
use dockhand_host::update::untagged::parse_source;
use dockhand_host::{Hooks, InstallError};
use dockhand_oci::registry::RegistryClient;
use dockhand_oci::source::ImageSource;
use dockhand_oci::{Platform, Reference};
use dockhand_spec::Diagnostic;
use dockhand_spec::ExtensionId;
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, DashboardSession};
use crate::state::AppState;
pub use crate::state::CatalogSetup;

/// The routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/catalog", get(list))
        .route("/api/catalog/{reference}", get(details))
        .route("/api/install/preview", post(preview))
        .route("/api/install", post(install))
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        match &e {
            CatalogError::NotListed(_) => ApiError::not_found(e.to_string()),
            CatalogError::NoCatalogs(_) => ApiError::not_found(e.to_string()),
            CatalogError::File(_) => ApiError::internal(e.to_string()),
            CatalogError::Namespace { .. } => ApiError::bad_gateway(e.to_string()),
            CatalogError::State(_) => ApiError::internal(e.to_string()),
        }
    }
}

fn registry(state: &AppState) -> Result<&RegistryClient, ApiError> {
    state.catalog().registry.as_ref().ok_or_else(|| {
        ApiError::unavailable(
            "this server was started without a registry client: restart `dockhand serve`",
        )
    })
}

#[derive(Debug, Deserialize)]
struct ListQuery {
    #[serde(default)]
    q: Option<String>,
    #[serde(default)]
    category: Option<String>,
    #[serde(default)]
    refresh: bool,
}

/// `GET /api/catalog`.
#[derive(Debug, Serialize)]
struct ListAnswer {
    items: Vec<CatalogItem>,
    categories: Vec<String>,
    problems: Vec<String>,
}

async fn list(
    _s: DashboardSession,
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> Result<Json<ListAnswer>, ApiError> {
    registry(&state)?;
    let refresh = q.refresh;
    let listing = crate::blocking::off_thread(move || async move {
        let setup = state.catalog();
        let client = registry(&state)?;
        let options = CatalogOptions {
            refresh,
            ..setup.options.clone()
        };
        Ok::<_, ApiError>(
            catalog::list(&setup.config, &state.manager().state, client, &options).await?,
        )
    })
    .await??;
    let mut categories: Vec<String> = listing
        .items
        .iter()
        .flat_map(|i| i.categories.iter().cloned())
        .collect();
    categories.sort();
    categories.dedup();
    let items = listing
        .items
        .into_iter()
        .filter(|i| q.q.as_deref().is_none_or(|s| i.matches(s)))
        .filter(|i| {
            q.category
                .as_deref()
                .is_none_or(|c| c.is_empty() || i.in_category(c))
        })
        .collect();
    Ok(Json(ListAnswer {
        items,
        categories,
        problems: listing.problems,
    }))
}

async fn details(
    _s: DashboardSession,
    State(state): State<AppState>,
    Path(reference): Path<String>,
) -> Result<Json<CatalogDetails>, ApiError> {
    registry(&state)?;
    let item = crate::blocking::off_thread(move || async move {
        let setup = state.catalog();
        let client = registry(&state)?;
        Ok::<_, ApiError>(
            catalog::entry(
                &setup.config,
                &state.manager().state,
                client,
                &setup.options,
                &reference,
            )
            .await?,
        )
    })
    .await??;
    Ok(Json(item.details()))
}

/// The body of both install routes.
#[derive(Debug, Deserialize)]
struct InstallBody {
    reference: String,
}

fn registry_reference(raw: &str) -> Result<Reference, ApiError> {
    // Without a tag, the install resolves the highest compatible version.
    match parse_source(raw.trim()) {
        Ok(ImageSource::Registry(r)) => Ok(r),
        Ok(_) => Err(ApiError::bad_request(format!(
            "`{raw}` is not a registry reference: the dashboard installs from registries; use `dockhand install` for engine:, oci: and archive: sources"
        ))),
        Err(e) => Err(ApiError::bad_request(format!(
            "`{raw}` is not an image reference ({e}): give one such as acme/ext:1.0.0"
        ))),
    }
}

/// The consent summary as JSON: the [`Summary`] the CLI prints (its fields
/// flattened), with what the page needs besides.
#[derive(Debug, Serialize)]
pub struct SummaryJson {
    /// The extension.
    pub id: String,
    /// The reference that would be installed.
    pub reference: String,
    /// What it asks for.
    #[serde(flatten)]
    pub summary: Summary,
    /// True when it asks for more than a UI.
    pub privileged: bool,
    /// The summary as the CLI prints it.
    pub text: String,
    /// Validation warnings (`code location: message`).
    pub warnings: Vec<String>,
    /// True when this exact image is installed already.
    pub installed: bool,
}

pub(crate) fn summary_json(
    id: &ExtensionId,
    reference: &Reference,
    s: &Summary,
    warnings: &[Diagnostic],
) -> SummaryJson {
    SummaryJson {
        id: id.to_string(),
        // The pinned reference of what was summarized, when it came from a
        // registry: what the install route then takes.
        reference: s.image.clone().unwrap_or_else(|| reference.familiar()),
        summary: s.clone(),
        privileged: s.is_privileged(),
        text: s.to_string(),
        warnings: warnings
            .iter()
            .map(|d| format!("{} {}: {}", d.code, d.location, d.message))
            .collect(),
        installed: false,
    }
}

/// Hooks that record what would be asked and answer no: the install stops
/// right before its first side effect and cleans up its staging.
#[derive(Debug, Default)]
pub(crate) struct Preview {
    pub(crate) asked: Mutex<Option<(ExtensionId, Summary, Vec<Diagnostic>)>>,
}

impl Hooks for Preview {
    fn preview(&self) -> bool {
        true
    }

    fn confirm(
        &self,
        id: &ExtensionId,
        summary: &Summary,
        warnings: &[Diagnostic],
    ) -> Result<bool, CannotConfirm> {
        *self.asked.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((id.clone(), summary.clone(), warnings.to_vec()));
        Ok(false)
    }
}

fn request(reference: Reference, yes: bool) -> InstallRequest {
    InstallRequest {
        source: ImageSource::Registry(reference),
        platform: Platform::host(),
        yes,
        force: false,
        ignore_api_version: false,
        pre: false,
    }
}

async fn preview(
    _s: DashboardSession,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<InstallBody>,
) -> Result<Json<SummaryJson>, ApiError> {
    let reference = registry_reference(&body.reference)?;
    registry(&state)?;
    let wanted = reference.clone();
    let (outcome, asked, kept) = crate::blocking::off_thread(move || async move {
        let client = registry(&state)?;
        let hooks = Preview::default();
        let outcome = state
            .manager()
            .install(&request(wanted, false), client, &hooks)
            .await;
        let asked = hooks.asked.lock().unwrap_or_else(|e| e.into_inner()).take();
        let kept = match &outcome {
            Ok(Installed::Unchanged(record)) => state.manager().summary_of_installed(record),
            _ => None,
        };
        Ok::<_, ApiError>((outcome, asked, kept))
    })
    .await??;
    match (outcome, asked) {
        (Err(InstallError::NotConfirmed(_)), Some((id, summary, warnings))) => {
            Ok(Json(summary_json(&id, &reference, &summary, &warnings)))
        }
        (Ok(Installed::Unchanged(record)), _) => {
            let summary = kept.unwrap_or_default();
            let mut s = summary_json(&record.id, &reference, &summary, &[]);
            s.installed = true;
            Ok(Json(s))
        }
        (Err(e), _) => Err(e.into()),
        (Ok(_), _) => Err(ApiError::internal(
            "the preview installed the extension: this is a bug in dockhand, please report it",
        )),
    }
}

/// `POST /api/install`: the installed extension.
#[derive(Debug, Serialize)]
struct InstallAnswer {
    id: String,
    version: Option<String>,
    digest: String,
    changed: bool,
}

async fn install(
    _s: DashboardSession,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<InstallBody>,
) -> Result<Json<InstallAnswer>, ApiError> {
    let reference = registry_reference(&body.reference)?;
    if reference.digest().is_none() {
        return Err(ApiError::bad_request(format!(
            "`{}` names no digest: the dashboard installs only the image whose summary the person confirmed; preview it (POST /api/install/preview) and install the reference that answer gives",
            body.reference
        )));
    }
    registry(&state)?;
    let worker = state.clone();
    let outcome = crate::blocking::off_thread(move || async move {
        let client = registry(&worker)?;
        Ok::<_, ApiError>(
            worker
                .manager()
                .install(&request(reference, true), client, &dockhand_host::Quiet)
                .await?,
        )
    })
    .await??;
    state.forget_records();
    let (record, changed) = match outcome {
        Installed::New(r) => (r, true),
        Installed::Unchanged(r) => (r, false),
    };
    Ok(Json(InstallAnswer {
        id: record.id.to_string(),
        version: record.version.clone(),
        digest: record.digest.clone(),
        changed,
    }))
}
