//! Opening `dockhand.db`: pragmas, the schema and its forward migrations.
//!
//! The schema version is SQLite's `PRAGMA user_version`. [`MIGRATIONS`]`[n]`
//! takes a file from version `n` to `n + 1`; they only ever get appended.
//! All pending migrations run in one `IMMEDIATE` transaction, so two
//! processes opening a fresh file at once cannot both migrate it.

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension, Params, Row, TransactionBehavior};

use super::StateError;

/// The schema version this dockhand writes and understands.
pub const SCHEMA_VERSION: u32 = MIGRATIONS.len() as u32;

/// How long a statement waits for another process's write lock.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// `MIGRATIONS[n]` takes the schema from version `n` to `n + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: installed extensions and the operation journal.
    "
    CREATE TABLE extensions (
        id               TEXT PRIMARY KEY NOT NULL,
        image            TEXT NOT NULL,
        source           TEXT NOT NULL,
        digest           TEXT NOT NULL,
        version          TEXT,
        title            TEXT NOT NULL,
        vendor           TEXT NOT NULL,
        enabled          INTEGER NOT NULL CHECK (enabled IN (0, 1)),
        installed_at     INTEGER NOT NULL,
        dir              TEXT NOT NULL,
        compose_project  TEXT,
        backend_services INTEGER,
        backend_socket   TEXT,
        host_binaries    TEXT NOT NULL,
        ui_title         TEXT,
        metadata         TEXT NOT NULL,
        labels           TEXT NOT NULL,
        update_available TEXT
    ) STRICT;

    CREATE TABLE ops (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        extension   TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('install', 'update', 'uninstall')),
        data        TEXT NOT NULL,
        started_at  INTEGER NOT NULL,
        pid         INTEGER NOT NULL,
        pid_start   INTEGER,
        finished_at INTEGER,
        outcome     TEXT CHECK (outcome IN ('committed', 'rolled-back', 'repaired'))
    ) STRICT;
    -- At most one unfinished operation per extension.
    CREATE UNIQUE INDEX ops_open ON ops (extension) WHERE outcome IS NULL;
    CREATE INDEX ops_by_extension ON ops (extension, id);

    CREATE TABLE op_steps (
        op   INTEGER NOT NULL REFERENCES ops (id) ON DELETE CASCADE,
        seq  INTEGER NOT NULL,
        step TEXT NOT NULL,
        data TEXT NOT NULL,
        at   INTEGER NOT NULL,
        PRIMARY KEY (op, seq)
    ) STRICT;
    ",
    // 2: development mode (`dockhand dev`), one row per extension in it.
    // Removing the extension removes its row; replacing the record (an
    // update's `INSERT OR REPLACE`) does not, since recursive triggers are off.
    "
    CREATE TABLE dev_settings (
        id        TEXT PRIMARY KEY NOT NULL,
        ui_source TEXT,
        debug     INTEGER NOT NULL DEFAULT 0 CHECK (debug IN (0, 1))
    ) STRICT;
    CREATE TRIGGER dev_settings_forget AFTER DELETE ON extensions
    BEGIN
        DELETE FROM dev_settings WHERE id = OLD.id;
    END;
    ",
    // 3: the update-check cache: the last answer per extension, and what a
    // registry tag's manifest said (api.version) per digest, so a repeated
    // check reads only configs it has not seen.
    "
    CREATE TABLE update_checks (
        extension        TEXT PRIMARY KEY NOT NULL,
        checked_at       INTEGER NOT NULL,
        installed        TEXT NOT NULL,
        latest           TEXT,
        update_available INTEGER NOT NULL CHECK (update_available IN (0, 1)),
        blocked_by_api   TEXT
    ) STRICT;

    CREATE TABLE update_manifests (
        repository  TEXT NOT NULL,
        digest      TEXT NOT NULL,
        platform    TEXT NOT NULL,
        manifest    TEXT NOT NULL,
        api_version TEXT,
        PRIMARY KEY (repository, digest, platform)
    ) STRICT;
    ",
    // 4: the catalog cache (crate::catalog): what registries answered, keyed
    // by what was asked (`manifest:<reference>`, `tags:<repository>`,
    // `repos:<namespace>`), with the manifest digest / ETag to revalidate.
    "
    CREATE TABLE catalog_cache (
        key        TEXT PRIMARY KEY NOT NULL,
        digest     TEXT,
        etag       TEXT,
        body       TEXT NOT NULL,
        fetched_at INTEGER NOT NULL
    ) STRICT;
    ",
];

/// Opens `path` with dockhand's pragmas and migrates it to [`SCHEMA_VERSION`].
pub(super) fn open(path: &Path) -> Result<Connection, StateError> {
    let what = "open the state database";
    let mut conn = Connection::open(path).map_err(|e| error(path, what.into(), e))?;
    configure(&conn).map_err(|e| error(path, what.into(), e))?;
    migrate(&mut conn, path)?;
    Ok(conn)
}

fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // The first statement that reads the file: a file that is not SQLite
    // fails here with SQLITE_NOTADB.
    let _mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    // The journal must be on disk before the side effect it announces.
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}

fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateError> {
    let what = "migrate the state database";
    let found = read_version(conn, path)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(|e| error(path, what.into(), e))?;
    // Again, under the write lock: another process may have migrated.
    let found = read_version(&tx, path)?;
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    if found == 0 {
        let tables: i64 = tx
            .query_row(
                "SELECT count(*) FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%'",
                [],
                |row| row.get(0),
            )
            .map_err(|e| error(path, what.into(), e))?;
        if tables > 0 {
            return Err(StateError::NotADatabase {
                path: path.to_path_buf(),
                detail: "it is an SQLite database of another program".to_owned(),
            });
        }
    }
    let from = usize::try_from(found).unwrap_or(usize::MAX);
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(from) {
        tx.execute_batch(sql)
            .map_err(|e| error(path, format!("migrate the schema to version {}", i + 1), e))?;
    }
    tx.pragma_update(None, "user_version", SCHEMA_VERSION)
        .map_err(|e| error(path, what.into(), e))?;
    tx.commit().map_err(|e| error(path, what.into(), e))
}

/// The file's schema version, refusing one newer than this dockhand's.
fn read_version(conn: &Connection, path: &Path) -> Result<u32, StateError> {
    let found = user_version(conn).map_err(|e| error(path, "read the schema version".into(), e))?;
    if found > SCHEMA_VERSION {
        return Err(StateError::TooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(found)
}

/// `PRAGMA user_version` (a negative one reads as "too new").
pub(super) fn user_version(conn: &Connection) -> rusqlite::Result<u32> {
    let v: i64 = conn.pragma_query_value(None, "user_version", |row| row.get(0))?;
    Ok(u32::try_from(v).unwrap_or(u32::MAX))
}

/// `PRAGMA quick_check`: `Ok` when SQLite finds the file sound.
pub(super) fn quick_check(conn: &Connection, path: &Path) -> Result<(), StateError> {
    let what = "check the state database";
    let problems = (|| {
        let mut stmt = conn.prepare("PRAGMA quick_check(5)")?;
        let rows = stmt.query_map([], |row| row.get::<_, String>(0))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
    })()
    .map_err(|e| error(path, what.into(), e))?;
    if problems.iter().all(|p| p == "ok") {
        Ok(())
    } else {
        Err(StateError::NotADatabase {
            path: path.to_path_buf(),
            detail: format!("SQLite's check found: {}", problems.join("; ")),
        })
    }
}

/// The row `sql` selects with `params`, read by `read`; `None` when there is
/// none. The statement is cached.
pub(super) fn optional_row<T, P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
    read: impl FnOnce(&Row<'_>) -> rusqlite::Result<T>,
) -> rusqlite::Result<Option<T>> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.query_row(params, read).optional())
}

/// Runs `sql` with `params`; how many rows it changed. The statement is
/// cached.
pub(super) fn execute_cached<P: Params>(
    conn: &Connection,
    sql: &str,
    params: P,
) -> rusqlite::Result<usize> {
    conn.prepare_cached(sql)
        .and_then(|mut stmt| stmt.execute(params))
}

/// Sorts an SQLite error into what the user can act on.
pub(super) fn error(path: &Path, what: String, source: rusqlite::Error) -> StateError {
    match source.sqlite_error_code() {
        Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StateError::NotADatabase {
            path: path.to_path_buf(),
            detail: source.to_string(),
        },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => StateError::Busy {
            path: path.to_path_buf(),
            what,
        },
        _ => StateError::Db {
            path: path.to_path_buf(),
            what,
            source,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where `dockhand.db` goes in a fresh temporary directory (kept as long
    /// as the guard).
    fn temp_db() -> (tempfile::TempDir, std::path::PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("dockhand.db");
        (tmp, path)
    }

    /// Why [`open`] refuses a file that `write` made with plain SQLite.
    fn refusal(write: impl FnOnce(&Connection) -> rusqlite::Result<()>) -> StateError {
        let (_tmp, path) = temp_db();
        write(&Connection::open(&path).unwrap()).unwrap();
        open(&path).unwrap_err()
    }

    fn tables(conn: &Connection) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }

    #[test]
    fn fresh_file_gets_every_migration_and_the_pragmas() {
        let (_tmp, path) = temp_db();
        let conn = open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
        assert!(tables(&conn).contains(&"extensions".to_owned()));
        assert!(tables(&conn).contains(&"ops".to_owned()));
        let mode: String = conn
            .pragma_query_value(None, "journal_mode", |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = conn
            .pragma_query_value(None, "foreign_keys", |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
        let sync: i64 = conn
            .pragma_query_value(None, "synchronous", |r| r.get(0))
            .unwrap();
        assert_eq!(sync, 2, "FULL");
        let timeout: i64 = conn
            .pragma_query_value(None, "busy_timeout", |r| r.get(0))
            .unwrap();
        assert_eq!(timeout, 5000);
    }

    #[test]
    fn reopening_does_not_migrate_again() {
        let (_tmp, path) = temp_db();
        drop(open(&path).unwrap());
        let conn = open(&path).unwrap();
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn partial_migration_resumes_from_the_files_version() {
        // A file at version 1 with a marker table survives opening.
        let (_tmp, path) = temp_db();
        {
            let conn = Connection::open(&path).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.execute_batch("CREATE TABLE marker (x INTEGER)")
                .unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
        }
        let conn = open(&path).unwrap();
        assert!(tables(&conn).contains(&"marker".to_owned()));
        assert_eq!(user_version(&conn).unwrap(), SCHEMA_VERSION);
    }

    #[test]
    fn too_new_is_refused() {
        let err = refusal(|conn| conn.pragma_update(None, "user_version", SCHEMA_VERSION + 1));
        assert!(matches!(err, StateError::TooNew { found, .. } if found == SCHEMA_VERSION + 1));
        assert!(err.to_string().contains("upgrade dockhand"), "{err}");
    }

    #[test]
    fn a_foreign_sqlite_file_is_not_taken_over() {
        let err = refusal(|conn| conn.execute_batch("CREATE TABLE extensions (name TEXT)"));
        assert!(matches!(err, StateError::NotADatabase { .. }), "{err}");
        assert!(err.to_string().contains("another program"), "{err}");
    }

    #[test]
    fn errors_are_sorted() {
        let path = Path::new("/x/dockhand.db");
        let sqlite = |code| rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
        assert!(matches!(
            error(path, "w".into(), sqlite(rusqlite::ffi::SQLITE_BUSY)),
            StateError::Busy { .. }
        ));
        assert!(matches!(
            error(path, "w".into(), sqlite(rusqlite::ffi::SQLITE_NOTADB)),
            StateError::NotADatabase { .. }
        ));
        let other = rusqlite::Error::QueryReturnedNoRows;
        let err = error(path, "read things".into(), other);
        assert!(
            err.to_string()
                .starts_with("cannot read things in /x/dockhand.db")
        );
    }
}
