//! The relay's image: one layer with the static `dockhand-relay` binary,
//! written by dockhand as a `docker save` tar and loaded through the Engine
//! API (never pulled), as the mode probe's image is (both through
//! `saved_image.rs`). The
//! bytes depend only on the binary (fixed times, owners, modes and order),
//! so the same binary gives the same image id, and the tag carries the
//! binary's digest: a new dockhand with a new relay loads a new image.
//!
//! The binaries ship with dockhand, one per architecture, as files named
//! `dockhand-relay-<arch>` ([`RelayBinaries`]): `scripts/build-relay` builds
//! them into `target/relay/` in a checkout, `scripts/package` installs them
//! in `/usr/lib/dockhand/relay/`. They are not embedded in the dockhand
//! binary, so that `cargo build` needs no cross-compilation targets; an
//! engine whose architecture has no binary is refused with the fix.

use std::path::{Path, PathBuf};

use bytes::Bytes;

use super::exec::{RELAY_BINARY, RELAY_SOCKET_DIR};
use crate::saved_image::{OneLayer, append_dir, header, sha256_hex};
use crate::{Engine, EngineError};

/// The image's repository in the engine; the tag is `<version>-<12 hex
/// digits of the binary's sha256>`.
pub const RELAY_REPOSITORY: &str = "dockhand-relay";
/// The label every relay image carries (its value: dockhand's version).
pub const RELAY_LABEL: &str = "dev.dockhand.relay";
/// The architectures dockhand ships a relay for (Go's names, as engines
/// report them).
pub const RELAY_ARCHES: &[&str] = &["amd64", "arm64"];

/// Why there is no relay image for an engine.
#[derive(Debug, thiserror::Error)]
pub enum RelayImageError {
    /// dockhand ships no relay for the engine's architecture.
    #[error(
        "the engine at {host} runs linux/{arch}, and dockhand ships its relay only for linux/amd64 and linux/arm64: run backends on an engine on this machine (local mode), or build dockhand-relay for linux/{arch} (a static musl binary) and put it in {dir} as dockhand-relay-{arch}"
    )]
    Arch {
        /// The engine.
        host: String,
        /// Its architecture.
        arch: String,
        /// Where the binary would go.
        dir: PathBuf,
    },
    /// The binary for this architecture is missing or unreadable.
    #[error(
        "cannot read the relay for linux/{arch} at {path}: {source}; in a source checkout run scripts/build-relay, otherwise reinstall dockhand's package"
    )]
    Missing {
        /// The architecture.
        arch: String,
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not a linux executable for that architecture.
    #[error(
        "{path} is not a static linux/{arch} executable ({why}): rebuild it with scripts/build-relay, or reinstall dockhand's package"
    )]
    NotExecutable {
        /// The architecture.
        arch: String,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        why: &'static str,
    },
    /// The engine failed (inspecting or loading the image).
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// Where the relay binaries are: a directory of `dockhand-relay-<arch>` files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RelayBinaries {
    /// The directory.
    pub dir: PathBuf,
}

impl RelayBinaries {
    /// The directory for a dockhand binary at `exe`: the package's
    /// `<prefix>/lib/dockhand/relay` beside `<prefix>/bin/dockhand`, else a
    /// checkout's `target/relay` beside `target/<profile>/dockhand` (or
    /// `target/<profile>/deps/…` for tests). The first that exists wins; the
    /// package's when none does.
    pub fn beside(exe: &Path) -> Self {
        let bin_dir = exe.parent().unwrap_or(Path::new("."));
        let candidates = [
            bin_dir.join("../lib/dockhand/relay"),
            bin_dir.join("../relay"),
            bin_dir.join("../../relay"),
        ];
        let dir = candidates
            .iter()
            .find(|d| d.is_dir())
            .unwrap_or(&candidates[0])
            .clone();
        Self { dir }
    }

    /// The binary's path for `arch`.
    pub fn path(&self, arch: &str) -> PathBuf {
        self.dir.join(format!("dockhand-relay-{arch}"))
    }

    /// The binary for `arch` (Go's name: `amd64`, `arm64`), checked to be an
    /// ELF executable for it.
    pub fn read(&self, arch: &str) -> Result<Vec<u8>, RelayImageError> {
        let path = self.path(arch);
        let bytes = fs_err::read(&path).map_err(|source| RelayImageError::Missing {
            arch: arch.to_owned(),
            path: path.clone(),
            source,
        })?;
        let not = |why| RelayImageError::NotExecutable {
            arch: arch.to_owned(),
            path: path.clone(),
            why,
        };
        let machine =
            elf_machine(&bytes).ok_or_else(|| not("not a 64-bit little-endian ELF executable"))?;
        let wanted = match arch {
            "amd64" => 62,
            "arm64" => 183,
            _ => return Err(not("an architecture dockhand has no relay for")),
        };
        if machine != wanted {
            return Err(not("an executable for another machine"));
        }
        Ok(bytes)
    }
}

/// `e_machine` of a 64-bit little-endian ELF executable (`ET_EXEC` or `ET_DYN`).
fn elf_machine(b: &[u8]) -> Option<u16> {
    if b.len() < 64 || &b[..4] != b"\x7fELF" || b[4] != 2 || b[5] != 1 {
        return None;
    }
    let e_type = u16::from_le_bytes([b[16], b[17]]);
    if e_type != 2 && e_type != 3 {
        return None;
    }
    Some(u16::from_le_bytes([b[18], b[19]]))
}

/// The image's name for `binary`.
pub fn relay_image_name(binary: &[u8]) -> String {
    format!(
        "{RELAY_REPOSITORY}:{}-{}",
        env!("CARGO_PKG_VERSION"),
        &sha256_hex(binary)[..12]
    )
}

/// The `docker save` tar of the relay image for `arch` holding `binary`:
/// the binary at [`RELAY_BINARY`] (mode 0755), the empty socket directory,
/// `dockhand-relay listen` as the command and `SIGKILL` as the stop signal
/// (the listener keeps nothing). Same inputs, same bytes.
pub fn relay_image_tar(arch: &str, binary: &[u8]) -> std::io::Result<Vec<u8>> {
    let name = relay_image_name(binary);
    let bin = RELAY_BINARY.trim_start_matches('/');
    let run = RELAY_SOCKET_DIR.trim_start_matches('/');
    let mut layer = tar::Builder::new(Vec::new());
    layer.append(
        &header(bin, binary.len() as u64, tar::EntryType::Regular, 0o755),
        binary,
    )?;
    let mut dir = String::new();
    for part in run.split('/') {
        dir.push_str(part);
        dir.push('/');
        append_dir(&mut layer, &dir)?;
    }
    OneLayer {
        name: &name,
        arch,
        config: serde_json::json!({
            "Entrypoint": [RELAY_BINARY],
            "Cmd": ["listen"],
            "StopSignal": "SIGKILL",
            "Labels": {RELAY_LABEL: env!("CARGO_PKG_VERSION")},
        }),
        created_by: "dockhand: the relay to a backend's sockets through the Engine API",
    }
    .save_tar(&layer.into_inner()?)
}

impl Engine {
    /// The relay image for this engine's architecture, loaded when the
    /// engine does not have it yet; its name.
    pub async fn ensure_relay_image(
        &self,
        binaries: &RelayBinaries,
    ) -> Result<String, RelayImageError> {
        let arch = self.version.arch.as_str();
        if !RELAY_ARCHES.contains(&arch) {
            return Err(RelayImageError::Arch {
                host: self.host.describe(),
                arch: if arch.is_empty() {
                    "unknown".into()
                } else {
                    arch.to_owned()
                },
                dir: binaries.dir.clone(),
            });
        }
        let binary = binaries.read(arch)?;
        let name = relay_image_name(&binary);
        if self.image(&name).await?.is_some() {
            return Ok(name);
        }
        let tar = relay_image_tar(arch, &binary).map_err(EngineError::Io)?;
        self.load_image_bytes(Bytes::from(tar)).await?;
        Ok(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dockhand_testkit::elf::{AMD64, ARM64, header as elf};
    use std::io::Read;

    #[test]
    fn the_image_is_reproducible_and_carries_the_binary() {
        let bin = elf(AMD64);
        let a = relay_image_tar("amd64", &bin).unwrap();
        assert_eq!(a, relay_image_tar("amd64", &bin).unwrap());
        assert_ne!(a, relay_image_tar("arm64", &elf(ARM64)).unwrap());
        let mut archive = tar::Archive::new(a.as_slice());
        let mut manifest = Vec::new();
        let mut layer = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let name = entry.path().unwrap().display().to_string();
            if name == "manifest.json" {
                entry.read_to_end(&mut manifest).unwrap();
            } else if name.ends_with("/layer.tar") {
                entry.read_to_end(&mut layer).unwrap();
            }
        }
        let manifest: serde_json::Value = serde_json::from_slice(&manifest).unwrap();
        assert_eq!(manifest[0]["RepoTags"][0], relay_image_name(&bin).as_str());
        let mut files = Vec::new();
        for entry in tar::Archive::new(layer.as_slice()).entries().unwrap() {
            let entry = entry.unwrap();
            let mode = entry.header().mode().unwrap();
            files.push((entry.path().unwrap().display().to_string(), mode));
        }
        assert_eq!(
            files,
            [
                ("dockhand-relay".to_owned(), 0o755),
                ("run/".to_owned(), 0o755),
                ("run/guest-services/".to_owned(), 0o755),
            ]
        );
        assert!(relay_image_name(&bin).starts_with("dockhand-relay:"));
    }

    #[test]
    fn binaries_are_checked_for_their_architecture() {
        let dir = tempfile::tempdir().unwrap();
        let bins = RelayBinaries {
            dir: dir.path().to_path_buf(),
        };
        let missing = bins.read("amd64").unwrap_err().to_string();
        assert!(missing.contains("scripts/build-relay"), "{missing}");
        fs_err::write(bins.path("amd64"), elf(ARM64)).unwrap();
        let wrong = bins.read("amd64").unwrap_err().to_string();
        assert!(wrong.contains("another machine"), "{wrong}");
        fs_err::write(bins.path("arm64"), b"#!/bin/sh\n").unwrap();
        assert!(bins.read("arm64").is_err());
        fs_err::write(bins.path("amd64"), elf(AMD64)).unwrap();
        assert_eq!(bins.read("amd64").unwrap(), elf(AMD64));
        let refused = RelayImageError::Arch {
            host: "tcp://box:2376".into(),
            arch: "s390x".into(),
            dir: bins.dir.clone(),
        }
        .to_string();
        assert!(
            refused.contains("linux/s390x") && refused.contains("dockhand-relay-s390x"),
            "{refused}"
        );
    }
}
