//! Installed extensions: round trips, order, two handles.

use dockhand_host::state::{ExtensionRecord, State, StateError};

use super::{id, sample, temp_state, with_sample};

#[test]
fn put_get_round_trip_survives_reopening() {
    let tmp = tempfile::tempdir().unwrap();
    let rec = sample(tmp.path(), "docker/volumes-backup-extension");
    {
        let state = State::open(tmp.path()).unwrap();
        state.put(&rec).unwrap();
        assert_eq!(state.get(&rec.id).unwrap().as_ref(), Some(&rec));
    }
    let state = State::open(tmp.path()).unwrap();
    assert_eq!(state.get(&rec.id).unwrap(), Some(rec));
    assert_eq!(state.get(&id("acme/missing")).unwrap(), None);
}

#[test]
fn registry_ids_with_ports_round_trip() {
    let (_tmp, state, rec) = with_sample("127.0.0.1:5000/acme/my-ext");
    assert_eq!(state.get(&rec.id).unwrap(), Some(rec));
}

#[test]
fn put_replaces() {
    let (_tmp, state, rec) = with_sample("acme/ext");
    let newer = ExtensionRecord {
        version: Some("0.4.0".into()),
        digest: format!("sha256:{}", "1e".repeat(32)),
        backend: None,
        host_binaries: vec![],
        update_available: None,
        ..rec.clone()
    };
    state.put(&newer).unwrap();
    assert_eq!(state.list().unwrap(), vec![newer]);
}

#[test]
fn list_is_sorted_by_id() {
    let (tmp, state) = temp_state();
    let names = [
        "zeta/ext",
        "acme/ext",
        "docker/labs-debug-tools-extension",
        "127.0.0.1:5000/acme/my-ext",
        "busybox",
    ];
    for n in names {
        state.put(&sample(tmp.path(), n)).unwrap();
    }
    let listed: Vec<String> = state
        .list()
        .unwrap()
        .iter()
        .map(|r| r.id.to_string())
        .collect();
    let mut sorted: Vec<String> = names.iter().map(|n| n.to_string()).collect();
    sorted.sort();
    assert_eq!(listed, sorted);
}

#[test]
fn twenty_extensions_list_in_full() {
    let (tmp, state) = temp_state();
    let records: Vec<_> = (0..20)
        .map(|i| sample(tmp.path(), &format!("acme/ext-{i:02}")))
        .collect();
    for r in &records {
        state.put(r).unwrap();
    }
    // Repeated reads use the cached statements.
    for _ in 0..50 {
        assert_eq!(state.list().unwrap(), records);
    }
}

#[test]
fn remove_says_whether_there_was_something() {
    let (_tmp, state, rec) = with_sample("acme/ext");
    assert!(state.remove(&rec.id).unwrap());
    assert!(!state.remove(&rec.id).unwrap());
    assert_eq!(state.get(&rec.id).unwrap(), None);
}

#[test]
fn set_enabled_flips_only_that_field() {
    let (_tmp, state, rec) = with_sample("acme/ext");
    state.set_enabled(&rec.id, false).unwrap();
    let got = state.get(&rec.id).unwrap().unwrap();
    assert_eq!(
        got,
        ExtensionRecord {
            enabled: false,
            ..rec.clone()
        }
    );
    state.set_enabled(&rec.id, true).unwrap();
    assert_eq!(state.get(&rec.id).unwrap(), Some(rec));
    let err = state.set_enabled(&id("acme/none"), true).unwrap_err();
    assert!(matches!(err, StateError::NotInstalled { .. }));
}

#[test]
fn two_handles_see_each_others_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let a = State::open(tmp.path()).unwrap();
    let b = State::open(tmp.path()).unwrap();
    let rec = sample(tmp.path(), "acme/ext");
    a.put(&rec).unwrap();
    assert_eq!(b.get(&rec.id).unwrap(), Some(rec.clone()));
    b.set_enabled(&rec.id, false).unwrap();
    assert!(!a.get(&rec.id).unwrap().unwrap().enabled);
    assert!(a.remove(&rec.id).unwrap());
    assert!(b.list().unwrap().is_empty());
}

#[test]
fn writers_on_two_handles_in_threads_do_not_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_path_buf();
    std::thread::scope(|s| {
        for t in 0..2 {
            let home = home.clone();
            s.spawn(move || {
                let state = State::open(&home).unwrap();
                for i in 0..25 {
                    state
                        .put(&sample(&home, &format!("acme/t{t}-{i:02}")))
                        .unwrap();
                    state.list().unwrap();
                }
            });
        }
    });
    assert_eq!(State::open(&home).unwrap().list().unwrap().len(), 50);
}

#[test]
fn one_handle_shared_between_threads() {
    let (tmp, state) = temp_state();
    std::thread::scope(|s| {
        for t in 0..4 {
            let state = &state;
            let home = tmp.path();
            s.spawn(move || {
                for i in 0..10 {
                    state.put(&sample(home, &format!("acme/t{t}-{i}"))).unwrap();
                }
            });
        }
    });
    assert_eq!(state.list().unwrap().len(), 40);
}
