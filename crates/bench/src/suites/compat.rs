//! Suite `compat`: the compatibility lab (`scripts/compat`,
//! docs/compatibility.md) with warm caches, against its budget of five
//! minutes.
//!
//! An untimed first run warms what the lab caches (the npm builds under
//! `.state/compat/`, the test binary, the lab's base image); then each timed
//! run is a whole `scripts/compat` — the UI step (hashing the sources, laying
//! out the image roots), cargo checking the test binary is fresh, and the
//! test: build, push and install every extension as the lab user, open every
//! tab in Chromium, read the call logs, remove everything. The UI step alone
//! (`scripts/compat --build-only`) is a second row. A run whose table has a
//! failing extension still counts (and a note says so): the time is the
//! lab's, its verdict the test's.

use std::cell::Cell;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use super::Options;
use crate::measure::{Contender, Plan, interleaved};
use crate::progress;
use crate::support;
use crate::table::{self, Report, Row, Table};

/// The lab's budget with warm caches.
const BUDGET: Duration = Duration::from_secs(5 * 60);

pub fn run(options: &Options, report: &mut Report) -> Result<()> {
    let script = support::repo_root().join("scripts/compat");
    // A lab run is a minute or more: at most three timed rounds, and one
    // untimed round to warm the caches whatever --warmup says.
    let plan = Plan {
        runs: options.plan.runs.min(3),
        warmup: 1,
    };
    progress("compat: each run is a whole scripts/compat (a minute or more)");
    let failing = Cell::new(0usize);
    let lab = |args: &[&str]| -> Result<Duration> {
        let start = Instant::now();
        let out = Command::new(&script)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .output()
            .with_context(|| format!("cannot run {}", script.display()))?;
        let took = start.elapsed();
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            // The lab ran and found extensions that do not work: its time counts.
            if !err.contains("do not work on dockhand") {
                bail!(
                    "scripts/compat {} failed ({}): {}",
                    args.join(" "),
                    out.status,
                    err.trim()
                );
            }
            failing.set(failing.get() + 1);
        }
        Ok(took)
    };
    let samples = {
        let mut contenders = [
            Contender::new("scripts/compat", || lab(&[])),
            Contender::new("scripts/compat --build-only", || lab(&["--build-only"])),
        ];
        interleaved(plan, &mut contenders)?
    };
    let mut t = Table::new("the compatibility lab, warm caches (scripts/compat)");
    t.row(
        Row::new("whole lab: time", table::samples(&samples[0]))
            .target("≤ 5 min", samples[0].median() <= BUDGET),
    );
    t.row(Row::new(
        "UI step (--build-only): time",
        table::samples(&samples[1]),
    ));
    t.note(plan.describe());
    if failing.get() > 0 {
        t.note(format!(
            "{} of the lab's runs reported extensions that do not work (run scripts/compat for its table)",
            failing.get()
        ));
    }
    t.note(
        "whole lab: the UI step, cargo test's freshness check, then the test: build, push and install every extension as an ordinary user, open each tab in Chromium, read the call logs, remove everything",
    );
    t.note("a cold UI build (fresh clone, empty .state/compat) takes minutes more: npm ci of eight UIs");
    report.print(&t);
    Ok(())
}
