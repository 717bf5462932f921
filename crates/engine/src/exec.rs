//! Running a command in a container: collected ([`Engine::exec`]) or
//! streamed ([`Engine::exec_stream`]).

use std::time::Duration;

use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
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

/// A running exec: read [`ExecStream::output`] to its end, then ask
/// [`ExecStream::exit_code`]. Dropping it closes the connection (the process
/// in the container is not killed: the Engine API cannot do that).
pub struct ExecStream {
    /// The output as it comes.
    pub output: OutputStream,
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
        let options = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(cmd),
            env: (!env.is_empty()).then_some(env),
            working_dir,
            ..Default::default()
        };
        let created = self
            .docker
            .create_exec(container, options)
            .await
            .map_err(|e| self.container_error(container, "running a command in", e))?;
        let started = self
            .docker
            .start_exec(&created.id, Some(StartExecOptions::default()))
            .await
            .map_err(|e| self.container_error(container, "running a command in", e))?;
        let StartExecResults::Attached { output, .. } = started else {
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
            engine: self.clone(),
            exec_id: created.id,
            container: container.to_owned(),
        })
    }
}
