//! What is wrong at one line of a configuration file.

use super::amounts::{DurationError, SizeError, format_size};
use crate::allow::AllowEntryError;
use crate::namespace::NamespaceError;

/// One problem of a configuration file; [`super::ConfigError::Invalid`] adds
/// the file and the line.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ConfigProblem {
    /// Not TOML, or a key the file does not have.
    #[error("{}", .0.message().trim())]
    Syntax(toml::de::Error),
    /// `locked` names a section that cannot be locked.
    #[error("`{key}` cannot be locked: locked takes {}", super::LOCKABLE.join(", "))]
    NotLockable {
        /// The name given.
        key: String,
    },
    /// A `[[catalog]]` without a name.
    #[error("a catalog needs a name")]
    CatalogWithoutName,
    /// Two `[[catalog]]`s of one name.
    #[error("two catalogs are named `{name}`: give each its own name")]
    DuplicateCatalog {
        /// The name.
        name: String,
    },
    /// A `[[catalog]]` with both or neither of `file` and `url`.
    #[error(
        "catalog `{name}` needs exactly one of `file = PATH` and `url = \"registry/namespace\"`"
    )]
    CatalogSource {
        /// The catalog.
        name: String,
    },
    /// A catalog's `url` is not a registry namespace.
    #[error(transparent)]
    Namespace(NamespaceError),
    /// An `[allow] extensions` entry is neither a reference nor a namespace.
    #[error("in [allow] extensions: {0}")]
    AllowEntry(AllowEntryError),
    /// A duration key (`[updates] check_interval`, `[limits] service_timeout`).
    #[error("{key}: {error}")]
    Duration {
        /// The key, with its section.
        key: &'static str,
        /// Why.
        error: DurationError,
    },
    /// A size key (`[limits] in_flight_bytes`, `[limits] image_size`).
    #[error("{key}: {error}")]
    Size {
        /// The key, with its section.
        key: &'static str,
        /// Why.
        error: SizeError,
    },
    /// `[limits] in_flight_bytes` below what any call needs.
    #[error(
        "[limits] in_flight_bytes: {} is too small for any call to get through: give at least 1MiB (default 256MiB)",
        format_size(*bytes)
    )]
    InFlightTooSmall {
        /// The bytes given.
        bytes: u64,
    },
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{Config, ConfigError};

    fn problem(text: &str) -> (usize, ConfigProblem) {
        match Config::parse(Path::new("/c.toml"), text) {
            Err(ConfigError::Invalid { line, problem, .. }) => (line, problem),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_problem_is_its_own_variant() {
        assert!(matches!(
            problem("[updates]\ncheck_interval = \"soon\"\n"),
            (
                2,
                ConfigProblem::Duration {
                    key: "[updates] check_interval",
                    error: DurationError::NotADuration { .. }
                }
            )
        ));
        assert!(matches!(
            problem("[limits]\nimage_size = \"99999999TiB\"\n"),
            (
                2,
                ConfigProblem::Size {
                    key: "[limits] image_size",
                    error: SizeError::TooLarge { .. }
                }
            )
        ));
        assert!(matches!(
            problem("[limits]\nin_flight_bytes = 1024\n"),
            (2, ConfigProblem::InFlightTooSmall { bytes: 1024 })
        ));
        assert!(matches!(
            problem("[[catalog]]\nname = \"a\"\nurl = \"acme\"\n"),
            (
                3,
                ConfigProblem::Namespace(NamespaceError::NoRegistryHost { .. })
            )
        ));
        assert!(matches!(
            problem("[allow]\nextensions = [\"\"]\n"),
            (2, ConfigProblem::AllowEntry(_))
        ));
        assert!(matches!(
            problem("locked = [\"x\"]\n"),
            (1, ConfigProblem::NotLockable { key }) if key == "x"
        ));
        assert!(matches!(
            problem("nope = 1\n"),
            (1, ConfigProblem::Syntax(_))
        ));
    }
}
