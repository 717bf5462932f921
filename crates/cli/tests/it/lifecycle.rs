//! The extension lifecycle on the real engine, registry and compose: install
//! from every source, backends answering, the engine reached through
//! `docker.sock.raw`, host binaries, enable/disable, rm leaving nothing;
//! faults (an engine that errors, a backend without its socket, a compose
//! file that fails, SIGKILL at journal steps then doctor) and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use crate::fault_engine::FaultEngine;
use crate::support::{self, RealEnv, TempDir, docker, repo_root};

/// A DOCKHAND_HOME and runtime dir of one test.
pub(crate) struct Home {
    dir: TempDir,
    env: RealEnv,
    docker_host: String,
    /// `DOCKHAND_COMPOSE` for every command, when set.
    compose: Option<Compose>,
}

/// Which compose the lifecycle tests run backends with: each runs once with
/// Compose v2 (the docker CLI plugin `scripts/deps` installs, what Docker
/// Desktop uses) and once with v1 (Debian's `docker-compose` 1.29).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Compose {
    V2,
    V1,
}

impl Compose {
    /// The `DOCKHAND_COMPOSE` value.
    fn setting(self) -> &'static str {
        match self {
            Compose::V2 => "v2",
            Compose::V1 => "v1",
        }
    }

    /// How `doctor` names it.
    fn doctor_name(self) -> &'static str {
        match self {
            Compose::V2 => "docker compose ",
            Compose::V1 => "docker-compose ",
        }
    }

    /// True when this compose runs here; else says so (a failure when
    /// `DOCKHAND_REQUIRE_ENV=1`: `scripts/deps` installs both).
    pub(crate) fn available(self, test: &str) -> bool {
        let mut cmd = match self {
            Compose::V2 => {
                let mut c = Command::new("docker");
                c.arg("compose");
                c
            }
            Compose::V1 => Command::new("docker-compose"),
        };
        let ok = cmd
            .args(["version", "--short"])
            .output()
            .is_ok_and(|o| o.status.success());
        if !ok {
            support::skip(
                test,
                &format!(
                    "compose {} is not installed (scripts/deps installs it)",
                    self.setting()
                ),
            );
        }
        ok
    }
}

impl Home {
    pub(crate) fn new(env: &RealEnv, tag: &str) -> Self {
        Self {
            dir: TempDir::new(tag),
            env: env.clone(),
            docker_host: env.docker_host.clone(),
            compose: None,
        }
    }

    /// A home whose commands run backends with `compose`.
    pub(crate) fn with_compose(env: &RealEnv, tag: &str, compose: Compose) -> Self {
        Self {
            compose: Some(compose),
            ..Self::new(env, tag)
        }
    }

    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = support::dockhand();
        c.env("DOCKHAND_HOME", self.dir.0.join("home"))
            .env("XDG_RUNTIME_DIR", self.dir.0.join("run"))
            .env("DOCKER_HOST", &self.docker_host)
            .env("DOCKHAND_READY_TIMEOUT", "20")
            .args(args);
        if let Some(compose) = self.compose {
            c.env("DOCKHAND_COMPOSE", compose.setting());
        }
        let _ = std::fs::create_dir_all(self.dir.0.join("run"));
        c
    }

    /// The test's directory (`home/` is `DOCKHAND_HOME`).
    pub(crate) fn dir_path(&self) -> &Path {
        &self.dir.0
    }

    /// A path under the test's directory (`home/config.toml`: the user config).
    pub(crate) fn path(&self, rel: &str) -> PathBuf {
        self.dir.0.join(rel)
    }

    pub(crate) fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().expect("dockhand runs")
    }

    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "dockhand {args:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    pub(crate) fn fails(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(1),
            "dockhand {args:?} should fail: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stderr).expect("utf-8")
    }

    pub(crate) fn ls(&self) -> Vec<Value> {
        serde_json::from_str::<Value>(&self.ok(&["ls", "--format", "json"]))
            .expect("json")
            .as_array()
            .expect("array")
            .clone()
    }

    /// The compose project of a new install of `id` in this home.
    pub(crate) fn project(&self, id: &str) -> String {
        let layout = dockhand_host::layout::Layout {
            home: self.dir.0.join("home"),
            runtime: self.dir.0.join("run"),
        };
        let id = dockhand_spec::ExtensionId::parse(id).expect("id");
        dockhand_host::backend::project_of(&layout.home_id(), &id)
    }

    /// The socket dir of an extension (as `layout::socket_dir` computes it).
    pub(crate) fn socket(&self, id: &str, name: &str) -> PathBuf {
        let layout = dockhand_host::layout::Layout {
            home: self.dir.0.join("home"),
            runtime: self.dir.0.join("run"),
        };
        let id = dockhand_spec::ExtensionId::parse(id).expect("id");
        layout.socket_dir(&id).join(name)
    }

    fn extension_dir(&self, id: &str) -> PathBuf {
        let id = dockhand_spec::ExtensionId::parse(id).expect("id");
        self.dir.0.join("home/extensions").join(id.fs_name())
    }

    /// Nothing of `id` left: no record, no container, no network, no files.
    pub(crate) fn assert_gone(&self, id: &str) {
        assert!(self.ls().iter().all(|e| e["id"] != id), "{id} still listed");
        let containers = docker(
            &self.env,
            &[
                "ps",
                "-aq",
                "--filter",
                &format!("label=dev.dockhand.extension={id}"),
            ],
        );
        assert!(
            containers.trim().is_empty(),
            "containers of {id} left: {containers}"
        );
        let project = self.project(id);
        let networks = docker(
            &self.env,
            &[
                "network",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ],
        );
        assert!(networks.trim().is_empty(), "networks of {id} left");
        assert!(!self.extension_dir(id).exists(), "files of {id} left");
    }
}

fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!("dockhand-lc/{name}-{}-{nanos}", std::process::id())
}

/// The backend runtime image in the engine (built once per test run).
pub(crate) fn base_image(env: &RealEnv) -> &'static str {
    static BASE: OnceLock<()> = OnceLock::new();
    BASE.get_or_init(|| {
        let bin = repo_root().join("examples/backend-image/dist/backend");
        if !bin.is_file() {
            let ok = Command::new(repo_root().join("scripts/build-examples"))
                .status()
                .expect("build-examples");
            assert!(ok.success());
        }
        let ctx = TempDir::new("lc-base");
        std::fs::copy(&bin, ctx.0.join("backend")).expect("copy");
        ctx.write(
            "Dockerfile",
            "FROM scratch\nCOPY backend /backend\nSTOPSIGNAL SIGKILL\nCMD [\"/backend\"]\n",
        );
        docker(
            env,
            &["build", "-q", "-t", "dockhand-lc/base:e2e", &ctx.arg()],
        );
    });
    "engine:dockhand-lc/base:e2e"
}

/// Builds an extension directory and pushes it under a unique name; returns
/// `(reference, id)`.
pub(crate) fn publish(
    env: &RealEnv,
    dir: &Path,
    backend: bool,
    extra: &[&str],
) -> (String, String) {
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let id = format!("{}/{}", env.registry, unique(&name));
    let reference = format!("{id}:1.0.0");
    let mut args = Vec::new();
    if backend {
        args.extend(["--base".to_owned(), base_image(env).to_owned()]);
    }
    args.extend(extra.iter().map(|e| (*e).to_owned()));
    build_and_push(env, dir, &reference, &args);
    (reference, id)
}

/// Runs `dockhand build DIR -t REFERENCE --push ARGS…` on the real engine
/// with a scratch `DOCKHAND_HOME`; fails the test with its stderr.
pub(crate) fn build_and_push(env: &RealEnv, dir: &Path, reference: &str, args: &[String]) {
    let tmp = TempDir::new("build-push");
    let out = support::dockhand()
        .env("DOCKHAND_HOME", &tmp.0)
        .env("DOCKER_HOST", &env.docker_host)
        .args([
            "build",
            &dir.display().to_string(),
            "-t",
            reference,
            "--push",
        ])
        .args(args)
        .output()
        .expect("build runs");
    assert!(
        out.status.success(),
        "build {reference}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Builds `examples/NAME` as `reference` into the OCI layout `out`, with a
/// scratch `DOCKHAND_HOME` beside it.
pub(crate) fn build_to_layout(name: &str, reference: &str, out: &Path) {
    let scratch = out.with_extension("home");
    let built = support::dockhand()
        .env("DOCKHAND_HOME", &scratch)
        .args([
            "build",
            &example(name).display().to_string(),
            "-t",
            reference,
            "--output",
            &format!("oci:{}", out.display()),
        ])
        .output()
        .expect("build");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
}

pub(crate) fn example(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}

pub(crate) fn http_get(sock: &Path, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(sock)
        .unwrap_or_else(|e| panic!("connect {}: {e}", sock.display()));
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

#[test]
fn all_examples_install_work_and_leave_nothing_behind() {
    all_examples(
        Compose::V2,
        "all_examples_install_work_and_leave_nothing_behind",
    );
}

#[test]
fn all_examples_install_work_and_leave_nothing_behind_with_compose_v1() {
    all_examples(
        Compose::V1,
        "all_examples_install_work_and_leave_nothing_behind_with_compose_v1",
    );
}

fn all_examples(which: Compose, test: &str) {
    let Some(env) = support::real_env(test) else {
        return;
    };
    if !which.available(test) {
        return;
    }
    let home = Home::with_compose(&env, "lc-all", which);
    let ui = publish(&env, &example("minimal-ui"), false, &[]);
    let image = publish(&env, &example("backend-image"), true, &[]);
    let compose = publish(&env, &example("backend-compose"), true, &[]);
    let hosts = publish(&env, &example("host-binaries"), false, &[]);
    for (reference, _) in [&ui, &image, &compose, &hosts] {
        home.ok(&["install", reference, "-y"]);
    }
    let listed = home.ls();
    assert_eq!(listed.len(), 4);
    let find = |id: &str| {
        listed
            .iter()
            .find(|e| e["id"] == id)
            .cloned()
            .expect("listed")
    };
    assert_eq!(find(&ui.1)["vm"], Value::Null);
    assert_eq!(find(&ui.1)["ui"]["title"], "Minimal UI");
    assert_eq!(find(&image.1)["vm"]["state"], "running");
    assert_eq!(find(&compose.1)["vm"]["containers"], 2);
    assert_eq!(
        find(&hosts.1)["host_binaries"],
        serde_json::json!(["hello"])
    );
    // The text table has Docker Desktop's columns.
    let table = home.ok(&["ls"]);
    assert!(
        table.starts_with("EXTENSION")
            && table.contains("PROVIDER")
            && table.contains("Running(2)"),
        "{table}"
    );
    assert!(table.contains("1 tab(Minimal UI)"), "{table}");
    // Without an engine the backends' states are unknown, and ls says why
    // rather than calling running backends stopped.
    let out = home
        .cmd(&["ls"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("ls runs");
    let (table, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{err}");
    assert!(
        table.contains("Unknown") && !table.contains("Stopped"),
        "{table}"
    );
    assert!(
        err.contains("the backends' states are unknown")
            && err.contains("/nonexistent/docker.sock"),
        "{err}"
    );

    // The vm.image backend answers on its socket.
    assert!(
        http_get(&home.socket(&image.1, "backend.sock"), "/hello")
            .contains("hello from the backend")
    );
    // The compose backend reaches the engine through /var/run/docker.sock.raw.
    let engine = http_get(&home.socket(&compose.1, "watcher.sock"), "/engine/version");
    assert!(engine.contains("ApiVersion"), "{engine}");
    // Host binaries are installed executable and run.
    let bin = home.extension_dir(&hosts.1).join("current/host/hello");
    let out = Command::new(&bin)
        .args(["a b", "c"])
        .output()
        .expect("host binary runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("arg[1]=a b"));
    // Logs, disable / enable, doctor.
    let logs = home.run(&["logs", &compose.1, "--tail", "5"]);
    // The backend writes to stderr: logs keeps the streams apart.
    assert!(
        String::from_utf8_lossy(&logs.stderr).contains("listening on"),
        "{}",
        String::from_utf8_lossy(&logs.stdout)
    );
    home.ok(&["disable", &image.1]);
    assert_eq!(
        home.ls()
            .iter()
            .find(|e| e["id"] == image.1.as_str())
            .expect("x")["vm"]["state"],
        "disabled"
    );
    home.ok(&["enable", &image.1]);
    assert!(http_get(&home.socket(&image.1, "backend.sock"), "/hello").contains("hello"));
    let doctor: Value =
        serde_json::from_str(&home.ok(&["doctor", "--format", "json"])).expect("json");
    assert!(
        doctor["checks"]
            .as_array()
            .expect("a")
            .iter()
            .all(|c| c["status"] == "ok"),
        "{doctor}"
    );
    // The compose the test asked for is the one that ran the backends.
    assert!(
        doctor["checks"]
            .as_array()
            .expect("a")
            .iter()
            .any(|c| c["name"] == "compose"
                && c["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(which.doctor_name()))),
        "{doctor}"
    );
    // After the engine stops the backends (a restart), `up` starts them again.
    let ids = docker(
        &env,
        &[
            "ps",
            "-q",
            "--filter",
            &format!("label=dev.dockhand.extension={}", image.1),
        ],
    );
    let mut stop = vec!["stop"];
    stop.extend(ids.split_whitespace());
    docker(&env, &stop);
    let stopped = home.ls();
    assert_eq!(
        stopped
            .iter()
            .find(|e| e["id"] == image.1.as_str())
            .expect("x")["vm"]["state"],
        "stopped"
    );
    home.ok(&["up"]);
    assert!(http_get(&home.socket(&image.1, "backend.sock"), "/hello").contains("hello"));
    // Reinstalling the same digest is a no-op; --force reinstalls.
    assert!(
        home.ok(&["install", &image.0, "-y"])
            .contains("installed already")
    );
    home.ok(&["install", &image.0, "--force"]);
    assert!(http_get(&home.socket(&image.1, "backend.sock"), "/hello").contains("hello"));

    for (_, id) in [&ui, &image, &compose, &hosts] {
        home.ok(&["rm", id]);
        home.assert_gone(id);
    }
    // rm is idempotent in effect: a second one says it is not installed.
    assert!(home.fails(&["rm", &ui.1]).contains("is not installed"));
}

#[test]
fn installs_from_engine_and_oci_sources() {
    let Some(env) = support::real_env("installs_from_engine_and_oci_sources") else {
        return;
    };
    let home = Home::new(&env, "lc-src");
    // engine: an image built by `docker build` from the example's Dockerfile.
    let bin = repo_root().join("examples/backend-image/dist/backend");
    if !bin.is_file() {
        assert!(
            Command::new(repo_root().join("scripts/build-examples"))
                .status()
                .expect("runs")
                .success()
        );
    }
    let name = format!("{}:e2e", unique("engine-backend"));
    docker(
        &env,
        &[
            "build",
            "-q",
            "-t",
            &name,
            &example("backend-image").display().to_string(),
        ],
    );
    home.ok(&["install", &format!("engine:{name}"), "-y"]);
    let id = name.rsplit_once(':').expect("tag").0.to_owned();
    assert!(
        http_get(&home.socket(&id, "backend.sock"), "/hello").contains("hello from the backend")
    );
    // oci: a layout written by dockhand build.
    let layout = TempDir::new("lc-oci");
    let oci_name = format!("{}:2.0.0", unique("oci-hosts"));
    build_to_layout("host-binaries", &oci_name, &layout.0.join("out"));
    home.ok(&[
        "install",
        &format!("oci:{}:{oci_name}", layout.0.join("out").display()),
        "-y",
    ]);
    let oci_id = oci_name.rsplit_once(':').expect("tag").0.to_owned();
    assert!(
        home.ls()
            .iter()
            .any(|e| e["id"] == oci_id.as_str() && e["version"] == "2.0.0")
    );
    home.ok(&["rm", &id]);
    home.ok(&["rm", &oci_id]);
    home.assert_gone(&id);
    home.assert_gone(&oci_id);
}

/// A compose extension with a named volume, to test `rm --volumes`.
pub(crate) fn volume_extension(dir: &TempDir) -> PathBuf {
    let root = dir.0.join("ext");
    let src = example("backend-compose");
    for f in ["metadata.json", "icon.svg", "Dockerfile"] {
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::copy(src.join(f), root.join(f)).expect("copy");
    }
    copy_dir(&src.join("ui"), &root.join("ui"));
    std::fs::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n",
    )
    .expect("write");
    root
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}

#[test]
fn volumes_stay_unless_asked() {
    volumes_stay(Compose::V2, "volumes_stay_unless_asked");
}

#[test]
fn volumes_stay_unless_asked_with_compose_v1() {
    volumes_stay(Compose::V1, "volumes_stay_unless_asked_with_compose_v1");
}

fn volumes_stay(compose: Compose, test: &str) {
    let Some(env) = support::real_env(test) else {
        return;
    };
    if !compose.available(test) {
        return;
    }
    let home = Home::with_compose(&env, "lc-vol", compose);
    let tmp = TempDir::new("lc-vol-ext");
    let (reference, id) = publish(&env, &volume_extension(&tmp), true, &[]);
    let project = home.project(&id);
    let volumes = || {
        docker(
            &env,
            &[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ],
        )
    };
    home.ok(&["install", &reference, "-y"]);
    assert!(!volumes().trim().is_empty(), "the backend's volume exists");
    home.ok(&["rm", &id]);
    assert!(!volumes().trim().is_empty(), "rm keeps volumes");
    home.ok(&["install", &reference, "-y"]);
    home.ok(&["rm", &id, "--volumes"]);
    assert!(volumes().trim().is_empty(), "rm --volumes removes them");
    home.assert_gone(&id);
}

/// `expose: ["5317:4317"]` (a published observability extension ships it):
/// compose v2 accepts the file and took the container port; compose v5
/// stops at container creation, so dockhand runs the container port. With
/// docker-compose v1, which refuses the file, the install is refused before
/// anything runs, saying why.
#[test]
fn an_expose_entry_with_a_host_port_installs() {
    let test = "an_expose_entry_with_a_host_port_installs";
    let Some(env) = support::real_env(test) else {
        return;
    };
    if !Compose::V2.available(test) {
        return;
    }
    let tmp = TempDir::new("lc-expose");
    let root = volume_extension(&tmp);
    std::fs::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n    expose:\n    - 5317:4317\n    - \"8080\"\n",
    )
    .expect("write");
    let (reference, id) = publish(&env, &root, true, &[]);
    let home = Home::with_compose(&env, "lc-expose", Compose::V2);
    home.ok(&["install", &reference, "-y"]);
    assert!(http_get(&home.socket(&id, "api.sock"), "/hello").contains("hello from the backend"));
    let ports = docker(
        &env,
        &[
            "ps",
            "--filter",
            &format!("label=dev.dockhand.extension={id}"),
            "--format",
            "{{.Ports}}",
        ],
    );
    assert!(
        ports.contains("4317/tcp") && ports.contains("8080/tcp") && !ports.contains("5317"),
        "{ports}"
    );
    home.ok(&["rm", &id]);
    home.assert_gone(&id);
    if Compose::V1.available(test) {
        let v1 = Home::with_compose(&env, "lc-expose-v1", Compose::V1);
        let err = v1.fails(&["install", &reference, "-y"]);
        assert!(err.contains("expose"), "v1 refuses it, saying why: {err}");
        assert!(v1.ls().is_empty(), "nothing installed");
    }
}

#[test]
fn failed_backends_roll_back_completely() {
    failed_backends(Compose::V2, "failed_backends_roll_back_completely");
}

#[test]
fn failed_backends_roll_back_completely_with_compose_v1() {
    failed_backends(
        Compose::V1,
        "failed_backends_roll_back_completely_with_compose_v1",
    );
}

fn failed_backends(compose: Compose, test: &str) {
    let Some(env) = support::real_env(test) else {
        return;
    };
    if !compose.available(test) {
        return;
    }
    let home = Home::with_compose(&env, "lc-fail", compose);
    // A backend that exits before it creates its socket (it cannot listen
    // where it is told to). A socket that is merely late is no failure
    // (backend_socket.rs); a backend that stopped is.
    let tmp = TempDir::new("lc-exits");
    let root = volume_extension(&tmp);
    std::fs::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/backend/api.sock\"]\n",
    )
    .expect("write");
    let (reference, id) = publish(&env, &root, true, &[]);
    let started = std::time::Instant::now();
    let out = home
        .cmd(&["install", &reference, "-y"])
        .env("DOCKHAND_READY_TIMEOUT", "120")
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("stopped before it created its socket")
            && err.contains("api.sock")
            && err.contains("cannot listen on"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "an exited backend is seen at once, not after the 120 s socket wait: {:?}",
        started.elapsed()
    );
    home.assert_gone(&id);

    // A compose file whose `up` fails (an image no registry has).
    let tmp2 = TempDir::new("lc-badup");
    let root2 = volume_extension(&tmp2);
    std::fs::write(
        root2.join("docker-compose.yaml"),
        "services:\n  api:\n    image: 127.0.0.1:9/nope/never:1\n",
    )
    .expect("write");
    let (reference2, id2) = publish(&env, &root2, true, &[]);
    let err = home.fails(&["install", &reference2, "-y"]);
    assert!(
        err.contains("127.0.0.1:9/nope/never"),
        "the compose error is shown: {err}"
    );
    home.assert_gone(&id2);
}

#[test]
fn an_engine_that_errors_leaves_the_previous_state() {
    let Some(env) = support::real_env("an_engine_that_errors_leaves_the_previous_state") else {
        return;
    };
    let real = PathBuf::from(env.docker_host.trim_start_matches("unix://"));
    let (reference, id) = publish(&env, &example("backend-image"), true, &[]);
    for fail_on in ["/images/", "/containers/create", "/containers/json"] {
        let home = Home::new(&env, "lc-fault");
        let fault = FaultEngine::start(&home.dir.0, &real, fail_on);
        let mut home = home;
        home.docker_host = fault.docker_host();
        let out = home.run(&["install", &reference, "-y"]);
        assert_eq!(out.status.code(), Some(1), "{fail_on}: install fails");
        assert!(
            fault.refused.load(std::sync::atomic::Ordering::SeqCst) > 0,
            "{fail_on}: the fault was hit"
        );
        home.docker_host = env.docker_host.clone();
        // What the failing engine kept from being cleaned, doctor cleans.
        home.run(&["doctor"]);
        home.assert_gone(&id);
    }
}

#[test]
fn a_crash_at_any_step_is_repaired_by_doctor() {
    let Some(env) = support::real_env("a_crash_at_any_step_is_repaired_by_doctor") else {
        return;
    };
    let (v1, id) = publish(&env, &example("backend-image"), true, &[]);
    for step in ["unpacked", "backend", "host-binaries", "switch", "commit"] {
        let home = Home::new(&env, "lc-crash");
        let out = home
            .cmd(&["install", &v1, "-y"])
            .env("DOCKHAND_FAILPOINT", step)
            .output()
            .expect("runs");
        assert!(!out.status.success(), "{step}: the process was killed");
        let doctor = home.run(&["doctor", "--format", "json"]);
        let report: Value = serde_json::from_slice(&doctor.stdout).expect("json");
        let checks = report["checks"].as_array().expect("checks");
        assert!(
            checks.iter().any(|c| c["status"] == "repaired"),
            "{step}: doctor repaired: {report}"
        );
        home.assert_gone(&id);
    }
    // An update interrupted: the old version stays installed and running.
    let home = Home::new(&env, "lc-crash-update");
    home.ok(&["install", &v1, "-y"]);
    let before = home.ls()[0]["digest"].clone();
    let v2 = v1.replace(":1.0.0", ":1.1.0");
    let tmp = TempDir::new("lc-v2");
    let out = support::dockhand()
        .env("DOCKHAND_HOME", &tmp.0)
        .env("DOCKER_HOST", &env.docker_host)
        .args([
            "build",
            &example("backend-image").display().to_string(),
            "-t",
            &v2,
            "--base",
            base_image(&env),
            "--label",
            "com.example.rev=2",
            "--push",
        ])
        .output()
        .expect("build v2");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = home
        .cmd(&["install", &v2, "-y"])
        .env("DOCKHAND_FAILPOINT", "switch")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    // The next command repairs on its own (here: a reinstall of v1 is a no-op after repair).
    home.ok(&["doctor"]);
    let after = home.ls();
    assert_eq!(
        after[0]["digest"], before,
        "the previous version is what is installed"
    );
    assert_eq!(after[0]["vm"]["state"], "running");
    assert!(http_get(&home.socket(&id, "backend.sock"), "/hello").contains("hello"));
    // An uninstall interrupted is finished by doctor.
    let out = home
        .cmd(&["rm", &id])
        .env("DOCKHAND_FAILPOINT", "files")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    home.ok(&["doctor"]);
    home.assert_gone(&id);
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let Some(env) = support::real_env("bad_input_is_refused_with_a_clear_message") else {
        return;
    };
    let home = Home::new(&env, "lc-bad");
    assert!(
        home.fails(&["rm", "acme/never-installed"])
            .contains("is not installed")
    );
    assert!(
        home.fails(&["enable", "acme/never-installed"])
            .contains("is not installed")
    );
    // An API version dockhand does not implement.
    let (future, future_id) = publish(
        &env,
        &example("minimal-ui"),
        false,
        &[
            "--label",
            "com.docker.desktop.extension.api.version=>= 9.0.0",
        ],
    );
    let err = home.fails(&["install", &future, "-y"]);
    assert!(
        err.contains(">= 9.0.0") && err.contains("0.4.2") && err.contains("--ignore-api-version"),
        "{err}"
    );
    home.ok(&["install", &future, "-y", "--ignore-api-version"]);
    home.ok(&["rm", &future_id]);
    // No terminal and no -y: refused, nothing installed.
    let (ui, ui_id) = publish(&env, &example("minimal-ui"), false, &[]);
    let out = home
        .cmd(&["install", &ui])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("pass -y"), "{err}");
    assert!(home.ls().is_empty());
    // A second install of the same extension while one runs: the lock says so.
    let lock_path = home.dir.0.join("home/locks");
    fs_err::create_dir_all(&lock_path).expect("mkdir");
    let fs_name = dockhand_spec::ExtensionId::parse(&ui_id)
        .expect("id")
        .fs_name();
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path.join(format!("{fs_name}.lock")))
        .expect("lock file");
    lock.lock().expect("take the lock");
    let err = home.fails(&["install", &ui, "-y"]);
    assert!(
        err.contains("another dockhand") || err.contains("busy") || err.contains("is changing"),
        "{err}"
    );
    drop(lock);
    home.ok(&["install", &ui, "-y"]);
    home.ok(&["rm", &ui_id]);
}
