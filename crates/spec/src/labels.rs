//! Image labels: the extension's description for people, read from the image
//! config alone.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Label names.
pub mod name {
    /// Display title (required).
    pub const TITLE: &str = "org.opencontainers.image.title";
    /// One-line description (required).
    pub const DESCRIPTION: &str = "org.opencontainers.image.description";
    /// Publisher (required).
    pub const VENDOR: &str = "org.opencontainers.image.vendor";
    /// API-version constraint (required).
    pub const API_VERSION: &str = "com.docker.desktop.extension.api.version";
    /// Icon URL (required).
    pub const ICON: &str = "com.docker.desktop.extension.icon";
    /// Screenshots, a JSON array (required).
    pub const SCREENSHOTS: &str = "com.docker.extension.screenshots";
    /// Long description, text or HTML (required).
    pub const DETAILED_DESCRIPTION: &str = "com.docker.extension.detailed-description";
    /// Publisher URL (required).
    pub const PUBLISHER_URL: &str = "com.docker.extension.publisher-url";
    /// Extra links, a JSON array (optional).
    pub const ADDITIONAL_URLS: &str = "com.docker.extension.additional-urls";
    /// This version's changes, text or HTML (required).
    pub const CHANGELOG: &str = "com.docker.extension.changelog";
    /// `required` or empty (optional).
    pub const ACCOUNT_INFO: &str = "com.docker.extension.account-info";
    /// Comma-separated categories (optional).
    pub const CATEGORIES: &str = "com.docker.extension.categories";

    /// Labels every extension image must carry, non-empty.
    pub const REQUIRED: [&str; 9] = [
        TITLE,
        DESCRIPTION,
        VENDOR,
        API_VERSION,
        ICON,
        SCREENSHOTS,
        DETAILED_DESCRIPTION,
        PUBLISHER_URL,
        CHANGELOG,
    ];

    /// Labels of the format an image may leave out.
    pub const OPTIONAL: [&str; 3] = [ADDITIONAL_URLS, ACCOUNT_INFO, CATEGORIES];

    /// Every label of the format: [`REQUIRED`], then [`OPTIONAL`].
    pub const KNOWN: [&str; 12] = concat(REQUIRED, OPTIONAL);

    /// `a` then `b`, in a constant (`N` must be the sum of their lengths).
    const fn concat<const A: usize, const B: usize, const N: usize>(
        a: [&'static str; A],
        b: [&'static str; B],
    ) -> [&'static str; N] {
        assert!(A + B == N, "the lengths of a and b must add up to N");
        let mut out = [""; N];
        let mut i = 0;
        while i < N {
            out[i] = if i < A { a[i] } else { b[i - A] };
            i += 1;
        }
        out
    }

    /// Labels whose value may be HTML (rendered sanitized).
    pub const HTML: [&str; 2] = [DETAILED_DESCRIPTION, CHANGELOG];

    /// Prefixes of the format's own label namespace.
    pub const FORMAT_PREFIXES: [&str; 2] =
        ["com.docker.extension.", "com.docker.desktop.extension."];
}

/// The labels of an image config, by name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Labels(pub BTreeMap<String, String>);

impl Labels {
    /// The value of `name`, when present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    /// The value of `name` when present and not blank.
    pub fn non_empty(&self, name: &str) -> Option<&str> {
        self.get(name).filter(|v| !v.trim().is_empty())
    }

    /// Display title, when present.
    pub fn title(&self) -> Option<&str> {
        self.non_empty(name::TITLE)
    }

    /// Categories, trimmed; unknown names are kept as [`Category::Other`].
    pub fn categories(&self) -> Vec<Category> {
        self.get(name::CATEGORIES)
            .map(|v| {
                v.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| s.parse().unwrap_or_else(|_| Category::Other(s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<T: IntoIterator<Item = (String, String)>>(iter: T) -> Self {
        Self(iter.into_iter().collect())
    }
}

/// One entry of `com.docker.extension.screenshots`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Screenshot {
    /// Alternative text.
    pub alt: String,
    /// Image URL.
    pub url: String,
}

/// One entry of `com.docker.extension.additional-urls`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdditionalUrl {
    /// Link text.
    pub title: String,
    /// Target URL.
    pub url: String,
}

/// A category of `com.docker.extension.categories`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Category {
    /// A category of the official list, by its name.
    Known(&'static str),
    /// Anything else (kept so the catalog can still show it).
    Other(String),
}

impl Category {
    /// The official category names.
    pub const KNOWN: [&'static str; 12] = [
        "ci-cd",
        "container-orchestration",
        "cloud-deployment",
        "cloud-development",
        "database",
        "kubernetes",
        "networking",
        "image-registry",
        "security",
        "testing-tools",
        "utility-tools",
        "volumes",
    ];

    /// True for a name of the official list.
    pub fn is_known(&self) -> bool {
        matches!(self, Category::Known(_))
    }

    /// The name as written.
    pub fn as_str(&self) -> &str {
        match self {
            Category::Known(s) => s,
            Category::Other(s) => s,
        }
    }
}

/// The name is not one of [`Category::KNOWN`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a known category")]
pub struct UnknownCategory(pub String);

impl FromStr for Category {
    type Err = UnknownCategory;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::KNOWN
            .iter()
            .find(|k| **k == s)
            .map(|k| Category::Known(k))
            .ok_or_else(|| UnknownCategory(s.to_owned()))
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True for an absolute `http://` or `https://` URL with a host.
pub fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    match rest {
        Some(rest) => {
            let host = rest.split(['/', '?', '#']).next().unwrap_or("");
            !host.is_empty() && !s.contains(char::is_whitespace)
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_trimmed_and_sorted_into_known_and_other() {
        let labels: Labels = [(name::CATEGORIES.to_owned(), "kubernetes, ai,,".to_owned())]
            .into_iter()
            .collect();
        let cats = labels.categories();
        assert_eq!(
            cats,
            vec![Category::Known("kubernetes"), Category::Other("ai".into())]
        );
        assert!(cats[0].is_known());
    }

    #[test]
    fn http_urls() {
        assert!(is_http_url("https://example.com/icon.svg"));
        assert!(is_http_url("http://localhost:8080"));
        assert!(!is_http_url("icon.svg"));
        assert!(!is_http_url("https://"));
        assert!(!is_http_url("javascript:alert(1)"));
        assert!(!is_http_url("https://a b"));
    }
}
