//! The operation journal: what makes install, update and uninstall atomic
//! and recoverable.
//!
//! A writer holding the extension's [`ExtensionLock`](super::ExtensionLock)
//! calls [`State::begin`], then, *before* each side effect, [`State::step`]
//! with what it is about to do and the data needed to undo it ("about to
//! rename staging S to D"). Each call is its own committed transaction with
//! `synchronous = FULL`, so the row is on disk before the effect starts. The
//! operation ends with [`State::finish`] (or [`State::commit_put`] /
//! [`State::commit_remove`], which change the extension's record in the same
//! transaction). After a crash, [`State::unfinished`] lists what a repairer
//! (`dockhand doctor`) must roll back or forward; every step it finds may or
//! may not have happened, and everything before it did.

use std::fmt;
use std::path::Path;

use dockhand_spec::ExtensionId;
use rusqlite::{Connection, Row, TransactionBehavior, params};
use serde_json::Value;

use super::db::optional_row;
use super::extensions::{delete, upsert};
use super::{ExtensionRecord, State, StateError, unix_now};

/// An operation in the journal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpId(i64);

impl OpId {
    /// The row id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// An enum of unit variants, each stored in the database and shown to users
/// by its name: the variants and their names written once, with `as_str`,
/// `parse` and `Display` made from that list.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$variant_meta:meta])* $variant:ident => $text:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// The name stored in the database and shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)+
                }
            }

            fn parse(s: &str) -> Option<Self> {
                [$(Self::$variant),+].into_iter().find(|v| v.as_str() == s)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

named_enum! {
    /// What an operation does to its extension.
    pub enum OpKind {
        /// A first install.
        Install => "install",
        /// A new version beside the old one, then the switch.
        Update => "update",
        /// Removal.
        Uninstall => "uninstall",
    }
}

named_enum! {
    /// How an operation ended.
    pub enum Outcome {
        /// Everything it meant to do is done.
        Committed => "committed",
        /// It failed and undid what it had done.
        RolledBack => "rolled-back",
        /// Its process died and a repairer (`dockhand doctor`) cleaned up.
        Repaired => "repaired",
    }
}

/// An operation that has not finished: running now, or left by a process
/// that died.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingOp {
    /// The operation so far (its `finished_at` and `outcome` are `None`);
    /// its steps were each about to happen.
    pub record: OpRecord,
    /// The start time of the process that began it (clock ticks since boot,
    /// from `/proc/<pid>/stat`), to tell it from a later process with the
    /// same pid.
    pub owner_start: Option<u64>,
}

impl PendingOp {
    /// Whether the process that began this operation still runs.
    ///
    /// Checks `/proc/<pid>` and that process's start time, so a reused pid
    /// reads as dead. Without procfs (not Linux) it cannot tell and answers
    /// `true`. A repairer should still take the extension's
    /// [`ExtensionLock`](super::ExtensionLock), which the OS releases when
    /// its holder dies: that is the authority, this is the explanation.
    pub fn owner_alive(&self) -> bool {
        process_alive(self.record.pid, self.owner_start)
    }

    /// The name of the last step recorded, if any.
    pub fn last_step(&self) -> Option<&str> {
        self.record.steps.last().map(|(name, _)| name.as_str())
    }
}

/// An operation of the past or present, for `history`.
#[derive(Debug, Clone, PartialEq)]
pub struct OpRecord {
    /// The operation.
    pub id: OpId,
    /// The extension it changed.
    pub extension: ExtensionId,
    /// What it did.
    pub kind: OpKind,
    /// What [`State::begin`] was given.
    pub data: Value,
    /// Its steps, oldest first.
    pub steps: Vec<(String, Value)>,
    /// When it began, seconds since the Unix epoch.
    pub started_at: i64,
    /// When it ended; `None` while unfinished.
    pub finished_at: Option<i64>,
    /// How it ended; `None` while unfinished.
    pub outcome: Option<Outcome>,
    /// The process that began it.
    pub pid: u32,
}

/// An `ops` row with its steps, as SQLite gives them.
struct RawOp {
    id: i64,
    extension: String,
    kind: String,
    data: String,
    started_at: i64,
    pid: i64,
    pid_start: Option<i64>,
    finished_at: Option<i64>,
    outcome: Option<String>,
    steps: Vec<(String, String)>,
}

const OP_COLUMNS: &str =
    "id, extension, kind, data, started_at, pid, pid_start, finished_at, outcome";

impl RawOp {
    fn read(row: &Row<'_>) -> rusqlite::Result<Self> {
        Ok(Self {
            id: row.get(0)?,
            extension: row.get(1)?,
            kind: row.get(2)?,
            data: row.get(3)?,
            started_at: row.get(4)?,
            pid: row.get(5)?,
            pid_start: row.get(6)?,
            finished_at: row.get(7)?,
            outcome: row.get(8)?,
            steps: Vec::new(),
        })
    }
}

/// `data` as the JSON the journal keeps; a failure is an error, never a
/// silent `null` (a repairer could not undo the operation).
fn payload(
    data: impl serde::Serialize,
    what: impl FnOnce() -> String,
) -> Result<Value, StateError> {
    serde_json::to_value(data).map_err(|source| StateError::Payload {
        what: what(),
        source,
    })
}

impl State {
    /// Opens an operation on `extension`, recording this process as its
    /// owner and `data`, what a repairer needs to undo it. Refuses while the
    /// extension has an unfinished operation, and when `data` does not
    /// serialize (nothing is written then).
    pub fn begin(
        &self,
        extension: &ExtensionId,
        kind: OpKind,
        data: impl serde::Serialize,
    ) -> Result<OpId, StateError> {
        let what = || format!("begin the {kind} of extension {extension}");
        let data = payload(data, what)?;
        let pid = std::process::id();
        let pid_start = process_stat(pid).and_then(|(_, start)| i64::try_from(start).ok());
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(what(), e))?;
        let open = optional_row(
            &tx,
            "SELECT id, kind, pid FROM ops WHERE extension = ?1 AND outcome IS NULL",
            [extension.as_str()],
            |row| {
                Ok((
                    row.get::<_, i64>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                ))
            },
        )
        .map_err(|e| self.err(what(), e))?;
        if let Some((op, open_kind, open_pid)) = open {
            return Err(StateError::OpPending {
                extension: extension.clone(),
                op: OpId(op),
                kind: OpKind::parse(&open_kind).unwrap_or(kind),
                pid: u32::try_from(open_pid).unwrap_or(0),
            });
        }
        let id = tx
            .prepare_cached(
                "INSERT INTO ops (extension, kind, data, started_at, pid, pid_start) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut stmt| {
                stmt.insert(params![
                    extension.as_str(),
                    kind.as_str(),
                    data.to_string(),
                    unix_now(),
                    pid,
                    pid_start,
                ])
            })
            .map_err(|e| self.err(what(), e))?;
        tx.commit().map_err(|e| self.err(what(), e))?;
        Ok(OpId(id))
    }

    /// Records that operation `op` is about to do `step` with `data`. On disk
    /// when this returns: do the step only after it succeeded.
    pub fn step(
        &self,
        op: OpId,
        step: &str,
        data: impl serde::Serialize,
    ) -> Result<(), StateError> {
        let data = payload(data, || format!("record step {step} of operation {op}"))?;
        let conn = self.conn();
        let added = conn
            .prepare_cached(
                "INSERT INTO op_steps (op, seq, step, data, at) \
                 SELECT ?1, COALESCE((SELECT MAX(seq) FROM op_steps WHERE op = ?1), 0) + 1, \
                        ?2, ?3, ?4 \
                 WHERE EXISTS (SELECT 1 FROM ops WHERE id = ?1 AND outcome IS NULL)",
            )
            .and_then(|mut stmt| stmt.execute(params![op.0, step, data.to_string(), unix_now()]))
            .map_err(|e| self.err(format!("record step {step} of operation {op}"), e))?;
        if added == 0 {
            return Err(StateError::OpNotOpen { op });
        }
        Ok(())
    }

    /// Ends operation `op` with `outcome`.
    pub fn finish(&self, op: OpId, outcome: Outcome) -> Result<(), StateError> {
        let conn = self.conn();
        close(&conn, op, outcome)
            .map_err(|e| self.err(format!("finish operation {op}"), e))?
            .then_some(())
            .ok_or(StateError::OpNotOpen { op })
    }

    /// Commits operation `op` and saves `record` in one transaction: the
    /// last step of an install or update.
    pub fn commit_put(&self, op: OpId, record: &ExtensionRecord) -> Result<(), StateError> {
        let what = || format!("commit operation {op} on extension {}", record.id);
        let values = self.encode(record)?;
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(what(), e))?;
        self.check_owner(&tx, op, &record.id)?;
        upsert(&tx, &values).map_err(|e| self.err(what(), e))?;
        close(&tx, op, Outcome::Committed).map_err(|e| self.err(what(), e))?;
        tx.commit().map_err(|e| self.err(what(), e))
    }

    /// Commits operation `op` and forgets `id` in one transaction: the last
    /// step of an uninstall. `false` when `id` had no record.
    pub fn commit_remove(&self, op: OpId, id: &ExtensionId) -> Result<bool, StateError> {
        let what = || format!("commit operation {op} on extension {id}");
        let mut conn = self.conn();
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| self.err(what(), e))?;
        self.check_owner(&tx, op, id)?;
        let removed = delete(&tx, id).map_err(|e| self.err(what(), e))?;
        close(&tx, op, Outcome::Committed).map_err(|e| self.err(what(), e))?;
        tx.commit().map_err(|e| self.err(what(), e))?;
        Ok(removed)
    }

    /// Every unfinished operation, oldest first, with its steps.
    pub fn unfinished(&self) -> Result<Vec<PendingOp>, StateError> {
        let raws = {
            let mut conn = self.conn();
            read_ops(
                &mut conn,
                &format!("SELECT {OP_COLUMNS} FROM ops WHERE outcome IS NULL ORDER BY id"),
                [],
            )
            .map_err(|e| self.err("read the unfinished operations", e))?
        };
        raws.into_iter()
            .map(|raw| {
                let owner_start = raw.pid_start.and_then(|s| u64::try_from(s).ok());
                Ok(PendingOp {
                    record: self.decode_op(raw)?,
                    owner_start,
                })
            })
            .collect()
    }

    /// The last `limit` operations on `extension`, newest first.
    pub fn history(
        &self,
        extension: &ExtensionId,
        limit: usize,
    ) -> Result<Vec<OpRecord>, StateError> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let raws = {
            let mut conn = self.conn();
            read_ops(
                &mut conn,
                &format!(
                    "SELECT {OP_COLUMNS} FROM ops WHERE extension = ?1 ORDER BY id DESC LIMIT ?2"
                ),
                params![extension.as_str(), limit],
            )
            .map_err(|e| self.err(format!("read the history of extension {extension}"), e))?
        };
        raws.into_iter().map(|raw| self.decode_op(raw)).collect()
    }

    /// Refuses unless `op` is open and belongs to `id`.
    fn check_owner(&self, conn: &Connection, op: OpId, id: &ExtensionId) -> Result<(), StateError> {
        let owner: Option<String> = optional_row(
            conn,
            "SELECT extension FROM ops WHERE id = ?1 AND outcome IS NULL",
            [op.0],
            |row| row.get(0),
        )
        .map_err(|e| self.err(format!("read operation {op}"), e))?;
        match owner {
            None => Err(StateError::OpNotOpen { op }),
            Some(owner) if owner != id.as_str() => Err(self.corrupt(
                format!("operation {op}"),
                format!("it changes extension {owner}, not {id}: this is a bug in dockhand"),
            )),
            Some(_) => Ok(()),
        }
    }

    fn decode_op(&self, raw: RawOp) -> Result<OpRecord, StateError> {
        let what = format!("operation {}", raw.id);
        let bad = |detail: String| self.corrupt(what.clone(), detail);
        let json = |text: &str, field: &str| {
            serde_json::from_str::<Value>(text).map_err(|e| bad(format!("{field}: {e}")))
        };
        let steps = raw
            .steps
            .iter()
            .map(|(name, data)| Ok((name.clone(), json(data, &format!("step {name}"))?)))
            .collect::<Result<_, StateError>>()?;
        Ok(OpRecord {
            id: OpId(raw.id),
            extension: ExtensionId::parse(&raw.extension).map_err(|e| bad(e.to_string()))?,
            kind: OpKind::parse(&raw.kind).ok_or_else(|| bad(format!("kind {}", raw.kind)))?,
            data: json(&raw.data, "data")?,
            steps,
            started_at: raw.started_at,
            finished_at: raw.finished_at,
            outcome: match raw.outcome {
                Some(o) => Some(Outcome::parse(&o).ok_or_else(|| bad(format!("outcome {o}")))?),
                None => None,
            },
            pid: u32::try_from(raw.pid).map_err(|_| bad(format!("pid {}", raw.pid)))?,
        })
    }
}

/// Marks `op` finished; `false` when it was not open.
fn close(conn: &Connection, op: OpId, outcome: Outcome) -> rusqlite::Result<bool> {
    let mut stmt = conn.prepare_cached(
        "UPDATE ops SET outcome = ?2, finished_at = ?3 WHERE id = ?1 AND outcome IS NULL",
    )?;
    Ok(stmt.execute(params![op.0, outcome.as_str(), unix_now()])? > 0)
}

/// The ops `sql` selects, each with its steps, read in one snapshot.
fn read_ops(
    conn: &mut Connection,
    sql: &str,
    params: impl rusqlite::Params,
) -> rusqlite::Result<Vec<RawOp>> {
    let tx = conn.transaction()?;
    let mut ops = {
        let mut stmt = tx.prepare_cached(sql)?;
        let rows = stmt.query_map(params, RawOp::read)?;
        rows.collect::<rusqlite::Result<Vec<_>>>()?
    };
    {
        let mut stmt =
            tx.prepare_cached("SELECT step, data FROM op_steps WHERE op = ?1 ORDER BY seq")?;
        for op in &mut ops {
            let rows = stmt.query_map([op.id], |row| Ok((row.get(0)?, row.get(1)?)))?;
            op.steps = rows.collect::<rusqlite::Result<_>>()?;
        }
    }
    tx.commit()?;
    Ok(ops)
}

/// Whether process `pid`, started at `start` (when known), still runs.
pub(crate) fn process_alive(pid: u32, start: Option<u64>) -> bool {
    if !Path::new("/proc/self/stat").exists() {
        return true;
    }
    match process_stat(pid) {
        None => false,
        Some(('Z' | 'X' | 'x', _)) => false,
        Some((_, now)) => start.is_none_or(|s| s == now),
    }
}

/// The start time of process `pid` (clock ticks since boot), which tells it
/// from a later process with the same pid.
pub(crate) fn process_start(pid: u32) -> Option<u64> {
    process_stat(pid).map(|(_, start)| start)
}

/// `(state, starttime)` of `pid` from `/proc/<pid>/stat`.
fn process_stat(pid: u32) -> Option<(char, u64)> {
    parse_stat(&fs_err::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// Fields 3 (state) and 22 (starttime) of a `/proc/<pid>/stat` line. The
/// command name (field 2) is in parentheses and may hold spaces and `)`.
fn parse_stat(text: &str) -> Option<(char, u64)> {
    let rest = &text[text.rfind(')')? + 1..];
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let start = fields.nth(18)?.parse().ok()?;
    Some((state, start))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{begin_install, id, sample, temp_state};
    use super::*;
    use serde_json::json;

    #[test]
    fn stat_line_is_parsed_past_odd_command_names() {
        let line = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 \
                    987654 12345 67 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0";
        assert_eq!(parse_stat(line), Some(('S', 987_654)));
        assert_eq!(parse_stat("garbage"), None);
        assert_eq!(parse_stat("1 (x) R 1 2"), None);
    }

    #[test]
    fn this_process_is_alive_and_a_reused_pid_is_not() {
        let me = std::process::id();
        let start = process_stat(me).map(|(_, s)| s);
        assert!(process_alive(me, start));
        assert!(process_alive(me, None));
        if let Some(start) = start {
            assert!(!process_alive(me, Some(start + 1)), "another start time");
        }
    }

    #[test]
    fn an_exited_process_is_dead() {
        if !Path::new("/proc/self/stat").exists() {
            return;
        }
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        assert!(!process_alive(pid, None));
    }

    #[test]
    fn begin_records_this_process() {
        let (_tmp, state) = temp_state();
        let op = state
            .begin(
                &id("acme/ext"),
                OpKind::Install,
                json!({"ref": "acme/ext:1"}),
            )
            .unwrap();
        let pending = state.unfinished().unwrap();
        assert_eq!(pending.len(), 1);
        let p = &pending[0];
        assert_eq!(p.record.id, op);
        assert_eq!(p.record.pid, std::process::id());
        assert_eq!(p.record.data, json!({"ref": "acme/ext:1"}));
        assert!(p.owner_alive());
        assert!(p.record.started_at > 1_600_000_000);
        assert_eq!(p.last_step(), None);
    }

    /// A record whose serialization fails, as a map with non-string keys does.
    struct Unserializable;

    impl serde::Serialize for Unserializable {
        fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
            Err(serde::ser::Error::custom("the record cannot be written"))
        }
    }

    #[test]
    fn a_record_that_does_not_serialize_is_an_error_not_null() {
        let (_tmp, state) = temp_state();
        let ext = id("acme/ext");
        let err = state
            .begin(&ext, OpKind::Install, Unserializable)
            .unwrap_err();
        assert!(matches!(err, StateError::Payload { .. }), "{err:?}");
        let message = err.to_string();
        assert!(
            message.contains("begin the install of extension acme/ext")
                && message.contains("the record cannot be written"),
            "{message}"
        );
        // Nothing was journalled: the extension is free for the next operation.
        assert!(state.unfinished().unwrap().is_empty());
        let op = state.begin(&ext, OpKind::Install, json!({})).unwrap();
        let err = state.step(op, "unpacked", Unserializable).unwrap_err();
        assert!(matches!(err, StateError::Payload { .. }), "{err:?}");
        let p = state.unfinished().unwrap().remove(0);
        assert!(p.record.steps.is_empty(), "{:?}", p.record.steps);
        let bad_keys: std::collections::BTreeMap<Vec<u8>, u8> = [(vec![1], 1)].into();
        let err = state.step(op, "unpacked", &bad_keys).unwrap_err();
        assert!(matches!(err, StateError::Payload { .. }), "{err:?}");
    }

    #[test]
    fn steps_are_numbered_in_order_and_refused_after_finish() {
        let (_tmp, state) = temp_state();
        let op = state
            .begin(&id("acme/ext"), OpKind::Update, json!(null))
            .unwrap();
        for (i, name) in ["fetch", "stage", "switch"].iter().enumerate() {
            state.step(op, name, json!({ "n": i })).unwrap();
        }
        let p = state.unfinished().unwrap().remove(0);
        let names: Vec<_> = p.record.steps.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["fetch", "stage", "switch"]);
        assert_eq!(p.record.steps[2].1, json!({"n": 2}));
        assert_eq!(p.last_step(), Some("switch"));

        state.finish(op, Outcome::RolledBack).unwrap();
        assert!(matches!(
            state.step(op, "late", json!(null)),
            Err(StateError::OpNotOpen { .. })
        ));
        assert!(matches!(
            state.finish(op, Outcome::Committed),
            Err(StateError::OpNotOpen { .. })
        ));
        assert!(matches!(
            state.finish(OpId(9999), Outcome::Committed),
            Err(StateError::OpNotOpen { .. })
        ));
    }

    #[test]
    fn commit_put_saves_the_record_and_closes_the_op() {
        let (tmp, state) = temp_state();
        let rec = sample(tmp.path(), "acme/ext");
        let op = state.begin(&rec.id, OpKind::Install, json!({})).unwrap();
        state.commit_put(op, &rec).unwrap();
        assert_eq!(state.get(&rec.id).unwrap(), Some(rec.clone()));
        assert!(state.unfinished().unwrap().is_empty());
        let h = state.history(&rec.id, 10).unwrap();
        assert_eq!(h[0].outcome, Some(Outcome::Committed));
        assert!(h[0].finished_at.is_some());

        // The wrong extension is refused and changes nothing.
        let op = begin_install(&state, "acme/other");
        let err = state.commit_put(op, &rec).unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err}");
        assert_eq!(state.unfinished().unwrap().len(), 1);

        // Uninstall.
        state.finish(op, Outcome::RolledBack).unwrap();
        let op = state.begin(&rec.id, OpKind::Uninstall, json!({})).unwrap();
        assert!(state.commit_remove(op, &rec.id).unwrap());
        assert_eq!(state.get(&rec.id).unwrap(), None);
        assert!(matches!(
            state.commit_remove(op, &rec.id),
            Err(StateError::OpNotOpen { .. })
        ));
    }

    #[test]
    fn history_is_newest_first_and_limited() {
        let (_tmp, state) = temp_state();
        let ext = id("acme/ext");
        let mut ops = vec![];
        for kind in [OpKind::Install, OpKind::Update, OpKind::Uninstall] {
            let op = state.begin(&ext, kind, json!({})).unwrap();
            state.step(op, "s", json!(1)).unwrap();
            state.finish(op, Outcome::Committed).unwrap();
            ops.push(op);
        }
        begin_install(&state, "acme/other");
        let h = state.history(&ext, 2).unwrap();
        assert_eq!(h.len(), 2);
        assert_eq!(h[0].id, ops[2]);
        assert_eq!(h[0].kind, OpKind::Uninstall);
        assert_eq!(h[1].id, ops[1]);
        assert_eq!(h[1].steps, vec![("s".to_owned(), json!(1))]);
        assert_eq!(state.history(&ext, 0).unwrap(), vec![]);
    }

    #[test]
    fn the_unique_index_backs_the_refusal() {
        let (_tmp, state) = temp_state();
        begin_install(&state, "acme/ext");
        let err = state
            .conn()
            .execute(
                "INSERT INTO ops (extension, kind, data, started_at, pid) \
                 VALUES ('acme/ext', 'update', '{}', 0, 1)",
                [],
            )
            .unwrap_err();
        assert_eq!(
            err.sqlite_error_code(),
            Some(rusqlite::ErrorCode::ConstraintViolation)
        );
    }
}
