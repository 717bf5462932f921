//! Where the engine is, parsed once: a unix socket, plain TCP, TCP with TLS
//! (`tcp://` with TLS settings, or `https://`), or ssh.
//!
//! Every program dockhand starts against the engine (compose, the docker CLI
//! of `docker.cli.exec`) gets the same engine through [`EngineHost::child_env`]:
//! `DOCKER_HOST` and, for TLS, `DOCKER_TLS_VERIFY` or `DOCKER_TLS` and
//! `DOCKER_CERT_PATH`. An ssh engine is passed on as `DOCKER_HOST=ssh://…`:
//! the child runs ssh itself, as the docker CLI does.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use bollard::{ClientVersion, Docker};

pub use crate::ssh::SshTarget;
pub use crate::tls::TlsConfig;

/// The default engine socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
/// The port of `tcp://HOST` without one, as the docker CLI defaults it.
pub const DEFAULT_TCP_PORT: u16 = 2375;
/// The port of `tcp://HOST` (with TLS) or `https://HOST` without one.
pub const DEFAULT_TLS_PORT: u16 = 2376;
const TIMEOUT_SECS: u64 = 120;

/// The ways of naming an engine, for messages.
const SCHEMES: &str = "unix:///path/to/docker.sock, tcp://HOST:PORT (TLS with DOCKER_TLS_VERIFY=1 or --tlsverify), https://HOST:PORT or ssh://[USER@]HOST[:PORT]";

/// Why an engine address is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Unknown scheme or malformed address.
    #[error("the engine address `{address}` is not understood ({why}): use {schemes}", schemes = SCHEMES)]
    Malformed {
        /// The address as given.
        address: String,
        /// What is wrong with it.
        why: String,
    },
    /// A scheme that names something dockhand cannot reach from here.
    #[error(
        "the engine address `{0}` is a Windows named pipe, which does not exist on this system: use {schemes}",
        schemes = SCHEMES
    )]
    Unsupported(String),
    /// TLS verification is on, and the CA certificate does not exist.
    #[error(
        "TLS verification is on ({}) but the CA certificate {} does not exist: set DOCKER_CERT_PATH to the directory holding the engine's ca.pem, cert.pem and key.pem, or name the CA with --tlscacert",
        if *https { "an https:// address" } else { "--tlsverify or DOCKER_TLS_VERIFY" },
        path.display()
    )]
    NoTlsCa {
        /// The CA file looked for.
        path: PathBuf,
        /// Verification is on because the address is `https://` (else a
        /// flag or `DOCKER_TLS_VERIFY` asked for it).
        https: bool,
    },
    /// A TLS file named by a flag does not exist.
    #[error(
        "the TLS {what} {} given with {option} does not exist: name an existing file",
        path.display()
    )]
    NoTlsFile {
        /// `client certificate` or `client key`.
        what: &'static str,
        /// The flag (`--tlscert`, `--tlskey`).
        option: &'static str,
        /// The file named.
        path: PathBuf,
    },
    /// A client certificate without its key.
    #[error(
        "the TLS client certificate {} has no key: {} does not exist; put key.pem beside it or name it with --tlskey",
        cert.display(),
        key.display()
    )]
    NoTlsKey {
        /// The certificate.
        cert: PathBuf,
        /// The key looked for.
        key: PathBuf,
    },
    /// A client key without its certificate.
    #[error(
        "the TLS client key {} has no certificate: {} does not exist; put cert.pem beside it or name it with --tlscert",
        key.display(),
        cert.display()
    )]
    NoTlsCert {
        /// The key.
        key: PathBuf,
        /// The certificate looked for.
        cert: PathBuf,
    },
}

impl HostError {
    pub(crate) fn malformed(address: &str, why: impl Into<String>) -> Self {
        Self::Malformed {
            address: address.to_owned(),
            why: why.into(),
        }
    }
}

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineHost {
    /// A unix socket on this machine (its engine may still run in a VM that
    /// forwards the socket: see [`crate::EngineMode`]).
    Unix(PathBuf),
    /// `tcp://host:port` without TLS.
    Tcp(String),
    /// `tcp://host:port` with TLS (`https://host:port` too).
    Tls {
        /// `host:port`.
        addr: String,
        /// Certificates and verification.
        tls: TlsConfig,
    },
    /// `ssh://[user@]host[:port][/socket]`: the system `ssh` running
    /// `docker system dial-stdio` on the far side, one ssh per connection.
    Ssh(SshTarget),
}

impl EngineHost {
    /// The engine at the default socket.
    pub fn default_socket() -> Self {
        Self::Unix(PathBuf::from(DEFAULT_SOCKET))
    }

    /// True when the address is on this machine (a unix socket, or TCP to a
    /// loopback address). Says nothing about whether the engine shares this
    /// machine's files: a socket forwarded from a VM is "on this machine"
    /// too. [`crate::Engine::mode`] answers that.
    pub fn is_local(&self) -> bool {
        match self {
            EngineHost::Unix(_) => true,
            EngineHost::Tcp(addr) | EngineHost::Tls { addr, .. } => is_loopback_addr(addr),
            EngineHost::Ssh(_) => false,
        }
    }

    /// The socket path of a unix host.
    pub fn socket_path(&self) -> Option<&Path> {
        match self {
            EngineHost::Unix(p) => Some(p),
            _ => None,
        }
    }

    /// The scheme as the user would name it: `unix`, `tcp`, `tcp+tls`, `ssh`.
    pub fn kind(&self) -> &'static str {
        match self {
            EngineHost::Unix(_) => "unix",
            EngineHost::Tcp(_) => "tcp",
            EngineHost::Tls { .. } => "tcp+tls",
            EngineHost::Ssh(_) => "ssh",
        }
    }

    /// The address for messages: the `DOCKER_HOST` value, with `(TLS)` after
    /// a TLS one.
    pub fn describe(&self) -> String {
        match self {
            EngineHost::Tls { tls, .. } if tls.verify => format!("{self} (TLS)"),
            EngineHost::Tls { .. } => format!("{self} (TLS, certificate not verified)"),
            _ => self.to_string(),
        }
    }

    /// What a program started against this engine gets in its environment
    /// (the docker CLI, compose): `DOCKER_HOST`, and for TLS
    /// `DOCKER_TLS_VERIFY=1` (or `DOCKER_TLS=1` when the certificate is not
    /// verified) and `DOCKER_CERT_PATH` (the directory holding `ca.pem`,
    /// `cert.pem` and `key.pem`). Remove [`CHILD_ENV_NAMES`] from its
    /// inherited environment first.
    pub fn child_env(&self) -> Vec<(String, String)> {
        let mut env = vec![("DOCKER_HOST".to_owned(), self.to_string())];
        if let EngineHost::Tls { tls, .. } = self {
            if tls.verify {
                env.push(("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned()));
            } else {
                env.push(("DOCKER_TLS".to_owned(), "1".to_owned()));
            }
            if let Some(dir) = &tls.cert_dir {
                env.push(("DOCKER_CERT_PATH".to_owned(), dir.display().to_string()));
            }
        }
        env
    }

    /// What makes bollard clients for this engine, at any API version: for
    /// TLS and ssh they share one connection pool, so the client made after
    /// the version negotiation reuses the connection (an ssh process, a TLS
    /// session) the first one opened.
    pub(crate) fn clients(&self) -> Result<MakeClient, crate::EngineError> {
        let host = self.describe();
        let unreachable = move |e: bollard::errors::Error| crate::EngineError::Unreachable {
            host: host.clone(),
            reason: e.to_string(),
        };
        Ok(match self {
            EngineHost::Unix(path) => {
                let path = path.to_string_lossy().into_owned();
                Box::new(move |v| {
                    Docker::connect_with_unix(&path, TIMEOUT_SECS, v).map_err(&unreachable)
                })
            }
            EngineHost::Tcp(addr) => {
                let client = crate::tls::plain_client();
                let url = format!("http://{addr}");
                Box::new(move |v| {
                    crate::tls::docker_over(&client, &url, TIMEOUT_SECS, v).map_err(&unreachable)
                })
            }
            EngineHost::Tls { addr, tls } => {
                let client =
                    crate::tls::hyper_client(tls).map_err(|e| crate::EngineError::Tls {
                        host: self.describe(),
                        reason: e.to_string(),
                    })?;
                let url = format!("https://{addr}");
                Box::new(move |v| {
                    crate::tls::docker_over(&client, &url, TIMEOUT_SECS, v).map_err(&unreachable)
                })
            }
            EngineHost::Ssh(target) => {
                let client = crate::ssh::hyper_client(target);
                Box::new(move |v| {
                    crate::tls::docker_over(&client, crate::ssh::SSH_BASE, TIMEOUT_SECS, v)
                        .map_err(&unreachable)
                })
            }
        })
    }
}

/// Makes a bollard client speaking the given API version.
pub(crate) type MakeClient =
    Box<dyn Fn(&ClientVersion) -> Result<Docker, crate::EngineError> + Send + Sync>;

/// The variables [`EngineHost::child_env`] may set, and the ones that would
/// send a child elsewhere: remove them from a child's inherited environment.
pub const CHILD_ENV_NAMES: [&str; 5] = [
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_CERT_PATH",
];

fn is_loopback_addr(addr: &str) -> bool {
    let host = split_port(addr).map_or(addr, |(h, _)| h);
    let host = host.trim_matches(['[', ']']);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// `host:port` → (`host`, `port`), where an IPv6 host is in brackets.
pub(crate) fn split_port(addr: &str) -> Option<(&str, &str)> {
    let (host, port) = addr.rsplit_once(':')?;
    if host.starts_with('[') && !host.ends_with(']') {
        // `[::1]` without a port.
        return None;
    }
    if !host.starts_with('[') && host.contains(':') {
        // A bare IPv6 address.
        return None;
    }
    Some((host, port))
}

/// Parses `host[:port]` of a tcp:// or https:// address, giving it
/// `default_port` when it has none.
pub(crate) fn tcp_addr(address: &str, rest: &str, default_port: u16) -> Result<String, HostError> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.contains('/') || rest.contains('?') || rest.contains('#') {
        return Err(HostError::malformed(
            address,
            "a path after the port is not supported",
        ));
    }
    if rest.contains('@') {
        return Err(HostError::malformed(
            address,
            "a user name belongs to ssh:// addresses only",
        ));
    }
    let (host, port) = match split_port(rest) {
        Some((host, port)) => {
            let port: u16 = port
                .parse()
                .ok()
                .filter(|p| *p > 0)
                .ok_or_else(|| HostError::malformed(address, format!("bad port `{port}`")))?;
            (host, port)
        }
        None => (rest, default_port),
    };
    if host.is_empty() || host == "[]" {
        return Err(HostError::malformed(address, "no host"));
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let ok = bare
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_' | '%'));
    if !ok || bare.starts_with('-') {
        return Err(HostError::malformed(
            address,
            format!("`{host}` is not a host name or IP address"),
        ));
    }
    // An IPv6 address keeps (or gets) its brackets.
    let host = if bare.contains(':') {
        format!("[{bare}]")
    } else {
        bare.to_owned()
    };
    Ok(format!("{host}:{port}"))
}

impl FromStr for EngineHost {
    type Err = HostError;
    /// Parses an address the way the docker CLI reads `DOCKER_HOST`;
    /// `tcp://` is plain TCP here (TLS comes from settings, see
    /// [`crate::resolve_engine`]) and `https://` is TLS verified against
    /// the public roots until settings name a CA.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let Some((scheme, rest)) = s.split_once("://") else {
            if s.starts_with('/') {
                return Ok(Self::Unix(PathBuf::from(s)));
            }
            return Err(HostError::malformed(s, "no scheme"));
        };
        match scheme {
            "unix" => {
                if !rest.starts_with('/') {
                    return Err(HostError::malformed(
                        s,
                        "a unix socket needs an absolute path",
                    ));
                }
                Ok(Self::Unix(PathBuf::from(rest)))
            }
            "tcp" | "http" => Ok(Self::Tcp(tcp_addr(s, rest, DEFAULT_TCP_PORT)?)),
            "https" => Ok(Self::Tls {
                addr: tcp_addr(s, rest, DEFAULT_TLS_PORT)?,
                tls: TlsConfig::public_roots(),
            }),
            "ssh" => Ok(Self::Ssh(SshTarget::parse(s)?)),
            "npipe" => Err(HostError::Unsupported(s.to_owned())),
            other => Err(HostError::malformed(s, format!("unknown scheme `{other}`"))),
        }
    }
}

impl fmt::Display for EngineHost {
    /// The `DOCKER_HOST` value that names this engine for the docker CLI
    /// (TLS ones as `tcp://`: the TLS settings travel in other variables).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineHost::Unix(p) => write!(f, "unix://{}", p.display()),
            EngineHost::Tcp(a) | EngineHost::Tls { addr: a, .. } => write!(f, "tcp://{a}"),
            EngineHost::Ssh(t) => t.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<EngineHost, HostError> {
        s.parse()
    }

    #[test]
    fn parses_hosts() {
        assert_eq!(
            parse("unix:///run/d.sock"),
            Ok(EngineHost::Unix("/run/d.sock".into()))
        );
        assert_eq!(
            parse("tcp://127.0.0.1:2375"),
            Ok(EngineHost::Tcp("127.0.0.1:2375".into()))
        );
        assert_eq!(
            parse("tcp://box"),
            Ok(EngineHost::Tcp("box:2375".into())),
            "the docker CLI's default port"
        );
        assert_eq!(
            parse("tcp://[::1]:2375/"),
            Ok(EngineHost::Tcp("[::1]:2375".into()))
        );
        assert!(parse("tcp://127.0.0.1:2375").unwrap().is_local());
        assert!(!parse("tcp://10.1.1.1:2375").unwrap().is_local());
        assert!(parse("tcp://[::1]:2375").unwrap().is_local());
        let https = parse("https://engine.example:2376").unwrap();
        assert!(matches!(
            &https,
            EngineHost::Tls { addr, tls } if addr == "engine.example:2376" && tls.verify && tls.ca.is_none()
        ));
        assert_eq!(https.to_string(), "tcp://engine.example:2376");
        assert_eq!(
            parse("https://engine.example").unwrap().to_string(),
            "tcp://engine.example:2376"
        );
        assert_eq!(
            EngineHost::default_socket().to_string(),
            "unix:///var/run/docker.sock"
        );
        let ssh = parse("ssh://me@box:2222").unwrap();
        assert_eq!(ssh.to_string(), "ssh://me@box:2222");
        assert!(!ssh.is_local());
    }

    #[test]
    fn refuses_what_it_cannot_reach_and_says_how_to_name_an_engine() {
        for bad in [
            "unix://",
            "unix://relative.sock",
            "tcp://",
            "tcp://:2375",
            "tcp://host:notaport",
            "tcp://host:0",
            "tcp://host:2375/base",
            "tcp://me@host:2375",
            "tcp://-oProxy:1",
            "ftp://x",
            "docker.sock",
            "ssh://",
        ] {
            let e = parse(bad).unwrap_err();
            assert!(matches!(e, HostError::Malformed { .. }), "{bad}: {e:?}");
            let text = e.to_string();
            assert!(text.contains(bad), "{text}");
            assert!(text.contains("ssh://[USER@]HOST"), "{text}");
        }
        let e = parse("ftp://x").unwrap_err().to_string();
        assert!(e.contains("unknown scheme `ftp`"), "{e}");
        assert!(matches!(
            parse("npipe:////./pipe/docker_engine"),
            Err(HostError::Unsupported(_))
        ));
    }

    #[test]
    fn children_get_the_same_engine() {
        let env = |h: &EngineHost| h.child_env();
        assert_eq!(
            env(&parse("unix:///run/d.sock").unwrap()),
            [("DOCKER_HOST".to_owned(), "unix:///run/d.sock".to_owned())]
        );
        let tls = EngineHost::Tls {
            addr: "127.0.0.1:2376".into(),
            tls: TlsConfig {
                verify: true,
                ca: Some("/c/ca.pem".into()),
                client: Some(("/c/cert.pem".into(), "/c/key.pem".into())),
                cert_dir: Some("/c".into()),
            },
        };
        assert_eq!(
            env(&tls),
            [
                ("DOCKER_HOST".to_owned(), "tcp://127.0.0.1:2376".to_owned()),
                ("DOCKER_TLS_VERIFY".to_owned(), "1".to_owned()),
                ("DOCKER_CERT_PATH".to_owned(), "/c".to_owned()),
            ]
        );
        assert_eq!(tls.describe(), "tcp://127.0.0.1:2376 (TLS)");
        let insecure = EngineHost::Tls {
            addr: "127.0.0.1:2376".into(),
            tls: TlsConfig {
                verify: false,
                ..TlsConfig::public_roots()
            },
        };
        assert_eq!(
            env(&insecure),
            [
                ("DOCKER_HOST".to_owned(), "tcp://127.0.0.1:2376".to_owned()),
                ("DOCKER_TLS".to_owned(), "1".to_owned()),
            ]
        );
        let ssh = parse("ssh://root@127.0.0.1:2222").unwrap();
        assert_eq!(
            env(&ssh),
            [(
                "DOCKER_HOST".to_owned(),
                "ssh://root@127.0.0.1:2222".to_owned()
            )]
        );
        for (name, _) in env(&tls) {
            assert!(CHILD_ENV_NAMES.contains(&name.as_str()), "{name}");
        }
    }

    /// The TLS errors say what they said as text before they were typed.
    #[test]
    fn tls_errors_keep_their_messages() {
        let e = HostError::NoTlsCa {
            path: "/c/ca.pem".into(),
            https: false,
        };
        assert_eq!(
            e.to_string(),
            "TLS verification is on (--tlsverify or DOCKER_TLS_VERIFY) but the CA certificate /c/ca.pem does not exist: set DOCKER_CERT_PATH to the directory holding the engine's ca.pem, cert.pem and key.pem, or name the CA with --tlscacert"
        );
        let e = HostError::NoTlsCa {
            path: "/c/ca.pem".into(),
            https: true,
        };
        assert!(
            e.to_string()
                .starts_with("TLS verification is on (an https:// address) but")
        );
        let e = HostError::NoTlsFile {
            what: "client key",
            option: "--tlskey",
            path: "/c/k.pem".into(),
        };
        assert_eq!(
            e.to_string(),
            "the TLS client key /c/k.pem given with --tlskey does not exist: name an existing file"
        );
        let e = HostError::NoTlsKey {
            cert: "/c/cert.pem".into(),
            key: "/c/key.pem".into(),
        };
        assert_eq!(
            e.to_string(),
            "the TLS client certificate /c/cert.pem has no key: /c/key.pem does not exist; put key.pem beside it or name it with --tlskey"
        );
        let e = HostError::NoTlsCert {
            key: "/c/key.pem".into(),
            cert: "/c/cert.pem".into(),
        };
        assert_eq!(
            e.to_string(),
            "the TLS client key /c/key.pem has no certificate: /c/cert.pem does not exist; put cert.pem beside it or name it with --tlscert"
        );
    }
}
