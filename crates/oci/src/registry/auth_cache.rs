//! What a client learned about authenticating, shared by its clones: the
//! challenge of each registry, tokens per registry and scope, credentials per
//! registry.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, PoisonError};
use std::time::Instant;

use reqwest::header::HeaderValue;

use super::challenge::Challenge;
use super::credentials::Credential;

/// What the client learned about authenticating, shared by its clones.
#[derive(Default)]
pub(crate) struct AuthState {
    pub(super) challenges: Mutex<HashMap<String, Challenge>>,
    pub(super) tokens: Mutex<HashMap<(String, String), CachedToken>>,
    pub(super) credentials: Mutex<HashMap<String, Credential>>,
}

impl fmt::Debug for AuthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tokens = self.tokens.lock().unwrap_or_else(PoisonError::into_inner);
        f.debug_struct("AuthState")
            .field("cached_tokens", &tokens.len())
            .finish_non_exhaustive()
    }
}

pub(super) struct CachedToken {
    pub(super) value: HeaderValue,
    pub(super) renew_at: Instant,
}

pub(super) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}
