//! The configuration files: `$DOCKHAND_HOME/config.toml` (the user's) and a
//! system-wide one (`/etc/dockhand/config.toml`) whose sections an admin can
//! lock. Parsing only: the caller passes both paths (the CLI resolves them,
//! `DOCKHAND_SYSTEM_CONFIG` overrides the system one). `docs/config.md` is
//! the reference.
//!
//! Merging: each section comes from the user file when it has it, else from
//! the system file; `[[catalog]]` entries of both are kept (a user entry with
//! the name of a system one replaces it). A section the system file names in
//! `locked = [...]` comes from the system file only; a user file that sets it
//! anyway gets a warning naming both files.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;
use toml::Spanned;

use crate::allow::{AllowEntry, AllowList, AllowSource};
use crate::line::line_of;
pub use crate::namespace::Namespace;

pub mod amounts;
mod problem;

pub use amounts::{DurationError, SizeError, format_size, parse_duration, parse_size};
pub use problem::ConfigProblem;

/// How often `serve` checks for updates when the files do not say.
pub const DEFAULT_UPDATE_INTERVAL: Duration = Duration::from_secs(12 * 3600);

/// How long `vm.service` waits for a backend's answer when the files do not say.
pub const DEFAULT_SERVICE_TIMEOUT: Duration = Duration::from_secs(60);

/// The bytes of `vm.service` bodies `serve` holds at once when the files do not say.
pub const DEFAULT_IN_FLIGHT_BYTES: u64 = 256 << 20;

/// The largest image (config and layers of one platform) installed or
/// inspected when the files do not say.
pub const DEFAULT_IMAGE_SIZE: u64 = 4 << 30;

/// The sections a system file may lock.
pub const LOCKABLE: [&str; 4] = ["allow", "catalogs", "updates", "limits"];

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid: the message names the file and line.
    #[error("{path}:{line}: {problem}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// What is wrong and what to do.
        problem: ConfigProblem,
    },
}

/// The two files, as the caller found them.
#[derive(Debug, Clone)]
pub struct ConfigPaths {
    /// `$DOCKHAND_HOME/config.toml`.
    pub user: PathBuf,
    /// `/etc/dockhand/config.toml` (or its override).
    pub system: PathBuf,
}

/// A configured catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogConfig {
    /// Its name (unique).
    pub name: String,
    /// Where its entries come from.
    pub source: CatalogSource,
    /// The configuration file that declared it.
    pub declared_in: PathBuf,
}

/// Where a catalog's entries come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogSource {
    /// A catalog file: ours (JSON) or Docker's `extensions.txt`.
    File(PathBuf),
    /// Every repository under a registry namespace (`127.0.0.1:5000/acme`).
    Namespace(Namespace),
}

/// The `[allow]` section as written, before its files are read.
#[derive(Debug, Clone, Default)]
pub struct AllowConfig {
    /// `enabled` (or `only_listed`).
    pub enabled: bool,
    /// `extensions = [...]`, with their lines.
    pub extensions: Vec<(String, usize)>,
    /// `file = PATH` (resolved against the config file's directory).
    pub file: Option<PathBuf>,
    /// `catalogs = [...]`: names of configured catalogs whose entries are allowed.
    pub catalogs: Vec<String>,
    /// The configuration file it came from.
    pub declared_in: PathBuf,
}

/// Both files merged.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// Configured catalogs, system ones first.
    pub catalogs: Vec<CatalogConfig>,
    /// `[allow]`, when a file has it.
    pub allow: Option<AllowConfig>,
    /// `[updates] check_interval`, when set.
    pub check_interval: Option<Duration>,
    /// `[limits]`, the keys that are set.
    pub limits: LimitsConfig,
    /// Things worth telling the user (a locked key set in the user file).
    pub warnings: Vec<String>,
}

/// The `[limits]` section: each key when a file sets it (see the
/// accessors on [`Config`] for the defaults).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LimitsConfig {
    /// `service_timeout`: how long a `vm.service` call may wait for the
    /// backend's answer; zero (`0`, `off`) is no limit.
    pub service_timeout: Option<Duration>,
    /// `in_flight_bytes`: the bytes of `vm.service` request bodies and
    /// backend answers `serve` holds at once, over every extension.
    pub in_flight_bytes: Option<u64>,
    /// `image_size`: the largest image (config and layers of the platform
    /// installed or inspected); zero (`0`, `off`) is no limit.
    pub image_size: Option<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    locked: Option<Spanned<Vec<Spanned<String>>>>,
    #[serde(default)]
    catalog: Option<Spanned<Vec<RawCatalog>>>,
    #[serde(default)]
    allow: Option<Spanned<RawAllow>>,
    #[serde(default)]
    updates: Option<Spanned<RawUpdates>>,
    #[serde(default)]
    limits: Option<Spanned<RawLimits>>,
}

/// A value written as a string (`"60s"`, `"4GiB"`) or a bare number.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawAmount {
    Text(String),
    Number(u64),
}

impl RawAmount {
    fn text(&self) -> String {
        match self {
            Self::Text(s) => s.clone(),
            Self::Number(n) => n.to_string(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLimits {
    #[serde(default)]
    service_timeout: Option<Spanned<RawAmount>>,
    #[serde(default)]
    in_flight_bytes: Option<Spanned<RawAmount>>,
    #[serde(default)]
    image_size: Option<Spanned<RawAmount>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCatalog {
    name: Spanned<String>,
    #[serde(default)]
    file: Option<Spanned<String>>,
    #[serde(default)]
    url: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAllow {
    #[serde(default, alias = "only_listed")]
    enabled: Option<bool>,
    #[serde(default)]
    extensions: Vec<Spanned<String>>,
    #[serde(default)]
    file: Option<Spanned<String>>,
    #[serde(default)]
    catalogs: Vec<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawUpdates {
    #[serde(default)]
    check_interval: Option<Spanned<String>>,
}

/// One file, parsed and checked.
#[derive(Debug, Default)]
struct FileConfig {
    path: PathBuf,
    locked: Vec<String>,
    catalogs: Option<(Vec<CatalogConfig>, usize)>,
    allow: Option<(AllowConfig, usize)>,
    check_interval: Option<(Duration, usize)>,
    limits: Option<(LimitsConfig, usize)>,
}

fn parse_file(path: &Path, text: &str) -> Result<FileConfig, ConfigError> {
    let invalid = |offset: usize, problem: ConfigProblem| ConfigError::Invalid {
        path: path.to_path_buf(),
        line: line_of(text, offset),
        problem,
    };
    let raw: RawFile = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        invalid(offset, ConfigProblem::Syntax(e))
    })?;
    let dir = path.parent().unwrap_or(Path::new("."));
    let resolve = |p: &str| {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            dir.join(p)
        }
    };
    let mut out = FileConfig {
        path: path.to_path_buf(),
        ..FileConfig::default()
    };
    if let Some(locked) = raw.locked {
        for key in locked.into_inner() {
            if !LOCKABLE.contains(&key.get_ref().as_str()) {
                return Err(invalid(
                    key.span().start,
                    ConfigProblem::NotLockable {
                        key: key.into_inner(),
                    },
                ));
            }
            out.locked.push(key.into_inner());
        }
    }
    if let Some(catalogs) = raw.catalog {
        let line = line_of(text, catalogs.span().start);
        let mut list: Vec<CatalogConfig> = Vec::new();
        for c in catalogs.into_inner() {
            let name = c.name.get_ref().trim().to_owned();
            if name.is_empty() {
                return Err(invalid(
                    c.name.span().start,
                    ConfigProblem::CatalogWithoutName,
                ));
            }
            if list.iter().any(|o| o.name == name) {
                return Err(invalid(
                    c.name.span().start,
                    ConfigProblem::DuplicateCatalog { name },
                ));
            }
            let source = match (c.file, c.url) {
                (Some(file), None) => CatalogSource::File(resolve(file.get_ref())),
                (None, Some(url)) => CatalogSource::Namespace(
                    Namespace::parse(url.get_ref())
                        .map_err(|m| invalid(url.span().start, ConfigProblem::Namespace(m)))?,
                ),
                _ => {
                    return Err(invalid(
                        c.name.span().start,
                        ConfigProblem::CatalogSource { name },
                    ));
                }
            };
            list.push(CatalogConfig {
                name,
                source,
                declared_in: path.to_path_buf(),
            });
        }
        out.catalogs = Some((list, line));
    }
    if let Some(allow) = raw.allow {
        let line = line_of(text, allow.span().start);
        let a = allow.into_inner();
        let extensions = a
            .extensions
            .into_iter()
            .map(|e| {
                let line = line_of(text, e.span().start);
                AllowEntry::parse(e.get_ref())
                    .map_err(|m| invalid(e.span().start, ConfigProblem::AllowEntry(m)))?;
                Ok((e.into_inner(), line))
            })
            .collect::<Result<Vec<_>, ConfigError>>()?;
        let config = AllowConfig {
            enabled: a.enabled.unwrap_or(true),
            extensions,
            file: a.file.map(|f| resolve(f.get_ref())),
            catalogs: a.catalogs.into_iter().map(Spanned::into_inner).collect(),
            declared_in: path.to_path_buf(),
        };
        out.allow = Some((config, line));
    }
    if let Some(updates) = raw.updates {
        let line = line_of(text, updates.span().start);
        if let Some(interval) = updates.into_inner().check_interval {
            let d = parse_duration(interval.get_ref()).map_err(|error| {
                invalid(
                    interval.span().start,
                    ConfigProblem::Duration {
                        key: "[updates] check_interval",
                        error,
                    },
                )
            })?;
            out.check_interval = Some((d, line));
        }
    }
    if let Some(limits) = raw.limits {
        let line = line_of(text, limits.span().start);
        let l = limits.into_inner();
        let mut config = LimitsConfig::default();
        if let Some(t) = l.service_timeout {
            let d = parse_duration(&t.get_ref().text()).map_err(|error| {
                invalid(
                    t.span().start,
                    ConfigProblem::Duration {
                        key: "[limits] service_timeout",
                        error,
                    },
                )
            })?;
            config.service_timeout = Some(d);
        }
        if let Some(b) = l.in_flight_bytes {
            let n = parse_size(&b.get_ref().text()).map_err(|error| {
                invalid(
                    b.span().start,
                    ConfigProblem::Size {
                        key: "[limits] in_flight_bytes",
                        error,
                    },
                )
            })?;
            if n < 1 << 20 {
                return Err(invalid(
                    b.span().start,
                    ConfigProblem::InFlightTooSmall { bytes: n },
                ));
            }
            config.in_flight_bytes = Some(n);
        }
        if let Some(s) = l.image_size {
            let n = parse_size(&s.get_ref().text()).map_err(|error| {
                invalid(
                    s.span().start,
                    ConfigProblem::Size {
                        key: "[limits] image_size",
                        error,
                    },
                )
            })?;
            config.image_size = Some(n);
        }
        out.limits = Some((config, line));
    }
    Ok(out)
}

fn read_file(path: &Path) -> Result<Option<FileConfig>, ConfigError> {
    match fs_err::read_to_string(path) {
        Ok(text) => parse_file(path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ConfigError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

impl Config {
    /// Reads and merges both files; a missing file is an empty one.
    pub fn load(paths: &ConfigPaths) -> Result<Self, ConfigError> {
        let system = read_file(&paths.system)?.unwrap_or_default();
        let user = read_file(&paths.user)?.unwrap_or_default();
        Ok(Self::merge(system, user))
    }

    /// Parses one file's text (for tests and `doctor`): as if it were the
    /// user file and there were no system file.
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        Ok(Self::merge(FileConfig::default(), parse_file(path, text)?))
    }

    /// Parses both files' text.
    pub fn parse_pair(system: (&Path, &str), user: (&Path, &str)) -> Result<Self, ConfigError> {
        Ok(Self::merge(
            parse_file(system.0, system.1)?,
            parse_file(user.0, user.1)?,
        ))
    }

    fn merge(system: FileConfig, user: FileConfig) -> Self {
        let mut refusals = Vec::new();
        let locked = |key: &str| system.locked.iter().any(|k| k == key);
        let mut refused = |key: &str, line: usize| {
            refusals.push(format!(
                "{}:{line}: `{key}` is locked by {}: this setting is ignored (ask the administrator to change it there)",
                user.path.display(),
                system.path.display()
            ));
        };
        let mut warnings = Vec::new();
        if !user.locked.is_empty() {
            warnings.push(format!(
                "{}: `locked` only has an effect in the system file ({}): ignored",
                user.path.display(),
                system.path.display()
            ));
        }
        let mut catalogs = system.catalogs.map(|(c, _)| c).unwrap_or_default();
        if let Some((mine, line)) = user.catalogs {
            if locked("catalogs") {
                refused("catalog", line);
            } else {
                for c in mine {
                    catalogs.retain(|o| o.name != c.name);
                    catalogs.push(c);
                }
            }
        }
        let mut allow = system.allow.map(|(a, _)| a);
        if let Some((mine, line)) = user.allow {
            if locked("allow") {
                refused("allow", line);
            } else {
                allow = Some(mine);
            }
        }
        let mut check_interval = system.check_interval.map(|(d, _)| d);
        if let Some((mine, line)) = user.check_interval {
            if locked("updates") {
                refused("updates", line);
            } else {
                check_interval = Some(mine);
            }
        }
        let mut limits = system.limits.map(|(l, _)| l).unwrap_or_default();
        if let Some((mine, line)) = user.limits {
            if locked("limits") {
                refused("limits", line);
            } else {
                limits = mine;
            }
        }
        warnings.extend(refusals);
        Self {
            catalogs,
            allow,
            check_interval,
            limits,
            warnings,
        }
    }

    /// How long a `vm.service` call may wait for the backend's answer
    /// (`[limits] service_timeout`, default 60 s); `None`: no limit.
    pub fn service_timeout(&self) -> Option<Duration> {
        Some(
            self.limits
                .service_timeout
                .unwrap_or(DEFAULT_SERVICE_TIMEOUT),
        )
        .filter(|d| !d.is_zero())
    }

    /// The bytes of `vm.service` bodies `serve` holds at once
    /// (`[limits] in_flight_bytes`, default 256 MiB).
    pub fn in_flight_bytes(&self) -> u64 {
        self.limits
            .in_flight_bytes
            .unwrap_or(DEFAULT_IN_FLIGHT_BYTES)
    }

    /// The largest image installed or inspected (`[limits] image_size`,
    /// default 4 GiB); `None`: no limit.
    pub fn image_size(&self) -> Option<u64> {
        Some(self.limits.image_size.unwrap_or(DEFAULT_IMAGE_SIZE)).filter(|n| *n > 0)
    }

    /// How often `serve` checks for updates (`[updates] check_interval`,
    /// default 12 h).
    pub fn update_interval(&self) -> Duration {
        self.check_interval.unwrap_or(DEFAULT_UPDATE_INTERVAL)
    }

    /// The catalog named `name`.
    pub fn catalog(&self, name: &str) -> Option<&CatalogConfig> {
        self.catalogs.iter().find(|c| c.name == name)
    }

    /// The allow-list: `[allow]` with its file and the catalogs it names
    /// read. Disabled when there is no `[allow]` or `enabled = false`.
    pub fn allow_list(&self) -> Result<AllowList, crate::allow::AllowError> {
        let Some(a) = &self.allow else {
            return Ok(AllowList::disabled());
        };
        if !a.enabled {
            return Ok(AllowList::disabled());
        }
        let mut list = AllowList::new(a.declared_in.clone());
        for (raw, line) in &a.extensions {
            list.add_parsed(
                raw,
                AllowSource::Config {
                    path: a.declared_in.clone(),
                    line: *line,
                },
            )?;
        }
        if let Some(file) = &a.file {
            list.add_file(file)?;
        }
        for name in &a.catalogs {
            let c = self
                .catalog(name)
                .ok_or_else(|| crate::allow::AllowError::UnknownCatalog {
                    policy: a.declared_in.clone(),
                    name: name.clone(),
                })?;
            match &c.source {
                CatalogSource::File(path) => list.add_catalog_file(path)?,
                CatalogSource::Namespace(ns) => list.add_namespace(
                    ns.clone(),
                    AllowSource::Catalog {
                        name: c.name.clone(),
                        path: c.declared_in.clone(),
                    },
                ),
            }
        }
        Ok(list)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/home/u/config.toml"), text)
    }

    #[test]
    fn full_file() {
        let c = parse(
            r#"
[[catalog]]
name = "team"
file = "team.json"

[[catalog]]
name = "registry"
url = "127.0.0.1:5000/acme"

[allow]
enabled = true
extensions = ["acme/ext", "acme/other:1.0"]
catalogs = ["team"]

[updates]
check_interval = "6h"
"#,
        )
        .unwrap();
        assert_eq!(c.catalogs.len(), 2);
        assert_eq!(
            c.catalogs[0].source,
            CatalogSource::File("/home/u/team.json".into())
        );
        assert_eq!(
            c.catalogs[1].source,
            CatalogSource::Namespace(Namespace {
                registry: "127.0.0.1:5000".into(),
                path: "acme".into()
            })
        );
        let a = c.allow.as_ref().unwrap();
        assert!(a.enabled);
        assert_eq!(a.extensions[1], ("acme/other:1.0".to_owned(), 12));
        assert_eq!(c.update_interval(), Duration::from_secs(6 * 3600));
        assert!(c.warnings.is_empty());
    }

    #[test]
    fn defaults() {
        let c = parse("").unwrap();
        assert_eq!(c.update_interval(), DEFAULT_UPDATE_INTERVAL);
        assert!(!c.allow_list().unwrap().is_enabled());
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = parse("[allow]\nenabled = true\nextensions = [\"acme/ext\", \"Bad Ref\"]\n")
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/home/u/config.toml:3: in [allow] extensions"),
            "{e}"
        );
        let e = parse("[updates]\n\ncheck_interval = \"soon\"\n").unwrap_err();
        assert!(e.to_string().starts_with("/home/u/config.toml:3:"), "{e}");
        let e = parse("[allow]\nenabld = true\n").unwrap_err();
        assert!(e.to_string().starts_with("/home/u/config.toml:2:"), "{e}");
        assert!(e.to_string().contains("enabld"), "{e}");
        let e = parse("[[catalog]]\nname = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("exactly one of"), "{e}");
        let e = parse("[[catalog]]\nname = \"x\"\nurl = \"acme\"\n").unwrap_err();
        assert!(e.to_string().starts_with("/home/u/config.toml:3:"), "{e}");
        let e = parse("locked = [\"everything\"]\n").unwrap_err();
        assert!(e.to_string().contains("cannot be locked"), "{e}");
    }

    #[test]
    fn locked_sections_win_and_say_so() {
        let system = r#"
locked = ["allow", "catalogs"]

[[catalog]]
name = "approved"
url = "registry.example.com/approved"

[allow]
extensions = ["acme/ext"]

[updates]
check_interval = "1d"
"#;
        let user = r#"
[[catalog]]
name = "mine"
url = "127.0.0.1:5000/me"

[allow]
enabled = false

[updates]
check_interval = "1h"
"#;
        let c = Config::parse_pair(
            (Path::new("/etc/dockhand/config.toml"), system),
            (Path::new("/home/u/config.toml"), user),
        )
        .unwrap();
        assert_eq!(c.catalogs.len(), 1);
        assert_eq!(c.catalogs[0].name, "approved");
        assert!(c.allow.as_ref().unwrap().enabled);
        // Not locked: the user's wins.
        assert_eq!(c.update_interval(), Duration::from_secs(3600));
        assert_eq!(c.warnings.len(), 2, "{:?}", c.warnings);
        assert_eq!(
            c.warnings[0],
            "/home/u/config.toml:2: `catalog` is locked by /etc/dockhand/config.toml: this setting is ignored (ask the administrator to change it there)"
        );
        assert!(c.warnings[1].starts_with("/home/u/config.toml:6: `allow` is locked"));
    }

    #[test]
    fn unlocked_sections_merge() {
        let system = "[[catalog]]\nname = \"a\"\nurl = \"r.example/a\"\n[[catalog]]\nname = \"b\"\nurl = \"r.example/b\"\n";
        let user = "[[catalog]]\nname = \"b\"\nurl = \"r.example/mine\"\n";
        let c = Config::parse_pair(
            (Path::new("/etc/c.toml"), system),
            (Path::new("/u/c.toml"), user),
        )
        .unwrap();
        let names: Vec<_> = c.catalogs.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(c.catalogs[1].declared_in, Path::new("/u/c.toml"));
    }

    #[test]
    fn limits_have_defaults_and_can_be_set_or_locked() {
        let c = parse("").unwrap();
        assert_eq!(c.service_timeout(), Some(Duration::from_secs(60)));
        assert_eq!(c.in_flight_bytes(), 256 << 20);
        assert_eq!(c.image_size(), Some(4 << 30));
        let c = parse("[limits]\nservice_timeout = \"5m\"\nin_flight_bytes = \"64MiB\"\nimage_size = \"1GiB\"\n").unwrap();
        assert_eq!(c.service_timeout(), Some(Duration::from_secs(300)));
        assert_eq!(c.in_flight_bytes(), 64 << 20);
        assert_eq!(c.image_size(), Some(1 << 30));
        let c = parse("[limits]\nservice_timeout = \"off\"\nimage_size = 0\n").unwrap();
        assert_eq!(c.service_timeout(), None);
        assert_eq!(c.image_size(), None);
        let c = parse("[limits]\nservice_timeout = 0\n").unwrap();
        assert_eq!(c.service_timeout(), None);
        let e = parse("[limits]\n\nimage_size = \"big\"\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/home/u/config.toml:3: [limits] image_size:"),
            "{e}"
        );
        let e = parse("[limits]\nin_flight_bytes = \"1KiB\"\n").unwrap_err();
        assert!(e.to_string().contains("at least 1MiB"), "{e}");
        let e = parse("[limits]\ntimeout = \"1s\"\n").unwrap_err();
        assert!(e.to_string().contains("timeout"), "{e}");
        let c = Config::parse_pair(
            (
                Path::new("/etc/dockhand/config.toml"),
                "locked = [\"limits\"]\n[limits]\nimage_size = \"1GiB\"\n",
            ),
            (
                Path::new("/home/u/config.toml"),
                "[limits]\nimage_size = \"off\"\n",
            ),
        )
        .unwrap();
        assert_eq!(c.image_size(), Some(1 << 30));
        assert!(
            c.warnings[0].contains("`limits` is locked"),
            "{:?}",
            c.warnings
        );
    }
}
