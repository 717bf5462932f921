//! Ending an exec inside a container: best effort.
//!
//! The Engine API has no call that kills an exec; closing its connection
//! only stops the streaming. When the engine runs on this machine the exec's
//! process is visible in `/proc` under the pid the engine reports; its
//! `NSpid` line gives the pid inside the container, and a second exec runs
//! `kill -TERM <pid>` there (needs a `kill` program or busybox in the image).
//! Before anything is signalled the process is checked to belong to that
//! container (its `/proc/<pid>/cgroup` names the container id; both files are
//! readable by any user, so this works for a non-root dockhand too). With a
//! remote engine, or an image without `kill`, the process runs to its end in
//! the container; the bridge has stopped streaming it either way.

use crate::Engine;

impl Engine {
    /// Tries to end the exec `exec_id` in `container`; never fails.
    pub async fn kill_exec(&self, container: &str, exec_id: &str) {
        if !self.host().is_local() {
            return;
        }
        let Ok(info) = self.inspect_exec(exec_id).await else {
            return;
        };
        if !info.running {
            return;
        }
        let Some(pid) = info.pid.filter(|p| *p > 0) else {
            return;
        };
        let Some(inner) = inner_pid(pid, container).await else {
            return;
        };
        let inner = inner.to_string();
        for cmd in [
            vec!["kill", "-TERM", inner.as_str()],
            vec!["busybox", "kill", "-TERM", inner.as_str()],
        ] {
            let cmd = cmd.into_iter().map(str::to_owned).collect();
            if let Ok(out) = self.exec(container, cmd, Vec::new(), None).await
                && out.code == 0
            {
                return;
            }
        }
    }
}

/// The pid inside its pid namespace of host process `pid`, when that process
/// lives in a nested namespace and in the cgroup of `container` (a full id).
async fn inner_pid(pid: i64, container: &str) -> Option<i64> {
    if container.len() < 12 || !container.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let cgroup = tokio::fs::read_to_string(format!("/proc/{pid}/cgroup"))
        .await
        .ok()?;
    if !cgroup.contains(container) {
        return None;
    }
    let status = tokio::fs::read_to_string(format!("/proc/{pid}/status"))
        .await
        .ok()?;
    parse_nspid(&status)
}

fn parse_nspid(status: &str) -> Option<i64> {
    let line = status.lines().find_map(|l| l.strip_prefix("NSpid:"))?;
    let pids: Vec<i64> = line
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect();
    // One entry: the process is in our own namespace, not in a container.
    (pids.len() >= 2).then(|| pids.last().copied()).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nspid_is_the_innermost_pid() {
        assert_eq!(parse_nspid("Name:\tsleep\nNSpid:\t4242\t7\n"), Some(7));
        assert_eq!(parse_nspid("NSpid:\t4242\t100\t7\n"), Some(7));
        assert_eq!(parse_nspid("NSpid:\t4242\n"), None);
        assert_eq!(parse_nspid("Name:\tx\n"), None);
    }
}
