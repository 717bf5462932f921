//! `dockhand completion SHELL`: a completion script from the clap definition.

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;

use crate::args::{Cli, CompletionArgs, Shell};

pub fn run(args: &CompletionArgs) -> Result<ExitCode> {
    let mut command = Cli::command();
    let shell = match args.shell {
        Shell::Bash => clap_complete::Shell::Bash,
        Shell::Zsh => clap_complete::Shell::Zsh,
        Shell::Fish => clap_complete::Shell::Fish,
    };
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "dockhand", &mut out);
    crate::output::raw(&out)?;
    Ok(ExitCode::SUCCESS)
}
