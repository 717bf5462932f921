//! `ssh://[user@]host[:port][/socket]` engines, reached as the docker CLI
//! reaches them: the system `ssh` (its config, keys, agent and known hosts)
//! runs `docker system dial-stdio` on the far side, and the HTTP connection
//! to the engine is that process's standard input and output. One ssh per
//! connection; the client keeps idle connections for the next request, so a
//! command makes one or two of them. A socket path after the host is given
//! to the far side's docker as `--host unix://PATH`.
//!
//! ssh runs in batch mode: no password or passphrase prompt (dockhand may
//! run without a terminal), so the key must come from the agent or from a
//! key file without a passphrase.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::process::Stdio;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::HostError;

/// The program run for ssh engines (found on `PATH`, as the docker CLI does).
pub const SSH_PROGRAM: &str = "ssh";
/// How long the diagnosis of a failed ssh engine may take.
const DIAGNOSE_TIMEOUT: Duration = Duration::from_secs(40);

/// An ssh engine address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    /// The login name, when given.
    pub user: Option<String>,
    /// The host (an IPv6 address without brackets).
    pub host: String,
    /// The port, when given.
    pub port: Option<u16>,
    /// The engine socket on the far side, when given (`ssh://host/run/docker.sock`).
    pub socket: Option<String>,
}

impl SshTarget {
    /// Parses `ssh://[user@]host[:port][/path]`, refusing what the docker
    /// CLI refuses (a password, a query) and anything that ssh could read
    /// as an option.
    pub fn parse(address: &str) -> Result<Self, HostError> {
        let bad = |why: &str| HostError::malformed(address, why);
        let rest = address
            .strip_prefix("ssh://")
            .ok_or_else(|| bad("not ssh://"))?;
        if rest.contains('?') || rest.contains('#') {
            return Err(bad("a query or fragment after the host is not supported"));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], Some(&rest[i..])),
            None => (rest, None),
        };
        let (user, hostport) = match authority.rsplit_once('@') {
            Some((user, hostport)) => (Some(user), hostport),
            None => (None, authority),
        };
        if let Some(user) = user {
            if user.contains(':') {
                return Err(bad(
                    "a password in the address is not supported: use an ssh key (ssh-agent or IdentityFile)",
                ));
            }
            if user.is_empty()
                || user.starts_with('-')
                || !user
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
            {
                return Err(bad("the user name is not a valid login name"));
            }
        }
        let (host, port) = match crate::host::split_port(hostport) {
            Some((host, port)) => {
                let port: u16 = port
                    .parse()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("the port is not a number from 1 to 65535"))?;
                (host, Some(port))
            }
            None => (hostport, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(bad("no host"));
        }
        if host.starts_with('-')
            || !host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '%'))
        {
            return Err(bad("the host is not a host name or IP address"));
        }
        let socket = match path {
            None | Some("/") => None,
            Some(p) => {
                let ok = p
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '_' | '-'))
                    && !p.split('/').any(|part| part == "..");
                if !ok {
                    return Err(bad(
                        "the socket path after the host may hold only letters, digits, `/`, `.`, `_` and `-`",
                    ));
                }
                Some(p.to_owned())
            }
        };
        Ok(Self {
            user: user.map(str::to_owned),
            host: host.to_owned(),
            port,
            socket,
        })
    }

    /// ssh's arguments for running `remote` on the far side.
    pub fn ssh_args(&self, remote: &[&str]) -> Vec<String> {
        let mut args: Vec<String> = ["-o", "ConnectTimeout=30", "-o", "BatchMode=yes", "-T"]
            .map(str::to_owned)
            .to_vec();
        if let Some(user) = &self.user {
            args.extend(["-l".to_owned(), user.clone()]);
        }
        if let Some(port) = self.port {
            args.extend(["-p".to_owned(), port.to_string()]);
        }
        args.push("--".to_owned());
        args.push(self.host.clone());
        args.extend(remote.iter().map(|s| (*s).to_owned()));
        args
    }

    /// ssh's arguments for `docker system dial-stdio` on the far side.
    pub fn dial_args(&self) -> Vec<String> {
        let host_flag = self.socket.as_ref().map(|s| format!("unix://{s}"));
        let mut remote = vec!["docker"];
        if let Some(flag) = &host_flag {
            remote.extend(["--host", flag.as_str()]);
        }
        remote.extend(["system", "dial-stdio"]);
        self.ssh_args(&remote)
    }

    /// The ssh command line, for messages.
    pub fn command_line(&self) -> String {
        std::iter::once(SSH_PROGRAM.to_owned())
            .chain(self.dial_args())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

impl fmt::Display for SshTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ssh://")?;
        if let Some(user) = &self.user {
            write!(f, "{user}@")?;
        }
        if self.host.contains(':') {
            write!(f, "[{}]", self.host)?;
        } else {
            f.write_str(&self.host)?;
        }
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        if let Some(socket) = &self.socket {
            f.write_str(socket)?;
        }
        Ok(())
    }
}

/// Starts one `ssh … docker system dial-stdio` per connection.
#[derive(Debug, Clone)]
pub(crate) struct SshConnector {
    args: Arc<Vec<String>>,
}

/// One connection: the ssh process's standard input and output. Dropping
/// it kills the process.
#[derive(Debug)]
pub(crate) struct SshStream {
    _child: Child,
    stdin: TokioIo<ChildStdin>,
    stdout: TokioIo<ChildStdout>,
}

impl tower_service::Service<hyper::Uri> for SshConnector {
    type Response = SshStream;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = Result<SshStream, std::io::Error>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: hyper::Uri) -> Self::Future {
        let spawned = Command::new(SSH_PROGRAM)
            .args(self.args.iter())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn();
        Box::pin(async move {
            let mut child = spawned?;
            let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
                return Err(std::io::Error::other("ssh started without its pipes"));
            };
            Ok(SshStream {
                _child: child,
                stdin: TokioIo::new(stdin),
                stdout: TokioIo::new(stdout),
            })
        })
    }
}

impl Connection for SshStream {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for SshStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for SshStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.stdin).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdin).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.stdin).poll_shutdown(cx)
    }
}

/// The hyper client whose connections are ssh processes (kept alive and
/// shared by every bollard client made from it).
pub(crate) fn hyper_client(target: &SshTarget) -> Arc<Client<SshConnector, crate::tls::Body>> {
    let connector = SshConnector {
        args: Arc::new(target.dial_args()),
    };
    Arc::new(Client::builder(TokioExecutor::new()).build(connector))
}

/// The name bollard's requests carry over ssh: the engine never sees it,
/// dial-stdio passes bytes on.
pub(crate) const SSH_BASE: &str = "http://docker.ssh";

/// Why `target` does not answer, found by running the same ssh command
/// alone and reading what ssh and the far side said, with the fix; `None`
/// when that run succeeds (the failure was elsewhere).
pub(crate) async fn diagnose(target: &SshTarget) -> Option<String> {
    let run = Command::new(SSH_PROGRAM)
        .args(target.dial_args())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .output();
    Some(match tokio::time::timeout(DIAGNOSE_TIMEOUT, run).await {
        Err(_) => format!(
            "`{}` did not finish within {} s: check that it works by hand",
            target.command_line(),
            DIAGNOSE_TIMEOUT.as_secs()
        ),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::NotFound => format!(
            "there is no `{SSH_PROGRAM}` program on this machine: install the OpenSSH client (Debian: apt-get install openssh-client)"
        ),
        Ok(Err(e)) => format!("cannot run {SSH_PROGRAM}: {e}"),
        Ok(Ok(out)) if out.status.success() => return None,
        Ok(Ok(out)) => explain(
            target,
            out.status.code(),
            &String::from_utf8_lossy(&out.stderr),
        ),
    })
}

/// What an ssh run's exit code and standard error mean.
fn explain(target: &SshTarget, code: Option<i32>, stderr: &str) -> String {
    let said: Vec<&str> = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with("Warning: Permanently added"))
        .collect();
    let said = said[said.len().saturating_sub(3)..].join("; ");
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(" ({said})")
    };
    let host = &target.host;
    let no_docker = code == Some(127)
        || stderr.contains("docker: not found")
        || stderr.contains("docker: command not found");
    if no_docker {
        return format!(
            "the ssh host {host} has no `docker` command{said}: install the docker CLI there, or put its directory on the PATH that non-interactive ssh sessions get (sshd's SetEnv, or ~/.ssh/environment with PermitUserEnvironment); dockhand runs `docker system dial-stdio` on the far side, as the docker CLI does"
        );
    }
    match code {
        Some(255) => format!(
            "ssh could not log in to {host}{said}: check that `{}` works without a prompt; dockhand runs ssh in batch mode, so use a key from ssh-agent or a key file without a passphrase (IdentityFile in ~/.ssh/config) and a known host key",
            target.command_line()
        ),
        None => format!("ssh to {host} was killed by a signal{said}"),
        Some(code) => format!(
            "`docker system dial-stdio` on {host} exited with status {code}{said}: check that an engine runs there (`ssh {host} docker version`){}",
            if target.socket.is_some() {
                " and that the socket path after the host is right"
            } else {
                ""
            }
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<SshTarget, HostError> {
        SshTarget::parse(s)
    }

    #[test]
    fn parses_the_docker_cli_forms() {
        let t = parse("ssh://me@box").unwrap();
        let want = SshTarget {
            user: Some("me".into()),
            host: "box".into(),
            port: None,
            socket: None,
        };
        assert_eq!(t, want);
        let t = parse("ssh://box:2222/run/user/1000/docker.sock").unwrap();
        let want = SshTarget {
            user: None,
            host: "box".into(),
            port: Some(2222),
            socket: Some("/run/user/1000/docker.sock".into()),
        };
        assert_eq!(t, want);
        assert_eq!(
            t.dial_args(),
            [
                "-o",
                "ConnectTimeout=30",
                "-o",
                "BatchMode=yes",
                "-T",
                "-p",
                "2222",
                "--",
                "box",
                "docker",
                "--host",
                "unix:///run/user/1000/docker.sock",
                "system",
                "dial-stdio"
            ]
        );
        assert_eq!(t.to_string(), "ssh://box:2222/run/user/1000/docker.sock");
        let t = parse("ssh://root@[::1]:22").unwrap();
        assert_eq!(t.host, "::1");
        assert_eq!(t.to_string(), "ssh://root@[::1]:22");
        assert!(t.dial_args().contains(&"::1".to_owned()));
        assert_eq!(parse("ssh://box/").unwrap().socket, None);
    }

    #[test]
    fn refuses_what_ssh_could_read_as_an_option_or_a_shell_word() {
        for bad in [
            "ssh://",
            "ssh://me@",
            "ssh://me:secret@box",
            "ssh://-oProxyCommand=x",
            "ssh://-l@box",
            "ssh://box:0",
            "ssh://box:ssh",
            "ssh://box?x=1",
            "ssh://box/run/docker.sock;reboot",
            "ssh://box/run/$(id)",
            "ssh://box/../etc/x",
            "ssh://b ox",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let e = parse("ssh://me:secret@box").unwrap_err().to_string();
        assert!(e.contains("ssh key"), "{e}");
    }

    #[test]
    fn explains_a_far_side_without_docker_and_a_failed_login() {
        let t = parse("ssh://root@127.0.0.1:2222").unwrap();
        let e = explain(&t, Some(127), "sh: 1: docker: not found\n");
        assert!(e.contains("has no `docker` command"), "{e}");
        assert!(e.contains("docker: not found"), "{e}");
        assert!(e.contains("install the docker CLI there"), "{e}");
        let e = explain(
            &t,
            Some(255),
            "Warning: Permanently added '[127.0.0.1]:2222' (ED25519) to the list of known hosts.\nroot@127.0.0.1: Permission denied (publickey).\n",
        );
        assert!(e.contains("could not log in"), "{e}");
        assert!(e.contains("Permission denied (publickey)"), "{e}");
        assert!(!e.contains("Permanently added"), "{e}");
        assert!(e.contains("batch mode"), "{e}");
        let e = explain(&t, Some(1), "Cannot connect to the Docker daemon\n");
        assert!(e.contains("exited with status 1"), "{e}");
    }
}
