//! `docker.cli.exec`, `extension.host.cli.exec` and `extension.vm.cli.exec`:
//! what a request asks for, how it becomes a process (argv only, never a
//! shell), and the collected answer `{code, stdout, stderr, cmd}`.
//!
//! The arguments of all three are split the way Docker Desktop splits them
//! ([`super::argv`]): `cmd` and `args` joined with spaces, then POSIX word
//! splitting and quote removal. For a host binary `cmd` is its file name,
//! taken as is; only `args` are split.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::argv::{self, ArgMode};
use super::context::{BridgeJson, BridgeState, Caller};
use super::policy;
use super::procs::spawn_local;
pub use super::procs::{
    Event, Exit, KillHandle, LocalCommand, Processes, Running, Slot, resolve_program,
};
use crate::error::ApiError;

/// Where a command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecKind {
    /// The docker CLI.
    Docker,
    /// The backend's first service container.
    Vm,
    /// One of the extension's host binaries.
    Host,
}

/// The body of an exec call.
#[derive(Debug, Clone, Deserialize)]
pub struct ExecRequest {
    /// The command (the docker subcommand, the host binary's name, or the
    /// program in the backend container).
    pub cmd: String,
    /// Its arguments: strings (numbers and booleans are taken as text).
    #[serde(default)]
    pub args: Option<Vec<Value>>,
    /// `cwd`, `env`; anything else (`stream`, …) is ignored.
    #[serde(default)]
    pub options: Option<ExecOptions>,
}

/// Exec options.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ExecOptions {
    /// The working directory, absolute.
    #[serde(default)]
    pub cwd: Option<String>,
    /// Variables set for the process (on top of the server's environment for
    /// local processes); `null` values are skipped.
    #[serde(default)]
    pub env: Option<serde_json::Map<String, Value>>,
}

/// The answer of a collected exec.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecResult {
    /// The command line that ran, quoted so a shell would split it back.
    pub cmd: String,
    /// The exit code (128 + the signal for a killed process).
    pub code: i64,
    /// Standard output, invalid UTF-8 replaced.
    pub stdout: String,
    /// Standard error, invalid UTF-8 replaced.
    pub stderr: String,
    /// True when dockhand killed the process.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub killed: bool,
    /// The signal that ended it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

impl ExecRequest {
    /// The arguments as strings; `400` for objects and arrays.
    pub fn arg_strings(&self) -> Result<Vec<String>, ApiError> {
        let Some(args) = &self.args else {
            return Ok(Vec::new());
        };
        args.iter()
            .map(|a| match a {
                Value::String(s) => Ok(s.clone()),
                Value::Number(n) => Ok(n.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => Err(ApiError::bad_request(format!(
                    "every argument must be a string; got {other}"
                ))),
            })
            .collect()
    }

    /// `env` as `(name, value)` pairs; `400` for bad names or values.
    pub fn env(&self) -> Result<Vec<(String, String)>, ApiError> {
        let Some(env) = self.options.as_ref().and_then(|o| o.env.as_ref()) else {
            return Ok(Vec::new());
        };
        let mut out = Vec::with_capacity(env.len());
        for (name, value) in env {
            if name.is_empty() || name.contains(['=', '\0']) {
                return Err(ApiError::bad_request(format!(
                    "`{name}` is not a valid environment variable name"
                )));
            }
            let value = match value {
                Value::Null => continue,
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "environment variable {name} must be a string"
                    )));
                }
            };
            if value.contains('\0') {
                return Err(ApiError::bad_request(format!(
                    "environment variable {name} contains a NUL character"
                )));
            }
            out.push((name.clone(), value));
        }
        Ok(out)
    }

    /// `cwd`, checked to be absolute.
    pub fn cwd(&self) -> Result<Option<&str>, ApiError> {
        match self.options.as_ref().and_then(|o| o.cwd.as_deref()) {
            None | Some("") => Ok(None),
            Some(cwd) if cwd.starts_with('/') && !cwd.contains('\0') => Ok(Some(cwd)),
            Some(cwd) => Err(ApiError::bad_request(format!(
                "cwd `{cwd}` must be an absolute path"
            ))),
        }
    }
}

fn split_error(e: argv::ArgvError) -> ApiError {
    ApiError::bad_request(e.to_string())
}

/// The working directory of a local process: `cwd` (an existing directory)
/// or the user's home.
fn local_cwd(req: &ExecRequest, home: &Path) -> Result<PathBuf, ApiError> {
    match req.cwd()? {
        None => Ok(home.to_path_buf()),
        Some(cwd) if Path::new(cwd).is_dir() => Ok(PathBuf::from(cwd)),
        Some(cwd) => Err(ApiError::bad_request(format!(
            "cwd {cwd} is not a directory on this machine"
        ))),
    }
}

/// `docker <cmd> <args…>` against the engine the server uses.
pub fn docker_command(
    state: &BridgeState,
    req: &ExecRequest,
    mode: ArgMode,
) -> Result<LocalCommand, ApiError> {
    let program = state.docker_cli()?.to_path_buf();
    let args = mode
        .command(&req.cmd, &req.arg_strings()?)
        .map_err(split_error)?;
    policy::check_docker_argv(&args)?;
    let mut env = req.env()?;
    policy::check_local_env(&env)?;
    // The engine dockhand uses: DOCKER_HOST, and for TLS DOCKER_TLS_VERIFY
    // (or DOCKER_TLS) and DOCKER_CERT_PATH; the server's own engine
    // variables and DOCKER_CONTEXT removed, so nothing else applies.
    env.extend(state.engine.host().child_env());
    Ok(LocalCommand {
        program,
        arg0: "docker".to_owned(),
        args,
        cwd: local_cwd(req, &state.user_home)?,
        env,
        env_remove: dockhand_engine::CHILD_ENV_NAMES
            .iter()
            .map(|n| (*n).to_owned())
            .collect(),
    })
}

/// One of the caller's host binaries, by file name; `404` for anything else.
pub fn host_command(
    state: &BridgeState,
    caller: &Caller,
    req: &ExecRequest,
    mode: ArgMode,
) -> Result<LocalCommand, ApiError> {
    let name = req.cmd.as_str();
    let not_ours = || {
        ApiError::not_found(format!(
            "`{name}` is not one of this extension's host binaries ({}); call them by file name",
            if caller.record.host_binaries.is_empty() {
                "it has none".to_owned()
            } else {
                caller.record.host_binaries.join(", ")
            }
        ))
    };
    let plain = !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\0']);
    if !plain || !caller.record.host_binaries.iter().any(|b| b == name) {
        return Err(not_ours());
    }
    let program = caller.host_dir().join(name);
    match fs_err::symlink_metadata(&program) {
        Ok(m) if m.is_file() => {}
        _ => return Err(not_ours()),
    }
    let args = mode.args(&req.arg_strings()?).map_err(split_error)?;
    let env = req.env()?;
    policy::check_local_env(&env)?;
    Ok(LocalCommand {
        program,
        arg0: name.to_owned(),
        args,
        cwd: local_cwd(req, &state.user_home)?,
        env,
        env_remove: Vec::new(),
    })
}

/// The command line of a local command, for the answer's `cmd`.
pub fn local_display(cmd: &LocalCommand) -> String {
    let mut argv = Vec::with_capacity(cmd.args.len() + 1);
    argv.push(cmd.arg0.clone());
    argv.extend(cmd.args.iter().cloned());
    argv::display(&argv)
}

/// Starts a local command in one of the caller's slots.
pub fn start_local(
    state: &BridgeState,
    caller: &Caller,
    cmd: &LocalCommand,
) -> Result<Running, ApiError> {
    let slot = state.processes.acquire(caller.id())?;
    spawn_local(cmd, slot).map_err(|e| {
        let what = cmd.program.display();
        match e.kind() {
            std::io::ErrorKind::NotFound => {
                ApiError::unavailable(format!("cannot run {what}: it does not exist (any more)"))
            }
            std::io::ErrorKind::PermissionDenied => ApiError::internal(format!(
                "cannot run {what}: permission denied (is it executable?)"
            )),
            _ => ApiError::internal(format!("cannot run {what}: {e}")),
        }
    })
}

/// Reads a process to its end, holding its output against the extension's
/// budget (`507` and the process killed when the budget is spent).
pub async fn collect(
    mut running: Running,
    processes: &Arc<Processes>,
    caller: &Caller,
    cmd: String,
) -> Result<ExecResult, ApiError> {
    let mut budget = processes.buffer(caller.id());
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    while let Some(event) = running.events.recv().await {
        let (buf, data) = match event {
            Event::Stdout(data) => (&mut stdout, data),
            Event::Stderr(data) => (&mut stderr, data),
            Event::Failed(reason) => {
                running.kill.kill();
                return Err(ApiError::bad_gateway(format!("{cmd}: {reason}")));
            }
            Event::Exit(exit) => {
                return Ok(ExecResult {
                    cmd,
                    code: exit.code,
                    stdout: String::from_utf8_lossy(&stdout).into_owned(),
                    stderr: String::from_utf8_lossy(&stderr).into_owned(),
                    killed: exit.killed,
                    signal: exit.signal_name(),
                });
            }
        };
        if !budget.add(data.len()) {
            running.kill.kill();
            return Err(ApiError::new(
                StatusCode::INSUFFICIENT_STORAGE,
                format!(
                    "{cmd}: the output of this extension's commands passed the limit of buffered \
                     output; the command was killed. Use a streaming exec (options.stream) for \
                     large output"
                ),
            ));
        }
        buf.extend_from_slice(&data);
    }
    Err(ApiError::internal(format!(
        "{cmd}: the process ended without reporting its exit"
    )))
}

async fn run_local(
    state: &BridgeState,
    caller: &Caller,
    cmd: LocalCommand,
) -> Result<ExecResult, ApiError> {
    let running = start_local(state, caller, &cmd)?;
    collect(running, &state.processes, caller, local_display(&cmd)).await
}

/// `POST /.dockhand/api/docker/exec`.
pub async fn docker_exec(
    State(state): State<Arc<BridgeState>>,
    caller: Caller,
    BridgeJson(req): BridgeJson<ExecRequest>,
) -> Result<Json<ExecResult>, ApiError> {
    let cmd = docker_command(&state, &req, ArgMode::ShellWords)?;
    Ok(Json(run_local(&state, &caller, cmd).await?))
}

/// `POST /.dockhand/api/host/exec`.
pub async fn host_exec(
    State(state): State<Arc<BridgeState>>,
    caller: Caller,
    BridgeJson(req): BridgeJson<ExecRequest>,
) -> Result<Json<ExecResult>, ApiError> {
    let cmd = host_command(&state, &caller, &req, ArgMode::ShellWords)?;
    Ok(Json(run_local(&state, &caller, cmd).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: serde_json::Value) -> ExecRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn requests_parse_leniently() {
        let r = req(serde_json::json!({"cmd": "ps", "args": ["-a", 3, true],
            "options": {"cwd": "/tmp", "env": {"A": "1", "B": 2, "C": null}, "stream": {}}}));
        assert_eq!(r.arg_strings().unwrap(), vec!["-a", "3", "true"]);
        assert_eq!(
            r.env().unwrap(),
            vec![("A".into(), "1".into()), ("B".into(), "2".into())]
        );
        assert_eq!(r.cwd().unwrap(), Some("/tmp"));
        let r = req(serde_json::json!({"cmd": "ps"}));
        assert!(r.arg_strings().unwrap().is_empty());
        assert!(r.env().unwrap().is_empty());
        assert_eq!(r.cwd().unwrap(), None);
    }

    #[test]
    fn bad_requests_are_400() {
        let r = req(serde_json::json!({"cmd": "ps", "args": [{"x": 1}]}));
        assert_eq!(r.arg_strings().unwrap_err().status, StatusCode::BAD_REQUEST);
        let r = req(serde_json::json!({"cmd": "ps", "options": {"env": {"A=B": "x"}}}));
        assert_eq!(r.env().unwrap_err().status, StatusCode::BAD_REQUEST);
        let r = req(serde_json::json!({"cmd": "ps", "options": {"env": {"A": ["x"]}}}));
        assert_eq!(r.env().unwrap_err().status, StatusCode::BAD_REQUEST);
        let r = req(serde_json::json!({"cmd": "ps", "options": {"cwd": "rel/dir"}}));
        assert_eq!(r.cwd().unwrap_err().status, StatusCode::BAD_REQUEST);
    }
}
