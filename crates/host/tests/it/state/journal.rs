//! The operation journal: refusal, recovery after reopening and after the
//! owner died.

use dockhand_host::state::{OpKind, Outcome, State, StateError};
use serde_json::json;

use super::{begin_install, child, id, sample, temp_state};

#[test]
fn an_unfinished_op_survives_reopening() {
    let tmp = tempfile::tempdir().unwrap();
    let ext = id("acme/ext");
    let op = {
        let state = State::open(tmp.path()).unwrap();
        let op = state
            .begin(
                &ext,
                OpKind::Update,
                json!({"from": "sha256:aa", "to": "sha256:bb"}),
            )
            .unwrap();
        state
            .step(op, "fetch", json!({"digest": "sha256:bb"}))
            .unwrap();
        state
            .step(
                op,
                "rename",
                json!({"from": "staging/1", "to": "extensions/acme_ext/bb"}),
            )
            .unwrap();
        op
        // Dropped without finish: as if the process had died.
    };
    let state = State::open(tmp.path()).unwrap();
    let pending = state.unfinished().unwrap();
    assert_eq!(pending.len(), 1);
    let p = &pending[0];
    assert_eq!(p.record.id, op);
    assert_eq!(p.record.extension, ext);
    assert_eq!(p.record.kind, OpKind::Update);
    assert_eq!(
        p.record.data,
        json!({"from": "sha256:aa", "to": "sha256:bb"})
    );
    assert_eq!(
        p.record.steps,
        vec![
            ("fetch".to_owned(), json!({"digest": "sha256:bb"})),
            (
                "rename".to_owned(),
                json!({"from": "staging/1", "to": "extensions/acme_ext/bb"})
            ),
        ]
    );
    assert_eq!(p.record.pid, std::process::id());

    // A repairer closes it; then the extension is free again.
    state.finish(op, Outcome::Repaired).unwrap();
    assert!(state.unfinished().unwrap().is_empty());
    state.begin(&ext, OpKind::Update, json!({})).unwrap();
}

#[test]
fn begin_is_refused_while_an_op_is_unfinished() {
    let tmp = tempfile::tempdir().unwrap();
    let a = State::open(tmp.path()).unwrap();
    let b = State::open(tmp.path()).unwrap();
    let ext = id("docker/volumes-backup-extension");
    let op = a.begin(&ext, OpKind::Install, json!({})).unwrap();
    for state in [&a, &b] {
        let err = state.begin(&ext, OpKind::Uninstall, json!({})).unwrap_err();
        let StateError::OpPending {
            extension,
            op: open,
            kind,
            pid,
        } = &err
        else {
            panic!("{err:?}");
        };
        assert_eq!(extension, &ext);
        assert_eq!(*open, op);
        assert_eq!(*kind, OpKind::Install);
        assert_eq!(*pid, std::process::id());
        let msg = err.to_string();
        assert!(msg.contains("docker/volumes-backup-extension"), "{msg}");
        assert!(msg.contains("`dockhand doctor`"), "{msg}");
    }
    // Other extensions are not held up.
    begin_install(&b, "acme/other");
    b.finish(op, Outcome::RolledBack).unwrap();
    a.begin(&ext, OpKind::Install, json!({})).unwrap();
}

#[test]
fn a_full_install_leaves_a_record_and_a_history() {
    let (tmp, state) = temp_state();
    let rec = sample(tmp.path(), "acme/ext");
    let op = state
        .begin(&rec.id, OpKind::Install, json!({"image": rec.image}))
        .unwrap();
    state.step(op, "fetch", json!({})).unwrap();
    state.step(op, "rename", json!({})).unwrap();
    state.commit_put(op, &rec).unwrap();
    assert_eq!(state.get(&rec.id).unwrap(), Some(rec.clone()));
    assert!(state.unfinished().unwrap().is_empty());

    let op2 = state.begin(&rec.id, OpKind::Uninstall, json!({})).unwrap();
    assert!(state.commit_remove(op2, &rec.id).unwrap());
    let h = state.history(&rec.id, 10).unwrap();
    assert_eq!(h.len(), 2);
    assert_eq!(h[0].id, op2);
    assert_eq!(h[0].kind, OpKind::Uninstall);
    assert_eq!(h[1].id, op);
    assert_eq!(h[1].outcome, Some(Outcome::Committed));
    assert_eq!(h[1].steps.len(), 2);
    assert!(h.iter().all(|o| o.finished_at.is_some()));
}

#[test]
fn an_op_of_a_live_process_then_a_dead_one() {
    let tmp = tempfile::tempdir().unwrap();
    let running = child::start("begin", tmp.path());
    let child_pid = running.id();
    let state = State::open(tmp.path()).unwrap();
    let pending = state.unfinished().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].record.pid, child_pid);
    assert!(pending[0].owner_start.is_some());
    assert!(pending[0].owner_alive());
    assert_eq!(pending[0].last_step(), Some("stage"));

    let err = state
        .begin(&id(child::EXTENSION), OpKind::Install, json!({}))
        .unwrap_err();
    assert!(
        err.to_string().contains(&format!("pid {child_pid}")),
        "{err}"
    );

    child::kill(running);
    let pending = state.unfinished().unwrap();
    assert_eq!(pending.len(), 1, "the journal outlives its writer");
    assert!(!pending[0].owner_alive());
}

#[test]
fn a_process_that_exits_without_finishing_leaves_a_dead_op() {
    let tmp = tempfile::tempdir().unwrap();
    child::release(child::start("begin", tmp.path()));
    let state = State::open(tmp.path()).unwrap();
    let pending = state.unfinished().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].record.data, json!({"from": "child"}));
    assert!(!pending[0].owner_alive());
}

#[test]
fn a_reused_pid_is_not_mistaken_for_the_owner() {
    let (tmp, state) = temp_state();
    begin_install(&state, "acme/ext");
    // Our pid, but a start time that is not ours: another process's op.
    rusqlite::Connection::open(tmp.path().join("dockhand.db"))
        .unwrap()
        .execute("UPDATE ops SET pid_start = pid_start + 1", [])
        .unwrap();
    let pending = state.unfinished().unwrap();
    assert_eq!(pending[0].record.pid, std::process::id());
    if std::path::Path::new("/proc/self/stat").exists() {
        assert!(!pending[0].owner_alive());
    }
}
