//! `backend`: the backend of dockhand's example extensions (`examples/backend-image`,
//! `examples/backend-compose`). A std-only HTTP/1.1 server on a unix socket, small enough to
//! read in one sitting and strict enough to test dockhand's `vm.service` proxy against.
//!
//! - [`cli`]: arguments and environment.
//! - [`server`]: the socket, one thread per connection, keep-alive.
//! - [`http`]: reading requests and writing responses.
//! - [`routes`]: what each path answers (the table is there).
//! - [`engine`]: a one-request Docker Engine client for `/engine/version`.

// The workspace's clippy.toml sends file calls to fs-err; this binary has no
// dependencies on purpose (it links statically into a `FROM scratch` image and
// builds without a registry), so it keeps std::fs.
#![allow(clippy::disallowed_methods)]

mod cli;
mod engine;
mod http;
mod json;
mod routes;
mod server;

use std::process::ExitCode;
use std::sync::Arc;

use cli::Command;
use routes::{Context, VERSION};

fn main() -> ExitCode {
    let command = cli::parse(std::env::args_os().skip(1), |name| std::env::var_os(name));
    let config = match command {
        Ok(Command::Serve(config)) => config,
        Ok(Command::Version) => {
            println!("backend {VERSION}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Help) => {
            println!("{}", cli::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("backend: {message}\n\n{}", cli::USAGE);
            return ExitCode::from(2);
        }
    };
    let listener = match server::bind(&config.socket) {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!(
                "backend: cannot listen on {}: {err} (choose another path with --socket)",
                config.socket.display()
            );
            return ExitCode::FAILURE;
        }
    };
    // BACKEND_SOCKET_MODE (octal) mimics backends that leave their socket
    // with the umask's mode, as most real ones do (tests use it).
    if let Some(mode) = std::env::var("BACKEND_SOCKET_MODE")
        .ok()
        .and_then(|m| u32::from_str_radix(&m, 8).ok())
    {
        use std::os::unix::fs::PermissionsExt;
        if let Err(err) =
            std::fs::set_permissions(&config.socket, std::fs::Permissions::from_mode(mode))
        {
            eprintln!(
                "backend: cannot set mode {mode:o} on {}: {err}",
                config.socket.display()
            );
        }
    }
    eprintln!(
        "backend {VERSION}: listening on {}",
        config.socket.display()
    );
    let ctx = Arc::new(Context {
        docker_socket: config.docker_socket,
    });
    server::serve(&listener, &ctx);
    ExitCode::SUCCESS
}
