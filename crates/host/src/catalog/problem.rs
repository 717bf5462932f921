//! What is wrong at one line of a catalog file.

use dockhand_oci::ReferenceError;
use dockhand_spec::Category;

/// One problem of a catalog file; [`super::CatalogFileError::Invalid`] lists
/// them with their lines.
#[derive(Debug, thiserror::Error)]
pub enum CatalogProblem {
    /// The file is over the size read.
    #[error("the file is larger than {limit} bytes: split it")]
    TooLarge {
        /// The most bytes read.
        limit: u64,
    },
    /// An `extensions.txt` line with several words.
    #[error("`{content}` holds more than one word: write one org/repo[:tag] a line")]
    MoreThanOneWord {
        /// The line, without its comment.
        content: String,
    },
    /// The same reference twice.
    #[error("`{reference}` is listed already on line {first}")]
    Duplicate {
        /// The reference as listed.
        reference: String,
        /// The line that lists it first.
        first: usize,
    },
    /// An entry that is not a reference.
    #[error(transparent)]
    Reference(EntryReferenceError),
    /// The JSON format: not a JSON object.
    #[error("not a JSON object: {error}")]
    NotJson {
        /// What the parser said.
        error: serde_json::Error,
    },
    /// The JSON format: a top-level key it does not have.
    #[error("unknown key `{key}`: a catalog has name, version and extensions")]
    UnknownKey {
        /// The key.
        key: String,
    },
    /// The JSON format: a `version` other than 1.
    #[error("version {version} is not supported: this dockhand reads version 1")]
    Version {
        /// The version as written.
        version: String,
    },
    /// The JSON format: `name` is not a string.
    #[error("`name` must be a string")]
    NameNotString,
    /// The JSON format: no `extensions`.
    #[error("no `extensions` array: list the extensions there")]
    NoExtensions,
    /// The JSON format: `extensions` is not an array.
    #[error("`extensions` must be an array of objects")]
    ExtensionsNotArray,
    /// The JSON format: an entry is not an object.
    #[error("an entry must be an object such as {{\"reference\": \"org/repo\"}}")]
    EntryNotObject,
    /// The JSON format: an entry's text field is not a string.
    #[error("`{key}` must be a string")]
    NotString {
        /// The field.
        key: String,
    },
    /// The JSON format: a category not on the official list.
    #[error("unknown category `{category}`: use one of {}", Category::KNOWN.join(", "))]
    UnknownCategory {
        /// The category.
        category: String,
    },
    /// The JSON format: `categories` is not a list of strings.
    #[error("`categories` must be an array of strings")]
    CategoriesNotStrings,
    /// The JSON format: an entry key it does not have.
    #[error(
        "unknown key `{key}`: an entry has reference, title, vendor, description and categories"
    )]
    UnknownEntryKey {
        /// The key.
        key: String,
    },
    /// The JSON format: an entry without `reference`.
    #[error("the entry has no `reference`")]
    NoReference,
}

/// Why an entry of a catalog or an allow-list is not a reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EntryReferenceError {
    /// Nothing but spaces.
    #[error("empty reference")]
    Empty,
    /// Not an image reference.
    #[error("{error}: write org/repo, org/repo:tag or org/repo@sha256:…")]
    Malformed {
        /// What the parser said.
        error: ReferenceError,
    },
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::catalog::{CatalogFile, CatalogFileError};

    fn problems(name: &str, text: &str) -> Vec<(usize, CatalogProblem)> {
        match CatalogFile::parse(Path::new(name), text) {
            Err(CatalogFileError::Invalid { problems, .. }) => problems,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn each_problem_is_its_own_variant() {
        let p = problems("e.txt", "acme/a b\nacme/x\nacme/x\n \nAcme/Bad\n");
        assert!(matches!(p[0], (1, CatalogProblem::MoreThanOneWord { .. })));
        assert!(matches!(
            p[1],
            (3, CatalogProblem::Duplicate { first: 2, .. })
        ));
        assert!(matches!(
            p[2],
            (
                5,
                CatalogProblem::Reference(EntryReferenceError::Malformed { .. })
            )
        ));
        let p = problems(
            "c.json",
            r#"{"version": 2, "extensions": [{"reference": 1}, {"reference": "a/b", "categories": ["x"]}, 3]}"#,
        );
        let kinds: Vec<&str> = p
            .iter()
            .map(|(_, p)| match p {
                CatalogProblem::Version { .. } => "version",
                CatalogProblem::NotString { key } if key == "reference" => "reference",
                CatalogProblem::UnknownCategory { .. } => "category",
                CatalogProblem::EntryNotObject => "entry",
                other => panic!("{other}"),
            })
            .collect();
        assert_eq!(kinds, ["version", "reference", "category", "entry"]);
    }
}
