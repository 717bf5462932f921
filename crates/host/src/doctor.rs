//! `doctor`: checks the engine, compose and the state, repairs interrupted
//! operations and leftovers, and says what it did: the report here, the
//! checks in [`crate::Manager::doctor`].

use serde::Serialize;

/// How a check went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Fine.
    Ok,
    /// Something was wrong and doctor fixed it.
    Repaired,
    /// Something is wrong; the detail says what to do.
    Problem,
    /// Worth knowing but not a failure (a backend that has not created its
    /// socket yet); the detail says what it means.
    Warning,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// What was checked.
    pub name: String,
    /// How it went.
    pub status: Status,
    /// What was found or done.
    pub detail: String,
}

/// What doctor found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The checks, in order.
    pub checks: Vec<Check>,
}

impl Report {
    pub(crate) fn add(&mut self, name: &str, status: Status, detail: impl Into<String>) {
        self.checks.push(Check {
            name: name.to_owned(),
            status,
            detail: detail.into(),
        });
    }

    /// True when no problem is left.
    pub fn healthy(&self) -> bool {
        !self.checks.iter().any(|c| c.status == Status::Problem)
    }
}
