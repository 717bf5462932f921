//! `com.docker.desktop.extension.api.version`: a node-semver range, plus the
//! extension format's own bare-version rule.
//!
//! The grammar is node-semver's: alternatives joined by `||`, each a set of
//! comparators separated by white space (Docker's labels also use commas:
//! `>= 1.4.7, < 2.0`). Comparators are `<`, `<=`, `>`, `>=`, `=` or none,
//! optionally with white space before the version; `~` and `^` ranges; X-ranges
//! (`1.2.x`, `1.*`, `*`) and partial versions; hyphen ranges (`1.2 - 2.3.4`).
//!
//! The format's own rule (SPEC.md): when the whole constraint is one bare
//! version without operator or wildcard (`0.3.3`, `0.4.2`), it means `>= X`.
//! Real extensions are labelled that way and install on Docker Desktop.

use std::fmt;
use std::str::FromStr;

use semver::{Prerelease, Version};

/// The ddClient API version that dockhand implements.
pub const API_VERSION: &str = "0.4.2";

/// [`API_VERSION`] as a parsed version.
pub fn implemented_api_version() -> Version {
    Version::new(0, 4, 2)
}

/// Why an API-version constraint could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiVersionError {
    /// The constraint is empty or only white space.
    #[error("the constraint is empty: write a range such as `>= 0.3.0`")]
    Empty,
    /// A version inside the constraint is malformed.
    #[error("`{token}` is not a version: write MAJOR.MINOR.PATCH, e.g. `>= 0.3.0`")]
    BadVersion {
        /// The offending piece of the constraint.
        token: String,
    },
    /// An operator without a version, or a stray character.
    #[error("`{token}` is not a comparator: write an operator and a version, e.g. `>= 0.3.0`")]
    BadComparator {
        /// The offending piece of the constraint.
        token: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Comparator {
    op: Op,
    version: Version,
}

impl Comparator {
    fn new(op: Op, version: Version) -> Self {
        Self { op, version }
    }

    fn matches(&self, v: &Version) -> bool {
        let ord = cmp_precedence(v, &self.version);
        match self.op {
            Op::Lt => ord.is_lt(),
            Op::Le => ord.is_le(),
            Op::Gt => ord.is_gt(),
            Op::Ge => ord.is_ge(),
            Op::Eq => ord.is_eq(),
        }
    }
}

/// Compares by semver precedence (build metadata ignored).
fn cmp_precedence(a: &Version, b: &Version) -> std::cmp::Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// A parsed API-version constraint.
///
/// ```
/// use dockhand_spec::ApiVersionReq;
/// let req: ApiVersionReq = ">= 0.2.3".parse().unwrap();
/// assert!(req.satisfied_by_implemented());
/// let bare: ApiVersionReq = "0.3.3".parse().unwrap();
/// assert!(bare.is_bare());
/// assert!(bare.satisfied_by_implemented());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersionReq {
    raw: String,
    /// Alternatives (`||`); each is a conjunction of comparators.
    sets: Vec<Vec<Comparator>>,
    bare: bool,
}

impl ApiVersionReq {
    /// Parses a constraint with node-semver semantics and the bare-version rule.
    pub fn parse(input: &str) -> Result<Self, ApiVersionError> {
        let raw = input.to_owned();
        let trimmed = input.trim();
        if trimmed.is_empty() {
            return Err(ApiVersionError::Empty);
        }
        // The format's bare-version rule: one plain version means `>= X`.
        if let Some(partial) = bare_version(trimmed) {
            let version = partial.floor();
            return Ok(Self {
                raw,
                sets: vec![vec![Comparator::new(Op::Ge, version)]],
                bare: true,
            });
        }
        let mut sets = Vec::new();
        for alternative in trimmed.split("||") {
            sets.push(parse_set(alternative)?);
        }
        Ok(Self {
            raw,
            sets,
            bare: false,
        })
    }

    /// The constraint as written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// True when the constraint was a bare version, read as `>= X`.
    pub fn is_bare(&self) -> bool {
        self.bare
    }

    /// True when `version` satisfies the constraint. As in node-semver, a
    /// pre-release satisfies only comparators on the same `MAJOR.MINOR.PATCH`
    /// that carry a pre-release themselves.
    pub fn matches(&self, version: &Version) -> bool {
        self.sets.iter().any(|set| {
            set.iter().all(|c| c.matches(version))
                && (version.pre.is_empty()
                    || set.iter().any(|c| {
                        !c.version.pre.is_empty()
                            && (c.version.major, c.version.minor, c.version.patch)
                                == (version.major, version.minor, version.patch)
                    }))
        })
    }

    /// True when [`API_VERSION`] satisfies the constraint.
    pub fn satisfied_by_implemented(&self) -> bool {
        self.matches(&implemented_api_version())
    }
}

impl FromStr for ApiVersionReq {
    type Err = ApiVersionError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ApiVersionReq {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.raw.trim())
    }
}

/// A version with possibly missing parts (`1`, `1.2`, `1.2.x`, `*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Prerelease,
}

impl Partial {
    /// The lowest version the partial covers (missing parts are 0).
    fn floor(&self) -> Version {
        let mut v = Version::new(
            self.major.unwrap_or(0),
            self.minor.unwrap_or(0),
            self.patch.unwrap_or(0),
        );
        v.pre = self.pre.clone();
        v
    }

    fn is_complete(&self) -> bool {
        self.patch.is_some()
    }
}

fn is_wild(part: &str) -> bool {
    matches!(part, "x" | "X" | "*")
}

fn parse_partial(token: &str) -> Result<Partial, ApiVersionError> {
    let bad = || ApiVersionError::BadVersion {
        token: token.to_owned(),
    };
    let t = token.strip_prefix(['v', 'V']).unwrap_or(token);
    let t = t.split_once('+').map_or(t, |(core, _build)| core);
    let (core, pre) = match t.split_once('-') {
        Some((core, pre)) => (core, Prerelease::new(pre).map_err(|_| bad())?),
        None => (t, Prerelease::EMPTY),
    };
    let parts: Vec<&str> = core.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return Err(bad());
    }
    let mut nums = [None, None, None];
    let mut wild_seen = false;
    for (i, part) in parts.iter().enumerate() {
        if is_wild(part) {
            wild_seen = true;
            continue;
        }
        if wild_seen
            || part.is_empty()
            || !part.bytes().all(|b| b.is_ascii_digit())
            || (part.len() > 1 && part.starts_with('0'))
        {
            return Err(bad());
        }
        nums[i] = Some(part.parse::<u64>().map_err(|_| bad())?);
    }
    if !pre.is_empty() && nums[2].is_none() {
        return Err(bad());
    }
    Ok(Partial {
        major: nums[0],
        minor: nums[1],
        patch: nums[2],
        pre,
    })
}

/// `Some` when the whole constraint is one version with no operator and no
/// wildcard (the bare-version rule).
fn bare_version(s: &str) -> Option<Partial> {
    if s.contains(char::is_whitespace) || s.contains([',', '|']) {
        return None;
    }
    let first = s.chars().next()?;
    if !(first.is_ascii_digit() || first == 'v' || first == 'V') {
        return None;
    }
    let p = parse_partial(s).ok()?;
    (p.major.is_some() && !s.split('.').any(is_wild)).then_some(p)
}

/// Splits a comparator set into tokens, gluing an operator to the version
/// that follows it after white space (`>= 0.2.3`).
fn tokens(set: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for piece in set
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|p| !p.is_empty())
    {
        match out.last_mut() {
            Some(last) if is_operator_only(last) => last.push_str(piece),
            _ => out.push(piece.to_owned()),
        }
    }
    out
}

fn is_operator_only(s: &str) -> bool {
    matches!(s, "<" | "<=" | ">" | ">=" | "=" | "~" | "~>" | "^")
}

fn parse_set(set: &str) -> Result<Vec<Comparator>, ApiVersionError> {
    let toks = tokens(set);
    if toks.is_empty() {
        return Err(ApiVersionError::Empty);
    }
    // Hyphen range: `A - B`.
    if toks.len() == 3 && toks[1] == "-" {
        let lo = parse_partial(&toks[0])?;
        let hi = parse_partial(&toks[2])?;
        let mut out = vec![Comparator::new(Op::Ge, lo.floor())];
        out.extend(upper_bound_inclusive(&hi));
        return Ok(out);
    }
    let mut out = Vec::new();
    for tok in &toks {
        if is_operator_only(tok) || tok == "-" {
            return Err(ApiVersionError::BadComparator { token: tok.clone() });
        }
        out.extend(parse_comparator(tok)?);
    }
    Ok(out)
}

/// `<= hi` for a partial upper bound of a hyphen range.
fn upper_bound_inclusive(hi: &Partial) -> Vec<Comparator> {
    match (hi.major, hi.minor, hi.patch) {
        (None, _, _) => vec![],
        (Some(m), None, _) => vec![Comparator::new(Op::Lt, lower(m + 1, 0, 0))],
        (Some(m), Some(n), None) => vec![Comparator::new(Op::Lt, lower(m, n + 1, 0))],
        (Some(_), Some(_), Some(_)) => vec![Comparator::new(Op::Le, hi.floor())],
    }
}

/// The lowest version of `M.m.p` including its pre-releases (`M.m.p-0`).
fn lower(major: u64, minor: u64, patch: u64) -> Version {
    let mut v = Version::new(major, minor, patch);
    v.pre = Prerelease::new("0").unwrap_or(Prerelease::EMPTY);
    v
}

fn parse_comparator(tok: &str) -> Result<Vec<Comparator>, ApiVersionError> {
    let (op, rest) = split_operator(tok);
    if rest.is_empty() {
        return Err(ApiVersionError::BadComparator {
            token: tok.to_owned(),
        });
    }
    let p = parse_partial(rest)?;
    let any = || Comparator::new(Op::Ge, Version::new(0, 0, 0));
    Ok(match op {
        "~" | "~>" => match (p.major, p.minor) {
            (None, _) => vec![any()],
            (Some(m), None) => vec![Comparator::new(Op::Ge, p.floor()), lt(m + 1, 0, 0)],
            (Some(m), Some(n)) => vec![Comparator::new(Op::Ge, p.floor()), lt(m, n + 1, 0)],
        },
        "^" => match (p.major, p.minor, p.patch) {
            (None, _, _) => vec![any()],
            (Some(m), None, _) => vec![Comparator::new(Op::Ge, p.floor()), lt(m + 1, 0, 0)],
            (Some(0), Some(n), None) => vec![Comparator::new(Op::Ge, p.floor()), lt(0, n + 1, 0)],
            (Some(m), Some(_), None) => vec![Comparator::new(Op::Ge, p.floor()), lt(m + 1, 0, 0)],
            (Some(0), Some(0), Some(x)) => {
                vec![Comparator::new(Op::Ge, p.floor()), lt(0, 0, x + 1)]
            }
            (Some(0), Some(n), Some(_)) => {
                vec![Comparator::new(Op::Ge, p.floor()), lt(0, n + 1, 0)]
            }
            (Some(m), Some(_), Some(_)) => {
                vec![Comparator::new(Op::Ge, p.floor()), lt(m + 1, 0, 0)]
            }
        },
        "" | "=" => x_range(&p),
        ">=" => vec![Comparator::new(Op::Ge, p.floor())],
        "<" => vec![Comparator::new(
            Op::Lt,
            if p.is_complete() {
                p.floor()
            } else {
                lower_of(&p)
            },
        )],
        ">" => match (p.major, p.minor, p.patch) {
            (None, _, _) => vec![Comparator::new(Op::Lt, Version::new(0, 0, 0))],
            (Some(m), None, _) => vec![Comparator::new(Op::Ge, lower(m + 1, 0, 0))],
            (Some(m), Some(n), None) => vec![Comparator::new(Op::Ge, lower(m, n + 1, 0))],
            _ => vec![Comparator::new(Op::Gt, p.floor())],
        },
        "<=" => match (p.major, p.minor, p.patch) {
            (None, _, _) => vec![any()],
            (Some(m), None, _) => vec![lt(m + 1, 0, 0)],
            (Some(m), Some(n), None) => vec![lt(m, n + 1, 0)],
            _ => vec![Comparator::new(Op::Le, p.floor())],
        },
        _ => {
            return Err(ApiVersionError::BadComparator {
                token: tok.to_owned(),
            });
        }
    })
}

fn lt(major: u64, minor: u64, patch: u64) -> Comparator {
    Comparator::new(Op::Lt, lower(major, minor, patch))
}

/// `< 2.0` means below every 2.0.0 pre-release too.
fn lower_of(p: &Partial) -> Version {
    lower(
        p.major.unwrap_or(0),
        p.minor.unwrap_or(0),
        p.patch.unwrap_or(0),
    )
}

/// An operator-less comparator inside a set: `1.2.3` exact, `1.2` / `1.2.x` a range.
fn x_range(p: &Partial) -> Vec<Comparator> {
    match (p.major, p.minor, p.patch) {
        (None, _, _) => vec![Comparator::new(Op::Ge, Version::new(0, 0, 0))],
        (Some(m), None, _) => vec![Comparator::new(Op::Ge, p.floor()), lt(m + 1, 0, 0)],
        (Some(m), Some(n), None) => vec![Comparator::new(Op::Ge, p.floor()), lt(m, n + 1, 0)],
        _ => vec![Comparator::new(Op::Eq, p.floor())],
    }
}

fn split_operator(tok: &str) -> (&str, &str) {
    for op in [">=", "<=", "~>", ">", "<", "=", "~", "^"] {
        if let Some(rest) = tok.strip_prefix(op) {
            return (op, rest.trim_start());
        }
    }
    ("", tok)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap()
    }

    #[test]
    fn corpus_forms_accept_the_implemented_version() {
        for req in [
            ">= 0.2.3", ">= 0.2.0", ">= 0.3.0", ">= 0.3.4", ">= 0.4.2", "0.3.0", "0.3.3", "0.3.4",
            "0.4.2", ">=0.2.3", ">=0.2.0",
        ] {
            let parsed = ApiVersionReq::parse(req).unwrap();
            assert!(parsed.satisfied_by_implemented(), "{req}");
        }
    }

    #[test]
    fn bare_version_means_at_least() {
        let req = ApiVersionReq::parse("0.3.3").unwrap();
        assert!(req.is_bare());
        assert!(req.matches(&v("9.0.0")));
        assert!(!req.matches(&v("0.3.2")));
        assert!(
            !ApiVersionReq::parse("0.5.0")
                .unwrap()
                .satisfied_by_implemented()
        );
        assert!(ApiVersionReq::parse("v0.4").unwrap().is_bare());
    }

    #[test]
    fn constraints_match_versions() {
        // (constraint, version, satisfied)
        for (req, ver, want) in [
            // Comma- and space-separated sets: every comparator must hold.
            (">= 1.4.7, < 2.0", "1.9.9", true),
            (">= 1.4.7, < 2.0", "2.0.0", false),
            (">= 1.4.7, < 2.0", "2.0.0-rc.1", false),
            (">=0.2.0 <0.5", "0.4.2", true),
            (">=0.2.0 <0.4", "0.4.2", false),
            // node-semver operators: `~`, `^`, `x` ranges, `=`, hyphen ranges, `||`.
            ("~0.4.0", "0.4.2", true),
            ("~0.3.0", "0.4.2", false),
            ("^0.4.1", "0.4.2", true),
            ("^0.3.1", "0.4.2", false),
            ("^1.2.3", "1.9.0", true),
            ("^1.2.3", "2.0.0", false),
            ("^0.0.3", "0.0.3", true),
            ("^0.0.3", "0.0.4", false),
            ("0.4.x", "0.4.2", true),
            ("*", "0.4.2", true),
            ("0.x", "0.4.2", true),
            ("=0.4.2", "0.4.2", true),
            ("=0.4.1", "0.4.2", false),
            ("0.1.0 - 0.4", "0.4.9", true),
            ("0.1.0 - 0.4.1", "0.4.2", false),
            (">0.4", "0.5.0", true),
            (">0.4", "0.4.9", false),
            ("<=0.4", "0.4.9", true),
            ("<0.1.0 || >=0.4.0", "0.4.2", true),
            ("<0.1.0 || >=0.5.0", "0.4.2", false),
            // A prerelease satisfies only comparators with a prerelease of the same tuple.
            (">=0.4.0", "0.5.0-rc.1", false),
            (">=0.5.0-rc.0", "0.5.0-rc.1", true),
            (">=0.5.0-rc.0", "0.6.0-rc.1", false),
        ] {
            let got = ApiVersionReq::parse(req).unwrap().matches(&v(ver));
            assert_eq!(got, want, "`{req}` satisfied by {ver}");
        }
    }

    #[test]
    fn malformed_constraints_are_errors() {
        for bad in [
            "",
            "   ",
            ">=",
            "latest",
            ">= 0.2.x.1",
            "01.2.3",
            ">= abc",
            "0.2.3 -",
            "- 1",
        ] {
            assert!(
                ApiVersionReq::parse(bad).is_err(),
                "{bad:?} should not parse"
            );
        }
    }

    #[test]
    fn display_keeps_the_written_form() {
        assert_eq!(
            ApiVersionReq::parse(" >= 0.2.3 ").unwrap().to_string(),
            ">= 0.2.3"
        );
    }
}
