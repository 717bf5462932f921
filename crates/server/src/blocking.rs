//! Blocking work off the server's thread. `serve` runs on one thread: a
//! SQLite read or write, an uninstall (`compose down`, removing files), a
//! walk of a directory or an install must not stall every other request.
//!
//! - [`blocking`]: a closure on tokio's blocking pool (SQLite, file walks,
//!   uninstall);
//! - [`off_thread`]: a future on a thread and runtime of its own (install
//!   and update, whose registry futures are not `Send`).

use crate::error::ApiError;

/// Runs `f` on tokio's blocking pool; its error converts into [`ApiError`].
pub async fn blocking<T, E, F>(what: &str, f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, E> + Send + 'static,
    T: Send + 'static,
    E: Into<ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(format!("{what} failed: {e}")))?
        .map_err(Into::into)
}

/// Runs `f`'s future on its own thread and runtime: an install or update
/// unpacks layers and writes files (blocking work that must not stall the
/// server's one thread), and the registry client's futures are not `Send`.
pub async fn off_thread<T, F, Fut>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = T>,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| ApiError::internal(format!("cannot start a runtime: {e}")))?;
        Ok(rt.block_on(f()))
    })
    .await
    .map_err(|e| ApiError::internal(format!("the task failed: {e}")))?
}
