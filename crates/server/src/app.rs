//! The application's [`router`] and how a request finds its origin.
//!
//! # How a request is handled
//!
//! [`router`] first looks at the `Host` header (`docs/bridge.md`):
//!
//! - `localhost:PORT`, `127.0.0.1:PORT`, `[::1]:PORT`: the **dashboard**
//!   router — the dashboard API (`crate::api`), `crate::resources::routes()`
//!   and the embedded `web/` (`crate::assets`);
//! - `<slug>.localhost:PORT` of an installed extension: that extension's
//!   router — `/.dockhand/enter`, `/.dockhand/ddclient.js`,
//!   `crate::bridge::routes()`, and its UI files (`crate::ui`);
//! - anything else: `421`.
//!
//! Before a route runs, the router applies the session and `Origin` layer
//! of [`crate::gate`] once, for the site's group: a credential for this
//! origin (`401`) and, for `POST`, `PUT`, `PATCH`, `DELETE` and WebSocket
//! upgrades, an `Origin` equal to the origin of the request (`403`).
//!
//! It also adds `X-Content-Type-Options: nosniff` to every response, and on
//! extension origins `Content-Security-Policy: frame-ancestors
//! http://localhost:PORT http://127.0.0.1:PORT`.
//!
//! # What routes get
//!
//! Routes are `Router<AppState>` ([`crate::state`]); handlers take
//! `State<AppState>` and one of the extractors of [`crate::extract`], which
//! hand over what the layer verified:
//!
//! - [`ExtensionCaller`] on extension-origin routes: the caller's
//!   `ExtensionRecord`, its paths, slug, origin and session number;
//! - [`DashboardSession`] on dashboard routes.
//!
//! Handlers return `Result<_, ApiError>` (`{"message"}` JSON).

use std::sync::Arc;

use axum::Router;
use axum::extract::{FromRequestParts, Request};
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceExt as _;

use crate::error::ApiError;
use crate::extract::{DashboardSession, ExtensionCaller};
use crate::state::{AppState, Site, request_host, site_of};

/// The whole application: both origins, with the checks described in the
/// module docs. `crate::bridge::routes()` is mounted on extension origins,
/// `crate::resources::routes()` on the dashboard.
pub fn router(state: AppState) -> Router {
    let dashboard = crate::api::routes()
        .merge(crate::resources::routes())
        .merge(crate::updates::routes())
        .merge(crate::catalog::routes())
        .fallback(crate::assets::serve)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    let extension = crate::ui::routes()
        .merge(crate::bridge::routes())
        .fallback(crate::ui::serve_file)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone());
    let service = tower::service_fn(move |req: Request| {
        let (state, dashboard, extension) = (state.clone(), dashboard.clone(), extension.clone());
        async move {
            Ok::<_, std::convert::Infallible>(dispatch(state, dashboard, extension, req).await)
        }
    });
    Router::new().fallback_service(service)
}

async fn method_not_allowed(method: Method, uri: axum::http::Uri) -> ApiError {
    ApiError::method_not_allowed(format!("{method} is not allowed on {}", uri.path()))
}

async fn dispatch(state: AppState, dashboard: Router, extension: Router, req: Request) -> Response {
    let (mut parts, body) = req.into_parts();
    let host = request_host(&parts);
    let site = match site_of(&state, host.as_deref()).await {
        Ok(site) => site,
        Err(e) => return e.into_response(),
    };
    let framed = matches!(site, Site::Extension(_));
    let mut response = match crate::gate::check(&state, &site, &mut parts) {
        Err(e) => e.into_response(),
        Ok(()) => {
            // Not in dev mode: one `None` check on the cached site.
            let dev_site = match &site {
                Site::Extension(s) if s.dev.is_some() => Some(Arc::clone(s)),
                _ => None,
            };
            let router = match site {
                Site::Dashboard { .. } => dashboard,
                Site::Extension(_) => extension,
            };
            parts.extensions.insert(site);
            let req = Request::from_parts(parts, body);
            match dev_site {
                Some(s) => crate::dev::route(&state, &s, router, req).await,
                None => match router.oneshot(req).await {
                    Ok(r) => r,
                    Err(never) => match never {},
                },
            }
        }
    };
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if framed {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            state.frame_ancestors().clone(),
        );
    } else {
        // A route's own policy (an extension's icon: a sandbox) is kept, with
        // the framing rule added to it.
        let csp = match headers.get(header::CONTENT_SECURITY_POLICY) {
            Some(own) => HeaderValue::from_str(&format!(
                "{}; frame-ancestors 'self'",
                own.to_str().unwrap_or("default-src 'none'")
            ))
            .unwrap_or(HeaderValue::from_static("default-src 'none'")),
            None => HeaderValue::from_static("frame-ancestors 'self'"),
        };
        headers.insert(header::CONTENT_SECURITY_POLICY, csp);
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    headers
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-cache"));
    response
}

impl FromRequestParts<AppState> for crate::bridge::Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = ExtensionCaller::from_request_parts(parts, state).await?;
        Ok(caller.site.caller.clone())
    }
}

impl FromRequestParts<AppState> for crate::bridge::DashboardAccess {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let session = DashboardSession::from_request_parts(parts, state).await?;
        Ok(crate::bridge::DashboardAccess {
            origin: session.origin,
        })
    }
}
