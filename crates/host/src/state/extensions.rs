//! The installed extensions: one row per extension in `extensions`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use dockhand_spec::ExtensionId;
use rusqlite::{Connection, Row, TransactionBehavior, params};

use super::db::{execute_cached, optional_row};
use super::{State, StateError};

/// One installed extension, as `dockhand ls` and the dashboard show it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExtensionRecord {
    /// The extension (the image repository in short form).
    pub id: ExtensionId,
    /// The reference it was installed from (`docker/foo:1.2.0`).
    pub image: String,
    /// Where it came from: a registry reference, `engine:…`, `oci:…` or `archive:…`.
    pub source: String,
    /// The manifest digest installed (`sha256:…`).
    pub digest: String,
    /// The tag installed, when there was one.
    pub version: Option<String>,
    /// `org.opencontainers.image.title`.
    pub title: String,
    /// `org.opencontainers.image.vendor`.
    pub vendor: String,
    /// Backend running and tab shown.
    pub enabled: bool,
    /// When this version was installed, seconds since the Unix epoch.
    pub installed_at: i64,
    /// The directory of the installed version
    /// (`$DOCKHAND_HOME/extensions/<fs-id>/<digest>/`). Kept relative to
    /// `$DOCKHAND_HOME` in the database when inside it, so the home can move.
    pub dir: PathBuf,
    /// The compose project of the backend, when it has one.
    pub compose_project: Option<String>,
    /// The backend (`vm` in metadata.json), when there is one.
    pub backend: Option<BackendRecord>,
    /// The names of the host binaries installed for this OS.
    pub host_binaries: Vec<String>,
    /// The tab title (`ui.dashboard-tab.title`), when it has a UI.
    pub ui_title: Option<String>,
    /// The extension's metadata.json.
    pub metadata: serde_json::Value,
    /// The image labels.
    pub labels: BTreeMap<String, String>,
    /// A newer version found by the last update check (its tag).
    pub update_available: Option<String>,
}

/// An extension's backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackendRecord {
    /// The socket the UI talks to (`vm.exposes.socket`), when it exposes one.
    pub socket: Option<String>,
    /// How many compose services it runs.
    pub services: usize,
}

const COLUMNS: &str = "id, image, source, digest, version, title, vendor, enabled, installed_at, \
     dir, compose_project, backend_services, backend_socket, host_binaries, ui_title, metadata, \
     labels, update_available";

/// A row as SQLite gives it, before dockhand's types are checked.
struct RawRow {
    id: String,
    image: String,
    source: String,
    digest: String,
    version: Option<String>,
    title: String,
    vendor: String,
    enabled: bool,
    installed_at: i64,
    dir: String,
    compose_project: Option<String>,
    backend_services: Option<i64>,
    backend_socket: Option<String>,
    host_binaries: String,
    ui_title: Option<String>,
    metadata: String,
    labels: String,
    update_available: Option<String>,
}

impl RawRow {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            image: row.get(1)?,
            source: row.get(2)?,
            digest: row.get(3)?,
            version: row.get(4)?,
            title: row.get(5)?,
            vendor: row.get(6)?,
            enabled: row.get(7)?,
            installed_at: row.get(8)?,
            dir: row.get(9)?,
            compose_project: row.get(10)?,
            backend_services: row.get(11)?,
            backend_socket: row.get(12)?,
            host_binaries: row.get(13)?,
            ui_title: row.get(14)?,
            metadata: row.get(15)?,
            labels: row.get(16)?,
            update_available: row.get(17)?,
        })
    }
}

impl State {
    /// The installed extension `id`, or `None`.
    pub fn get(&self, id: &ExtensionId) -> Result<Option<ExtensionRecord>, StateError> {
        let raw = {
            let conn = self.conn();
            select_one(&conn, id).map_err(|e| self.err(format!("read extension {id}"), e))?
        };
        raw.map(|raw| self.decode(raw)).transpose()
    }

    /// Every installed extension, sorted by id.
    pub fn list(&self) -> Result<Vec<ExtensionRecord>, StateError> {
        let raws = {
            let conn = self.conn();
            select_all(&conn).map_err(|e| self.err("list the installed extensions", e))?
        };
        raws.into_iter().map(|raw| self.decode(raw)).collect()
    }

    /// Saves `record`, replacing any record of the same extension.
    pub fn put(&self, record: &ExtensionRecord) -> Result<(), StateError> {
        let what = || format!("save extension {}", record.id);
        let values = self.encode(record)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(what(), e))?;
        upsert(&tx, &values).map_err(|e| self.err(what(), e))?;
        tx.commit().map_err(|e| self.err(what(), e))
    }

    /// Forgets extension `id`; `false` when it was not installed.
    pub fn remove(&self, id: &ExtensionId) -> Result<bool, StateError> {
        let conn = self.conn();
        delete(&conn, id).map_err(|e| self.err(format!("remove extension {id}"), e))
    }

    /// Marks extension `id` enabled or disabled.
    pub fn set_enabled(&self, id: &ExtensionId, enabled: bool) -> Result<(), StateError> {
        let changed = {
            let conn = self.conn();
            execute_cached(
                &conn,
                "UPDATE extensions SET enabled = ?2 WHERE id = ?1",
                params![id.as_str(), enabled],
            )
            .map_err(|e| self.err(format!("change extension {id}"), e))?
        };
        if changed == 0 {
            return Err(StateError::NotInstalled { id: id.clone() });
        }
        Ok(())
    }

    /// The columns to store for `record`.
    pub(super) fn encode<'a>(
        &self,
        record: &'a ExtensionRecord,
    ) -> Result<Encoded<'a>, StateError> {
        let dir = relative_to(&record.dir, &self.home);
        let dir = dir
            .to_str()
            .ok_or_else(|| StateError::NonUtf8Path {
                path: record.dir.clone(),
            })?
            .to_owned();
        let backend_services = match &record.backend {
            Some(b) => Some(i64::try_from(b.services).map_err(|_| {
                self.corrupt(format!("extension {}", record.id), "too many services")
            })?),
            None => None,
        };
        Ok(Encoded {
            id: record.id.as_str().to_owned(),
            dir,
            backend_services,
            host_binaries: to_json(record, "host_binaries", &record.host_binaries)?,
            metadata: to_json(record, "metadata", &record.metadata)?,
            labels: to_json(record, "labels", &record.labels)?,
            record,
        })
    }

    fn decode(&self, raw: RawRow) -> Result<ExtensionRecord, StateError> {
        let what = format!("extension {}", raw.id);
        let bad = |detail: String| self.corrupt(what.clone(), detail);
        let id = ExtensionId::parse(&raw.id).map_err(|e| bad(e.to_string()))?;
        let backend = match raw.backend_services {
            Some(n) => Some(BackendRecord {
                socket: raw.backend_socket,
                services: usize::try_from(n).map_err(|_| bad(format!("{n} backend services")))?,
            }),
            None => None,
        };
        let host_binaries = serde_json::from_str(&raw.host_binaries)
            .map_err(|e| bad(format!("host binaries: {e}")))?;
        let metadata =
            serde_json::from_str(&raw.metadata).map_err(|e| bad(format!("metadata: {e}")))?;
        let labels = serde_json::from_str(&raw.labels).map_err(|e| bad(format!("labels: {e}")))?;
        Ok(ExtensionRecord {
            id,
            image: raw.image,
            source: raw.source,
            digest: raw.digest,
            version: raw.version,
            title: raw.title,
            vendor: raw.vendor,
            enabled: raw.enabled,
            installed_at: raw.installed_at,
            dir: self.home.join(raw.dir),
            compose_project: raw.compose_project,
            backend,
            host_binaries,
            ui_title: raw.ui_title,
            metadata,
            labels,
            update_available: raw.update_available,
        })
    }
}

/// A record with its columns ready to bind.
pub(super) struct Encoded<'a> {
    id: String,
    dir: String,
    backend_services: Option<i64>,
    host_binaries: String,
    metadata: String,
    labels: String,
    record: &'a ExtensionRecord,
}

/// One of the record's JSON columns (strings, string maps and JSON values:
/// a failure would be a bug, and is an error rather than `null`).
fn to_json<T: serde::Serialize>(
    record: &ExtensionRecord,
    column: &'static str,
    value: &T,
) -> Result<String, StateError> {
    serde_json::to_string(value).map_err(|source| StateError::Encode {
        id: record.id.clone(),
        column,
        source,
    })
}

/// `dir` relative to `home` when inside it, else as given.
fn relative_to(dir: &Path, home: &Path) -> PathBuf {
    match dir.strip_prefix(home) {
        Ok(rel) if !rel.as_os_str().is_empty() => rel.to_path_buf(),
        _ => dir.to_path_buf(),
    }
}

fn select_one(conn: &Connection, id: &ExtensionId) -> rusqlite::Result<Option<RawRow>> {
    optional_row(
        conn,
        &format!("SELECT {COLUMNS} FROM extensions WHERE id = ?1"),
        [id.as_str()],
        RawRow::read,
    )
}

fn select_all(conn: &Connection) -> rusqlite::Result<Vec<RawRow>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM extensions ORDER BY id"))?;
    let rows = stmt.query_map([], RawRow::read)?;
    rows.collect()
}

/// Inserts or replaces one row (inside the caller's transaction).
pub(super) fn upsert(conn: &Connection, v: &Encoded<'_>) -> rusqlite::Result<()> {
    let r = v.record;
    let mut stmt = conn.prepare_cached(&format!(
        "INSERT OR REPLACE INTO extensions ({COLUMNS}) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
    ))?;
    stmt.execute(params![
        v.id,
        r.image,
        r.source,
        r.digest,
        r.version,
        r.title,
        r.vendor,
        r.enabled,
        r.installed_at,
        v.dir,
        r.compose_project,
        v.backend_services,
        r.backend.as_ref().and_then(|b| b.socket.as_deref()),
        v.host_binaries,
        r.ui_title,
        v.metadata,
        v.labels,
        r.update_available,
    ])?;
    Ok(())
}

/// Deletes one row; `true` when there was one.
pub(super) fn delete(conn: &Connection, id: &ExtensionId) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached("DELETE FROM extensions WHERE id = ?1")?;
    Ok(stmt.execute([id.as_str()])? > 0)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{sample, temp_state, with_sample};
    use super::*;

    #[test]
    fn records_round_trip() {
        let (tmp, state) = temp_state();
        let full = sample(tmp.path(), "acme/ext");
        let minimal = ExtensionRecord {
            version: None,
            compose_project: None,
            backend: None,
            host_binaries: vec![],
            ui_title: None,
            metadata: serde_json::json!({}),
            labels: BTreeMap::new(),
            update_available: None,
            enabled: false,
            ..sample(tmp.path(), "busybox")
        };
        let backend_without_socket = ExtensionRecord {
            backend: Some(BackendRecord {
                socket: None,
                services: 1,
            }),
            ..sample(tmp.path(), "acme/ext")
        };
        for rec in [full, minimal, backend_without_socket] {
            state.put(&rec).unwrap();
            assert_eq!(state.get(&rec.id).unwrap(), Some(rec));
        }
    }

    #[test]
    fn dir_is_stored_relative_to_home_and_outside_dirs_stay_absolute() {
        let (_tmp, state, rec) = with_sample("acme/ext");
        let stored: String = state
            .conn()
            .query_row("SELECT dir FROM extensions", [], |r| r.get(0))
            .unwrap();
        assert_eq!(stored, format!("extensions/acme_ext/sha256_ab"));

        let outside = ExtensionRecord {
            dir: PathBuf::from("/opt/elsewhere/ext"),
            ..rec
        };
        state.put(&outside).unwrap();
        assert_eq!(state.get(&outside.id).unwrap().unwrap().dir, outside.dir);
    }

    #[test]
    fn set_enabled_on_missing_extension_says_so() {
        let (_tmp, state) = temp_state();
        let id = ExtensionId::parse("acme/nothing").unwrap();
        let err = state.set_enabled(&id, true).unwrap_err();
        assert!(matches!(err, StateError::NotInstalled { .. }));
        assert!(err.to_string().contains("acme/nothing"), "{err}");
    }

    #[test]
    fn damaged_row_is_reported_with_its_id() {
        let (_tmp, state, rec) = with_sample("acme/ext");
        state
            .conn()
            .execute("UPDATE extensions SET metadata = '{not json'", [])
            .unwrap();
        let err = state.get(&rec.id).unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }));
        let msg = err.to_string();
        assert!(
            msg.contains("extension acme/ext") && msg.contains("doctor"),
            "{msg}"
        );
        assert!(state.list().is_err());
    }
}
