//! What suites share: the environment, scratch directories, the async
//! runtime, external programs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use dockhand_engine::Engine;

/// Runs `cmd` (stdin closed) and returns its stdout; fails naming the
/// command, with its output, when it fails.
pub fn output(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    if !out.status.success() {
        bail!(
            "{shown} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout).trim(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The value of `name`, or an error saying how to get it.
pub fn require_env(name: &str) -> Result<String> {
    match std::env::var(name) {
        Ok(v) if !v.is_empty() => Ok(v),
        _ => bail!(
            "{name} is not set: run the benchmarks through scripts/bench, which starts the \
             components (scripts/deps) and sets it"
        ),
    }
}

/// The repository root: `$DOCKHAND_REPO`, else the checkout this crate was
/// built from (examples and scripts are found there).
pub fn repo_root() -> PathBuf {
    match std::env::var_os("DOCKHAND_REPO") {
        Some(repo) if !repo.is_empty() => PathBuf::from(repo),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../.."),
    }
}

/// A scratch directory, removed (with everything in it) when dropped.
pub fn scratch_dir(suite: &str) -> Result<tempfile::TempDir> {
    tempfile::Builder::new()
        .prefix(&format!("dockhand-bench-{suite}-"))
        .tempdir()
        .context("cannot create a scratch directory")
}

/// Removes `dir` and what it holds; a missing `dir` is fine.
pub fn remove_dir(dir: &Path) -> Result<()> {
    match fs_err::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(e).with_context(|| format!("cannot remove {}", dir.display()))
        }
        _ => Ok(()),
    }
}

/// Removes `dir` (see [`remove_dir`]) and then flushes the file systems
/// (`sync`), so that the next timed run neither pays for this one's
/// deletions and writeback nor gets its own fsyncs cheaper.
pub fn discard(dir: &Path) -> Result<()> {
    remove_dir(dir)?;
    // Best effort: without `sync` the runs are only a little less independent.
    let _ = Command::new("sync").status();
    Ok(())
}

/// The async runtime, as the dockhand CLI makes it (two workers).
/// The base image of `examples/backend-image`'s runtime (`dockhand build
/// --base engine:…`), built by `scripts/build-examples --docker`.
pub const EXAMPLES_BASE_IMAGE: &str = "dockhand-examples/backend-base:0.1.0";

/// Builds [`EXAMPLES_BASE_IMAGE`] with `scripts/build-examples --docker` when
/// `engine` lacks it.
pub fn ensure_examples_base(
    rt: &tokio::runtime::Runtime,
    engine: &dockhand_engine::Engine,
) -> Result<()> {
    if rt.block_on(engine.image(EXAMPLES_BASE_IMAGE))?.is_some() {
        return Ok(());
    }
    crate::progress(&format!(
        "setup: {EXAMPLES_BASE_IMAGE} is not in the engine: scripts/build-examples --docker"
    ));
    let status = Command::new(repo_root().join("scripts/build-examples"))
        .arg("--docker")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .context("cannot run scripts/build-examples")?;
    if !status.success() {
        bail!("scripts/build-examples --docker failed");
    }
    Ok(())
}

pub fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// An external program: `$ENV_VAR` when set, else `name` on PATH.
pub fn program(name: &str, env_var: &str) -> Result<PathBuf> {
    if let Some(p) = std::env::var_os(env_var).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .with_context(|| {
            format!("{name} is not on PATH: install it (scripts/deps does) or set {env_var}")
        })
}

/// The `dockhand` binary built next to this one, when there is one.
pub fn dockhand_binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("DOCKHAND_BIN").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let me = std::env::current_exe().ok()?;
    Some(me.parent()?.join("dockhand")).filter(|p| p.is_file())
}

/// `SOURCE_DATE_EPOCH` of the suites' builds: the same images on every run,
/// so later runs upload nothing.
pub const BUILD_EPOCH: &str = "1700000000";

/// `dockhand --quiet` with `home` as `DOCKHAND_HOME` and `runtime_dir` as
/// `XDG_RUNTIME_DIR`, building at [`BUILD_EPOCH`], without colour.
pub fn dockhand_command(dockhand: &Path, home: &Path, runtime_dir: &Path) -> Command {
    let mut c = Command::new(dockhand);
    c.env("DOCKHAND_HOME", home)
        .env("XDG_RUNTIME_DIR", runtime_dir)
        .env("SOURCE_DATE_EPOCH", BUILD_EPOCH)
        .env("NO_COLOR", "1")
        .arg("--quiet");
    c
}

/// The `dockhand` binary a suite runs: an error saying to run it through
/// `scripts/bench SUITE` (which builds it) when there is none.
pub fn require_dockhand(suite: &str) -> Result<PathBuf> {
    dockhand_binary().with_context(|| {
        format!(
            "no dockhand binary next to dockhand-bench and no DOCKHAND_BIN: run scripts/bench {suite}, which builds it"
        )
    })
}

/// A copy of `bin` in `scratch/bin` (another build cannot replace it
/// mid-run).
pub fn copy_dockhand(bin: &Path, scratch: &Path) -> Result<PathBuf> {
    let dockhand = scratch.join("bin/dockhand");
    fs_err::create_dir_all(scratch.join("bin"))?;
    fs_err::copy(bin, &dockhand)
        .with_context(|| format!("cannot copy {} to the scratch dir", bin.display()))?;
    Ok(dockhand)
}

/// The engine at `docker_host` (a `DOCKER_HOST` value), connected on `rt`.
pub fn connect_engine(rt: &tokio::runtime::Runtime, docker_host: &str) -> Result<Engine> {
    let host = dockhand_engine::resolve_host(Some(docker_host), None, Path::new(""))?;
    Ok(rt.block_on(Engine::connect(&host))?)
}

/// `dockhand build --push` of `examples/EXAMPLE` as `reference`, labelled
/// `label`, on the engine's [`EXAMPLES_BASE_IMAGE`] when `on_base`.
pub fn push_example(
    mut dockhand: Command,
    example: &str,
    reference: &str,
    label: &str,
    on_base: bool,
) -> Result<()> {
    dockhand
        .arg("build")
        .arg(repo_root().join("examples").join(example))
        .args(["-t", reference, "--label", label]);
    if on_base {
        dockhand.args(["--base", &format!("engine:{EXAMPLES_BASE_IMAGE}")]);
    }
    output(dockhand.arg("--push"))?;
    Ok(())
}

/// Runs `cmd` to completion (stdout discarded, stderr kept for the error)
/// and returns how long it took; fails when it does.
pub fn run_timed(cmd: &mut Command) -> Result<Duration> {
    cmd.stdin(Stdio::null()).stdout(Stdio::null());
    let shown = format!("{cmd:?}");
    let start = Instant::now();
    let out = cmd
        .stderr(Stdio::piped())
        .output()
        .with_context(|| format!("cannot run {shown}"))?;
    let took = start.elapsed();
    if !out.status.success() {
        bail!(
            "{shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(took)
}

/// The first line `cmd` prints, for notes (`skopeo version 1.9.3`).
pub fn version_line(cmd: &mut Command) -> String {
    cmd.output()
        .ok()
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "version unknown".to_owned())
}
