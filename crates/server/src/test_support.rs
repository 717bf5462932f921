//! Helpers for the unit tests of this crate.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

/// A header map with `entries` appended in order (a name may repeat, as
/// several `Cookie` or `Set-Cookie` lines do).
pub fn header_map(entries: &[(HeaderName, &'static str)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in entries {
        map.append(name, HeaderValue::from_static(value));
    }
    map
}
