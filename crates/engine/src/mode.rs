//! Whether the engine sees this machine's files, found out instead of
//! guessed from the address: a unix socket may be forwarded from a VM
//! (colima, Lima, OrbStack, Podman machine), and a TCP or ssh engine may
//! be this machine.
//!
//! The probe: a fresh directory with a random marker file in the directory
//! where backends' socket directories are made, bind-mounted into a
//! throwaway container that is created, never started, from dockhand's own
//! image ([`crate::probe_image`], loaded through the API when missing);
//! the archive API then reads the marker's path inside the container. The
//! engine either refuses the bind mount (no such directory there), shows a
//! directory without the marker (a directory of its own), or shows the
//! marker: only then do backends' sockets, made in a bind-mounted host
//! directory, reach dockhand. Four API calls, no container runs.
//!
//! The answer is kept per engine (its `ID` from `GET /info`; Podman's
//! changes on every call, so there its name and storage root) and per
//! directory in a cache file the caller names; `refresh` probes again.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};

use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{
    CreateContainerOptionsBuilder, DownloadFromContainerOptionsBuilder,
    RemoveContainerOptionsBuilder,
};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use crate::probe_image::{PROBE_IMAGE, PROBE_MOUNT};
use crate::{Engine, EngineError, EngineFlavor};

/// How many engines the cache remembers.
const CACHE_ENTRIES: usize = 32;
/// The largest archive answer read for the marker.
const MAX_ARCHIVE: usize = 64 * 1024;

/// How dockhand reaches a backend on this engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EngineMode {
    /// The engine sees this machine's files: a backend's socket directory
    /// is a bind-mounted host directory, reached directly.
    Local,
    /// It does not (a VM, another machine): a backend needs the relay
    /// through the Engine API.
    Remote,
}

impl std::fmt::Display for EngineMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            EngineMode::Local => "local",
            EngineMode::Remote => "remote",
        })
    }
}

/// The probe's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeReport {
    /// The mode.
    pub mode: EngineMode,
    /// Why, in a sentence naming the directory.
    pub reason: String,
    /// The engine's identity the answer is kept under.
    pub engine_id: String,
    /// The directory probed (where socket directories are made).
    pub dir: PathBuf,
    /// When it was probed (seconds since the epoch).
    pub checked_at: u64,
    /// True when the answer came from the cache.
    #[serde(default)]
    pub cached: bool,
}

/// What the probe needs.
#[derive(Debug, Clone, Copy)]
pub struct ModeOptions<'a> {
    /// The directory backends' socket directories are made in: it must exist
    /// (the caller makes it, private to the user).
    pub dir: &'a Path,
    /// The cache file; `None`: no cache.
    pub cache: Option<&'a Path>,
    /// Probe even when the cache has an answer.
    pub refresh: bool,
}

/// The cache file: the answers, per engine and directory.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ModeCache {
    /// The answers, newest last.
    pub engines: Vec<ModeReport>,
}

impl ModeCache {
    /// Reads `path`; a missing or unreadable file is an empty cache.
    pub fn read(path: &Path) -> Self {
        fs_err::read(path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default()
    }

    /// The answer for `engine_id` and `dir`.
    pub fn get(&self, engine_id: &str, dir: &Path) -> Option<&ModeReport> {
        self.engines
            .iter()
            .rev()
            .find(|r| r.engine_id == engine_id && r.dir == dir)
    }

    /// Keeps `report`, replacing an older answer for the same engine and directory.
    pub fn put(&mut self, report: ModeReport) {
        self.engines
            .retain(|r| !(r.engine_id == report.engine_id && r.dir == report.dir));
        self.engines.push(ModeReport {
            cached: false,
            ..report
        });
        let extra = self.engines.len().saturating_sub(CACHE_ENTRIES);
        self.engines.drain(..extra);
    }

    /// Writes the cache to `path` (replacing it atomically).
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        if let Some(parent) = path.parent() {
            fs_err::create_dir_all(parent)?;
        }
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        fs_err::write(&tmp, bytes)?;
        fs_err::rename(&tmp, path)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn random_hex(bytes: usize) -> std::io::Result<String> {
    let mut buf = vec![0u8; bytes];
    fs_err::File::open("/dev/urandom")?.read_exact(&mut buf)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}

/// Removes the probe directory when dropped.
struct ProbeDir(PathBuf);

impl Drop for ProbeDir {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

impl Engine {
    /// The identity the mode is kept under: `GET /info`'s `ID` on Docker;
    /// on Podman (whose `ID` is new on every call) its name and storage root.
    pub async fn identity(&self) -> Result<String, EngineError> {
        let info = self
            .docker
            .info()
            .await
            .map_err(|e| self.api_error("reading its info", e))?;
        let name = info.name.unwrap_or_default();
        let id = info.id.unwrap_or_default();
        Ok(match self.flavor() {
            EngineFlavor::Podman => {
                format!("podman:{name}:{}", info.docker_root_dir.unwrap_or_default())
            }
            EngineFlavor::Docker if !id.is_empty() => id,
            EngineFlavor::Docker => format!("docker:{name}:{}", self.host()),
        })
    }

    /// Local or remote mode (see the module docs): from the cache when it
    /// has this engine and directory, else probed and kept there.
    pub async fn mode(&self, opts: &ModeOptions<'_>) -> Result<ModeReport, EngineError> {
        let engine_id = self.identity().await?;
        let mut cache = opts.cache.map(ModeCache::read).unwrap_or_default();
        if !opts.refresh
            && let Some(hit) = cache.get(&engine_id, opts.dir)
        {
            return Ok(ModeReport {
                cached: true,
                ..hit.clone()
            });
        }
        let (mode, reason) = self.probe(opts.dir).await?;
        let report = ModeReport {
            mode,
            reason,
            engine_id,
            dir: opts.dir.to_path_buf(),
            checked_at: now(),
            cached: false,
        };
        if let Some(path) = opts.cache {
            cache.put(report.clone());
            // A cache that cannot be written costs a probe next time, nothing more.
            let _ = cache.write(path);
        }
        Ok(report)
    }

    /// The probe itself, always run.
    async fn probe(&self, dir: &Path) -> Result<(EngineMode, String), EngineError> {
        self.ensure_probe_image().await?;
        let token = random_hex(16)?;
        let probe_dir = ProbeDir(dir.join(format!(".probe-{}", &token[..12])));
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&probe_dir.0)
                .map_err(|e| {
                    std::io::Error::new(
                        e.kind(),
                        format!("cannot make {}: {e}", probe_dir.0.display()),
                    )
                })?;
        }
        fs_err::write(probe_dir.0.join(&token), token.as_bytes())?;
        let name = format!("dockhand-probe-{}", &token[..12]);
        let body = ContainerCreateBody {
            image: Some(PROBE_IMAGE.to_owned()),
            labels: Some(HashMap::from([(
                "io.dockhand.probe".to_owned(),
                "1".to_owned(),
            )])),
            network_disabled: Some(true),
            host_config: Some(HostConfig {
                mounts: Some(vec![Mount {
                    typ: Some(MountType::BIND),
                    source: Some(probe_dir.0.display().to_string()),
                    target: Some(PROBE_MOUNT.to_owned()),
                    read_only: Some(true),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let options = CreateContainerOptionsBuilder::default().name(&name).build();
        let created = match self.docker.create_container(Some(options), body).await {
            Ok(created) => created,
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code,
                message,
            }) if status_code < 500 || is_missing_source(&message) => {
                if is_missing_source(&message) {
                    return Ok((
                        EngineMode::Remote,
                        format!(
                            "a directory dockhand made in {} does not exist for the engine (it said: {}): it runs on another machine or in a VM, so its containers do not see this machine's files",
                            dir.display(),
                            message.trim()
                        ),
                    ));
                }
                return Err(EngineError::Api {
                    host: self.host.describe(),
                    action: "creating the file-sharing probe container".into(),
                    message,
                });
            }
            Err(e) => return Err(self.api_error("creating the file-sharing probe container", e)),
        };
        let seen = self.read_marker(&created.id, &token).await;
        let removed = self
            .docker
            .remove_container(
                &created.id,
                Some(
                    RemoveContainerOptionsBuilder::default()
                        .force(true)
                        .v(true)
                        .build(),
                ),
            )
            .await;
        let seen = seen?;
        removed.map_err(|e| self.api_error("removing the file-sharing probe container", e))?;
        Ok(if seen {
            (
                EngineMode::Local,
                format!(
                    "a file dockhand wrote in {} is visible inside this engine's containers: it shares this machine's files, so backends' sockets are reached directly",
                    dir.display()
                ),
            )
        } else {
            (
                EngineMode::Remote,
                format!(
                    "the engine has a {} of its own, without the file dockhand wrote there: it runs in another file system (a VM or another machine), so its containers do not see this machine's files",
                    dir.display()
                ),
            )
        })
    }

    /// True when the marker is in the container with the token as its content.
    async fn read_marker(&self, id: &str, token: &str) -> Result<bool, EngineError> {
        let options = DownloadFromContainerOptionsBuilder::default()
            .path(&format!("{PROBE_MOUNT}/{token}"))
            .build();
        let mut stream = self.docker.download_from_container(id, Some(options));
        let mut tar = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(bytes) => {
                    tar.extend_from_slice(&bytes);
                    if tar.len() > MAX_ARCHIVE {
                        return Ok(false);
                    }
                }
                Err(bollard::errors::Error::DockerResponseServerError {
                    status_code: 404, ..
                }) => return Ok(false),
                Err(e) => return Err(self.api_error("reading the file-sharing probe's marker", e)),
            }
        }
        Ok(tar_holds(&tar, token))
    }

    async fn ensure_probe_image(&self) -> Result<(), EngineError> {
        if self.image(PROBE_IMAGE).await?.is_some() {
            return Ok(());
        }
        let arch = if self.version.arch.is_empty() {
            "amd64"
        } else {
            &self.version.arch
        };
        let tar = crate::probe_image::save_tar(arch)?;
        self.load_image_bytes(bytes::Bytes::from(tar)).await?;
        Ok(())
    }
}

/// The engine's words for "the bind mount's source does not exist"
/// (Docker: `bind source path does not exist`; Podman: `no such file or
/// directory`).
fn is_missing_source(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("does not exist") || m.contains("no such file or directory")
}

/// True when the tar holds one regular file whose content is `token`.
fn tar_holds(tar: &[u8], token: &str) -> bool {
    let mut archive = tar::Archive::new(tar);
    let Ok(entries) = archive.entries() else {
        return false;
    };
    for entry in entries.flatten() {
        let mut entry = entry;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let mut content = String::new();
        if entry
            .by_ref()
            .take(token.len() as u64 + 1)
            .read_to_string(&mut content)
            .is_ok()
            && content == token
        {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(id: &str, dir: &str, mode: EngineMode) -> ModeReport {
        ModeReport {
            mode,
            reason: "r".into(),
            engine_id: id.into(),
            dir: dir.into(),
            checked_at: 1,
            cached: false,
        }
    }

    #[test]
    fn the_cache_keeps_one_answer_per_engine_and_directory() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("sub/engines.json");
        let mut cache = ModeCache::read(&path);
        assert!(cache.engines.is_empty());
        cache.put(report("a", "/run/user/1/dockhand", EngineMode::Local));
        cache.put(report("b", "/run/user/1/dockhand", EngineMode::Remote));
        cache.put(report("a", "/run/user/1/dockhand", EngineMode::Remote));
        cache.write(&path).unwrap();
        let cache = ModeCache::read(&path);
        assert_eq!(cache.engines.len(), 2);
        let a = cache.get("a", Path::new("/run/user/1/dockhand")).unwrap();
        assert_eq!(a.mode, EngineMode::Remote);
        assert!(cache.get("a", Path::new("/tmp/other")).is_none());
        let mut big = ModeCache::default();
        for i in 0..(CACHE_ENTRIES + 5) {
            big.put(report(&i.to_string(), "/d", EngineMode::Local));
        }
        assert_eq!(big.engines.len(), CACHE_ENTRIES);
        assert!(big.get("0", Path::new("/d")).is_none());
        // A broken file is an empty cache.
        fs_err::write(&path, "{not json").unwrap();
        assert!(ModeCache::read(&path).engines.is_empty());
    }

    #[test]
    fn the_marker_must_hold_the_token() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_ustar();
        h.set_size(4);
        h.set_mode(0o644);
        h.set_cksum();
        b.append_data(&mut h, "abcd", &b"abcd"[..]).unwrap();
        let tar = b.into_inner().unwrap();
        assert!(tar_holds(&tar, "abcd"));
        assert!(!tar_holds(&tar, "abce"));
        assert!(!tar_holds(b"garbage", "abcd"));
        assert!(is_missing_source(
            "invalid mount config for type \"bind\": bind source path does not exist: /tmp/x"
        ));
        assert!(is_missing_source(
            "statfs /tmp/x: no such file or directory"
        ));
        assert!(!is_missing_source("conflict: name in use"));
    }
}
