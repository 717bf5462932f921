//! A compose project as dockhand runs it, and its name.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// The longest project name we make (compose v2 has no limit; container and
/// network names built from it should stay readable).
const MAX_PROJECT_NAME: usize = 63;
const PROJECT_PREFIX: &str = "dockhand-";

/// A compose project as dockhand runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeProject {
    /// The project name (see [`project_name`]).
    pub name: String,
    /// The compose files, in order (the extension's, then the override).
    pub files: Vec<PathBuf>,
    /// Extra environment for compose (interpolation), such as `DESKTOP_PLUGIN_IMAGE`.
    pub env: Vec<(String, String)>,
    /// The project directory: relative paths in the files resolve against it.
    pub dir: PathBuf,
}

/// `s` lowercased, with every character outside `[a-z0-9_-]` replaced by
/// `_`: what compose accepts in project and service names.
pub(crate) fn compose_slug(s: &str) -> String {
    s.chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '_') => c,
            _ => '_',
        })
        .collect()
}

/// The compose project name for an extension: `dockhand-<slug>`, where the
/// slug is the id lowercased with every character outside `[a-z0-9_-]`
/// replaced by `_` (`docker/volumes-backup-extension` →
/// `dockhand-docker_volumes-backup-extension`). Valid for compose v1 and v2
/// (it starts with a letter). Names longer than 63 characters are cut and
/// end with `-` and 8 hex digits of the id's SHA-256, so they stay distinct.
pub fn project_name(extension_id: &str) -> String {
    let name = format!("{PROJECT_PREFIX}{}", compose_slug(extension_id));
    if name.len() <= MAX_PROJECT_NAME {
        return name;
    }
    let hash = format!("{:x}", Sha256::digest(extension_id.as_bytes()));
    // All ASCII, so byte slicing is safe.
    format!("{}-{}", &name[..MAX_PROJECT_NAME - 9], &hash[..8])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_valid_for_v1_and_v2() {
        assert_eq!(
            project_name("docker/volumes-backup-extension"),
            "dockhand-docker_volumes-backup-extension"
        );
        assert_eq!(
            project_name("ghcr.io/Acme/Ext"),
            "dockhand-ghcr_io_acme_ext"
        );
        let long = format!("acme/{}", "x".repeat(100));
        let name = project_name(&long);
        assert_eq!(name.len(), 63);
        assert!(name.starts_with("dockhand-acme_xxx"));
        assert_ne!(name, project_name(&format!("{long}y")));
        for id in ["a/b", "UPPER/Case.Name", "x:y@z", &long] {
            let n = project_name(id);
            assert!(n.len() <= 63);
            assert!(n.starts_with(|c: char| c.is_ascii_lowercase()));
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
                "{n}"
            );
        }
    }
}
