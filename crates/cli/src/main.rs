//! The `dockhand` binary: parses the command line and runs the command.

use std::process::ExitCode;

fn main() -> ExitCode {
    dockhand::run(std::env::args_os())
}
