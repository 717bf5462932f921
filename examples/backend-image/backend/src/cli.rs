//! Command-line arguments and environment, resolved once into a [`Command`].

use std::ffi::OsString;
use std::path::PathBuf;

/// Where the backend listens unless told otherwise: the directory Docker Desktop (and
/// dockhand) mount into every backend container, and the socket name in `vm.exposes.socket`.
pub const DEFAULT_SOCKET: &str = "/run/guest-services/backend.sock";
/// The engine socket as extensions mount it (`/var/run/docker.sock.raw:/var/run/docker.sock`).
pub const DEFAULT_DOCKER_SOCKET: &str = "/var/run/docker.sock";

pub const USAGE: &str = "\
usage: backend [--socket PATH] [--docker-socket PATH]
       backend --version | --help

A tiny HTTP/1.1 server on a unix socket, the backend of dockhand's example extensions.

options:
  --socket PATH         the socket to listen on (env BACKEND_SOCKET;
                        default /run/guest-services/backend.sock)
  --docker-socket PATH  the Docker Engine socket behind /engine/version
                        (env BACKEND_DOCKER_SOCKET; default /var/run/docker.sock)
                        (env BACKEND_SOCKET_MODE, octal, sets the socket's mode;
                        default 0666)
  -V, --version         print the version
  -h, --help            print this help

routes: GET /hello, POST|PUT|PATCH /echo, /status/<code>, GET /healthz, GET /engine/version";

/// What to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    Serve(Config),
    Version,
    Help,
}

/// Settings for serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    pub socket: PathBuf,
    pub docker_socket: PathBuf,
}

/// Resolves arguments (without the program name) and environment: a flag wins over its
/// variable, a variable over the default. The error is a message for the user.
pub fn parse(
    args: impl IntoIterator<Item = OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<Command, String> {
    let env_path = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    let mut config = Config {
        socket: env_path("BACKEND_SOCKET").unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET)),
        docker_socket: env_path("BACKEND_DOCKER_SOCKET")
            .unwrap_or_else(|| PathBuf::from(DEFAULT_DOCKER_SOCKET)),
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let arg = arg
            .into_string()
            .map_err(|arg| format!("unexpected argument {}", arg.to_string_lossy()))?;
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let slot = match flag {
            "-V" | "--version" if inline.is_none() => return Ok(Command::Version),
            "-h" | "--help" if inline.is_none() => return Ok(Command::Help),
            "--socket" => &mut config.socket,
            "--docker-socket" => &mut config.docker_socket,
            _ => return Err(format!("unexpected argument {arg}")),
        };
        let value = match inline {
            Some(value) => OsString::from(value),
            None => args.next().ok_or_else(|| format!("{flag} needs a path"))?,
        };
        if value.is_empty() {
            return Err(format!("{flag} needs a path"));
        }
        *slot = PathBuf::from(value);
    }
    Ok(Command::Serve(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, OsString)> = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        parse(args.iter().map(OsString::from), |name| {
            env.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
        })
    }

    fn serve(socket: &str, docker_socket: &str) -> Result<Command, String> {
        Ok(Command::Serve(Config {
            socket: socket.into(),
            docker_socket: docker_socket.into(),
        }))
    }

    #[test]
    fn defaults() {
        assert_eq!(run(&[], &[]), serve(DEFAULT_SOCKET, DEFAULT_DOCKER_SOCKET));
    }

    #[test]
    fn flags_win_over_environment() {
        let env = [
            ("BACKEND_SOCKET", "/env.sock"),
            ("BACKEND_DOCKER_SOCKET", "/d.sock"),
        ];
        assert_eq!(run(&[], &env), serve("/env.sock", "/d.sock"));
        assert_eq!(
            run(&["--socket", "/a.sock", "--docker-socket=/b.sock"], &env),
            serve("/a.sock", "/b.sock")
        );
        assert_eq!(
            run(&["--socket=/a.sock"], &[("BACKEND_SOCKET", "")]),
            serve("/a.sock", DEFAULT_DOCKER_SOCKET)
        );
    }

    #[test]
    fn version_and_help() {
        assert_eq!(run(&["--version"], &[]), Ok(Command::Version));
        assert_eq!(run(&["--socket", "/x", "-V"], &[]), Ok(Command::Version));
        assert_eq!(run(&["-h"], &[]), Ok(Command::Help));
    }

    #[test]
    fn rejects_unknown_or_incomplete_arguments() {
        assert!(run(&["--nope"], &[]).is_err());
        assert!(run(&["serve"], &[]).is_err());
        assert!(run(&["--socket"], &[]).is_err());
        assert!(run(&["--socket="], &[]).is_err());
        assert!(run(&["--version=1"], &[]).is_err());
    }
}
