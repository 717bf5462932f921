//! Running one compose command: a time limit, its standard output, and the
//! last lines of its standard error in errors.

use std::process::{ExitStatus, Stdio};
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::{ComposeError, ComposeRunner};

/// How many lines of standard error an error keeps.
const STDERR_TAIL_LINES: usize = 20;

impl ComposeRunner {
    /// Runs `cmd` with the time limit; returns its standard output.
    pub(super) async fn run(
        &self,
        project: &str,
        cmd: std::process::Command,
    ) -> Result<String, ComposeError> {
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

/// A command as one line (arguments with spaces quoted), for messages.
pub(super) fn command_line(cmd: &std::process::Command) -> String {
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
    fn stderr_tails() {
        let text: String = (1..=30).map(|i| format!("line {i}\n\n")).collect();
        let t = tail(&text, 20);
        assert_eq!(t.lines().count(), 20);
        assert!(t.starts_with("  line 11\n"));
        assert!(t.ends_with("  line 30"));
        assert_eq!(tail("", 20), "  (nothing on standard error)");
    }
}
