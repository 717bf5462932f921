//! Platforms (`linux/amd64`, `linux/arm64/v8`) with the variant defaults the
//! docker CLI applies when matching an index entry.

use std::fmt;
use std::str::FromStr;

/// Why a string is not a platform.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a platform: write OS/ARCH[/VARIANT], such as linux/amd64 or linux/arm64")]
pub struct PlatformError(pub String);

/// An OS, architecture and optional variant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Platform {
    os: String,
    architecture: String,
    variant: Option<String>,
}

impl Platform {
    /// A platform from its parts; architecture aliases are normalised
    /// (`x86_64` → `amd64`, `aarch64` → `arm64`).
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let architecture = match architecture {
            "x86_64" | "x86-64" => "amd64",
            "aarch64" => "arm64",
            "armhf" => "arm",
            other => other,
        };
        let variant = variant.filter(|v| !v.is_empty()).map(str::to_owned);
        Self {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant,
        }
    }

    /// `linux/<this machine's architecture>`.
    pub fn host() -> Self {
        Self::new("linux", std::env::consts::ARCH, None)
    }

    /// The OS (`linux`).
    pub fn os(&self) -> &str {
        &self.os
    }

    /// The architecture (`amd64`, `arm64`).
    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    /// The variant (`v8`), when given.
    pub fn variant(&self) -> Option<&str> {
        self.variant.as_deref()
    }

    /// The variant a missing one stands for: `v8` on arm64, `v7` on arm.
    fn effective_variant(&self) -> Option<&str> {
        self.variant
            .as_deref()
            .or(match self.architecture.as_str() {
                "arm64" => Some("v8"),
                "arm" => Some("v7"),
                _ => None,
            })
    }

    /// True when an image for `other` runs here: same OS and architecture,
    /// and the same variant once defaults are applied.
    pub fn matches(&self, other: &Platform) -> bool {
        self.os == other.os
            && self.architecture == other.architecture
            && self.effective_variant() == other.effective_variant()
    }
}

impl FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let ok = |p: &str| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        };
        match parts.as_slice() {
            [os, arch] if ok(os) && ok(arch) => Ok(Self::new(os, arch, None)),
            [os, arch, variant] if ok(os) && ok(arch) && ok(variant) => {
                Ok(Self::new(os, arch, Some(variant)))
            }
            _ => Err(PlatformError(s.to_owned())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_matches() {
        let p: Platform = "linux/arm64".parse().unwrap();
        assert!(p.matches(&"linux/arm64/v8".parse().unwrap()));
        assert!(!p.matches(&"linux/amd64".parse().unwrap()));
        assert_eq!(
            "linux/x86_64".parse::<Platform>().unwrap().to_string(),
            "linux/amd64"
        );
        for bad in ["linux", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
        assert_eq!(Platform::host().os(), "linux");
    }
}
