//! The update-check cache: the last answer per extension
//! ([`CachedCheck`]) and, per registry repository, what each manifest digest
//! said about the extension API ([`CachedManifest`]), so a repeated check
//! reads only the configs of digests it has not seen.

use dockhand_spec::ExtensionId;
use rusqlite::params;

use super::db::execute_cached;
use super::{State, StateError, unix_now};

/// The last update check of one extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedCheck {
    /// The extension.
    pub id: ExtensionId,
    /// When (seconds since the Unix epoch).
    pub checked_at: i64,
    /// The version installed at the time.
    pub installed: String,
    /// The highest compatible tag, when there was one.
    pub latest: Option<String>,
    /// Whether `latest` is newer than `installed`.
    pub update_available: bool,
    /// A higher tag that needs a newer extension API.
    pub blocked_by_api: Option<String>,
}

/// What one manifest of a repository said, for one platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedManifest {
    /// The platform image manifest's digest (the installed form).
    pub manifest: String,
    /// The `com.docker.desktop.extension.api.version` label, when set.
    pub api_version: Option<String>,
}

impl State {
    /// Saves the result of a check and sets the record's `update_available`
    /// (the newer tag, or nothing) in the same transaction.
    pub fn put_check(&self, check: &CachedCheck) -> Result<(), StateError> {
        let what = || format!("save the update check of {}", check.id);
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
            .map_err(|e| self.err(what(), e))?;
        tx.execute(
            "INSERT INTO update_checks
                 (extension, checked_at, installed, latest, update_available, blocked_by_api)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (extension) DO UPDATE SET
                 checked_at = excluded.checked_at, installed = excluded.installed,
                 latest = excluded.latest, update_available = excluded.update_available,
                 blocked_by_api = excluded.blocked_by_api",
            params![
                check.id.as_str(),
                check.checked_at,
                check.installed,
                check.latest,
                check.update_available,
                check.blocked_by_api,
            ],
        )
        .map_err(|e| self.err(what(), e))?;
        let newer = check.latest.as_deref().filter(|_| check.update_available);
        tx.execute(
            "UPDATE extensions SET update_available = ?2 WHERE id = ?1",
            params![check.id.as_str(), newer],
        )
        .map_err(|e| self.err(what(), e))?;
        tx.commit().map_err(|e| self.err(what(), e))
    }

    /// The last check of `id`, when there was one.
    pub fn get_check(&self, id: &ExtensionId) -> Result<Option<CachedCheck>, StateError> {
        self.read_row(
            || format!("read the update check of {id}"),
            "SELECT checked_at, installed, latest, update_available, blocked_by_api
             FROM update_checks WHERE extension = ?1",
            params![id.as_str()],
            |row| {
                Ok(CachedCheck {
                    id: id.clone(),
                    checked_at: row.get(0)?,
                    installed: row.get(1)?,
                    latest: row.get(2)?,
                    update_available: row.get(3)?,
                    blocked_by_api: row.get(4)?,
                })
            },
        )
    }

    /// What manifest `digest` of `repository` said for `platform`, when read before.
    pub fn get_manifest_api(
        &self,
        repository: &str,
        digest: &str,
        platform: &str,
    ) -> Result<Option<CachedManifest>, StateError> {
        self.read_row(
            || format!("read the update cache of {repository}"),
            "SELECT manifest, api_version FROM update_manifests
             WHERE repository = ?1 AND digest = ?2 AND platform = ?3",
            params![repository, digest, platform],
            |row| {
                Ok(CachedManifest {
                    manifest: row.get(0)?,
                    api_version: row.get(1)?,
                })
            },
        )
    }

    /// Remembers what manifest `digest` of `repository` said for `platform`.
    pub fn put_manifest_api(
        &self,
        repository: &str,
        digest: &str,
        platform: &str,
        value: &CachedManifest,
    ) -> Result<(), StateError> {
        let conn = self.conn();
        execute_cached(
            &conn,
            "INSERT OR REPLACE INTO update_manifests
                 (repository, digest, platform, manifest, api_version)
             VALUES (?1, ?2, ?3, ?4, ?5)",
            params![
                repository,
                digest,
                platform,
                value.manifest,
                value.api_version
            ],
        )
        .map(|_| ())
        .map_err(|e| self.err(format!("save the update cache of {repository}"), e))
    }

    /// Forgets the last check of `id` (after an uninstall).
    pub fn forget_check(&self, id: &ExtensionId) -> Result<(), StateError> {
        let conn = self.conn();
        conn.execute(
            "DELETE FROM update_checks WHERE extension = ?1",
            params![id.as_str()],
        )
        .map(|_| ())
        .map_err(|e| self.err(format!("forget the update check of {id}"), e))
    }
}

/// Now, for [`CachedCheck::checked_at`].
pub fn check_time() -> i64 {
    unix_now()
}

#[cfg(test)]
mod tests {
    use super::super::testing::temp_state;
    use super::*;

    #[test]
    fn checks_and_manifests_round_trip() {
        let (_tmp, state) = temp_state();
        let id = ExtensionId::parse("127.0.0.1:5000/acme/ext").unwrap();
        assert_eq!(state.get_check(&id).unwrap(), None);
        let check = CachedCheck {
            id: id.clone(),
            checked_at: 10,
            installed: "1.0.0".into(),
            latest: Some("1.1.0".into()),
            update_available: true,
            blocked_by_api: Some("2.0.0".into()),
        };
        state.put_check(&check).unwrap();
        assert_eq!(state.get_check(&id).unwrap(), Some(check.clone()));
        state
            .put_check(&CachedCheck {
                update_available: false,
                ..check
            })
            .unwrap();
        assert!(!state.get_check(&id).unwrap().unwrap().update_available);
        state.forget_check(&id).unwrap();
        assert_eq!(state.get_check(&id).unwrap(), None);

        let m = CachedManifest {
            manifest: "sha256:aa".into(),
            api_version: Some(">= 0.3.0".into()),
        };
        state
            .put_manifest_api("r/acme/ext", "sha256:bb", "linux/amd64", &m)
            .unwrap();
        assert_eq!(
            state
                .get_manifest_api("r/acme/ext", "sha256:bb", "linux/amd64")
                .unwrap(),
            Some(m)
        );
        assert_eq!(
            state
                .get_manifest_api("r/acme/ext", "sha256:bb", "linux/arm64")
                .unwrap(),
            None
        );
    }
}
