//! The extension lifecycle on the real engine, registry and compose: install
//! from every source, backends answering, the engine reached through
//! `docker.sock.raw`, host binaries, enable/disable, rm leaving nothing;
//! faults (an engine that errors, a backend without its socket, a compose
//! file that fails, SIGKILL at journal steps then doctor) and bad input.
//!
//! This module is the harness (a home, publishing, building); the cases are
//! in `install` (every source, volumes, ports) and `faults`.

mod faults;
mod install;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::Value;

use crate::fault_engine::FaultEngine;
use crate::support::{self, RealEnv, TempDir, docker, repo_root, succeeded};

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

    /// The real components with this compose, or `None` (after saying so,
    /// as [`support::real_env`] and [`Compose::available`]) when one is missing.
    pub(crate) fn env(self, test: &str) -> Option<RealEnv> {
        let env = support::real_env(test)?;
        self.available(test).then_some(env)
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
        let _ = fs_err::create_dir_all(self.dir.0.join("run"));
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
        succeeded(&format!("dockhand {args:?}"), self.run(args))
    }

    pub(crate) fn fails(&self, args: &[&str]) -> String {
        support::failed(&format!("dockhand {args:?}"), &self.run(args))
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
    support::unique_name("dockhand-lc", name)
}

/// The backend runtime image in the engine (built once per test run).
pub(crate) fn base_image(env: &RealEnv) -> &'static str {
    static BASE: OnceLock<()> = OnceLock::new();
    BASE.get_or_init(|| {
        support::build_backend_image(
            env,
            "dockhand-lc/base:e2e",
            "FROM scratch\nCOPY backend /backend\nSTOPSIGNAL SIGKILL\nCMD [\"/backend\"]\n",
            &[],
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
    support::assert_succeeded(&format!("build {reference}"), &out);
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
    support::assert_succeeded("dockhand build", &built);
}

pub(crate) fn example(name: &str) -> PathBuf {
    repo_root().join("examples").join(name)
}

/// `GET path` over the unix socket `sock`: the whole answer.
pub(crate) fn http_get(sock: &Path, path: &str) -> String {
    dockhand_testkit::http::unix_exchange(sock, &dockhand_testkit::http::get_request("x", path)).raw
}

/// A compose extension with a named volume, to test `rm --volumes`.
pub(crate) fn volume_extension(dir: &TempDir) -> PathBuf {
    let root = dir.0.join("ext");
    let src = example("backend-compose");
    for f in ["metadata.json", "icon.svg", "Dockerfile"] {
        fs_err::create_dir_all(&root).expect("mkdir");
        fs_err::copy(src.join(f), root.join(f)).expect("copy");
    }
    copy_dir(&src.join("ui"), &root.join("ui"));
    fs_err::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n",
    )
    .expect("write");
    root
}

pub(crate) fn copy_dir(from: &Path, to: &Path) {
    fs_err::create_dir_all(to).expect("mkdir");
    for e in fs_err::read_dir(from).expect("read") {
        let e = e.expect("entry");
        fs_err::copy(e.path(), to.join(e.file_name())).expect("copy");
    }
}
