//! The extractors routes use to know who calls: [`DashboardSession`] on the
//! dashboard origin, [`ExtensionCaller`] on an extension's origin.
//!
//! They check nothing themselves: the router's session and `Origin` layer
//! ([`crate::gate`]) checked the request once and put what it verified into
//! the request's extensions; the extractors hand it over. Without it (a
//! route mounted outside the router) they refuse: `401`, or `421` when the
//! request is on the other kind of origin.
//!
//! ```text
//! async fn info(caller: ExtensionCaller, State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
//!     let id = &caller.record.id;             // which extension calls
//!     let tool = caller.paths.host.join("tool");
//!     let tab = caller.session;               // one per ticket redeemed (roughly, per tab)
//!     todo!()
//! }
//! ```

use std::sync::Arc;

use axum::Json;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::{AppState, ExtensionSite, Site};

/// axum's `Query<T>`, rejected as an [`ApiError`] (JSON, with the
/// rejection's status) rather than axum's plain text.
#[derive(Debug)]
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let Query(value) = Query::<T>::from_request_parts(parts, state).await?;
        Ok(Self(value))
    }
}

/// axum's `Json<T>` body, rejected as an [`ApiError`] like [`ApiQuery`].
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let Json(value) = Json::<T>::from_request(req, state).await?;
        Ok(Self(value))
    }
}

/// A request on the dashboard origin with a valid `dockhand_session`.
#[derive(Debug, Clone)]
pub struct DashboardSession {
    /// The dashboard origin as requested (`http://localhost:PORT`).
    pub origin: String,
}

/// A request on an extension's origin with that extension's `dockhand_ext`:
/// its site (record, slug, origin, paths, through `Deref`) and session.
#[derive(Debug, Clone)]
pub struct ExtensionCaller {
    /// The extension's origin, as built when the installed extensions were
    /// last read.
    pub site: Arc<ExtensionSite>,
    /// The number of the extension session (one per ticket redeemed, so
    /// roughly one per tab opened): group processes by it.
    pub session: u64,
}

impl std::ops::Deref for ExtensionCaller {
    type Target = ExtensionSite;

    fn deref(&self) -> &ExtensionSite {
        &self.site
    }
}

impl FromRequestParts<AppState> for DashboardSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(session) = parts.extensions.get::<Self>() {
            return Ok(session.clone());
        }
        Err(match parts.extensions.get::<Site>() {
            Some(Site::Extension(_)) => ApiError::misdirected(format!(
                "this is a dashboard route: call it on {}",
                state.dashboard_origin()
            )),
            _ => ApiError::unauthorized(
                "no dashboard session: open the URL `dockhand serve` printed, with its token",
            ),
        })
    }
}

impl FromRequestParts<AppState> for ExtensionCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, ApiError> {
        if let Some(caller) = parts.extensions.get::<Self>() {
            return Ok(caller.clone());
        }
        Err(match parts.extensions.get::<Site>() {
            Some(Site::Extension(site)) => ApiError::unauthorized(format!(
                "no session for {} on this origin: open it from the dashboard's tab",
                site.record.id
            )),
            _ => ApiError::misdirected(
                "this is an extension route: call it on the extension's own origin",
            ),
        })
    }
}
