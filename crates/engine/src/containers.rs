//! Containers, networks and volumes found by label; start, stop, logs and exec.
//!
//! Everything dockhand creates carries its labels ([`crate::EXTENSION_LABEL`]),
//! and compose adds `com.docker.compose.project`; listing and removing by
//! label is how the host finds what an extension left behind, even when its
//! compose files are gone.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::pin::Pin;
use std::time::Duration;

use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use bollard::query_parameters::{
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, ListVolumesOptionsBuilder,
    LogsOptionsBuilder, RemoveContainerOptionsBuilder, RemoveVolumeOptionsBuilder,
    StopContainerOptionsBuilder,
};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use crate::{Engine, EngineError};

/// The label compose puts on a container with its service name.
pub const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";
/// The label compose puts on containers, networks and volumes with the project name.
pub const COMPOSE_PROJECT_LABEL: &str = "com.docker.compose.project";

/// How long an exec may take to report its exit code after its output ended.
const EXEC_EXIT_WAIT: Duration = Duration::from_secs(10);

/// A container, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Full id.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// The image as the container was created from it (in the docker CLI's
    /// short form: Podman's fully qualified names are shortened, see
    /// [`crate::EngineFlavor::container_image`]).
    pub image: String,
    /// `created`, `running`, `paused`, `restarting`, `exited`, `removing` or `dead`.
    pub state: String,
    /// Human status (`Up 3 minutes`, `Exited (0) 2 seconds ago`).
    pub status: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
    /// The compose service, when compose created it.
    pub service: Option<String>,
    /// The compose project, when compose created it.
    pub project: Option<String>,
}

impl ContainerInfo {
    /// True when the container is running.
    pub fn is_running(&self) -> bool {
        self.state == "running"
    }
}

/// A network, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    /// Full id.
    pub id: String,
    /// Name.
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
}

/// A volume, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Name.
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
}

/// Which output stream a chunk came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdStream {
    /// Standard output (also a TTY's combined output).
    Stdout,
    /// Standard error.
    Stderr,
}

/// A piece of a container's or an exec's output: for logs one line (with its
/// newline), for exec whatever the process wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputChunk {
    /// Where it came from.
    pub stream: StdStream,
    /// The bytes.
    pub data: Bytes,
}

impl OutputChunk {
    /// The bytes as text, with invalid UTF-8 replaced.
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.data)
    }
}

/// One line of a container's log.
pub type LogLine = OutputChunk;

/// A stream of output chunks.
pub type OutputStream = Pin<Box<dyn Stream<Item = Result<OutputChunk, EngineError>> + Send>>;

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

/// Engine versions, for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineVersion {
    /// Docker or Podman.
    pub flavor: crate::EngineFlavor,
    /// The engine's version (`20.10.24`).
    pub version: String,
    /// The highest API version it speaks (`1.41`).
    pub api_version: String,
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`.
    pub arch: String,
    /// The kernel it runs on.
    pub kernel: String,
}

impl From<&bollard::models::SystemVersion> for EngineVersion {
    fn from(v: &bollard::models::SystemVersion) -> Self {
        Self {
            flavor: crate::EngineFlavor::of(v),
            version: v.version.clone().unwrap_or_default(),
            api_version: v.api_version.clone().unwrap_or_default(),
            os: v.os.clone().unwrap_or_default(),
            arch: v.arch.clone().unwrap_or_default(),
            kernel: v.kernel_version.clone().unwrap_or_default(),
        }
    }
}

/// A Docker `label` filter: `label` is one `key=value`, or several joined
/// by `,` that must all match (label values dockhand selects by — ids,
/// project names, hashes — never hold a comma).
fn label_filter(label: &str) -> HashMap<&'static str, Vec<String>> {
    HashMap::from([("label", label.split(',').map(str::to_owned).collect())])
}

fn labels(map: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    map.unwrap_or_default().into_iter().collect()
}

fn status_code(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

fn chunk(out: LogOutput) -> Option<OutputChunk> {
    match out {
        LogOutput::StdOut { message } | LogOutput::Console { message } => Some(OutputChunk {
            stream: StdStream::Stdout,
            data: message,
        }),
        LogOutput::StdErr { message } => Some(OutputChunk {
            stream: StdStream::Stderr,
            data: message,
        }),
        LogOutput::StdIn { .. } => None,
    }
}

/// Joins log frames into whole lines, per stream: a line a container wrote
/// in pieces comes from Podman as one frame per piece. Each line keeps its
/// newline; what is left without one is given out when the stream ends (or
/// fails).
fn whole_lines(
    frames: impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static,
) -> impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static {
    struct Lines<S> {
        frames: Pin<Box<S>>,
        pending: [Vec<u8>; 2],
        ready: VecDeque<Result<OutputChunk, EngineError>>,
        done: bool,
    }
    impl<S> Lines<S> {
        fn flush(&mut self) {
            for (i, stream) in [StdStream::Stdout, StdStream::Stderr]
                .into_iter()
                .enumerate()
            {
                if !self.pending[i].is_empty() {
                    let data = Bytes::from(std::mem::take(&mut self.pending[i]));
                    self.ready.push_back(Ok(OutputChunk { stream, data }));
                }
            }
        }
    }
    let state = Lines {
        frames: Box::pin(frames),
        pending: [Vec::new(), Vec::new()],
        ready: VecDeque::new(),
        done: false,
    };
    futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.ready.pop_front() {
                return Some((item, st));
            }
            if st.done {
                return None;
            }
            match st.frames.next().await {
                Some(Ok(frame)) => {
                    let stream = frame.stream;
                    let buf = &mut st.pending[usize::from(stream == StdStream::Stderr)];
                    buf.extend_from_slice(&frame.data);
                    while let Some(end) = buf.iter().position(|b| *b == b'\n') {
                        let data = Bytes::from(buf.drain(..=end).collect::<Vec<u8>>());
                        st.ready.push_back(Ok(OutputChunk { stream, data }));
                    }
                }
                Some(Err(e)) => {
                    st.flush();
                    st.ready.push_back(Err(e));
                }
                None => {
                    st.flush();
                    st.done = true;
                }
            }
        }
    })
}

/// The last `n` whole lines of `frames`, which answered a request for the
/// last `asked` pieces of lines: when all of them came, the first line may
/// be the end of a longer one and is left out.
fn last_lines(
    frames: impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static,
    n: usize,
    asked: usize,
) -> impl Stream<Item = Result<OutputChunk, EngineError>> + Send + 'static {
    let seen = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = seen.clone();
    let counted = frames.inspect(move |_| {
        counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    });
    futures_util::stream::once(async move {
        let mut lines: Vec<Result<OutputChunk, EngineError>> = whole_lines(counted).collect().await;
        let failed = lines.last().is_some_and(Result::is_err);
        let error = if failed { lines.pop() } else { None };
        if seen.load(std::sync::atomic::Ordering::Relaxed) >= asked && !lines.is_empty() {
            let _fragment = lines.remove(0);
        }
        let keep = lines.len().saturating_sub(n);
        lines.drain(..keep);
        lines.extend(error);
        futures_util::stream::iter(lines)
    })
    .flatten()
}

impl Engine {
    /// Answers when the engine is up.
    pub async fn ping(&self) -> Result<(), EngineError> {
        self.docker
            .ping()
            .await
            .map(|_| ())
            .map_err(|e| EngineError::Unreachable {
                host: self.host.to_string(),
                reason: e.to_string(),
            })
    }

    /// The engine's version, as it answered when connected.
    pub async fn version(&self) -> Result<EngineVersion, EngineError> {
        Ok(self.version.clone())
    }

    /// Containers in any state that carry `label` (`key` or `key=value`).
    pub async fn containers_by_label(
        &self,
        label: &str,
    ) -> Result<Vec<ContainerInfo>, EngineError> {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filter(label))
            .build();
        let list = self
            .docker
            .list_containers(Some(options))
            .await
            .map_err(|e| self.api_error(&format!("listing containers labelled {label}"), e))?;
        Ok(list
            .into_iter()
            .map(|c| {
                let labels = labels(c.labels);
                ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .map(|n| n.trim_start_matches('/').to_owned())
                        .unwrap_or_default(),
                    image: self
                        .version
                        .flavor
                        .container_image(&c.image.unwrap_or_default()),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    status: c.status.unwrap_or_default(),
                    service: labels.get(COMPOSE_SERVICE_LABEL).cloned(),
                    project: labels.get(COMPOSE_PROJECT_LABEL).cloned(),
                    labels,
                }
            })
            .collect())
    }

    /// Removes (forcibly, running or not) every container labelled `label`;
    /// returns how many were removed. Their anonymous volumes stay.
    pub async fn remove_containers_by_label(&self, label: &str) -> Result<usize, EngineError> {
        let mut removed = 0;
        for c in self.containers_by_label(label).await? {
            let options = RemoveContainerOptionsBuilder::default().force(true).build();
            match self.docker.remove_container(&c.id, Some(options)).await {
                Ok(()) => removed += 1,
                // Gone already, or being removed by someone else.
                Err(e) if matches!(status_code(&e), Some(404 | 409)) => {}
                Err(e) => return Err(self.api_error(&format!("removing container {}", c.name), e)),
            }
        }
        Ok(removed)
    }

    /// Networks labelled `label`.
    pub async fn networks_by_label(&self, label: &str) -> Result<Vec<NetworkInfo>, EngineError> {
        let options = ListNetworksOptionsBuilder::default()
            .filters(&label_filter(label))
            .build();
        let list = self
            .docker
            .list_networks(Some(options))
            .await
            .map_err(|e| self.api_error(&format!("listing networks labelled {label}"), e))?;
        Ok(list
            .into_iter()
            .map(|n| NetworkInfo {
                id: n.id.unwrap_or_default(),
                name: n.name.unwrap_or_default(),
                labels: labels(n.labels),
            })
            .collect())
    }

    /// Removes the networks labelled `label` (remove their containers first);
    /// returns how many were removed.
    pub async fn remove_networks_by_label(&self, label: &str) -> Result<usize, EngineError> {
        let mut removed = 0;
        for n in self.networks_by_label(label).await? {
            match self.docker.remove_network(&n.id).await {
                Ok(()) => removed += 1,
                Err(e) if status_code(&e) == Some(404) => {}
                Err(e) => return Err(self.api_error(&format!("removing network {}", n.name), e)),
            }
        }
        Ok(removed)
    }

    /// Volumes labelled `label`.
    pub async fn volumes_by_label(&self, label: &str) -> Result<Vec<VolumeInfo>, EngineError> {
        let options = ListVolumesOptionsBuilder::default()
            .filters(&label_filter(label))
            .build();
        let list = self
            .docker
            .list_volumes(Some(options))
            .await
            .map_err(|e| self.api_error(&format!("listing volumes labelled {label}"), e))?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeInfo {
                name: v.name,
                labels: v.labels.into_iter().collect(),
            })
            .collect())
    }

    /// Removes the volumes labelled `label` (remove their containers first);
    /// returns how many were removed.
    pub async fn remove_volumes_by_label(&self, label: &str) -> Result<usize, EngineError> {
        let mut removed = 0;
        for v in self.volumes_by_label(label).await? {
            let options = RemoveVolumeOptionsBuilder::default().force(false).build();
            match self.docker.remove_volume(&v.name, Some(options)).await {
                Ok(()) => removed += 1,
                Err(e) if status_code(&e) == Some(404) => {}
                Err(e) => return Err(self.api_error(&format!("removing volume {}", v.name), e)),
            }
        }
        Ok(removed)
    }

    /// Starts a container (a no-op when it runs already).
    pub async fn start_container(&self, id: &str) -> Result<(), EngineError> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| self.container_error(id, "starting", e))
    }

    /// Stops a container, killing it after `timeout` (the engine's default, 10 s, when `None`).
    pub async fn stop_container(
        &self,
        id: &str,
        timeout: Option<Duration>,
    ) -> Result<(), EngineError> {
        let mut options = StopContainerOptionsBuilder::default();
        if let Some(t) = timeout {
            options = options.t(i32::try_from(t.as_secs()).unwrap_or(i32::MAX));
        }
        self.docker
            .stop_container(id, Some(options.build()))
            .await
            .map_err(|e| self.container_error(id, "stopping", e))
    }

    /// A container's log, stdout and stderr told apart: the last `tail` lines
    /// (all when `None`), then, with `follow`, new lines until the container stops.
    pub fn logs(
        &self,
        id: &str,
        follow: bool,
        tail: Option<usize>,
    ) -> impl Stream<Item = Result<LogLine, EngineError>> + Send + 'static {
        let split = self.version.flavor.splits_log_lines();
        // Podman's `tail` counts pieces of lines: ask for more, cut whole lines here.
        let asked = match tail {
            Some(n) if split && !follow => Some(n.saturating_mul(4).saturating_add(16)),
            other => other,
        };
        let tail_arg = asked.map_or_else(|| "all".to_owned(), |n| n.to_string());
        let options = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .tail(&tail_arg)
            .build();
        let engine = self.clone();
        let id = id.to_owned();
        let frames = self
            .docker
            .logs(&id, Some(options))
            .filter_map(move |item| {
                let out = match item {
                    Ok(out) => chunk(out).map(Ok),
                    Err(e) => Some(Err(engine.container_error(&id, "reading the logs of", e))),
                };
                std::future::ready(out)
            });
        let stream: OutputStream = match (split, tail, asked) {
            (false, ..) => Box::pin(frames),
            (true, Some(n), Some(asked)) if !follow => Box::pin(last_lines(frames, n, asked)),
            (true, ..) => Box::pin(whole_lines(frames)),
        };
        stream
    }

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

    fn container_error(&self, id: &str, doing: &str, e: bollard::errors::Error) -> EngineError {
        match &e {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => EngineError::NoSuchContainer(id.to_owned()),
            bollard::errors::Error::DockerResponseServerError {
                status_code,
                message,
            } if self.version.flavor.is_not_running(*status_code, message) => {
                EngineError::NotRunning(id.to_owned())
            }
            _ => self.api_error(&format!("{doing} container {id}"), e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_keep_their_stream() {
        let out = chunk(LogOutput::StdErr {
            message: Bytes::from_static(b"oops\n"),
        })
        .unwrap();
        assert_eq!(out.stream, StdStream::Stderr);
        assert_eq!(out.text(), "oops\n");
        let tty = chunk(LogOutput::Console {
            message: Bytes::from_static(b"x"),
        })
        .unwrap();
        assert_eq!(tty.stream, StdStream::Stdout);
        assert!(
            chunk(LogOutput::StdIn {
                message: Bytes::new()
            })
            .is_none()
        );
    }

    #[tokio::test]
    async fn pieces_of_a_line_are_joined_per_stream() {
        let frame = |stream, text: &'static str| {
            Ok(OutputChunk {
                stream,
                data: Bytes::from_static(text.as_bytes()),
            })
        };
        // As Podman 4.3 answers for `eprintln!("backend {v}: listening on {p}")`.
        let frames = futures_util::stream::iter(vec![
            frame(StdStream::Stderr, "backend "),
            frame(StdStream::Stdout, "out 1\nout "),
            frame(StdStream::Stderr, "0.1.0: listening on /run/x.sock\n"),
            frame(StdStream::Stdout, "2\n"),
            frame(StdStream::Stderr, "no newline at the end"),
        ]);
        let lines: Vec<(StdStream, String)> = whole_lines(frames)
            .map(|c| {
                let c = c.expect("chunk");
                (c.stream, c.text().into_owned())
            })
            .collect()
            .await;
        assert_eq!(
            lines,
            vec![
                (StdStream::Stdout, "out 1\n".to_owned()),
                (
                    StdStream::Stderr,
                    "backend 0.1.0: listening on /run/x.sock\n".to_owned()
                ),
                (StdStream::Stdout, "out 2\n".to_owned()),
                (StdStream::Stderr, "no newline at the end".to_owned()),
            ]
        );
    }

    #[tokio::test]
    async fn a_tail_keeps_whole_lines() {
        let frames = |texts: &[&'static str]| {
            futures_util::stream::iter(
                texts
                    .iter()
                    .map(|t| {
                        Ok(OutputChunk {
                            stream: StdStream::Stderr,
                            data: Bytes::from_static(t.as_bytes()),
                        })
                    })
                    .collect::<Vec<_>>(),
            )
        };
        let text = |lines: Vec<Result<OutputChunk, EngineError>>| -> Vec<String> {
            lines
                .into_iter()
                .map(|l| l.expect("line").text().into_owned())
                .collect()
        };
        // All 4 pieces asked for came: the first may be the end of a line.
        let got = last_lines(frames(&["end\n", "a ", "b\n", "c\n"]), 5, 4)
            .collect()
            .await;
        assert_eq!(text(got), ["a b\n", "c\n"]);
        // Fewer came: that is the whole log.
        let got = last_lines(frames(&["first\n", "a ", "b\n", "c\n"]), 2, 10)
            .collect()
            .await;
        assert_eq!(text(got), ["a b\n", "c\n"]);
        let got = last_lines(frames(&["first\n"]), 0, 10)
            .collect::<Vec<_>>()
            .await;
        assert!(got.is_empty());
    }

    #[test]
    fn label_filters_are_docker_filters() {
        let f = label_filter("dev.dockhand.extension=a/b");
        assert_eq!(f["label"], vec!["dev.dockhand.extension=a/b".to_owned()]);
        let f = label_filter("dev.dockhand.extension=a/b,dev.dockhand.home=1f");
        assert_eq!(
            f["label"],
            vec![
                "dev.dockhand.extension=a/b".to_owned(),
                "dev.dockhand.home=1f".to_owned()
            ]
        );
    }
}
