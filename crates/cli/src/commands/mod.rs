//! One module per command.

mod validate;
mod version;

use std::process::ExitCode;

use anyhow::Result;

use crate::args::{Cli, Command};

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Validate(args) => validate::run(&args),
        Command::Version(args) => version::run(&args),
    }
}
