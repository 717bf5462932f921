//! What install, update and uninstall share: an operation open in the
//! journal, and the hooks told about each of its steps.

use dockhand_spec::ExtensionId;

use crate::error::InstallError;
use crate::state::{OpId, OpKind, State};
use crate::{Hooks, Manager};

/// An open operation: each step is journalled before it happens, then the
/// hooks act on it (progress, failpoints).
pub(super) struct Transaction<'a> {
    state: &'a State,
    /// The operation in the journal.
    pub(super) op: OpId,
    /// Who is told along the way.
    pub(super) hooks: &'a dyn Hooks,
}

impl<'a> Transaction<'a> {
    /// An operation already in the journal, taken up again (repair).
    pub(super) fn resume(state: &'a State, op: OpId, hooks: &'a dyn Hooks) -> Self {
        Self { state, op, hooks }
    }

    /// Records `step`, then lets the hooks act on it.
    pub(super) fn step(&self, step: &str) -> Result<(), InstallError> {
        self.state.step(self.op, step, serde_json::Value::Null)?;
        self.hooks.step(step)
    }
}

impl Manager {
    /// Opens a `kind` operation on `id` with `data`, what undoing or
    /// finishing it needs.
    pub(super) fn begin<'a>(
        &'a self,
        id: &ExtensionId,
        kind: OpKind,
        data: impl serde::Serialize,
        hooks: &'a dyn Hooks,
    ) -> Result<Transaction<'a>, InstallError> {
        let op = self.state.begin(id, kind, data)?;
        Ok(Transaction::resume(&self.state, op, hooks))
    }
}
