//! The dashboard's engine-resource routes. Stub until they land.

use axum::Router;

use crate::app::AppState;

/// The engine-resource routes, mounted on the dashboard origin.
pub fn routes() -> Router<AppState> {
    Router::new()
}
