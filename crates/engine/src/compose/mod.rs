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
//!
//! One module per noun: `cli.rs` which compose to run and how it is found,
//! `env.rs` the environment a project command gets, `project.rs` a project
//! and its name, `runner.rs` the commands of a project, `process.rs` running
//! one of them with a time limit and the tail of its standard error.

mod cli;
mod env;
mod process;
mod project;
mod runner;

use std::time::Duration;

pub use cli::{ComposeChoice, ComposeCli, SYSTEM_PLUGIN_DIRS, plugin_candidates};
pub use env::{ComposeEnv, DEFAULT_PATH};
pub(crate) use project::compose_slug;
pub use project::{ComposeProject, project_name};
pub use runner::{ComposeRunner, DEFAULT_COMPOSE_TIMEOUT};

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
