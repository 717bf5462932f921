//! An extension's identity and the repository-name grammar it is made of.
//!
//! An extension is named by its image repository ([`RepositoryName`]: a
//! registry host and a path, with the docker CLI's normalisation: default
//! registry `docker.io`, `library/` for official images, `index.docker.io`
//! folded into `docker.io`). Its [`ExtensionId`] is that repository in the
//! docker CLI's short form. Image references (`dockhand_oci::Reference`) are
//! a repository name plus a tag and/or digest, and use this grammar.

use std::fmt;

/// The registry an unqualified repository lives on.
pub const DEFAULT_REGISTRY: &str = "docker.io";
const LEGACY_REGISTRY: &str = "index.docker.io";
const MAX_NAME: usize = 255;

/// Why a string is not a repository name (or an extension id).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    /// Empty input.
    #[error("the image reference is empty")]
    Empty,
    /// A repository path component has characters the format forbids.
    #[error(
        "`{input}` is not a valid image reference: repository names use lowercase letters, digits and . _ - separators"
    )]
    BadRepository {
        /// The whole input.
        input: String,
    },
    /// The registry part is malformed.
    #[error("`{input}` is not a valid image reference: `{registry}` is not a host[:port]")]
    BadRegistry {
        /// The whole input.
        input: String,
        /// The registry part.
        registry: String,
    },
    /// The tag is malformed.
    #[error(
        "`{input}` is not a valid image reference: tag `{tag}` may use letters, digits, _ . - and at most 128 characters"
    )]
    BadTag {
        /// The whole input.
        input: String,
        /// The tag part.
        tag: String,
    },
    /// Longer than 255 characters.
    #[error(
        "`{0}…` is not a valid image reference: the repository name is longer than 255 characters"
    )]
    TooLong(String),
}

/// A normalised repository: registry host\[:port\] and path.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RepositoryName {
    registry: String,
    repository: String,
}

impl RepositoryName {
    /// Parses and normalises `name` (no tag, no digest); `input` is the whole
    /// text the name came from, for messages.
    pub fn parse(input: &str, name: &str) -> Result<Self, NameError> {
        if name.len() > MAX_NAME {
            return Err(NameError::TooLong(name.chars().take(40).collect()));
        }
        let (registry, repository) = split_registry(name);
        if !valid_registry(&registry) {
            return Err(NameError::BadRegistry {
                input: input.to_owned(),
                registry,
            });
        }
        if repository.is_empty() || !repository.split('/').all(valid_path_component) {
            return Err(NameError::BadRepository {
                input: input.to_owned(),
            });
        }
        Ok(Self {
            registry,
            repository,
        })
    }

    /// The registry host and port (`docker.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The repository path (`library/busybox`, `acme/ext`).
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// The short form the docker CLI prints (`busybox`, `127.0.0.1:5000/acme/ext`).
    pub fn familiar(&self) -> String {
        if self.registry == DEFAULT_REGISTRY {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_owned()
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }
}

/// Splits `reference` into its name and its tag, when the last `:` comes
/// after the last `/` (a `:` before it is a registry port). The digest
/// (`@…`) must have been split off already.
pub fn split_tag(reference: &str) -> (&str, Option<&str>) {
    let last_slash = reference.rfind('/');
    match reference.rfind(':') {
        Some(i) if last_slash.is_none_or(|s| i > s) => (&reference[..i], Some(&reference[i + 1..])),
        _ => (reference, None),
    }
}

/// True for a tag the format allows: letters, digits, `_ . -`, not starting
/// with `.` or `-`, at most 128 characters.
pub fn valid_tag(t: &str) -> bool {
    let b = t.as_bytes();
    !b.is_empty()
        && b.len() <= 128
        && (b[0].is_ascii_alphanumeric() || b[0] == b'_')
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// An extension's identity: its image repository in the docker CLI's short
/// form (`docker/volumes-backup-extension`, `127.0.0.1:5000/acme/ext`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtensionId(String);

impl ExtensionId {
    /// The id of the extension stored in `repository`.
    pub fn of(repository: &RepositoryName) -> Self {
        Self(repository.familiar())
    }

    /// Parses an id (a repository name without tag or digest).
    pub fn parse(s: &str) -> Result<Self, NameError> {
        if s.is_empty() {
            return Err(NameError::Empty);
        }
        if s.contains('@') {
            return Err(NameError::BadRepository {
                input: s.to_owned(),
            });
        }
        let (name, tag) = split_tag(s);
        if let Some(tag) = tag {
            return Err(if valid_tag(tag) {
                NameError::BadRepository {
                    input: s.to_owned(),
                }
            } else {
                NameError::BadTag {
                    input: s.to_owned(),
                    tag: tag.to_owned(),
                }
            });
        }
        Ok(Self::of(&RepositoryName::parse(s, name)?))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The file-system form Docker Desktop uses (`docker_volumes-backup-extension`).
    pub fn fs_name(&self) -> String {
        self.0.replace(['/', ':'], "_")
    }
}

impl fmt::Display for ExtensionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn split_registry(name: &str) -> (String, String) {
    let (registry, rest) = match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.to_lowercase() != first =>
        {
            (first.to_owned(), rest.to_owned())
        }
        _ => (DEFAULT_REGISTRY.to_owned(), name.to_owned()),
    };
    let registry = if registry == LEGACY_REGISTRY {
        DEFAULT_REGISTRY.to_owned()
    } else {
        registry
    };
    let rest = if registry == DEFAULT_REGISTRY && !rest.contains('/') {
        format!("library/{rest}")
    } else {
        rest
    };
    (registry, rest)
}

fn valid_registry(r: &str) -> bool {
    if let Some(rest) = r.strip_prefix('[') {
        // [ipv6]:port
        let Some((ip, port)) = rest.split_once(']') else {
            return false;
        };
        return ip.parse::<std::net::Ipv6Addr>().is_ok()
            && (port.is_empty() || valid_port(port.strip_prefix(':').unwrap_or("x")));
    }
    let (host, port) = match r.split_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (r, None),
    };
    let host_ok = !host.is_empty()
        && host.split('.').all(|c| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !c.starts_with('-')
                && !c.ends_with('-')
        });
    host_ok && port.is_none_or(valid_port)
}

fn valid_port(p: &str) -> bool {
    !p.is_empty()
        && p.len() <= 5
        && p.bytes().all(|b| b.is_ascii_digit())
        && p.parse::<u32>().is_ok_and(|n| n <= 65535)
}

/// `[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*`
fn valid_path_component(c: &str) -> bool {
    let b = c.as_bytes();
    if b.is_empty() || !is_alnum(b[0]) || !is_alnum(b[b.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < b.len() {
        if is_alnum(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && !is_alnum(b[i]) {
            i += 1;
        }
        let sep = &c[start..i];
        let ok = sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|x| x == b'-');
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_short_repository_names() {
        let id = ExtensionId::parse("docker/volumes-backup-extension").unwrap();
        assert_eq!(id.fs_name(), "docker_volumes-backup-extension");
        assert_eq!(ExtensionId::parse("busybox").unwrap().as_str(), "busybox");
        assert_eq!(
            ExtensionId::parse("docker.io/library/busybox")
                .unwrap()
                .as_str(),
            "busybox"
        );
        assert_eq!(
            ExtensionId::parse("index.docker.io/acme/ext")
                .unwrap()
                .as_str(),
            "acme/ext"
        );
        let id = ExtensionId::parse("127.0.0.1:5000/acme/my-ext").unwrap();
        assert_eq!(id.as_str(), "127.0.0.1:5000/acme/my-ext");
        assert_eq!(id.fs_name(), "127.0.0.1_5000_acme_my-ext");
    }

    #[test]
    fn ids_have_no_tag_or_digest() {
        assert!(matches!(
            ExtensionId::parse("busybox:1"),
            Err(NameError::BadRepository { .. })
        ));
        assert!(matches!(
            ExtensionId::parse("busybox:-x"),
            Err(NameError::BadTag { .. })
        ));
        let digest = format!("busybox@sha256:{}", "a".repeat(64));
        assert!(ExtensionId::parse(&digest).is_err());
    }

    #[test]
    fn hostile_ids_are_refused() {
        for bad in [
            "", "..", "../x", "a/../b", "UPPER", "a//b", "-a", "a b", "/a", "a/",
        ] {
            assert!(ExtensionId::parse(bad).is_err(), "{bad:?} should not parse");
        }
        assert!(matches!(
            ExtensionId::parse(&"a".repeat(300)),
            Err(NameError::TooLong(_))
        ));
        assert!(matches!(
            ExtensionId::parse("host:99999/a"),
            Err(NameError::BadRegistry { .. })
        ));
    }
}
