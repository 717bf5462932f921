//! The allow-list (Docker's `onlyMarketplaceExtensions`, for everyone).
//!
//! When enabled, an install (from the CLI, the dashboard, or an update, which
//! goes through the same path) goes ahead only for a listed extension:
//!
//! - `org/repo` (or `registry/namespace/*`): any version of it;
//! - `org/repo:tag`: only that tag;
//! - `org/repo@sha256:…`: only that image — a tag the user asks for must
//!   resolve to it, and the digest is verified against what the registry
//!   serves;
//! - `org/repo:tag@sha256:…`: that tag, fetched by the digest (verified).
//!
//! Rules come from `[allow] extensions`, an `[allow] file` in Docker's
//! `extensions.txt` format, and the configured catalogs named by
//! `[allow] catalogs` (a file catalog's entries with their pins, a registry
//! namespace as `namespace/*`). Images from local sources (`engine:`,
//! `oci:`, `archive:`) carry a name anyone can give them, so they install
//! only when a digest pin matches them.

use std::fmt;
use std::path::{Path, PathBuf};

use dockhand_oci::{Digest, Reference};

use crate::catalog::file::{CatalogFile, CatalogFileError, EntryReferenceError, parse_reference};
use crate::error::InstallError;
use crate::namespace::{Namespace, NamespaceError};

/// Why the allow-list could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AllowError {
    /// A list file is wrong.
    #[error(transparent)]
    File(#[from] CatalogFileError),
    /// `[allow] catalogs` names a catalog that is not configured.
    #[error(
        "{policy}: [allow] catalogs names `{name}`, which is not a configured catalog: add a [[catalog]] named so or remove the name"
    )]
    UnknownCatalog {
        /// The config file.
        policy: PathBuf,
        /// The name.
        name: String,
    },
    /// An entry is not a reference.
    #[error("{path}:{line}: {error}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Its line.
        line: usize,
        /// What is wrong.
        error: AllowEntryError,
    },
}

/// Why a rule is not a reference or a namespace.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllowEntryError {
    /// `registry/namespace/*` with a bad namespace.
    #[error(transparent)]
    Namespace(#[from] NamespaceError),
    /// Not an image reference.
    #[error(transparent)]
    Reference(#[from] EntryReferenceError),
}

/// Where a rule was written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowSource {
    /// `[allow] extensions` in a config file.
    Config {
        /// The config file.
        path: PathBuf,
        /// The line.
        line: usize,
    },
    /// A line of an `[allow] file` or a catalog file.
    File {
        /// The file.
        path: PathBuf,
        /// The line.
        line: usize,
    },
    /// A registry-namespace catalog.
    Catalog {
        /// Its name.
        name: String,
        /// The config file that declares it.
        path: PathBuf,
    },
}

impl fmt::Display for AllowSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowSource::Config { path, line } => {
                write!(f, "{}:{line} ([allow] extensions)", path.display())
            }
            AllowSource::File { path, line } => write!(f, "{}:{line}", path.display()),
            AllowSource::Catalog { name, path } => {
                write!(f, "catalog `{name}` ({})", path.display())
            }
        }
    }
}

/// One rule as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowEntry {
    /// A repository, maybe with a tag and/or digest.
    Image(Reference),
    /// Every repository under a namespace (`registry/ns/*`).
    Namespace(Namespace),
}

impl AllowEntry {
    /// Parses `org/repo`, `org/repo:tag`, `org/repo@sha256:…` or
    /// `registry/namespace/*`.
    pub fn parse(raw: &str) -> Result<Self, AllowEntryError> {
        let raw = raw.trim();
        if let Some(ns) = raw.strip_suffix("/*") {
            return Ok(AllowEntry::Namespace(Namespace::parse(ns)?));
        }
        Ok(AllowEntry::Image(parse_reference(raw)?))
    }
}

impl fmt::Display for AllowEntry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AllowEntry::Image(r) => f.write_str(&r.familiar()),
            AllowEntry::Namespace(ns) => write!(f, "{ns}/*"),
        }
    }
}

/// What an install may fetch once the allow-list agreed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permit {
    /// The reference to pull (the user's, or pinned to the listed digest).
    pub pull: Reference,
    /// When not empty, the image fetched must have one of these digests
    /// (top or platform manifest).
    pub pins: Vec<Digest>,
}

/// The allow-list in force.
#[derive(Debug, Clone, Default)]
pub struct AllowList {
    enabled: bool,
    policy: PathBuf,
    rules: Vec<(AllowEntry, AllowSource)>,
}

impl AllowList {
    /// No allow-list: everything installs.
    pub fn disabled() -> Self {
        Self::default()
    }

    /// An enabled, empty list declared in the config file `policy`.
    pub fn new(policy: PathBuf) -> Self {
        Self {
            enabled: true,
            policy,
            rules: Vec::new(),
        }
    }

    /// True when installs are checked.
    pub fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// The config file with `[allow]`.
    pub fn policy(&self) -> &Path {
        &self.policy
    }

    /// The rules, with where each was written.
    pub fn rules(&self) -> &[(AllowEntry, AllowSource)] {
        &self.rules
    }

    /// Adds a rule.
    pub fn add(&mut self, entry: AllowEntry, source: AllowSource) {
        self.rules.push((entry, source));
    }

    /// Adds a rule written as text.
    pub fn add_parsed(&mut self, raw: &str, source: AllowSource) -> Result<(), AllowError> {
        let entry = AllowEntry::parse(raw).map_err(|error| {
            let (path, line) = match &source {
                AllowSource::Config { path, line } | AllowSource::File { path, line } => {
                    (path.clone(), *line)
                }
                AllowSource::Catalog { path, .. } => (path.clone(), 1),
            };
            AllowError::Invalid { path, line, error }
        })?;
        self.add(entry, source);
        Ok(())
    }

    /// Adds every line of an `extensions.txt`-format file (`[allow] file`).
    pub fn add_file(&mut self, path: &Path) -> Result<(), AllowError> {
        self.add_catalog_file(path)
    }

    /// Adds every entry of a catalog file, with its pins.
    pub fn add_catalog_file(&mut self, path: &Path) -> Result<(), AllowError> {
        let file = CatalogFile::read(path)?;
        for e in file.entries {
            self.add(
                AllowEntry::Image(e.reference),
                AllowSource::File {
                    path: path.to_path_buf(),
                    line: e.line,
                },
            );
        }
        Ok(())
    }

    /// Adds a namespace (a registry catalog).
    pub fn add_namespace(&mut self, ns: Namespace, source: AllowSource) {
        self.add(AllowEntry::Namespace(ns), source);
    }

    fn refuse(&self, what: &Reference, reason: String) -> InstallError {
        InstallError::NotAllowed {
            id: what.familiar(),
            policy: format!("the allow-list ([allow] in {})", self.policy.display()),
            reason,
        }
    }

    /// The rules for `reference`'s repository.
    fn matching(&self, reference: &Reference) -> Vec<&(AllowEntry, AllowSource)> {
        self.rules
            .iter()
            .filter(|(e, _)| match e {
                AllowEntry::Image(r) => {
                    r.registry() == reference.registry() && r.repository() == reference.repository()
                }
                AllowEntry::Namespace(ns) => {
                    ns.contains(reference.registry(), reference.repository())
                }
            })
            .collect()
    }

    /// Refuses a repository that no rule names, whatever its tag: the
    /// first word on an untagged reference, before the registry is asked
    /// for its versions.
    pub fn check_listed(&self, reference: &Reference) -> Result<(), InstallError> {
        if !self.enabled || !self.matching(reference).is_empty() {
            return Ok(());
        }
        Err(self.refuse(
            reference,
            format!(
                "{} is not listed: ask your administrator to add it, or install a listed extension (`dockhand catalog` shows them)",
                reference.familiar_name()
            ),
        ))
    }

    /// Decides about installing `reference` from its registry.
    pub fn check(&self, reference: &Reference) -> Result<Permit, InstallError> {
        let any = || Permit {
            pull: reference.clone(),
            pins: Vec::new(),
        };
        if !self.enabled {
            return Ok(any());
        }
        self.check_listed(reference)?;
        let matching = self.matching(reference);
        let mut pins = Vec::new();
        for (entry, _) in &matching {
            let AllowEntry::Image(allowed) = entry else {
                return Ok(any());
            };
            let tag_ok = allowed.tag().is_none() || allowed.tag() == reference.tag();
            match allowed.digest() {
                None if tag_ok => return Ok(any()),
                None => {}
                Some(pin) if reference.digest() == Some(pin) => {
                    return Ok(Permit {
                        pull: reference.clone(),
                        pins: vec![pin.clone()],
                    });
                }
                Some(pin) if reference.digest().is_none() && tag_ok => {
                    if allowed.tag().is_some() {
                        // The listed tag: fetch it by the pinned digest.
                        return Ok(Permit {
                            pull: reference.with_digest(pin.clone()),
                            pins: vec![pin.clone()],
                        });
                    }
                    pins.push(pin.clone());
                }
                Some(_) => {}
            }
        }
        if !pins.is_empty() {
            return Ok(Permit {
                pull: reference.clone(),
                pins,
            });
        }
        let listed: Vec<String> = matching
            .iter()
            .map(|(e, source)| format!("{e} ({source})"))
            .collect();
        Err(self.refuse(
            reference,
            format!(
                "only {} may be installed: install that version",
                listed.join(", ")
            ),
        ))
    }

    /// After fetching: the image's top and platform-manifest digests must
    /// match a pin of `permit`, when it has any.
    pub fn verify(
        &self,
        permit: &Permit,
        top: &Digest,
        manifest: &Digest,
    ) -> Result<(), InstallError> {
        if permit.pins.is_empty() || permit.pins.iter().any(|p| p == top || p == manifest) {
            return Ok(());
        }
        let pins: Vec<String> = permit.pins.iter().map(ToString::to_string).collect();
        Err(self.refuse(
            &permit.pull,
            format!(
                "the registry resolved it to {top}, but the allow-list pins {}: the tag moved or the registry serves another image",
                pins.join(", ")
            ),
        ))
    }

    /// Decides about an image from a local source (`engine:`, `oci:`,
    /// `archive:`) named `name` whose digests are `top` and `manifest`.
    pub fn check_local(
        &self,
        name: &Reference,
        top: &Digest,
        manifest: &Digest,
    ) -> Result<(), InstallError> {
        if !self.enabled {
            return Ok(());
        }
        let pinned = self.matching(name).iter().any(|(e, _)| {
            matches!(e, AllowEntry::Image(r) if r.digest().is_some_and(|d| d == top || d == manifest))
        });
        if pinned {
            return Ok(());
        }
        Err(self.refuse(
            name,
            format!(
                "an image from a local source installs only when the allow-list pins its digest ({manifest}): ask your administrator to list {}@{manifest}, or install from the registry",
                name.familiar_name()
            ),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(c: char) -> Digest {
        Digest::parse(&format!("sha256:{}", c.to_string().repeat(64))).unwrap()
    }

    fn list(entries: &[&str]) -> AllowList {
        let mut l = AllowList::new("/etc/dockhand/config.toml".into());
        for (i, e) in entries.iter().enumerate() {
            l.add_parsed(
                e,
                AllowSource::Config {
                    path: "/etc/dockhand/config.toml".into(),
                    line: i + 3,
                },
            )
            .unwrap();
        }
        l
    }

    fn r(s: &str) -> Reference {
        Reference::parse(s).unwrap()
    }

    #[test]
    fn disabled_allows_everything() {
        let p = AllowList::disabled().check(&r("x/y:1")).unwrap();
        assert!(p.pins.is_empty());
    }

    #[test]
    fn repository_tag_and_namespace_rules() {
        let l = list(&["acme/any", "acme/fixed:1.0.0", "127.0.0.1:5000/team/*"]);
        assert!(l.check(&r("acme/any:2.0.0")).is_ok());
        assert!(l.check(&r("acme/fixed:1.0.0")).is_ok());
        assert!(l.check(&r("127.0.0.1:5000/team/ext:3")).is_ok());
        let e = l.check(&r("acme/fixed:2.0.0")).unwrap_err().to_string();
        assert_eq!(
            e,
            "acme/fixed:2.0.0 is not allowed by the allow-list ([allow] in /etc/dockhand/config.toml): only acme/fixed:1.0.0 (/etc/dockhand/config.toml:4 ([allow] extensions)) may be installed: install that version"
        );
        let e = l.check(&r("acme/other:1")).unwrap_err().to_string();
        assert!(e.contains("acme/other is not listed"), "{e}");
        assert!(e.contains("/etc/dockhand/config.toml"), "{e}");
        assert!(l.check(&r("127.0.0.1:5001/team/ext:3")).is_err());
    }

    #[test]
    fn digest_pins() {
        let l = list(&[
            &format!("acme/pinned@{}", d('a')),
            &format!("acme/both:1.0@{}", d('b')),
        ]);
        // By the digest: fetched by it, verified by the client.
        let p = l.check(&r(&format!("acme/pinned@{}", d('a')))).unwrap();
        assert_eq!(p.pins, [d('a')]);
        assert!(l.check(&r(&format!("acme/pinned@{}", d('c')))).is_err());
        // By a tag: fetched by the tag, then the digest must be the pin.
        let p = l.check(&r("acme/pinned:2.0")).unwrap();
        assert_eq!(p.pull, r("acme/pinned:2.0"));
        assert!(l.verify(&p, &d('a'), &d('c')).is_ok());
        assert!(l.verify(&p, &d('c'), &d('a')).is_ok());
        let e = l.verify(&p, &d('c'), &d('e')).unwrap_err().to_string();
        assert!(e.contains("the allow-list pins sha256:aaaa"), "{e}");
        // The listed tag is fetched by its digest.
        let p = l.check(&r("acme/both:1.0")).unwrap();
        assert_eq!(p.pull.digest(), Some(&d('b')));
        assert!(l.check(&r("acme/both:2.0")).is_err());
    }

    #[test]
    fn local_sources_need_a_digest_pin() {
        let l = list(&["acme/any", &format!("acme/pinned@{}", d('a'))]);
        assert!(l.check_local(&r("acme/any:1"), &d('1'), &d('2')).is_err());
        assert!(l.check_local(&r("acme/pinned:1"), &d('1'), &d('a')).is_ok());
        assert!(
            AllowList::disabled()
                .check_local(&r("q/q:1"), &d('1'), &d('2'))
                .is_ok()
        );
    }
}
