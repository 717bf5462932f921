//! `dockhand-relay`: see the library's documentation. `serve` speaks the
//! relay protocol on stdin and stdout; `idle` is the container's main
//! process, which only waits.

use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;

use dockhand_relay::{Ended, Options, ServeError, serve};
use mio::unix::pipe::{Receiver, Sender};

const USAGE: &str = "\
usage: dockhand-relay serve [--dir DIR]
       dockhand-relay idle
       dockhand-relay --version | --help

serve  speak the relay protocol on stdin and stdout, connecting to the unix
       sockets in DIR (default /run/guest-services); ends when stdin ends
idle   wait forever (the relay container's main process)";

/// Why a `serve` session could not run or ended in error.
#[derive(Debug, thiserror::Error)]
enum Failed {
    #[error("cannot use {what}: {source}")]
    Descriptor {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("cannot make stdin and stdout non-blocking: {0}")]
    NonBlocking(std::io::Error),
    #[error(transparent)]
    Serve(#[from] ServeError),
}

fn run_serve(dir: PathBuf) -> Result<Ended, Failed> {
    let dup = |fd: std::os::fd::BorrowedFd<'_>, what: &'static str| {
        fd.try_clone_to_owned()
            .map_err(|source| Failed::Descriptor { what, source })
    };
    let input = Receiver::from(dup(std::io::stdin().as_fd(), "stdin")?);
    let output = Sender::from(dup(std::io::stdout().as_fd(), "stdout")?);
    input
        .set_nonblocking(true)
        .and_then(|()| output.set_nonblocking(true))
        .map_err(Failed::NonBlocking)?;
    let opts = Options {
        dir,
        ..Options::default()
    };
    Ok(serve(input, output, &opts)?)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    match args.as_slice() {
        ["--version" | "-V"] => {
            println!("dockhand-relay {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        ["--help" | "-h"] => {
            println!("{USAGE}");
            ExitCode::SUCCESS
        }
        ["idle"] => loop {
            std::thread::park();
        },
        ["serve", rest @ ..] => {
            let dir = match rest {
                [] => PathBuf::from("/run/guest-services"),
                ["--dir", dir] => PathBuf::from(dir),
                _ => {
                    eprintln!("dockhand-relay: unexpected arguments {rest:?}\n\n{USAGE}");
                    return ExitCode::from(2);
                }
            };
            match run_serve(dir) {
                Ok(Ended::InputClosed | Ended::OutputClosed) => ExitCode::SUCCESS,
                Ok(ended) => {
                    eprintln!("dockhand-relay: session ended: {ended:?}");
                    ExitCode::from(3)
                }
                Err(e) => {
                    eprintln!("dockhand-relay: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        _ => {
            eprintln!("dockhand-relay: unexpected arguments {args:?}\n\n{USAGE}");
            ExitCode::from(2)
        }
    }
}
