//! The commands of a compose project: up, down, stop, start, config.

use std::time::Duration;

use super::env::SCRUBBED_ENV;
use super::{ComposeCli, ComposeEnv, ComposeError, ComposeProject};
use crate::EngineHost;

/// How long one compose command may run unless told otherwise.
pub const DEFAULT_COMPOSE_TIMEOUT: Duration = Duration::from_secs(300);

/// Runs compose commands against one engine.
#[derive(Debug, Clone)]
pub struct ComposeRunner {
    pub(super) cli: ComposeCli,
    pub(super) version: String,
    pub(super) engine: EngineHost,
    pub(super) timeout: Duration,
    pub(super) env: Option<ComposeEnv>,
}

impl ComposeRunner {
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

    pub(super) fn with_version(mut self, version: String) -> Self {
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

    pub(super) fn base_command(&self) -> std::process::Command {
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
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::DEFAULT_PATH;
    use super::super::process::command_line;
    use super::*;
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

    /// A runner of `cli`, compose `version`, for the engine at `engine`.
    fn runner(cli: ComposeCli, version: &str, engine: &str) -> ComposeRunner {
        ComposeRunner::new(cli, version.into(), engine.parse().unwrap())
    }

    /// A runner whose compose is `sh -c script`, and a project in the temp
    /// directory for it.
    fn sh_runner(script: &str) -> (ComposeRunner, ComposeProject) {
        let cli = ComposeCli {
            program: "sh".into(),
            prefix: vec!["-c".into(), script.into(), "sh".into()],
        };
        let r = ComposeRunner::new(cli, "2.0.0".into(), EngineHost::default_socket());
        let mut p = project();
        p.dir = std::env::temp_dir();
        (r, p)
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
        let docker = ComposeCli::plugin(Path::new("/usr/bin/docker"));
        let r = runner(docker, "2.24.5", "unix:///run/e.sock");
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
        let docker = ComposeCli::plugin(Path::new("/usr/bin/docker"));
        let r = ComposeRunner::new(docker, "2.24.5".into(), engine.clone()).with_env(ComposeEnv {
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
        let standalone = ComposeCli::standalone(Path::new("docker-compose"));
        let r = runner(standalone, "1.29.2", "tcp://127.0.0.1:2375");
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

    #[tokio::test]
    async fn failures_carry_the_command_and_stderr() {
        // `sh -c` stands in for compose: it fails with output on stderr.
        let (r, p) = sh_runner("for i in $(seq 1 25); do echo err $i >&2; done; exit 3");
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
        let (r, p) = sh_runner("echo starting >&2; exec sleep 30");
        let r = r.with_timeout(Duration::from_millis(300));
        let e = r.stop(&p).await.unwrap_err();
        assert!(matches!(e, ComposeError::Timeout { .. }), "{e:?}");
        assert!(e.to_string().contains("starting"), "{e}");
    }
}
