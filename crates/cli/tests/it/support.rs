//! Shared helpers for the integration tests: locating the built binary, the
//! shared corpus and the real components started by `scripts/deps`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `dockhand` binary built for this test run.
pub fn dockhand() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dockhand"));
    cmd.env("NO_COLOR", "1");
    cmd
}

/// Runs `dockhand` with `args` and returns its output.
pub fn run(args: &[&str]) -> Output {
    dockhand().args(args).output().expect("dockhand runs")
}

/// Standard output and standard error of `out`, as text.
pub fn texts(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Both outputs of `out`, a run of `what` (`dockhand [..]`) that must have
/// succeeded: the test fails with both otherwise.
pub fn succeeded_texts(what: &str, out: &Output) -> (String, String) {
    assert_succeeded(what, out);
    texts(out)
}

/// The standard output of `out`, a run of `what` (`dockhand [..]`) that must
/// have succeeded: the test fails with both outputs otherwise.
pub fn succeeded(what: &str, out: Output) -> String {
    assert_succeeded(what, &out);
    String::from_utf8(out.stdout).expect("utf-8")
}

pub use dockhand_testkit::command::assert_succeeded;

/// The standard error of `out`, a run of `what` (`dockhand [..]`) that must
/// have failed with exit code 1: the test fails with both outputs otherwise.
#[track_caller]
pub fn failed(what: &str, out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(1),
        "{what} should fail with 1:\n{}{stderr}",
        String::from_utf8_lossy(&out.stdout)
    );
    stderr
}

/// Runs `cmd` to its end: its standard error, asserting that it failed with
/// exit code 1 (as [`failed`]).
#[track_caller]
pub fn fails(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} does not start: {e}"));
    failed(&format!("{cmd:?}"), &out)
}

/// The checks of `doctor` (`dockhand doctor --format json`).
pub fn doctor_checks(doctor: &serde_json::Value) -> &[serde_json::Value] {
    doctor["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks: {doctor}"))
}

/// The check named `name` (an extension's id, `engine mode`) in `doctor`.
#[track_caller]
pub fn doctor_check<'a>(doctor: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doctor_checks(doctor)
        .iter()
        .find(|c| c["name"] == name)
        .unwrap_or_else(|| panic!("no {name} check: {doctor}"))
}

/// Asserts that `value` is a string containing `needle`; the failure shows
/// `whole`, the document `value` was read from.
#[track_caller]
pub fn assert_str_contains(value: &serde_json::Value, needle: &str, whole: &dyn std::fmt::Display) {
    assert!(
        value.as_str().is_some_and(|s| s.contains(needle)),
        "no {needle:?} in {value}: {whole}"
    );
}

/// Removes what a test installed, also when it fails half way: each of
/// `ids` by `dockhand -q rm --volumes ID`, then each of `images` from the
/// engine at `host` (what dockhand loaded into it).
pub struct Uninstall<F: Fn(&[&str])> {
    /// Runs dockhand with these arguments, in the test's home (as its user).
    pub dockhand: F,
    pub host: String,
    pub ids: Vec<String>,
    pub images: Vec<String>,
}

impl<F: Fn(&[&str])> Drop for Uninstall<F> {
    fn drop(&mut self) {
        for id in &self.ids {
            (self.dockhand)(&["-q", "rm", "--volumes", id]);
        }
        for image in &self.images {
            let _ = docker_at(&self.host, &["rmi", image]);
        }
    }
}

/// The text of the file `path` in `container`, copied out by `docker cp`
/// run through `docker` (the docker CLI on the test's engine) into `scratch`.
pub fn read_in_container(
    docker: impl Fn(&[&str]) -> String,
    container: &str,
    path: &str,
    scratch: &Path,
) -> String {
    fs_err::create_dir_all(scratch).expect("mkdir");
    docker(&[
        "cp",
        &format!("{container}:{path}"),
        &scratch.display().to_string(),
    ]);
    let name = Path::new(path).file_name().expect("a file name");
    fs_err::read_to_string(scratch.join(name)).expect("read")
}

/// How long each phase of an end-to-end test took, printed at its end:
/// `TEST: built and pushed in 1.2s, installed in 3.4s, …`.
pub struct Phases {
    test: String,
    last: std::time::Instant,
    ended: Vec<(&'static str, std::time::Duration)>,
}

impl Phases {
    /// The first phase of `test` starts now.
    pub fn start(test: &str) -> Self {
        Self {
            test: test.to_owned(),
            last: std::time::Instant::now(),
            ended: Vec::new(),
        }
    }

    /// The phase named `done` (`built and pushed`) ends now; the next starts.
    pub fn end(&mut self, done: &'static str) {
        let now = std::time::Instant::now();
        self.ended.push((done, now - self.last));
        self.last = now;
    }
}

impl std::fmt::Display for Phases {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:", self.test)?;
        for (i, (done, took)) in self.ended.iter().enumerate() {
            let sep = if i == 0 { " " } else { ", " };
            write!(f, "{sep}{done} in {:.1}s", took.as_secs_f32())?;
        }
        Ok(())
    }
}

/// The paths in `dir` (`what` names it when it cannot be read): what a
/// test expects gone after an uninstall.
pub fn dir_entries(dir: &Path, what: &str) -> Vec<PathBuf> {
    fs_err::read_dir(dir)
        .expect(what)
        .flatten()
        .map(|d| d.path())
        .collect()
}

/// A repository name under `prefix` that no earlier run used (the
/// registry outlives test runs): `PREFIX/NAME-PID-NANOS`.
pub fn unique_name(prefix: &str, name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("{prefix}/{name}-{}-{nanos}", std::process::id())
}

/// The entry of `id` in `list` (`dockhand ls --json`).
pub fn entry<'a>(list: &'a [serde_json::Value], id: &str) -> &'a serde_json::Value {
    list.iter()
        .find(|e| e["id"] == id)
        .unwrap_or_else(|| panic!("{id} is not listed: {list:?}"))
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    fs_err::canonicalize(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.."))
        .expect("repo root")
}

pub use dockhand_testkit::env::skip;

/// `$DOCKHAND_CORPUS` (set by `scripts/test`), else `../shared/corpus`
/// beside the repository, when present.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("DOCKHAND_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/corpus"));
    dir.is_dir().then_some(dir)
}

/// The real components started by `scripts/deps`: a Docker engine and a registry.
#[derive(Debug, Clone)]
pub struct RealEnv {
    /// `DOCKER_HOST` of the engine (`unix:///…`).
    pub docker_host: String,
    /// `host:port` of the local registry.
    pub registry: String,
}

/// The real components, or `None` (after saying so) when they are not running.
pub fn real_env(test: &str) -> Option<RealEnv> {
    let docker_host = dockhand_testkit::env::var("DOCKER_HOST");
    let registry = dockhand_testkit::env::var("DOCKHAND_TEST_REGISTRY");
    match (docker_host, registry) {
        (Some(docker_host), Some(registry)) => Some(RealEnv {
            docker_host,
            registry,
        }),
        _ => {
            skip(
                test,
                "no engine and registry from scripts/deps (DOCKER_HOST, DOCKHAND_TEST_REGISTRY unset)",
            );
            None
        }
    }
}

/// A directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A new empty directory under the system temp dir.
    pub fn new(tag: &str) -> Self {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static N: AtomicUsize = AtomicUsize::new(0);
        let n = N.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("dockhand-it-{tag}-{}-{n}", std::process::id()));
        let _ = fs_err::remove_dir_all(&dir);
        fs_err::create_dir_all(&dir).expect("temp dir");
        Self(dir)
    }

    /// Writes `contents` at `rel`, creating parents.
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.0.join(rel);
        fs_err::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        fs_err::write(&path, contents).expect("write");
        path
    }

    /// The directory as a string argument.
    pub fn arg(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

/// Runs the docker CLI against `env`'s engine; fails the test when it fails.
pub fn docker(env: &RealEnv, args: &[&str]) -> String {
    docker_ok_at(&env.docker_host, args)
}

/// Runs the docker CLI against the engine at `host` (a `DOCKER_HOST`; the
/// docker CLI speaks to Podman too): its output, success or not.
pub fn docker_at(host: &str, args: &[&str]) -> Output {
    Command::new("docker")
        .env("DOCKER_HOST", host)
        .args(args)
        .output()
        .expect("the docker CLI runs")
}

/// Runs the docker CLI against the engine at `host`; fails the test when it
/// fails: its standard output.
pub fn docker_ok_at(host: &str, args: &[&str]) -> String {
    succeeded(&format!("docker {args:?} on {host}"), docker_at(host, args))
}

/// Builds `tag` in `env`'s engine from `dockerfile`, with the example
/// backend as `backend` in its context and `extra` files beside it (`(from,
/// name)`; scripts/deps installs what they name, such as busybox-static).
pub fn build_backend_image(env: &RealEnv, tag: &str, dockerfile: &str, extra: &[(&str, &str)]) {
    let ctx = TempDir::new("backend-image");
    fs_err::copy(
        dockhand_testkit::examples::example_backend(),
        ctx.0.join("backend"),
    )
    .expect("copy the backend");
    for (from, name) in extra {
        fs_err::copy(from, ctx.0.join(name))
            .unwrap_or_else(|e| panic!("{e} (scripts/deps installs it)"));
    }
    ctx.write("Dockerfile", dockerfile);
    docker(env, &["build", "-q", "-t", tag, &ctx.arg()]);
}

/// `dockhand build SRC -t REFERENCE --output oci:HOME/layout` with `home` as
/// `--home`; the `oci:` source that installs it. Fails the test when the
/// build fails.
pub fn build_to_layout(home: &TempDir, src: &TempDir, reference: &str) -> String {
    let out = home.0.join("layout");
    let built = run(&[
        "--home",
        &home.arg(),
        "build",
        &src.arg(),
        "-t",
        reference,
        "--output",
        &format!("oci:{}", out.display()),
    ]);
    assert_succeeded("dockhand build", &built);
    format!("oci:{}:{reference}", out.display())
}

/// The VM engine's addresses (`scripts/deps vm`).
pub struct Vm {
    /// `tcp://…:2376`, with the certificates of `cert_path`.
    pub tls_host: String,
    pub cert_path: PathBuf,
    pub unix_host: String,
    pub ssh_host: String,
    /// A far side whose PATH has no docker.
    pub ssh_nodocker_host: String,
    /// The directory of the `ssh` wrapper to put first on PATH.
    pub ssh_bin: String,
}

/// The real components and the VM engine, or `None` (the test skips, or
/// fails under `DOCKHAND_REQUIRE_ENV=1`) when either is missing.
pub fn real_env_and_vm(test: &str) -> Option<(RealEnv, Vm)> {
    let env = real_env(test)?;
    let vm = vm(test)?;
    Some((env, vm))
}

/// The VM engine, or `None` (the test skips, or fails under
/// `DOCKHAND_REQUIRE_ENV=1`) when `scripts/deps vm` has not run.
pub fn vm(test: &str) -> Option<Vm> {
    let var = dockhand_testkit::env::var;
    let vm = (|| {
        Some(Vm {
            tls_host: var("DOCKHAND_VM_TLS_HOST")?,
            cert_path: var("DOCKHAND_VM_CERT_PATH")?.into(),
            unix_host: var("DOCKHAND_VM_UNIX_HOST")?,
            ssh_host: var("DOCKHAND_VM_SSH_HOST")?,
            ssh_nodocker_host: var("DOCKHAND_VM_SSH_NODOCKER_HOST")?,
            ssh_bin: var("DOCKHAND_VM_SSH_BIN")?,
        })
    })();
    if vm.is_none() {
        skip(
            test,
            "no VM engine from `scripts/deps vm` (DOCKHAND_VM_TLS_HOST and the others unset)",
        );
    }
    vm
}
