//! Running compose projects with the compose CLI the machine has: the docker
//! compose v2 plugin (`docker compose`) or the standalone `docker-compose`
//! (v1, or v2 installed under that name).
//!
//! Every command gets the engine explicitly (`DOCKER_HOST` on the child
//! process, `DOCKER_CONTEXT` and the `COMPOSE_*` variables that would change
//! which files or project it uses removed), the project name (`-p`), every
//! file (`-f`), the project directory, the project's extra environment
//! (such as `DESKTOP_PLUGIN_IMAGE`) and a timeout. A failure carries the
//! command and the last lines of its standard error.

use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use crate::EngineHost;

/// How long one compose command may run unless told otherwise.
pub const DEFAULT_COMPOSE_TIMEOUT: Duration = Duration::from_secs(300);
/// How long `version` may take during detection.
const DETECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How many lines of standard error an error keeps.
const STDERR_TAIL_LINES: usize = 20;
/// The longest project name we make (compose v2 has no limit; container and
/// network names built from it should stay readable).
const MAX_PROJECT_NAME: usize = 63;
const PROJECT_PREFIX: &str = "dockhand-";

/// Inherited variables that would make compose use another engine, other
/// files or another project than the ones we pass.
const SCRUBBED_ENV: [&str; 10] = [
    "DOCKER_CONTEXT",
    "DOCKER_TLS",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
    "COMPOSE_FILE",
    "COMPOSE_PROJECT_NAME",
    "COMPOSE_PROFILES",
    "COMPOSE_PATH_SEPARATOR",
    "COMPOSE_ENV_FILES",
    "COMPOSE_PROJECT_DIRECTORY",
];

/// Why a compose command failed.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// No compose CLI answered.
    #[error(
        "docker compose is not installed (tried {tried}); install the docker compose plugin (v2) or docker-compose"
    )]
    NotFound {
        /// What was tried, and what each said.
        tried: String,
    },
    /// A project without files.
    #[error("compose project {project} has no compose files; pass at least one")]
    NoFiles {
        /// The project.
        project: String,
    },
    /// The CLI could not be started.
    #[error("cannot run `{command}` for project {project}: {source}")]
    Spawn {
        /// The project.
        project: String,
        /// The command line.
        command: String,
        /// Why.
        source: std::io::Error,
    },
    /// The command ended with an error.
    #[error(
        "`{command}` failed for project {project} ({status}); its last error output:\n{stderr_tail}"
    )]
    Failed {
        /// The project.
        project: String,
        /// The command line.
        command: String,
        /// How it ended (`exit status: 1`).
        status: String,
        /// The last lines of its standard error.
        stderr_tail: String,
    },
    /// The command ran longer than allowed and was killed.
    #[error(
        "`{command}` did not finish within {}s for project {project} and was stopped; its last error output:\n{stderr_tail}",
        after.as_secs()
    )]
    Timeout {
        /// The project.
        project: String,
        /// The command line.
        command: String,
        /// The time limit.
        after: Duration,
        /// The last lines of its standard error so far.
        stderr_tail: String,
    },
}

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

/// Runs compose commands against one engine.
#[derive(Debug, Clone)]
pub struct ComposeRunner {
    cli: ComposeCli,
    version: String,
    engine: EngineHost,
    timeout: Duration,
    env: Option<ComposeEnv>,
}

/// The whole environment of a compose project command: compose interpolates
/// a compose file with every variable of its process, so a project command
/// starts from an empty environment and gets only these, `DOCKER_HOST` and
/// the project's own ([`ComposeProject::env`], such as
/// `DESKTOP_PLUGIN_IMAGE`). The user's other variables never reach a
/// compose file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComposeEnv {
    /// `PATH`, for credential helpers and compose's own programs; `None`:
    /// [`DEFAULT_PATH`].
    pub path: Option<String>,
    /// `HOME`, where the docker CLI and compose find their configuration
    /// (and a compose file's documented `$HOME`).
    pub home: Option<String>,
    /// `DOCKER_CONFIG`, when the user moved the docker CLI's configuration.
    pub docker_config: Option<String>,
}

/// `PATH` when none is given.
pub const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

impl ComposeEnv {
    /// Every variable a project command of `engine` sees, with `project`'s
    /// own last: what compose interpolates a file with (the local reading
    /// of a file without compose uses the same).
    pub fn variables(
        &self,
        engine: &EngineHost,
        project: &[(String, String)],
    ) -> Vec<(String, String)> {
        let mut out = vec![(
            "PATH".to_owned(),
            self.path
                .clone()
                .filter(|p| !p.is_empty())
                .unwrap_or_else(|| DEFAULT_PATH.to_owned()),
        )];
        if let Some(home) = &self.home {
            out.push(("HOME".to_owned(), home.clone()));
        }
        if let Some(config) = &self.docker_config {
            out.push(("DOCKER_CONFIG".to_owned(), config.clone()));
        }
        // DOCKER_HOST, and DOCKER_TLS_VERIFY / DOCKER_CERT_PATH for TLS.
        out.extend(engine.child_env());
        out.extend(project.iter().cloned());
        out
    }
}

/// The compose project name for an extension: `dockhand-<slug>`, where the
/// slug is the id lowercased with every character outside `[a-z0-9_-]`
/// replaced by `_` (`docker/volumes-backup-extension` →
/// `dockhand-docker_volumes-backup-extension`). Valid for compose v1 and v2
/// (it starts with a letter). Names longer than 63 characters are cut and
/// end with `-` and 8 hex digits of the id's SHA-256, so they stay distinct.
pub fn project_name(extension_id: &str) -> String {
    let slug: String = extension_id
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '-' | '_') => c,
            _ => '_',
        })
        .collect();
    let name = format!("{PROJECT_PREFIX}{slug}");
    if name.len() <= MAX_PROJECT_NAME {
        return name;
    }
    let hash = format!("{:x}", Sha256::digest(extension_id.as_bytes()));
    // All ASCII, so byte slicing is safe.
    format!("{}-{}", &name[..MAX_PROJECT_NAME - 9], &hash[..8])
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

    /// A runner for a compose CLI already known to work.
    pub fn new(cli: ComposeCli, version: String, engine: EngineHost) -> Self {
        Self {
            cli,
            version,
            engine,
            timeout: DEFAULT_COMPOSE_TIMEOUT,
            env: None,
        }
    }

    /// The same runner whose project commands run with `env` and nothing
    /// else of this process's environment ([`ComposeEnv`]).
    pub fn with_env(mut self, env: ComposeEnv) -> Self {
        self.env = Some(env);
        self
    }

    /// The same runner with another time limit per command.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    fn with_version(mut self, version: String) -> Self {
        self.version = version;
        self
    }

    /// How compose is invoked.
    pub fn cli(&self) -> &ComposeCli {
        &self.cli
    }

    /// Compose's version (`1.29.2`, `2.24.5`).
    pub fn version(&self) -> &str {
        &self.version
    }

    /// True for the Python docker-compose v1.
    pub fn is_v1(&self) -> bool {
        self.version.starts_with("1.")
    }

    /// The engine the commands go to.
    pub fn engine(&self) -> &EngineHost {
        &self.engine
    }

    /// `up -d --remove-orphans --no-build`: creates and starts every
    /// service, never building an image (a `build` section is refused
    /// before, and an image that is missing fails instead of being built).
    pub async fn up(&self, project: &ComposeProject) -> Result<(), ComposeError> {
        self.project_run(project, &["up", "-d", "--remove-orphans", "--no-build"])
            .await
            .map(drop)
    }

    /// `down --remove-orphans [-v]`: removes containers and networks, and
    /// the project's volumes when `volumes`.
    pub async fn down(&self, project: &ComposeProject, volumes: bool) -> Result<(), ComposeError> {
        let mut args = vec!["down", "--remove-orphans"];
        if volumes {
            args.push("-v");
        }
        self.project_run(project, &args).await.map(drop)
    }

    /// `stop`: stops the services, keeping their containers.
    pub async fn stop(&self, project: &ComposeProject) -> Result<(), ComposeError> {
        self.project_run(project, &["stop"]).await.map(drop)
    }

    /// `start`: starts the services' existing containers.
    pub async fn start(&self, project: &ComposeProject) -> Result<(), ComposeError> {
        self.project_run(project, &["start"]).await.map(drop)
    }

    /// `config`: the merged, interpolated project as compose sees it (YAML).
    pub async fn config(&self, project: &ComposeProject) -> Result<String, ComposeError> {
        self.project_run(project, &["config"]).await
    }

    /// The normalized model of the project: `config --format json` (v2), or
    /// `config` (v1, which prints YAML only); `dockhand_spec`'s
    /// `ComposeFacts::from_config_output` reads either.
    pub async fn normalized(&self, project: &ComposeProject) -> Result<String, ComposeError> {
        if self.is_v1() {
            self.project_run(project, &["config"]).await
        } else {
            self.project_run(project, &["config", "--format", "json"])
                .await
        }
    }

    /// The command line `args` would run for `project` (what the methods
    /// above run), for inspection or for operations they do not cover.
    pub fn command(&self, project: &ComposeProject, args: &[&str]) -> std::process::Command {
        let mut cmd = self.base_command();
        cmd.arg("-p").arg(&project.name);
        for f in &project.files {
            cmd.arg("-f").arg(f);
        }
        cmd.arg("--project-directory").arg(&project.dir);
        cmd.args(args);
        cmd.current_dir(&project.dir);
        match &self.env {
            Some(env) => {
                cmd.env_clear();
                cmd.envs(env.variables(&self.engine, &project.env));
            }
            None => {
                for (k, v) in &project.env {
                    cmd.env(k, v);
                }
            }
        }
        cmd
    }

    fn base_command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(&self.cli.program);
        cmd.args(&self.cli.prefix);
        for var in SCRUBBED_ENV {
            cmd.env_remove(var);
        }
        cmd.envs(self.engine.child_env());
        cmd
    }

    async fn project_run(
        &self,
        project: &ComposeProject,
        args: &[&str],
    ) -> Result<String, ComposeError> {
        if project.files.is_empty() {
            return Err(ComposeError::NoFiles {
                project: project.name.clone(),
            });
        }
        self.run(&project.name, self.command(project, args)).await
    }

    /// Runs `cmd` with the time limit; returns its standard output.
    async fn run(&self, project: &str, cmd: std::process::Command) -> Result<String, ComposeError> {
        let command = command_line(&cmd);
        let mut cmd = tokio::process::Command::from(cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| ComposeError::Spawn {
            project: project.to_owned(),
            command: command.clone(),
            source,
        })?;
        let stdout = child.stdout.take().map(read_all);
        let stderr = child.stderr.take().map(read_all);
        let status = tokio::time::timeout(self.timeout, child.wait()).await;
        let status = match status {
            Ok(status) => status,
            Err(_) => {
                let _ = child.kill().await;
                let stderr = collect(stderr).await;
                return Err(ComposeError::Timeout {
                    project: project.to_owned(),
                    command,
                    after: self.timeout,
                    stderr_tail: tail(&stderr, STDERR_TAIL_LINES),
                });
            }
        };
        let stdout = collect(stdout).await;
        let stderr = collect(stderr).await;
        let status: ExitStatus = status.map_err(|source| ComposeError::Spawn {
            project: project.to_owned(),
            command: command.clone(),
            source,
        })?;
        if status.success() {
            Ok(stdout)
        } else {
            Err(ComposeError::Failed {
                project: project.to_owned(),
                command,
                status: status.to_string(),
                stderr_tail: tail(&stderr, STDERR_TAIL_LINES),
            })
        }
    }
}

type Reader = tokio::task::JoinHandle<Vec<u8>>;

fn read_all(mut pipe: impl tokio::io::AsyncRead + Unpin + Send + 'static) -> Reader {
    tokio::spawn(async move {
        let mut buf = Vec::new();
        let _ = pipe.read_to_end(&mut buf).await;
        buf
    })
}

/// What a reader got; gives up after a moment when a grandchild still holds
/// the pipe open (a killed `docker` leaves its compose plugin behind).
async fn collect(reader: Option<Reader>) -> String {
    let Some(mut reader) = reader else {
        return String::new();
    };
    match tokio::time::timeout(Duration::from_secs(5), &mut reader).await {
        Ok(Ok(buf)) => String::from_utf8_lossy(&buf).into_owned(),
        _ => {
            reader.abort();
            String::new()
        }
    }
}

/// The last `n` non-empty lines of `text`, each indented by two spaces.
fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim_end)
        .filter(|l| !l.is_empty())
        .collect();
    if lines.is_empty() {
        return "  (nothing on standard error)".to_owned();
    }
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("  {l}"))
        .collect::<Vec<_>>()
        .join("\n")
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
fn parse_version(out: &str) -> Option<String> {
    let word = out.split_whitespace().last()?;
    let v = word.strip_prefix('v').unwrap_or(word);
    v.starts_with(|c: char| c.is_ascii_digit())
        .then(|| v.trim_end_matches(',').to_owned())
}

/// A command as one line (arguments with spaces quoted), for messages.
fn command_line(cmd: &std::process::Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(|a| {
            let a = a.to_string_lossy();
            if a.is_empty() || a.contains([' ', '"', '\'']) {
                format!("{a:?}")
            } else {
                a.into_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
    use std::ffi::OsStr;

    fn project() -> ComposeProject {
        ComposeProject {
            name: "dockhand-acme_ext".into(),
            files: vec![
                "/data/vm/compose.yaml".into(),
                "/data/vm/override.json".into(),
            ],
            env: vec![("DESKTOP_PLUGIN_IMAGE".into(), "acme/ext:1.0".into())],
            dir: "/data/vm".into(),
        }
    }

    fn args(cmd: &std::process::Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect()
    }

    fn env<'a>(cmd: &'a std::process::Command, key: &str) -> Option<Option<&'a OsStr>> {
        cmd.get_envs()
            .find(|(k, _)| *k == OsStr::new(key))
            .map(|(_, v)| v)
    }

    #[test]
    fn v2_plugin_command_lines() {
        let engine: EngineHost = "unix:///run/e.sock".parse().unwrap();
        let r = ComposeRunner::new(
            ComposeCli::plugin(Path::new("/usr/bin/docker")),
            "2.24.5".into(),
            engine,
        );
        assert!(!r.is_v1());
        let cmd = r.command(&project(), &["up", "-d", "--remove-orphans"]);
        assert_eq!(cmd.get_program(), "/usr/bin/docker");
        assert_eq!(
            args(&cmd),
            [
                "compose",
                "-p",
                "dockhand-acme_ext",
                "-f",
                "/data/vm/compose.yaml",
                "-f",
                "/data/vm/override.json",
                "--project-directory",
                "/data/vm",
                "up",
                "-d",
                "--remove-orphans"
            ]
        );
        assert_eq!(
            env(&cmd, "DOCKER_HOST"),
            Some(Some(OsStr::new("unix:///run/e.sock")))
        );
        assert_eq!(
            env(&cmd, "DESKTOP_PLUGIN_IMAGE"),
            Some(Some(OsStr::new("acme/ext:1.0")))
        );
        // Inherited settings that would redirect compose are removed.
        assert_eq!(env(&cmd, "DOCKER_CONTEXT"), Some(None));
        assert_eq!(env(&cmd, "COMPOSE_FILE"), Some(None));
        assert_eq!(cmd.get_current_dir(), Some(Path::new("/data/vm")));
    }

    #[test]
    fn project_commands_get_only_the_given_environment() {
        let engine: EngineHost = "unix:///run/e.sock".parse().unwrap();
        let r = ComposeRunner::new(
            ComposeCli::plugin(Path::new("/usr/bin/docker")),
            "2.24.5".into(),
            engine.clone(),
        )
        .with_env(ComposeEnv {
            path: None,
            home: Some("/home/me".into()),
            docker_config: None,
        });
        let cmd = r.command(&project(), &["config"]);
        let envs: Vec<(String, Option<String>)> = cmd
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned()),
                )
            })
            .collect();
        let set: Vec<&str> = envs
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k.as_str())
            .collect();
        let mut set = set;
        set.sort_unstable();
        assert_eq!(
            set,
            ["DESKTOP_PLUGIN_IMAGE", "DOCKER_HOST", "HOME", "PATH"],
            "{envs:?}"
        );
        assert_eq!(env(&cmd, "PATH"), Some(Some(OsStr::new(DEFAULT_PATH))));
        assert_eq!(
            ComposeEnv::default().variables(&engine, &[("A".into(), "b".into())]),
            [
                ("PATH".to_owned(), DEFAULT_PATH.to_owned()),
                ("DOCKER_HOST".to_owned(), "unix:///run/e.sock".to_owned()),
                ("A".to_owned(), "b".to_owned()),
            ]
        );
    }

    #[test]
    fn a_tls_engine_reaches_compose_with_its_certificates() {
        let engine = EngineHost::Tls {
            addr: "127.0.0.1:2376".into(),
            tls: crate::TlsConfig {
                verify: true,
                ca: Some("/certs/ca.pem".into()),
                client: Some(("/certs/cert.pem".into(), "/certs/key.pem".into())),
                cert_dir: Some("/certs".into()),
            },
        };
        let vars = ComposeEnv::default().variables(&engine, &[]);
        for (name, value) in [
            ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/certs"),
        ] {
            assert!(
                vars.contains(&(name.to_owned(), value.to_owned())),
                "{vars:?}"
            );
        }
        let r = ComposeRunner::new(ComposeCli::plugin(Path::new("docker")), "2".into(), engine);
        let cmd = r.command(&project(), &["ps"]);
        assert_eq!(env(&cmd, "DOCKER_TLS_VERIFY"), Some(Some(OsStr::new("1"))));
        assert_eq!(
            env(&cmd, "DOCKER_CERT_PATH"),
            Some(Some(OsStr::new("/certs")))
        );
    }

    #[test]
    fn v1_command_lines() {
        let engine: EngineHost = "tcp://127.0.0.1:2375".parse().unwrap();
        let r = ComposeRunner::new(
            ComposeCli::standalone(Path::new("docker-compose")),
            "1.29.2".into(),
            engine,
        );
        assert!(r.is_v1());
        let cmd = r.command(&project(), &["down", "--remove-orphans", "-v"]);
        assert_eq!(cmd.get_program(), "docker-compose");
        assert_eq!(args(&cmd)[0], "-p");
        assert_eq!(
            args(&cmd)[args(&cmd).len() - 3..],
            ["down", "--remove-orphans", "-v"]
        );
        assert_eq!(
            env(&cmd, "DOCKER_HOST"),
            Some(Some(OsStr::new("tcp://127.0.0.1:2375")))
        );
        assert_eq!(
            command_line(&r.command(&project(), &["config"])),
            "docker-compose -p dockhand-acme_ext -f /data/vm/compose.yaml -f /data/vm/override.json --project-directory /data/vm config"
        );
    }

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

    #[test]
    fn versions_and_tails() {
        assert_eq!(parse_version("1.29.2\n").as_deref(), Some("1.29.2"));
        assert_eq!(parse_version("v2.24.5").as_deref(), Some("2.24.5"));
        assert_eq!(
            parse_version("Docker Compose version v2.24.5").as_deref(),
            Some("2.24.5")
        );
        assert_eq!(parse_version("usage: docker"), None);
        assert_eq!(parse_version(""), None);
        let text: String = (1..=30).map(|i| format!("line {i}\n\n")).collect();
        let t = tail(&text, 20);
        assert_eq!(t.lines().count(), 20);
        assert!(t.starts_with("  line 11\n"));
        assert!(t.ends_with("  line 30"));
        assert_eq!(tail("", 20), "  (nothing on standard error)");
    }

    #[tokio::test]
    async fn failures_carry_the_command_and_stderr() {
        // `sh -c` stands in for compose: it fails with output on stderr.
        let r = ComposeRunner::new(
            ComposeCli {
                program: "sh".into(),
                prefix: vec![
                    "-c".into(),
                    "for i in $(seq 1 25); do echo err $i >&2; done; exit 3".into(),
                    "sh".into(),
                ],
            },
            "2.0.0".into(),
            EngineHost::default_socket(),
        );
        let mut p = project();
        p.dir = std::env::temp_dir();
        let e = r.up(&p).await.unwrap_err();
        let ComposeError::Failed {
            command,
            stderr_tail,
            status,
            ..
        } = &e
        else {
            panic!("{e:?}");
        };
        assert!(command.starts_with("sh -c"), "{command}");
        assert!(
            command.ends_with("up -d --remove-orphans --no-build"),
            "{command}"
        );
        assert!(status.contains('3'), "{status}");
        assert_eq!(stderr_tail.lines().count(), 20);
        assert!(stderr_tail.ends_with("err 25"), "{stderr_tail}");
        assert!(e.to_string().contains("project dockhand-acme_ext"), "{e}");
    }

    #[tokio::test]
    async fn slow_commands_time_out() {
        let r = ComposeRunner::new(
            ComposeCli {
                program: "sh".into(),
                prefix: vec![
                    "-c".into(),
                    "echo starting >&2; exec sleep 30".into(),
                    "sh".into(),
                ],
            },
            "2.0.0".into(),
            EngineHost::default_socket(),
        )
        .with_timeout(Duration::from_millis(300));
        let mut p = project();
        p.dir = std::env::temp_dir();
        let e = r.stop(&p).await.unwrap_err();
        assert!(matches!(e, ComposeError::Timeout { .. }), "{e:?}");
        assert!(e.to_string().contains("starting"), "{e}");
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
