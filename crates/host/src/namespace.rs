//! A registry namespace (`127.0.0.1:5000/acme`): what a registry catalog
//! lists and what an allow-list rule `registry/namespace/*` admits.

/// Why text is not a registry namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NamespaceError {
    /// The first part is not a registry host.
    #[error(
        "`{text}` does not start with a registry host: write it as host[:port]/namespace, for example 127.0.0.1:5000/acme"
    )]
    NoRegistryHost {
        /// The namespace as written (without a scheme).
        text: String,
    },
    /// The part after the registry is not a repository prefix.
    #[error(
        "`{path}` is not a repository namespace: use lowercase letters, digits, `.`, `_`, `-` and `/`"
    )]
    BadPath {
        /// The part after the registry.
        path: String,
    },
}

/// A registry and a repository prefix (possibly empty: the whole registry).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Namespace {
    /// `host[:port]`.
    pub registry: String,
    /// `acme` or `acme/team`; empty for every repository.
    pub path: String,
}

impl Namespace {
    /// Parses `registry[/path]`; the registry must look like a host
    /// (`localhost`, a dot or a port).
    pub fn parse(raw: &str) -> Result<Self, NamespaceError> {
        let raw = raw.trim().trim_end_matches('/');
        let raw = raw
            .strip_prefix("oci://")
            .or_else(|| raw.strip_prefix("https://"))
            .or_else(|| raw.strip_prefix("http://"))
            .unwrap_or(raw);
        let (registry, path) = raw.split_once('/').unwrap_or((raw, ""));
        let hosty = registry == "localhost" || registry.contains('.') || registry.contains(':');
        if registry.is_empty() || !hosty {
            return Err(NamespaceError::NoRegistryHost {
                text: raw.to_owned(),
            });
        }
        // The namespace must be a valid repository prefix.
        if !path.is_empty() && dockhand_oci::Reference::parse_loose(&format!("{raw}/x")).is_err() {
            return Err(NamespaceError::BadPath {
                path: path.to_owned(),
            });
        }
        Ok(Self {
            registry: registry.to_owned(),
            path: path.to_owned(),
        })
    }

    /// True when `name` (`registry/repository`) is under this namespace.
    pub fn contains(&self, registry: &str, repository: &str) -> bool {
        registry == self.registry
            && (self.path.is_empty()
                || repository
                    .strip_prefix(&self.path)
                    .is_some_and(|rest| rest.starts_with('/')))
    }
}

impl std::fmt::Display for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.registry)
        } else {
            write!(f, "{}/{}", self.registry, self.path)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces() {
        let ns = Namespace::parse("127.0.0.1:5000/acme/").unwrap();
        assert!(ns.contains("127.0.0.1:5000", "acme/ext"));
        assert!(!ns.contains("127.0.0.1:5000", "acmex/ext"));
        assert!(!ns.contains("localhost:5000", "acme/ext"));
        let all = Namespace::parse("localhost:5000").unwrap();
        assert!(all.contains("localhost:5000", "x/y"));
        assert!(Namespace::parse("acme").is_err());
        assert!(Namespace::parse("r.example/Bad Name").is_err());
    }
}
