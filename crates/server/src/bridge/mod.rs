//! The bridge (`/.dockhand/api/*`). Stub until the bridge lands.

use axum::Router;

use crate::app::AppState;

/// The bridge's routes, mounted on every extension origin.
pub fn routes() -> Router<AppState> {
    Router::new()
}
