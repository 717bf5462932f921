//! dockhand, the command-line program: argument parsing ([`args`]), one module
//! per command ([`commands`]) and the rendering of results for people and
//! scripts ([`output`]).
//!
//! This crate is the edge: it alone reads the environment and prints. Library
//! crates below it get typed settings and return typed results.

pub mod args;
pub mod commands;
pub mod docker_plugin;
pub mod output;
pub mod settings;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

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
    let mut args: Vec<OsString> = args.into_iter().map(Into::into).collect();
    let mut command = args::Cli::command();
    if args
        .first()
        .is_some_and(|argv0| docker_plugin::is_plugin_name(argv0))
    {
        match docker_plugin::translate(&args) {
            docker_plugin::Translation::Metadata => {
                return match output::json(&docker_plugin::metadata()) {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => {
                        output::error(&e);
                        ExitCode::from(EXIT_FAILURE)
                    }
                };
            }
            docker_plugin::Translation::Refuse(message) => {
                output::error(&anyhow::anyhow!(message));
                return ExitCode::from(EXIT_USAGE);
            }
            docker_plugin::Translation::Run {
                args: translated,
                notes,
            } => {
                for note in notes {
                    output::warning(&note);
                }
                args = translated;
                command = command.bin_name("docker extension");
            }
        }
    }
    let cli = match command
        .try_get_matches_from(args)
        .and_then(|m| args::Cli::from_arg_matches(&m))
    {
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
