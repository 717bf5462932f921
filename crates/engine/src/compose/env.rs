//! The environment of a compose command: what is removed from this
//! process's, and the whole environment of a project command.

use crate::EngineHost;

/// Inherited variables that would make compose use another engine, other
/// files or another project than the ones we pass.
pub(super) const SCRUBBED_ENV: [&str; 10] = [
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

/// The whole environment of a compose project command: compose interpolates
/// a compose file with every variable of its process, so a project command
/// starts from an empty environment and gets only these, `DOCKER_HOST` and
/// the project's own ([`ComposeProject::env`](super::ComposeProject::env),
/// such as `DESKTOP_PLUGIN_IMAGE`). The user's other variables never reach
/// a compose file.
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
