//! The lab's expectations (`crates/cli/tests/compat/expectations.json`) and
//! the extensions `scripts/compat --build-only` laid out.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use serde::Deserialize;

use crate::support::repo_root;

/// The whole file.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Expectations {
    /// How long a first screen may take to appear after its tab is opened.
    pub time_limit_seconds: u64,
    /// How long the lab keeps a tab open after its first screen, for the
    /// calls its page makes while opening.
    pub settle_seconds: u64,
    pub extensions: Vec<Expected>,
}

impl Expectations {
    pub(crate) fn time_limit(&self) -> Duration {
        Duration::from_secs(self.time_limit_seconds)
    }

    pub(crate) fn settle(&self) -> Duration {
        Duration::from_secs(self.settle_seconds)
    }
}

/// One extension.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct Expected {
    /// Its folder's name in the set (or among the lab's fixtures).
    pub name: String,
    /// `ui.dashboard-tab.title`: the sidebar entry.
    pub title: String,
    /// Texts the first screen shows, all of them.
    pub first_screen: Vec<String>,
    /// Why the texts are not the README's whole first screen, when they are not.
    #[serde(default)]
    pub first_screen_note: Option<String>,
    pub backend: Backend,
    /// Checks beyond the first screen (the lab's own fixture).
    #[serde(default)]
    pub checks: Vec<String>,
}

/// How the extension's backend is run here.
#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub(crate) enum Backend {
    /// No `vm` section.
    None,
    /// The extension's own image on the lab's busybox-static base, running
    /// `cmd` (the final stage's command).
    Busybox { upstream: String, cmd: Vec<String> },
    /// The compose file's images are tags of the lab's busybox-static base.
    Standin {
        images: Vec<String>,
        upstream: String,
    },
    /// Needs images from a registry this machine cannot reach.
    Unbuildable { needs: Vec<String> },
}

impl Backend {
    /// Whether the backend runs here.
    pub(crate) fn runs(&self) -> bool {
        matches!(self, Self::Busybox { .. } | Self::Standin { .. })
    }

    /// The table's words for it.
    pub(crate) fn describe(&self, compose: bool) -> String {
        let how = if compose { "compose" } else { "`vm.image`" };
        match self {
            Self::None => "none (UI only)".to_owned(),
            Self::Busybox { upstream, .. } => format!(
                "{how} on the extension's own image (`FROM {upstream}` upstream): run here on the lab's busybox-static base"
            ),
            Self::Standin { images, upstream } => format!(
                "compose on `{}` ({upstream}): run here on a busybox-static stand-in",
                images.join("`, `")
            ),
            Self::Unbuildable { needs } => {
                format!("backend not buildable here (needs {})", needs.join("; "))
            }
        }
    }
}

/// The expectations file.
pub(crate) fn fixtures_dir() -> PathBuf {
    repo_root().join("crates/cli/tests/compat")
}

pub(crate) fn load() -> Result<Expectations> {
    let path = fixtures_dir().join("expectations.json");
    let text = fs_err::read_to_string(&path).with_context(|| path.display().to_string())?;
    serde_json::from_str(&text).with_context(|| format!("{} is not valid", path.display()))
}

/// An extension as `scripts/compat --build-only` laid it out.
#[derive(Debug, Clone)]
pub(crate) struct Built {
    pub name: String,
    /// The image root (`metadata.json`, `Dockerfile`, the built UI…).
    pub root: PathBuf,
    /// Where its UI was built (`package.json`, `node_modules` here or above).
    pub ui_dir: PathBuf,
    /// The extension's own files (`SOURCE.json`).
    pub source: PathBuf,
}

/// The built extensions: the list `DOCKHAND_COMPAT_ROOTS` names (written by
/// `scripts/compat`), else what `scripts/compat --build-only` prints now
/// (builds are cached under `.state/compat/`).
pub(crate) fn built() -> Result<Vec<Built>> {
    let text = match std::env::var_os("DOCKHAND_COMPAT_ROOTS") {
        Some(list) => fs_err::read_to_string(&list)
            .with_context(|| format!("DOCKHAND_COMPAT_ROOTS={}", Path::new(&list).display()))?,
        None => {
            let out = Command::new(repo_root().join("scripts/compat"))
                .arg("--build-only")
                .output()
                .context("scripts/compat --build-only runs")?;
            ensure!(
                out.status.success(),
                "scripts/compat --build-only failed:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout)?
        }
    };
    let mut all = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let [name, root, ui_dir, source] = f[..] else {
            bail!("unexpected line in the list of built extensions: {line}");
        };
        all.push(Built {
            name: name.to_owned(),
            root: root.into(),
            ui_dir: ui_dir.into(),
            source: source.into(),
        });
    }
    Ok(all)
}

/// `DOCKHAND_COMPAT_ONLY=a,b`: only these (all when unset).
pub(crate) fn selected(name: &str) -> bool {
    match std::env::var("DOCKHAND_COMPAT_ONLY") {
        Ok(only) if !only.trim().is_empty() => only.split(',').any(|n| n.trim() == name),
        _ => true,
    }
}
