//! Suite `remote`: relay mode (issue 12) — backends on an engine that does
//! not share this machine's files, reached through the relay over the
//! Engine API — against the same calls in local mode and against the
//! backend's socket inside the "VM" engine's mount namespace
//! (`scripts/deps vm`: a second dockerd in its own mount namespace, on TLS
//! `tcp://`).
//!
//! 1. The relay session alone ([`session`]): a compose project of the
//!    example backend and the relay on the VM engine, one session in this
//!    process, against the socket file itself.
//! 2. dockhand's real path ([`full`]): `examples/backend-image` installed by
//!    the dockhand binary into two homes — local mode on the main engine,
//!    relay mode on the VM engine — `dockhand serve` on each, and the
//!    bridge's `vm.service` endpoint with the extension origin's headers, as
//!    the `bridge` suite calls it; install until `GET /hello` answers; the
//!    relay container's memory.
//!
//! Everything is removed at the end, also when a step fails.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, ensure};
use dockhand_engine::{
    Engine, EngineHost, EngineRequest, RelayBinaries, TlsRequest, resolve_engine,
};
use tokio::runtime::Runtime;

mod client;
mod curl;
mod full;
mod homes;
mod install;
mod session;

use super::Options;
use crate::progress;
use crate::support;
use crate::table::{self, Report, Row, Table};

/// What the suites share about the two engines.
pub(super) struct Env {
    rt: Runtime,
    /// The main engine (local mode).
    local: Engine,
    /// The VM engine over TLS (relay mode).
    vm: Engine,
    vm_host: EngineHost,
    /// The VM engine through its forwarded unix socket (no TLS, no TCP).
    vm_unix: Engine,
    /// The environment that names the VM engine for a child (`dockhand`).
    vm_vars: Vec<(&'static str, String)>,
    /// The VM engine's dockerd: its pid names its mount namespace.
    vm_pid: u32,
    relay_binaries: RelayBinaries,
    scratch: tempfile::TempDir,
}

impl Env {
    fn open() -> Result<Env> {
        let docker_host = support::require_env("DOCKER_HOST")?;
        let vm_tls = support::require_env("DOCKHAND_VM_TLS_HOST")
            .context("the VM engine is not running: scripts/deps vm starts it")?;
        let vm_certs = support::require_env("DOCKHAND_VM_CERT_PATH")?;
        let vm_unix = support::require_env("DOCKHAND_VM_UNIX_HOST")?;
        let rt = support::runtime()?;
        let local_host = dockhand_engine::resolve_host(Some(&docker_host), None, Path::new(""))?;
        let local = rt.block_on(Engine::connect(&local_host))?;
        let request = EngineRequest {
            host_env: Some(vm_tls.clone()),
            config_dir: PathBuf::from("/nonexistent/docker-config"),
            tls: TlsRequest {
                verify: true,
                cert_path: Some(PathBuf::from(&vm_certs)),
                ..Default::default()
            },
            ..Default::default()
        };
        let vm_host = resolve_engine(&request)?.host;
        let vm = rt.block_on(Engine::connect(&vm_host))?;
        let vm_unix_host = dockhand_engine::resolve_host(Some(&vm_unix), None, Path::new(""))?;
        let vm_unix_engine = rt.block_on(Engine::connect(&vm_unix_host))?;
        // scripts/deps writes the VM dockerd's pid file beside its socket.
        let pid_file =
            Path::new(vm_unix.trim_start_matches("unix://")).with_file_name("dockerd.pid");
        let vm_pid = fs_err::read_to_string(&pid_file)
            .with_context(|| "the VM engine's pid file: restart it with scripts/deps vm")?
            .trim()
            .parse()
            .with_context(|| format!("{} holds no pid", pid_file.display()))?;
        let relay_dir = support::repo_root().join("target/relay");
        let relay_binaries = RelayBinaries { dir: relay_dir };
        Ok(Env {
            rt,
            local,
            vm,
            vm_host,
            vm_unix: vm_unix_engine,
            vm_vars: vec![
                ("DOCKER_HOST", vm_tls),
                ("DOCKER_TLS_VERIFY", "1".to_owned()),
                ("DOCKER_CERT_PATH", vm_certs),
            ],
            vm_pid,
            relay_binaries,
            scratch: support::scratch_dir("remote")?,
        })
    }

    /// The relay image in the VM engine (`scripts/build-relay` first when
    /// the binaries are missing).
    fn relay_image(&self) -> Result<String> {
        if !self.relay_binaries.path("amd64").is_file() {
            progress("setup: no relay binaries in target/relay: scripts/build-relay");
            support::output(
                std::process::Command::new(support::repo_root().join("scripts/build-relay"))
                    .arg("amd64"),
            )?;
        }
        Ok(self
            .rt
            .block_on(self.vm.ensure_relay_image(&self.relay_binaries))?)
    }

    /// The example backend's runtime image in the VM engine, from the main
    /// engine (`docker save` there, `docker load` here, both over the API).
    fn vm_base_image(&self) -> Result<()> {
        let base = support::EXAMPLES_BASE_IMAGE;
        if self.rt.block_on(self.vm.image(base))?.is_some() {
            return Ok(());
        }
        support::ensure_examples_base(&self.rt, &self.local)?;
        progress(&format!(
            "setup: {base} from the main engine into the VM engine"
        ));
        let tar = self.scratch.path().join("base.tar");
        self.rt.block_on(self.local.export_image(base, &tar))?;
        self.rt.block_on(self.vm.load_image(&tar))?;
        fs_err::remove_file(&tar).ok();
        Ok(())
    }

    /// Fails unless `path` is the same file inside the VM engine's mount
    /// namespace (seen through `/proc/PID/root`) as here.
    fn check_same_in_vm(&self, path: &Path) -> Result<()> {
        use std::os::unix::fs::MetadataExt as _;
        let inside = Path::new(&format!("/proc/{}/root", self.vm_pid)).join(
            path.strip_prefix("/")
                .with_context(|| format!("{} is not absolute", path.display()))?,
        );
        let (a, b) = (fs_err::metadata(path)?, fs_err::metadata(&inside)?);
        ensure!(
            (a.dev(), a.ino()) == (b.dev(), b.ino()),
            "{} is another file inside the VM engine's mount namespace",
            path.display()
        );
        Ok(())
    }
}

pub(super) fn per_second(r: f64) -> String {
    format!("{r:.0} req/s")
}

/// The resident memory (KiB) of each `dockhand-relay` process of the
/// container `id` (the `idle` main process and the `serve` of each
/// session), found in this machine's process table by the container's
/// cgroup: the engines share this machine's pid namespace.
pub(super) fn relay_rss(id: &str) -> Vec<(String, u64)> {
    let mut out = Vec::new();
    let Ok(procs) = fs_err::read_dir("/proc") else {
        return out;
    };
    for p in procs.flatten() {
        let dir = p.path();
        let Ok(cgroup) = fs_err::read_to_string(dir.join("cgroup")) else {
            continue;
        };
        if !cgroup.contains(id) {
            continue;
        }
        let cmdline = fs_err::read(dir.join("cmdline")).unwrap_or_default();
        let args: Vec<String> = cmdline
            .split(|b| *b == 0)
            .filter(|a| !a.is_empty())
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect();
        if !args.first().is_some_and(|a| a.ends_with("dockhand-relay")) {
            continue;
        }
        let status = fs_err::read_to_string(dir.join("status")).unwrap_or_default();
        if let Some(kib) = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            out.push((args[1..].join(" "), kib));
        }
    }
    out.sort();
    out
}

/// A row per relay process, held to [`session::RSS_TARGET_KIB`].
pub(super) fn rss_rows(t: &mut Table, rss: &[(String, u64)]) {
    let limit = session::RSS_TARGET_KIB;
    if rss.is_empty() {
        t.row(
            Row::new("relay process RSS", "not found")
                .target(format!("≤ {}", table::bytes(limit * 1024)), false),
        );
    }
    for (args, kib) in rss {
        t.row(
            Row::new(
                format!("relay RSS, `dockhand-relay {args}`"),
                table::bytes(kib * 1024),
            )
            .target(format!("≤ {}", table::bytes(limit * 1024)), *kib <= limit),
        );
    }
}

pub fn run(options: &Options, report: &mut Report) -> Result<()> {
    let env = Env::open()?;
    progress(&format!(
        "remote: VM engine {} (dockerd pid {}), scratch {}",
        env.vm_host.describe(),
        env.vm_pid,
        env.scratch.path().display()
    ));
    env.vm_base_image()?;
    session::tables(&env, report)?;
    full::tables(&env, options, report)?;
    Ok(())
}
