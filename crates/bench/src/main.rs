//! dockhand-bench: dockhand's benchmarks.
//!
//! `dockhand-bench SUITE` runs one suite and prints one table per
//! measurement: dockhand's number, a baseline measured in the same run, their
//! ratio, the target and whether it was met. Targets are checked here, never
//! as timed assertions in tests. A missed target is reported, not an error:
//! the exit status is 0 unless something failed. Run it through
//! `scripts/bench SUITE`, which starts the components the suites need.

mod curl;
mod http;
mod measure;
mod serve;
mod suites;
mod support;
mod table;

use std::process::ExitCode;

use anyhow::{Context, Result, bail};

use crate::measure::Plan;
use crate::suites::{Options, SUITES};

const USAGE: &str = "\
usage: dockhand-bench [SUITE] [--runs N] [--warmup N]

Runs one benchmark suite and prints a table per measurement. Without SUITE,
lists the suites.

  --runs N     timed runs per contender (default 5; the median is reported)
  --warmup N   untimed runs per contender first (default 1)";

/// A progress line on stderr (stdout carries only the tables).
pub fn progress(msg: &str) {
    eprintln!("bench: {msg}");
}

fn list() {
    println!("suites (run one with scripts/bench SUITE):");
    let w = SUITES.iter().map(|s| s.name.len()).max().unwrap_or(0);
    for s in SUITES {
        println!("  {:<w$}  {}", s.name, s.about);
        println!("  {:<w$}  needs: {}", "", s.needs);
    }
}

fn count(flag: &str, value: Option<String>) -> Result<usize> {
    let v = value.with_context(|| format!("{flag} needs a number"))?;
    v.parse()
        .with_context(|| format!("{flag} `{v}` is not a number"))
}

fn run() -> Result<ExitCode> {
    let mut suite = None;
    let mut plan = Plan { runs: 5, warmup: 1 };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "-h" | "--help" => {
                println!("{USAGE}");
                return Ok(ExitCode::SUCCESS);
            }
            "--runs" => plan.runs = count("--runs", args.next())?.max(1),
            "--warmup" => plan.warmup = count("--warmup", args.next())?,
            s if s.starts_with('-') => bail!("unknown option `{s}`\n{USAGE}"),
            s if suite.is_none() => suite = Some(s.to_owned()),
            s => bail!("unexpected argument `{s}`: give one suite\n{USAGE}"),
        }
    }
    let Some(name) = suite else {
        list();
        return Ok(ExitCode::SUCCESS);
    };
    let Some(suite) = SUITES.iter().find(|s| s.name == name) else {
        let names: Vec<&str> = SUITES.iter().map(|s| s.name).collect();
        bail!("no suite `{name}`: the suites are {}", names.join(", "));
    };
    let mut report = table::Report::default();
    (suite.run)(&Options { plan }, &mut report)
        .with_context(|| format!("suite `{name}` failed"))?;
    println!("{}", report.summary());
    Ok(ExitCode::SUCCESS)
}

fn main() -> ExitCode {
    match run() {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dockhand-bench: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
