//! `dockhand man`: the man page, rendered from the clap definition.

use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::args::{Cli, ManArgs};

pub fn run(args: &ManArgs) -> Result<ExitCode> {
    let command = Cli::command();
    match &args.dir {
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(command)
                .render(&mut out)
                .context("cannot render the man page")?;
            crate::output::raw(&out)?;
        }
        Some(dir) => {
            fs_err::create_dir_all(dir)?;
            clap_mangen::generate_to(command, dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
            crate::output::data(&format!(
                "wrote the man pages into {} (read one with `man -l {}/dockhand.1`)",
                dir.display(),
                dir.display()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}
