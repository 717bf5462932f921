//! Running a command in a container: collected ([`Engine::exec`]),
//! streamed ([`Engine::exec_stream`]), or attached with its input and a
//! terminal ([`Engine::exec_start`], [`Engine::resize_exec`]); what the
//! engine knows of a running one ([`Engine::inspect_exec`]).

use std::pin::Pin;
use std::time::Duration;

use bollard::exec::{CreateExecOptions, ResizeExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;

use crate::logs::{OutputStream, StdStream, chunk};
use crate::{Engine, EngineError};

/// How long an exec may take to report its exit code after its output ended.
const EXEC_EXIT_WAIT: Duration = Duration::from_secs(10);

/// What a finished exec produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecOutput {
    /// The exit code.
    pub code: i64,
    /// Standard output, invalid UTF-8 replaced.
    pub stdout: String,
    /// Standard error, invalid UTF-8 replaced.
    pub stderr: String,
}

/// What to run in a container, and how.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExecOptions {
    /// The program and its arguments.
    pub cmd: Vec<String>,
    /// `NAME=value` pairs besides the container's own.
    pub env: Vec<String>,
    /// Where it starts (the container's working directory when `None`).
    pub working_dir: Option<String>,
    /// Attach the process's standard input ([`ExecStream::input`]).
    pub stdin: bool,
    /// Give it a terminal: its output comes as one stream (standard output)
    /// and its size is set with [`Engine::resize_exec`].
    pub tty: bool,
}

/// The standard input of an exec started with [`ExecOptions::stdin`].
pub type ExecInput = Pin<Box<dyn tokio::io::AsyncWrite + Send>>;

/// A terminal's size, in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TerminalSize {
    /// Columns.
    pub cols: u16,
    /// Rows.
    pub rows: u16,
}

/// What the engine knows of an exec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecDetails {
    /// The exec's id.
    pub id: String,
    /// True while its process runs.
    pub running: bool,
    /// Its exit code, once it ended.
    pub exit_code: Option<i64>,
    /// Its process id on the engine's machine (`0` or absent when unknown).
    pub pid: Option<i64>,
}

/// A running exec: read [`ExecStream::output`] to its end, then ask
/// [`ExecStream::exit_code`]. Dropping it closes the connection (the process
/// in the container is not killed: the Engine API cannot do that).
pub struct ExecStream {
    /// The output as it comes.
    pub output: OutputStream,
    /// Its standard input, when asked for ([`ExecOptions::stdin`]); closing
    /// the connection (dropping this and the output) ends a terminal.
    pub input: Option<ExecInput>,
    engine: Engine,
    exec_id: String,
    container: String,
}

impl std::fmt::Debug for ExecStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecStream")
            .field("exec_id", &self.exec_id)
            .field("container", &self.container)
            .finish_non_exhaustive()
    }
}

impl ExecStream {
    /// The exec's id in the engine.
    pub fn id(&self) -> &str {
        &self.exec_id
    }

    /// The exit code, once the output has ended; waits (bounded) for the
    /// engine to record it. The future owns what it needs (it does not
    /// borrow the stream, which is not `Sync`), so it is `Send`.
    pub fn exit_code(
        &self,
    ) -> impl std::future::Future<Output = Result<i64, EngineError>> + Send + 'static {
        let engine = self.engine.clone();
        let exec_id = self.exec_id.clone();
        let container = self.container.clone();
        async move {
            let deadline = tokio::time::Instant::now() + EXEC_EXIT_WAIT;
            loop {
                let info = engine.docker.inspect_exec(&exec_id).await.map_err(|e| {
                    engine.api_error(&format!("inspecting an exec in {container}"), e)
                })?;
                match (info.running, info.exit_code) {
                    (Some(false), Some(code)) => return Ok(code),
                    _ if tokio::time::Instant::now() >= deadline => {
                        return Err(EngineError::Api {
                            host: engine.host.to_string(),
                            action: format!("waiting for an exec in {container} to finish"),
                            message: format!(
                                "still running {}s after its output ended",
                                EXEC_EXIT_WAIT.as_secs()
                            ),
                        });
                    }
                    _ => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        }
    }
}

impl Engine {
    /// Runs `cmd` in a running container and collects its output.
    pub async fn exec(
        &self,
        container: &str,
        cmd: Vec<String>,
        env: Vec<String>,
        working_dir: Option<String>,
    ) -> Result<ExecOutput, EngineError> {
        let mut run = self.exec_stream(container, cmd, env, working_dir).await?;
        let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
        while let Some(item) = run.output.next().await {
            let item = item?;
            match item.stream {
                StdStream::Stdout => stdout.extend_from_slice(&item.data),
                StdStream::Stderr => stderr.extend_from_slice(&item.data),
            }
        }
        let code = run.exit_code().await?;
        Ok(ExecOutput {
            code,
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }

    /// Starts `cmd` in a running container and streams its output.
    pub async fn exec_stream(
        &self,
        container: &str,
        cmd: Vec<String>,
        env: Vec<String>,
        working_dir: Option<String>,
    ) -> Result<ExecStream, EngineError> {
        let options = ExecOptions {
            cmd,
            env,
            working_dir,
            ..ExecOptions::default()
        };
        self.exec_start(container, &options).await
    }

    /// Starts a process in a running container as `options` say and
    /// attaches to its output (and its input, with [`ExecOptions::stdin`]).
    pub async fn exec_start(
        &self,
        container: &str,
        options: &ExecOptions,
    ) -> Result<ExecStream, EngineError> {
        let create = CreateExecOptions {
            attach_stdin: options.stdin.then_some(true),
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            tty: options.tty.then_some(true),
            cmd: Some(options.cmd.clone()),
            env: (!options.env.is_empty()).then(|| options.env.clone()),
            working_dir: options.working_dir.clone(),
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(container, create)
            .await
            .map_err(|e| self.container_error(container, "running a command in", e))?;
        let start = StartExecOptions {
            tty: options.tty,
            ..StartExecOptions::default()
        };
        let started = self
            .docker
            .start_exec(&created.id, Some(start))
            .await
            .map_err(|e| self.container_error(container, "running a command in", e))?;
        let StartExecResults::Attached { output, input } = started else {
            return Err(EngineError::Api {
                host: self.host.to_string(),
                action: format!("running a command in {container}"),
                message: "the engine detached the exec instead of attaching to it".into(),
            });
        };
        let engine = self.clone();
        let name = container.to_owned();
        let output = output.filter_map(move |item| {
            let out = match item {
                Ok(out) => chunk(out).map(Ok),
                Err(e) => Some(Err(
                    engine.api_error(&format!("reading the output of a command in {name}"), e)
                )),
            };
            std::future::ready(out)
        });
        Ok(ExecStream {
            output: Box::pin(output),
            input: options.stdin.then_some(input),
            engine: self.clone(),
            exec_id: created.id,
            container: container.to_owned(),
        })
    }

    /// Sets the terminal size of an exec started with [`ExecOptions::tty`].
    pub async fn resize_exec(&self, exec_id: &str, size: TerminalSize) -> Result<(), EngineError> {
        let options = ResizeExecOptions {
            width: size.cols,
            height: size.rows,
        };
        self.docker
            .resize_exec(exec_id, options)
            .await
            .map_err(|e| self.request_error(&format!("resizing the terminal of exec {exec_id}"), e))
    }

    /// What the engine knows of an exec; a missing one is
    /// [`EngineError::Rejected`] with status 404.
    pub async fn inspect_exec(&self, exec_id: &str) -> Result<ExecDetails, EngineError> {
        let action = format!("inspecting exec {exec_id}");
        let info = self
            .request(&action, self.docker.inspect_exec(exec_id))
            .await?;
        Ok(ExecDetails {
            id: info.id.unwrap_or_else(|| exec_id.to_owned()),
            running: info.running == Some(true),
            exit_code: info.exit_code,
            pid: info.pid,
        })
    }
}
