//! The catalog cache: one row per question asked of a registry.

use super::db::execute_cached;
use super::{State, StateError, unix_now};

/// What a registry answered, and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRow {
    /// The manifest digest, when the answer was about a manifest.
    pub digest: Option<String>,
    /// The `ETag` the registry sent, when it sent one.
    pub etag: Option<String>,
    /// The answer (JSON).
    pub body: String,
    /// When it was fetched (Unix seconds).
    pub fetched_at: i64,
}

impl State {
    /// The cached answer for `key`.
    pub fn cache_get(&self, key: &str) -> Result<Option<CacheRow>, StateError> {
        self.read_row(
            || format!("read the catalog cache entry {key}"),
            "SELECT digest, etag, body, fetched_at FROM catalog_cache WHERE key = ?1",
            [key],
            |row| {
                Ok(CacheRow {
                    digest: row.get(0)?,
                    etag: row.get(1)?,
                    body: row.get(2)?,
                    fetched_at: row.get(3)?,
                })
            },
        )
    }

    /// Stores the answer for `key`, fetched now.
    pub fn cache_put(
        &self,
        key: &str,
        digest: Option<&str>,
        etag: Option<&str>,
        body: &str,
    ) -> Result<(), StateError> {
        let conn = self.conn();
        execute_cached(
            &conn,
            "INSERT INTO catalog_cache (key, digest, etag, body, fetched_at) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (key) DO UPDATE SET digest = ?2, etag = ?3, body = ?4, fetched_at = ?5",
            rusqlite::params![key, digest, etag, body, unix_now()],
        )
        .map(|_| ())
        .map_err(|e| self.err(format!("write the catalog cache entry {key}"), e))
    }

    /// Marks `key` as checked now (the registry confirmed it).
    pub fn cache_touch(&self, key: &str) -> Result<(), StateError> {
        let conn = self.conn();
        execute_cached(
            &conn,
            "UPDATE catalog_cache SET fetched_at = ?2 WHERE key = ?1",
            rusqlite::params![key, unix_now()],
        )
        .map(|_| ())
        .map_err(|e| self.err(format!("write the catalog cache entry {key}"), e))
    }

    /// Empties the catalog cache.
    pub fn cache_clear(&self) -> Result<(), StateError> {
        let conn = self.conn();
        conn.execute("DELETE FROM catalog_cache", [])
            .map(|_| ())
            .map_err(|e| self.err("clear the catalog cache", e))
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::temp_state;

    #[test]
    fn put_get_touch_clear() {
        let (_tmp, state) = temp_state();
        assert_eq!(state.cache_get("k").unwrap(), None);
        state.cache_put("k", Some("sha256:x"), None, "{}").unwrap();
        state
            .cache_put("k", Some("sha256:y"), Some("e"), "[1]")
            .unwrap();
        let row = state.cache_get("k").unwrap().unwrap();
        assert_eq!(row.digest.as_deref(), Some("sha256:y"));
        assert_eq!(row.etag.as_deref(), Some("e"));
        assert_eq!(row.body, "[1]");
        state.cache_touch("k").unwrap();
        state.cache_clear().unwrap();
        assert_eq!(state.cache_get("k").unwrap(), None);
    }
}
