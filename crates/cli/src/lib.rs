//! dockhand, the command-line program: argument parsing ([`args`]), one module
//! per command ([`commands`]) and the rendering of results for people and
//! scripts ([`output`]).
//!
//! This crate is the edge: it alone reads the environment and prints. Library
//! crates below it get typed settings and return typed results.

pub mod args;
pub mod commands;
pub mod output;
pub mod settings;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

/// Exit code: the operation failed or the input is invalid.
pub const EXIT_FAILURE: u8 = 1;
/// Exit code: the command line is wrong.
pub const EXIT_USAGE: u8 = 2;

/// Runs dockhand with `args` (program name first) and returns its exit code.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match commands::dispatch(cli) {
        Ok(code) => code,
        Err(e) => {
            output::error(&e);
            ExitCode::from(EXIT_FAILURE)
        }
    }
}
