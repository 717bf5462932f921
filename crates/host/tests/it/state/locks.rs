//! Extension and state locks between threads and processes.

use std::sync::mpsc;

use dockhand_host::state::{ExtensionLock, LockError, StateLock};

use super::{child, id};

#[test]
fn contention_between_two_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let ext = id("acme/ext");
    let (locked_tx, locked_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        let ext2 = ext.clone();
        let holder = s.spawn(move || {
            let guard = ExtensionLock::acquire(home, &ext2).unwrap();
            locked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            drop(guard);
        });
        locked_rx.recv().unwrap();
        let err = std::thread::scope(|s2| {
            s2.spawn(|| ExtensionLock::acquire(home, &ext))
                .join()
                .unwrap()
                .unwrap_err()
        });
        let pid = std::process::id();
        assert!(
            matches!(&err, LockError::Busy { id, pid: Some(p) } if *id == ext && *p == pid),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains(&format!("pid {pid}")) && msg.contains("acme/ext"),
            "{msg}"
        );
        assert!(msg.contains("wait"), "{msg}");
        release_tx.send(()).unwrap();
        holder.join().unwrap();
    });
    ExtensionLock::acquire(home, &ext).unwrap();
}

#[test]
fn a_lock_is_free_again_after_drop() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = id("acme/ext");
    for _ in 0..3 {
        let guard = ExtensionLock::acquire(tmp.path(), &ext).unwrap();
        assert!(ExtensionLock::acquire(tmp.path(), &ext).is_err());
        drop(guard);
    }
    let state = StateLock::acquire(tmp.path()).unwrap();
    drop(state);
    StateLock::acquire(tmp.path()).unwrap();
}

#[test]
fn a_lock_held_by_another_process_names_it_and_goes_with_it() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = id(child::EXTENSION);
    let running = child::start("lock", tmp.path());
    let child_pid = running.id();
    let err = ExtensionLock::acquire(tmp.path(), &ext).unwrap_err();
    assert!(
        matches!(err, LockError::Busy { pid: Some(p), .. } if p == child_pid),
        "{err:?}"
    );
    assert!(matches!(
        StateLock::acquire(tmp.path()),
        Err(LockError::StateBusy)
    ));
    child::kill(running);
    ExtensionLock::acquire(tmp.path(), &ext).unwrap();
    StateLock::acquire(tmp.path()).unwrap();
}

#[test]
fn the_state_lock_keeps_writers_out_in_other_threads() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    let guard = StateLock::acquire(home).unwrap();
    let err = std::thread::scope(|s| {
        s.spawn(|| ExtensionLock::acquire(home, &id("acme/ext")))
            .join()
            .unwrap()
            .unwrap_err()
    });
    assert!(
        matches!(err, LockError::Repairing { pid: Some(_) }),
        "{err:?}"
    );
    assert!(err.to_string().contains("dockhand doctor"), "{err}");
    drop(guard);
    ExtensionLock::acquire(home, &id("acme/ext")).unwrap();
}
