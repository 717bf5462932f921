//! `dockhand-relay`: see the library's documentation. `serve` speaks the
//! relay protocol on stdin and stdout; `listen` is the container's main
//! process (the direct transport); `idle` only waits (the main process of
//! relay containers made before `listen`).

use std::io::Write;
use std::os::fd::AsFd;
use std::path::PathBuf;
use std::process::ExitCode;

use dockhand_relay::{Ended, ListenOptions, Listener, Options, ServeError, serve};
use mio::unix::pipe::{Receiver, Sender};

const USAGE: &str = "\
usage: dockhand-relay serve [--dir DIR]
       dockhand-relay listen [--dir DIR] [--port PORT]
       dockhand-relay idle
       dockhand-relay --version | --help

serve  speak the relay protocol on stdin and stdout, connecting to the unix
       sockets in DIR (default /run/guest-services); ends when stdin ends
listen listen on 127.0.0.1:PORT (default: a free port), print a ticket line
       (the port and a random token) on stdout, and serve every connection
       that proves it knows the token as `serve` serves its stdin
idle   wait forever";

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

fn run_listen(rest: &[&str]) -> ExitCode {
    let mut opts = ListenOptions::default();
    let mut rest = rest;
    loop {
        match rest {
            [] => break,
            ["--dir", dir, more @ ..] => {
                opts.serve.dir = PathBuf::from(dir);
                rest = more;
            }
            ["--port", port, more @ ..] => match port.parse() {
                Ok(port) => {
                    opts.port = port;
                    rest = more;
                }
                Err(_) => {
                    eprintln!(
                        "dockhand-relay: --port takes a number from 0 to 65535, not {port:?}"
                    );
                    return ExitCode::from(2);
                }
            },
            _ => {
                eprintln!("dockhand-relay: unexpected arguments {rest:?}\n\n{USAGE}");
                return ExitCode::from(2);
            }
        }
    }
    let listener = match Listener::bind(opts) {
        Ok(listener) => listener,
        Err(e) => {
            eprintln!("dockhand-relay: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{}", listener.ticket().line())
        .and_then(|()| out.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    drop(out);
    listener.run()
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
        ["listen", rest @ ..] => run_listen(rest),
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
