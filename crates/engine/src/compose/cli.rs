//! Which compose to run: the docker CLI's v2 plugin or a standalone
//! `docker-compose`, and finding one that answers.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::{ComposeError, ComposeRunner};
use crate::EngineHost;

/// How long `version` may take during detection.
const DETECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Where the docker CLI looks for plugins besides `<config>/cli-plugins`, in
/// its order (Linux).
pub const SYSTEM_PLUGIN_DIRS: [&str; 4] = [
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
];

/// The files the docker CLI may run for `docker compose`, in the order it
/// looks for them: the user's plugin (`<docker_config>/cli-plugins`), then
/// the system's. Whether they exist, their sizes and times tell when the v2
/// plugin appeared or changed.
pub fn plugin_candidates(docker_config: &Path) -> Vec<PathBuf> {
    std::iter::once(docker_config.join("cli-plugins"))
        .chain(SYSTEM_PLUGIN_DIRS.iter().map(PathBuf::from))
        .map(|d| d.join("docker-compose"))
        .collect()
}

/// Which compose to run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ComposeChoice {
    /// The v2 plugin (`docker compose`), else a standalone `docker-compose`.
    #[default]
    Detect,
    /// Only the docker CLI's compose plugin (`docker compose`, v2).
    Plugin,
    /// Only this standalone program (a name looked up on the search path, or
    /// a path): Debian's `docker-compose` is v1.
    Standalone(PathBuf),
}

impl ComposeChoice {
    /// From a setting: empty or `auto` detects, `v2` or `docker compose` is
    /// the plugin, `v1` is `docker-compose`, anything else a program.
    pub fn parse(value: &str) -> Self {
        match value.trim() {
            "" | "auto" => ComposeChoice::Detect,
            "v2" | "docker compose" | "plugin" => ComposeChoice::Plugin,
            "v1" => ComposeChoice::Standalone(PathBuf::from("docker-compose")),
            program => ComposeChoice::Standalone(PathBuf::from(program)),
        }
    }

    /// A short text for caches and messages (`auto`, `v2`, the program).
    pub fn key(&self) -> String {
        match self {
            ComposeChoice::Detect => "auto".to_owned(),
            ComposeChoice::Plugin => "v2".to_owned(),
            ComposeChoice::Standalone(p) => p.display().to_string(),
        }
    }
}

/// How compose is invoked: a program and the arguments before compose's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeCli {
    /// The program (`docker`, `/usr/bin/docker-compose`).
    pub program: PathBuf,
    /// Arguments naming compose (`["compose"]` for the docker CLI plugin).
    pub prefix: Vec<String>,
}

impl ComposeCli {
    /// The compose v2 plugin of a docker CLI: `docker compose …`.
    pub fn plugin(docker_cli: &Path) -> Self {
        Self {
            program: docker_cli.to_owned(),
            prefix: vec!["compose".into()],
        }
    }

    /// A standalone `docker-compose` (v1, or v2 under that name).
    pub fn standalone(program: &Path) -> Self {
        Self {
            program: program.to_owned(),
            prefix: Vec::new(),
        }
    }
}

impl std::fmt::Display for ComposeCli {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.program.display())?;
        for p in &self.prefix {
            write!(f, " {p}")?;
        }
        Ok(())
    }
}

impl ComposeRunner {
    /// Finds a working compose: `<docker_cli> compose` (v2 plugin), then
    /// `docker-compose` beside `docker_cli`, then `docker-compose` on the
    /// search path. `docker_cli` may be a path or a bare name.
    pub async fn detect(docker_cli: &Path, engine: &EngineHost) -> Result<Self, ComposeError> {
        let mut candidates = vec![ComposeCli::plugin(docker_cli)];
        if let Some(dir) = docker_cli.parent().filter(|d| !d.as_os_str().is_empty()) {
            let sibling = dir.join("docker-compose");
            if sibling.is_file() {
                candidates.push(ComposeCli::standalone(&sibling));
            }
        }
        candidates.push(ComposeCli::standalone(Path::new("docker-compose")));
        Self::detect_from(&candidates, engine).await
    }

    /// Finds the compose `choice` names ([`ComposeChoice::Detect`]: as
    /// [`ComposeRunner::detect`]).
    pub async fn detect_choice(
        docker_cli: &Path,
        engine: &EngineHost,
        choice: &ComposeChoice,
    ) -> Result<Self, ComposeError> {
        match choice {
            ComposeChoice::Detect => Self::detect(docker_cli, engine).await,
            ComposeChoice::Plugin => {
                Self::detect_from(&[ComposeCli::plugin(docker_cli)], engine).await
            }
            ComposeChoice::Standalone(program) => {
                Self::detect_from(&[ComposeCli::standalone(program)], engine).await
            }
        }
    }

    /// The first of `candidates` whose `version --short` answers.
    pub async fn detect_from(
        candidates: &[ComposeCli],
        engine: &EngineHost,
    ) -> Result<Self, ComposeError> {
        let mut tried = Vec::new();
        for cli in candidates {
            let probe =
                Self::new(cli.clone(), String::new(), engine.clone()).with_timeout(DETECT_TIMEOUT);
            let mut cmd = probe.base_command();
            cmd.args(["version", "--short"]);
            match probe.run("(detection)", cmd).await {
                Ok(out) => match parse_version(&out) {
                    Some(version) => return Ok(probe.with_version(version)),
                    None => tried.push(format!("`{cli}`: unexpected version output {out:?}")),
                },
                Err(e) => tried.push(format!("`{cli}`: {}", first_line(&e))),
            }
        }
        Err(ComposeError::NotFound {
            tried: tried.join("; "),
        })
    }
}

fn first_line(e: &ComposeError) -> String {
    match e {
        ComposeError::Failed { stderr_tail, .. } => stderr_tail
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_owned(),
        ComposeError::Spawn { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

/// `1.29.2` from `1.29.2`, `v2.24.5` or `Docker Compose version v2.24.5`.
pub(super) fn parse_version(out: &str) -> Option<String> {
    let word = out.split_whitespace().last()?;
    let v = word.strip_prefix('v').unwrap_or(word);
    v.starts_with(|c: char| c.is_ascii_digit())
        .then(|| v.trim_end_matches(',').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_parse() {
        assert_eq!(parse_version("1.29.2\n").as_deref(), Some("1.29.2"));
        assert_eq!(parse_version("v2.24.5").as_deref(), Some("2.24.5"));
        assert_eq!(
            parse_version("Docker Compose version v2.24.5").as_deref(),
            Some("2.24.5")
        );
        assert_eq!(parse_version("usage: docker"), None);
        assert_eq!(parse_version(""), None);
    }

    #[test]
    fn compose_choices_parse() {
        assert_eq!(ComposeChoice::parse(""), ComposeChoice::Detect);
        assert_eq!(ComposeChoice::parse("auto"), ComposeChoice::Detect);
        assert_eq!(ComposeChoice::parse("v2"), ComposeChoice::Plugin);
        assert_eq!(
            ComposeChoice::parse("docker compose"),
            ComposeChoice::Plugin
        );
        assert_eq!(
            ComposeChoice::parse("v1"),
            ComposeChoice::Standalone("docker-compose".into())
        );
        assert_eq!(
            ComposeChoice::parse("/usr/bin/docker-compose"),
            ComposeChoice::Standalone("/usr/bin/docker-compose".into())
        );
        assert_eq!(ComposeChoice::parse("v1").key(), "docker-compose");
        let c = plugin_candidates(Path::new("/home/u/.docker"));
        assert_eq!(
            c[0],
            Path::new("/home/u/.docker/cli-plugins/docker-compose")
        );
        assert_eq!(
            c[1],
            Path::new("/usr/local/lib/docker/cli-plugins/docker-compose")
        );
        assert_eq!(c.len(), 5);
    }

    #[tokio::test]
    async fn detection_reports_what_it_tried() {
        let e = ComposeRunner::detect_from(
            &[
                ComposeCli::standalone(Path::new("/nonexistent/docker-compose")),
                ComposeCli {
                    program: "sh".into(),
                    prefix: vec!["-c".into(), "echo nope >&2; exit 1".into(), "sh".into()],
                },
            ],
            &EngineHost::default_socket(),
        )
        .await
        .unwrap_err();
        let msg = e.to_string();
        assert!(msg.contains("/nonexistent/docker-compose"), "{msg}");
        assert!(msg.contains("nope"), "{msg}");
        let ok = ComposeRunner::detect_from(
            &[ComposeCli {
                program: "sh".into(),
                prefix: vec!["-c".into(), "echo v2.30.1".into(), "sh".into()],
            }],
            &EngineHost::default_socket(),
        )
        .await
        .unwrap();
        assert_eq!(ok.version(), "2.30.1");
        assert!(!ok.is_v1());
    }
}
