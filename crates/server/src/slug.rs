//! The DNS label an extension's origin is named by (`docs/bridge.md`).

use dockhand_spec::ExtensionId;
use sha2::{Digest as _, Sha256};

/// How many characters of the readable part a slug keeps.
const READABLE_MAX: usize = 40;

/// The slug of `id`: its id lowercased, every run of characters outside
/// `[a-z0-9]` made one `-`, cut to 40 characters, then `-` and the first 8 hex
/// digits of the id's sha256 (`docker-volumes-backup-extension-1a2b3c4d`).
pub fn slug(id: &ExtensionId) -> String {
    slug_of(id.as_str())
}

/// [`slug`] of an id given as text.
pub fn slug_of(id: &str) -> String {
    let mut readable = String::with_capacity(id.len());
    let mut in_run = false;
    for c in id.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            readable.push(c);
            in_run = false;
        } else if !in_run {
            readable.push('-');
            in_run = true;
        }
    }
    // Only ASCII was pushed, so byte and character counts agree.
    readable.truncate(READABLE_MAX);
    let hash = Sha256::digest(id.as_bytes());
    let hex: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("{readable}-{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hash8(s: &str) -> String {
        Sha256::digest(s.as_bytes())
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    #[test]
    fn runs_become_one_dash() {
        let id = "docker/volumes-backup-extension";
        assert_eq!(
            slug_of(id),
            format!("docker-volumes-backup-extension-{}", hash8(id))
        );
        let id = "127.0.0.1:5000/acme/ext";
        assert_eq!(
            slug_of(id),
            format!("127-0-0-1-5000-acme-ext-{}", hash8(id))
        );
        let id = "a__b//c";
        assert_eq!(slug_of(id), format!("a-b-c-{}", hash8(id)));
    }

    #[test]
    fn lowercased_and_cut_to_forty() {
        let id = "Acme/A-Very-Long-Extension-Name-That-Goes-On-And-On-Forever";
        let s = slug_of(id);
        let (readable, hex) = s.rsplit_once('-').unwrap();
        assert_eq!(readable, "acme-a-very-long-extension-name-that-goe");
        assert_eq!(readable.len(), 40);
        assert_eq!(hex, hash8(id));
        assert!(s.len() <= 63, "a DNS label: {s}");
    }

    #[test]
    fn the_hash_is_of_the_id_as_written() {
        // Two ids that read the same still get two slugs.
        assert_ne!(slug_of("acme/a.b"), slug_of("acme/a-b"));
        let id = ExtensionId::parse("docker/volumes-backup-extension").unwrap();
        assert_eq!(slug(&id), slug_of("docker/volumes-backup-extension"));
    }

    #[test]
    fn is_a_dns_label() {
        for id in ["busybox", "ghcr.io/x/y", "localhost:5000/a/b", "a-b_c.d/e"] {
            let s = slug_of(id);
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'),
                "{s}"
            );
            assert!(s.len() <= 63);
        }
    }
}
