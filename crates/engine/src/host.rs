//! `DOCKER_HOST`, parsed once: a unix socket or a TCP address.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use bollard::{API_DEFAULT_VERSION, ClientVersion, Docker};

/// The default engine socket.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";
const TIMEOUT_SECS: u64 = 120;

/// Why a `DOCKER_HOST` value is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostError {
    /// Unknown scheme or malformed address.
    #[error(
        "DOCKER_HOST `{0}` is not understood: use unix:///path/to/docker.sock or tcp://host:port"
    )]
    Malformed(String),
    /// ssh:// and TLS hosts are not supported yet.
    #[error("DOCKER_HOST `{0}` is not supported yet: use a unix socket or plain tcp://")]
    Unsupported(String),
}

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineHost {
    /// A unix socket on this machine.
    Unix(PathBuf),
    /// `tcp://host:port` without TLS.
    Tcp(String),
}

impl EngineHost {
    /// The engine at the default socket.
    pub fn default_socket() -> Self {
        Self::Unix(PathBuf::from(DEFAULT_SOCKET))
    }

    /// True when the engine runs on this machine, so bind mounts of host
    /// directories reach the containers.
    pub fn is_local(&self) -> bool {
        match self {
            EngineHost::Unix(_) => true,
            EngineHost::Tcp(addr) => crate::host::is_loopback_addr(addr),
        }
    }

    /// The socket path of a unix host.
    pub fn socket_path(&self) -> Option<&std::path::Path> {
        match self {
            EngineHost::Unix(p) => Some(p),
            EngineHost::Tcp(_) => None,
        }
    }

    /// A client speaking bollard's API version.
    pub(crate) fn client(&self) -> Result<Docker, bollard::errors::Error> {
        self.client_at(API_DEFAULT_VERSION)
    }

    /// A client speaking API `version`.
    pub(crate) fn client_at(
        &self,
        version: &ClientVersion,
    ) -> Result<Docker, bollard::errors::Error> {
        match self {
            EngineHost::Unix(path) => {
                Docker::connect_with_unix(&path.to_string_lossy(), TIMEOUT_SECS, version)
            }
            EngineHost::Tcp(addr) => {
                Docker::connect_with_http(&format!("http://{addr}"), TIMEOUT_SECS, version)
            }
        }
    }
}

fn is_loopback_addr(addr: &str) -> bool {
    let host = addr
        .rsplit_once(':')
        .map_or(addr, |(h, _)| h)
        .trim_matches(['[', ']']);
    host == "localhost"
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl FromStr for EngineHost {
    type Err = HostError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(path) = s.strip_prefix("unix://") {
            if path.is_empty() || !path.starts_with('/') {
                return Err(HostError::Malformed(s.to_owned()));
            }
            return Ok(Self::Unix(PathBuf::from(path)));
        }
        if let Some(addr) = s
            .strip_prefix("tcp://")
            .or_else(|| s.strip_prefix("http://"))
        {
            let addr = addr.trim_end_matches('/');
            let ok = addr
                .rsplit_once(':')
                .is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok());
            return if ok {
                Ok(Self::Tcp(addr.to_owned()))
            } else {
                Err(HostError::Malformed(s.to_owned()))
            };
        }
        if s.starts_with("ssh://") || s.starts_with("https://") || s.starts_with("npipe://") {
            return Err(HostError::Unsupported(s.to_owned()));
        }
        if s.starts_with('/') {
            return Ok(Self::Unix(PathBuf::from(s)));
        }
        Err(HostError::Malformed(s.to_owned()))
    }
}

impl fmt::Display for EngineHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EngineHost::Unix(p) => write!(f, "unix://{}", p.display()),
            EngineHost::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_hosts() {
        assert_eq!(
            "unix:///run/d.sock".parse(),
            Ok(EngineHost::Unix("/run/d.sock".into()))
        );
        assert_eq!(
            "tcp://127.0.0.1:2375".parse(),
            Ok(EngineHost::Tcp("127.0.0.1:2375".into()))
        );
        assert!(
            "tcp://127.0.0.1:2375"
                .parse::<EngineHost>()
                .unwrap()
                .is_local()
        );
        assert!(
            !"tcp://10.1.1.1:2375"
                .parse::<EngineHost>()
                .unwrap()
                .is_local()
        );
        assert!(matches!(
            "ssh://me@box".parse::<EngineHost>(),
            Err(HostError::Unsupported(_))
        ));
        assert!(matches!(
            "unix://".parse::<EngineHost>(),
            Err(HostError::Malformed(_))
        ));
        assert!(matches!(
            "tcp://nohost".parse::<EngineHost>(),
            Err(HostError::Malformed(_))
        ));
        assert_eq!(
            EngineHost::default_socket().to_string(),
            "unix:///var/run/docker.sock"
        );
    }
}
