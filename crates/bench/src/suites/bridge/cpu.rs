//! CPU time a relay spends per call, from `/proc/PID/stat`: where the
//! bridge's time goes next to socat's (kernel work alike, user work not).

use super::service::Target;
use super::*;

/// Calls measured for CPU time: enough clock ticks for a 2 % reading.
const CPU_CALLS: usize = 5000;

/// CPU time per call, split as the kernel accounts it.
pub(super) struct CpuPerCall {
    pub user: Duration,
    pub system: Duration,
}

impl CpuPerCall {
    pub fn total(&self) -> Duration {
        self.user + self.system
    }

    pub fn text(&self) -> String {
        format!(
            "{} ({} user + {} sys)",
            table::duration(self.total()),
            table::duration(self.user),
            table::duration(self.system)
        )
    }
}

/// Clock ticks per second (`getconf CLK_TCK`; 100 on Linux when unknown).
fn clock_ticks() -> u64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .filter(|&t| t > 0)
        .unwrap_or(100)
}

/// `pid` and its live children (socat forks one per connection).
fn with_children(pid: u32) -> Vec<u32> {
    let children =
        fs_err::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
    std::iter::once(pid)
        .chain(children.split_whitespace().filter_map(|c| c.parse().ok()))
        .collect()
}

/// utime and stime of `pids`, summed, in clock ticks.
fn ticks(pids: &[u32]) -> Result<(u64, u64)> {
    let mut sum = (0, 0);
    for pid in pids {
        let stat = fs_err::read_to_string(format!("/proc/{pid}/stat"))
            .with_context(|| format!("cannot read /proc/{pid}/stat"))?;
        // Fields after the command (which may hold spaces) in parentheses.
        let rest = stat
            .rsplit_once(')')
            .map(|(_, r)| r)
            .context("unexpected /proc/PID/stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15; `rest` starts at field 3.
        let field = |i: usize| -> Result<u64> {
            fields
                .get(i - 3)
                .and_then(|f| f.parse().ok())
                .context("unexpected /proc/PID/stat")
        };
        sum.0 += field(14)?;
        sum.1 += field(15)?;
    }
    Ok(sum)
}

/// The CPU time `pid` (with its children) spends per call of `target`, over
/// `CPU_CALLS` sequential calls on one keep-alive connection.
pub(super) fn cpu_per_call(target: &Target, pid: u32) -> Result<CpuPerCall> {
    let mut c = (target.connect)().with_context(|| format!("cannot connect to {}", target.name))?;
    for _ in 0..LATENCY_WARMUP {
        target.call(&mut c)?;
    }
    let pids = with_children(pid);
    let before = ticks(&pids)?;
    for _ in 0..CPU_CALLS {
        target.call(&mut c)?;
    }
    let after = ticks(&pids)?;
    let hz = clock_ticks() as f64;
    let per = |ticks: u64| Duration::from_secs_f64(ticks as f64 / hz / CPU_CALLS as f64);
    Ok(CpuPerCall {
        user: per(after.0.saturating_sub(before.0)),
        system: per(after.1.saturating_sub(before.1)),
    })
}

/// The note that explains the CPU rows.
pub(super) fn note() -> String {
    format!(
        "CPU per call: utime + stime from /proc/PID/stat of `dockhand serve` (all its threads) and of socat with its forked child, before and after {CPU_CALLS} sequential calls on one keep-alive connection; clock ticks, so ±2 %"
    )
}
