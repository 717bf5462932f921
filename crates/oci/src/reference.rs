//! Image references with the docker CLI's normalisation: default registry
//! `docker.io` and `library/` for official images, `index.docker.io` folded
//! into `docker.io`, ports, tags and digests.

use std::fmt;
use std::str::FromStr;

use dockhand_spec::extension_id::{NameError, split_tag, valid_tag};
use dockhand_spec::{ExtensionId, RepositoryName};

use crate::digest::{Digest, DigestError};

/// The registry an unqualified reference points at.
pub use dockhand_spec::extension_id::DEFAULT_REGISTRY;
/// Where Docker Hub's registry API actually answers.
pub const DOCKER_HUB_API_HOST: &str = "registry-1.docker.io";

/// Why a string is not an image reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReferenceError {
    /// The repository name or the tag is malformed (the grammar image
    /// references share with extension ids).
    #[error(transparent)]
    Name(#[from] NameError),
    /// The digest is malformed.
    #[error("`{input}` is not a valid image reference: {source}")]
    BadDigest {
        /// The whole input.
        input: String,
        /// What is wrong with the digest.
        source: DigestError,
    },
}

/// A normalised image reference: registry, repository, tag and/or digest.
///
/// ```
/// use dockhand_oci::Reference;
/// let r: Reference = "busybox".parse().unwrap();
/// assert_eq!(r.to_string(), "docker.io/library/busybox:latest");
/// assert_eq!(r.familiar(), "busybox:latest");
/// let r: Reference = "localhost:5000/acme/ext:1.0".parse().unwrap();
/// assert_eq!(r.registry(), "localhost:5000");
/// assert_eq!(r.repository(), "acme/ext");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Reference {
    name: RepositoryName,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl Reference {
    /// Parses and normalises. A reference with neither tag nor digest gets
    /// the tag `latest`, as `docker pull` does.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let mut r = Self::parse_loose(input)?;
        if r.tag.is_none() && r.digest.is_none() {
            r.tag = Some("latest".to_owned());
        }
        Ok(r)
    }

    /// Parses without adding a default tag (for repository names).
    pub fn parse_loose(input: &str) -> Result<Self, ReferenceError> {
        if input.is_empty() {
            return Err(NameError::Empty.into());
        }
        let (rest, digest) = match input.split_once('@') {
            Some((rest, d)) => {
                let digest = Digest::parse(d).map_err(|source| ReferenceError::BadDigest {
                    input: input.to_owned(),
                    source,
                })?;
                (rest, Some(digest))
            }
            None => (input, None),
        };
        let (name, tag) = split_tag(rest);
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(NameError::BadTag {
                input: input.to_owned(),
                tag: tag.to_owned(),
            }
            .into());
        }
        Ok(Self {
            name: RepositoryName::parse(input, name)?,
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// The registry host and port (`docker.io`, `127.0.0.1:5000`).
    pub fn registry(&self) -> &str {
        self.name.registry()
    }

    /// Where the registry's HTTP API answers (`registry-1.docker.io` for Docker Hub).
    pub fn api_host(&self) -> &str {
        if self.registry() == DEFAULT_REGISTRY {
            DOCKER_HUB_API_HOST
        } else {
            self.registry()
        }
    }

    /// The repository path (`library/busybox`, `acme/ext`).
    pub fn repository(&self) -> &str {
        self.name.repository()
    }

    /// The registry and repository, without tag or digest.
    pub fn repository_name(&self) -> &RepositoryName {
        &self.name
    }

    /// The id of the extension this reference's image is a version of.
    pub fn extension_id(&self) -> ExtensionId {
        ExtensionId::of(&self.name)
    }

    /// The tag, when there is one.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, when there is one.
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to ask the registry for: the digest when pinned, else the tag.
    pub fn manifest_ref(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// The same repository with another tag (and no digest).
    pub fn with_tag(&self, tag: &str) -> Result<Self, ReferenceError> {
        if !valid_tag(tag) {
            return Err(NameError::BadTag {
                input: format!("{}:{tag}", self.name()),
                tag: tag.to_owned(),
            }
            .into());
        }
        Ok(Self {
            tag: Some(tag.to_owned()),
            digest: None,
            ..self.clone()
        })
    }

    /// The same reference pinned to `digest` (the tag is kept for display).
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// `registry/repository`, no tag or digest.
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry(), self.repository())
    }

    /// The short form the docker CLI prints (`busybox:latest`, `acme/ext:1`).
    pub fn familiar(&self) -> String {
        let mut s = self.familiar_name();
        if let Some(t) = &self.tag {
            s.push(':');
            s.push_str(t);
        }
        if let Some(d) = &self.digest {
            s.push('@');
            s.push_str(&d.to_string());
        }
        s
    }

    /// The repository in short form: the extension id of an extension image.
    pub fn familiar_name(&self) -> String {
        self.name.familiar()
    }

    /// True when the registry is on this machine (`localhost`, `127.0.0.0/8`,
    /// `[::1]`): dockerd talks plain HTTP to those, and so does dockhand.
    pub fn is_loopback_registry(&self) -> bool {
        is_loopback_host(self.registry())
    }
}

/// True for `localhost[:port]`, `127.x.x.x[:port]` and `[::1][:port]`.
pub fn is_loopback_host(registry: &str) -> bool {
    let host = if let Some(rest) = registry.strip_prefix('[') {
        rest.split(']').next().unwrap_or("")
    } else {
        registry.split(':').next().unwrap_or("")
    };
    host == "localhost"
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl FromStr for Reference {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry(), self.repository())?;
        if let Some(t) = &self.tag {
            write!(f, ":{t}")?;
        }
        if let Some(d) = &self.digest {
            write!(f, "@{d}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Reference::parse(s).unwrap().to_string()
    }

    #[test]
    fn docker_normalisation() {
        assert_eq!(norm("busybox"), "docker.io/library/busybox:latest");
        assert_eq!(
            norm("docker/volumes-backup-extension:1.2"),
            "docker.io/docker/volumes-backup-extension:1.2"
        );
        assert_eq!(
            norm("index.docker.io/library/alpine"),
            "docker.io/library/alpine:latest"
        );
        assert_eq!(norm("localhost/x"), "localhost/x:latest");
        assert_eq!(norm("localhost:5000/a/b:t"), "localhost:5000/a/b:t");
        assert_eq!(
            norm("127.0.0.1:5000/acme/ext"),
            "127.0.0.1:5000/acme/ext:latest"
        );
        assert_eq!(
            norm("ghcr.io/a/b/c:v1.0.0-rc.1"),
            "ghcr.io/a/b/c:v1.0.0-rc.1"
        );
        assert_eq!(norm("[::1]:5000/a:1"), "[::1]:5000/a:1");
        let d = Digest::sha256_of(b"x");
        let r = Reference::parse(&format!("busybox@{d}")).unwrap();
        assert_eq!(r.tag(), None);
        assert_eq!(r.manifest_ref(), d.to_string());
        let r = Reference::parse(&format!("busybox:1@{d}")).unwrap();
        assert_eq!(r.familiar(), format!("busybox:1@{d}"));
    }

    #[test]
    fn rejects_bad_references() {
        for bad in [
            "",
            "UPPER",
            "a/B",
            "a//b",
            "a/b:",
            "a:b:c",
            "-a",
            "a-",
            "a/b:-x",
            "a@sha256:x",
            "host:99999/a",
            ":tag",
            "a b",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} should not parse");
        }
        assert!(Reference::parse(&"a".repeat(300)).is_err());
    }

    #[test]
    fn familiar_and_ids() {
        let r = Reference::parse("docker/volumes-backup-extension:1.0").unwrap();
        assert_eq!(r.familiar_name(), "docker/volumes-backup-extension");
        let id = r.extension_id();
        assert_eq!(id.fs_name(), "docker_volumes-backup-extension");
        let r = Reference::parse("127.0.0.1:5000/acme/my-ext:2").unwrap();
        assert_eq!(r.extension_id().as_str(), "127.0.0.1:5000/acme/my-ext");
        assert_eq!(ExtensionId::parse("busybox").unwrap().as_str(), "busybox");
        assert!(ExtensionId::parse("busybox:1").is_err());
        assert_eq!(
            Reference::parse("alpine").unwrap().api_host(),
            DOCKER_HUB_API_HOST
        );
    }

    #[test]
    fn loopback_registries() {
        for yes in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback_host(yes), "{yes}");
        }
        for no in [
            "docker.io",
            "10.0.0.1:5000",
            "localhost.example.com",
            "[::2]:1",
        ] {
            assert!(!is_loopback_host(no), "{no}");
        }
    }
}
