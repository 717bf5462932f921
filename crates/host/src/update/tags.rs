//! Which registry tags are versions: semver tags (a leading `v` accepted),
//! pre-releases only when asked, everything else (`latest`, `foo`, `1.0`)
//! ignored and counted. Pure.

use semver::Version;

/// A tag that names a semver version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionTag {
    /// The tag as the registry lists it (`v1.2.0`).
    pub tag: String,
    /// Its version (`1.2.0`).
    pub version: Version,
}

impl VersionTag {
    /// `tag` as a version: `X.Y.Z[-pre][+build]`, optionally after a `v`.
    pub fn parse(tag: &str) -> Option<Self> {
        let bare = tag.strip_prefix('v').unwrap_or(tag);
        let version = Version::parse(bare).ok()?;
        Some(Self {
            tag: tag.to_owned(),
            version,
        })
    }
}

/// The version tags of a listing, highest first, and how many tags were
/// ignored (not semver, or pre-releases when `pre` is false). When two tags
/// name the same version (`1.0.0` and `v1.0.0`) the one without `v` is kept.
pub fn version_tags<'a>(
    tags: impl IntoIterator<Item = &'a str>,
    pre: bool,
) -> (Vec<VersionTag>, usize) {
    let mut out = Vec::new();
    let mut ignored = 0;
    for tag in tags {
        match VersionTag::parse(tag) {
            Some(v) if pre || v.version.pre.is_empty() => out.push(v),
            _ => ignored += 1,
        }
    }
    out.sort_by(|a, b| {
        b.version
            .cmp(&a.version)
            .then_with(|| a.tag.starts_with('v').cmp(&b.tag.starts_with('v')))
    });
    out.dedup_by(|later, kept| later.version == kept.version);
    (out, ignored)
}

/// What an untagged reference (`acme/ext`) chooses from, by DESIGN.md's
/// rule: the version tags, highest first (pre-releases only when asked);
/// `latest` only when the repository has no semver tag at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UntaggedTags {
    /// Version tags to walk down, highest first.
    Versions(Vec<VersionTag>),
    /// No semver tag at all, and `latest` is listed.
    Latest,
    /// Only pre-release versions, and they were not asked for (highest
    /// first).
    OnlyPreReleases(Vec<String>),
    /// Nothing to choose: no semver tag and no `latest` (the other tags,
    /// as listed).
    Nothing(Vec<String>),
}

/// Applies the untagged rule to a tag listing.
pub fn untagged_tags<'a>(
    tags: impl IntoIterator<Item = &'a str> + Clone,
    pre: bool,
) -> UntaggedTags {
    let (versions, _) = version_tags(tags.clone(), pre);
    if !versions.is_empty() {
        return UntaggedTags::Versions(versions);
    }
    let (with_pre, _) = version_tags(tags.clone(), true);
    if !with_pre.is_empty() {
        return UntaggedTags::OnlyPreReleases(with_pre.into_iter().map(|t| t.tag).collect());
    }
    let listed: Vec<String> = tags.into_iter().map(str::to_owned).collect();
    if listed.iter().any(|t| t == "latest") {
        UntaggedTags::Latest
    } else {
        UntaggedTags::Nothing(listed)
    }
}

/// The tags a check walks, highest first: those above `installed` when it
/// is a version, else all of them (an extension installed by digest or by a
/// tag such as `latest` is compared by manifest digest instead).
pub fn candidates<'a>(all: &'a [VersionTag], installed: Option<&Version>) -> &'a [VersionTag] {
    match installed {
        Some(v) => {
            let above = all.iter().take_while(|t| t.version > *v).count();
            &all[..above]
        }
        None => all,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(v: &[VersionTag]) -> Vec<&str> {
        v.iter().map(|t| t.tag.as_str()).collect()
    }

    #[test]
    fn keeps_semver_tags_highest_first() {
        let tags = [
            "1.0.0",
            "latest",
            "v1.10.0",
            "1.2.0",
            "foo",
            "1.2",
            "2.0.0-rc.1",
            "v1.2.0",
            "01.0.0",
            "1.1.0+build.5",
        ];
        let (v, ignored) = version_tags(tags, false);
        assert_eq!(names(&v), ["v1.10.0", "1.2.0", "1.1.0+build.5", "1.0.0"]);
        // latest, foo, 1.2, 01.0.0, the pre-release, and the duplicate v1.2.0
        // is not counted as ignored: it names a kept version.
        assert_eq!(ignored, 5);
        let (v, ignored) = version_tags(tags, true);
        assert_eq!(v[0].tag, "2.0.0-rc.1");
        assert_eq!(ignored, 4);
    }

    #[test]
    fn candidates_are_above_the_installed_version() {
        let (v, _) = version_tags(["1.0.0", "1.1.0", "2.0.0", "0.9.0"], false);
        let installed = Version::parse("1.0.0").unwrap();
        assert_eq!(names(candidates(&v, Some(&installed))), ["2.0.0", "1.1.0"]);
        let top = Version::parse("2.0.0").unwrap();
        assert!(candidates(&v, Some(&top)).is_empty());
        assert_eq!(candidates(&v, None).len(), 4);
    }

    #[test]
    fn untagged_takes_versions_then_latest() {
        let tags = ["1.0.0", "1.1.0", "1.2.0", "2.0.0-rc.1", "latest"];
        let UntaggedTags::Versions(v) = untagged_tags(tags, false) else {
            panic!("versions")
        };
        assert_eq!(names(&v), ["1.2.0", "1.1.0", "1.0.0"]);
        let UntaggedTags::Versions(v) = untagged_tags(tags, true) else {
            panic!("versions")
        };
        assert_eq!(names(&v), ["2.0.0-rc.1", "1.2.0", "1.1.0", "1.0.0"]);
        // A leading v is a version too.
        let UntaggedTags::Versions(v) = untagged_tags(["latest", "v0.3.0"], false) else {
            panic!("versions")
        };
        assert_eq!(names(&v), ["v0.3.0"]);
        // latest only without any semver tag.
        assert_eq!(
            untagged_tags(["latest", "edge", "1.0"], false),
            UntaggedTags::Latest
        );
        assert_eq!(
            untagged_tags(["latest", "2.0.0-rc.1", "2.0.0-rc.2"], false),
            UntaggedTags::OnlyPreReleases(vec!["2.0.0-rc.2".into(), "2.0.0-rc.1".into()])
        );
        assert!(matches!(
            untagged_tags(["latest", "2.0.0-rc.1"], true),
            UntaggedTags::Versions(v) if v.len() == 1
        ));
        assert_eq!(
            untagged_tags(["edge", "main"], false),
            UntaggedTags::Nothing(vec!["edge".into(), "main".into()])
        );
        assert_eq!(untagged_tags([], false), UntaggedTags::Nothing(vec![]));
    }

    #[test]
    fn a_pre_release_sorts_below_its_release() {
        let (v, _) = version_tags(["1.1.0-beta.1", "1.1.0", "1.0.0"], true);
        assert_eq!(names(&v), ["1.1.0", "1.1.0-beta.1", "1.0.0"]);
    }
}
