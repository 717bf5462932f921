//! Opening the database: creation, migration, damaged files, WAL.

use dockhand_host::state::{DB_FILE, SCHEMA_VERSION, State, StateError};

use super::{sample, temp_state};

#[test]
fn a_missing_file_is_created_at_the_current_schema() {
    let (tmp, state) = temp_state();
    assert!(tmp.path().join(DB_FILE).is_file());
    assert_eq!(state.schema_version().unwrap(), SCHEMA_VERSION);
    assert!(state.list().unwrap().is_empty());
    assert!(state.unfinished().unwrap().is_empty());
}

#[test]
fn an_empty_file_is_migrated() {
    let tmp = tempfile::tempdir().unwrap();
    fs_err::write(tmp.path().join(DB_FILE), b"").unwrap();
    let state = State::open(tmp.path()).unwrap();
    assert_eq!(state.schema_version().unwrap(), SCHEMA_VERSION);
    state.put(&sample(tmp.path(), "acme/ext")).unwrap();
    assert_eq!(state.list().unwrap().len(), 1);
    state.check().unwrap();
}

#[test]
fn a_file_that_is_not_sqlite_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(DB_FILE);
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 % 251) as u8).collect();
    fs_err::write(&path, garbage).unwrap();
    let err = State::open(tmp.path()).unwrap_err();
    assert!(matches!(err, StateError::NotADatabase { .. }), "{err:?}");
    let msg = err.to_string();
    assert!(msg.contains(&path.display().to_string()), "{msg}");
    assert!(msg.contains("move it aside"), "{msg}");
    // Nothing was overwritten.
    assert_eq!(fs_err::read(&path).unwrap().len(), 8192);
}

#[test]
fn a_text_file_is_refused_too() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(DB_FILE);
    fs_err::write(&path, "{\"extensions\": []}\n".repeat(40)).unwrap();
    let err = State::open(tmp.path()).unwrap_err();
    assert!(matches!(err, StateError::NotADatabase { .. }), "{err:?}");
}

#[test]
fn a_damaged_page_is_found_by_open_or_check() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let state = State::open(tmp.path()).unwrap();
        for i in 0..50 {
            state
                .put(&sample(tmp.path(), &format!("acme/ext{i}")))
                .unwrap();
        }
    }
    let path = tmp.path().join(DB_FILE);
    let mut bytes = fs_err::read(&path).unwrap();
    assert!(
        bytes.len() > 8192,
        "closing checkpointed the WAL into the file"
    );
    // Overwrite the second page and beyond, keep the header.
    for b in &mut bytes[4096..8192] {
        *b = 0xa5;
    }
    fs_err::write(&path, bytes).unwrap();
    let outcome = State::open(tmp.path()).and_then(|s| {
        s.check()?;
        s.list()
    });
    let err = outcome.unwrap_err();
    assert!(
        matches!(
            err,
            StateError::NotADatabase { .. } | StateError::Corrupt { .. }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().contains(&path.display().to_string()),
        "{err}"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join(DB_FILE);
    drop(State::open(tmp.path()).unwrap());
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION + 7)
        .unwrap();
    let err = State::open(tmp.path()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains(&path.display().to_string()) && msg.contains("upgrade"),
        "{msg}"
    );
}

#[test]
fn the_database_is_in_wal_mode() {
    let (tmp, state) = temp_state();
    state.put(&sample(tmp.path(), "acme/ext")).unwrap();
    assert!(tmp.path().join("dockhand.db-wal").is_file());
    assert!(tmp.path().join("dockhand.db-shm").is_file());
    let mode: String = rusqlite::Connection::open(tmp.path().join(DB_FILE))
        .unwrap()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal", "the mode is kept in the file");
}

#[test]
fn a_directory_in_the_way_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    fs_err::create_dir(tmp.path().join(DB_FILE)).unwrap();
    let err = State::open(tmp.path()).unwrap_err();
    assert!(
        err.to_string()
            .contains(&tmp.path().join(DB_FILE).display().to_string()),
        "{err}"
    );
}
