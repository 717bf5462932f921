//! Suite `install`: installing and removing extensions with the `dockhand`
//! CLI (the release binary, a process per command, as a user runs it)
//! against what Docker Desktop does with the docker and compose CLIs, and
//! `doctor` on a state with 20 extensions.
//!
//! Setup builds the examples with `dockhand build` (daemonless; the backend
//! on the base image `dockhand-examples/backend-base:0.1.0`, which
//! `scripts/build-examples --docker` builds when the engine lacks it) and
//! pushes them to the registry under `dockhand-bench/`. Then:
//!
//! 1. UI-only install: `dockhand install REF -y` into a fresh
//!    `DOCKHAND_HOME` against `docker pull` + `docker create` + `docker cp`
//!    (UI, metadata.json, icon) + `docker rm`;
//! 2. backend: `dockhand install -y` until `GET /hello` answers on the
//!    backend's socket, and `dockhand rm` until nothing labelled remains,
//!    against `docker-compose up -d` / `down` of a one-service project run
//!    straight from the same image;
//! 3. `dockhand doctor` with 20 extensions installed (2 with backends)
//!    against `docker ps -a` + `docker-compose version`.
//!
//! Everything the suite creates on the engine is removed at the end, also
//! when a step fails ([`Env`]'s `Drop`), and leftovers of an interrupted
//! earlier run are removed at the start.

use std::cell::{Cell, RefCell};
use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{Read as _, Write as _};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use dockhand_engine::{COMPOSE_PROJECT_LABEL, EXTENSION_LABEL, Engine};
use dockhand_host::backend::project_of;
use dockhand_host::layout::Layout;
use dockhand_oci::Reference;
use dockhand_spec::ExtensionId;
use tokio::runtime::Runtime;

use super::Options;
use crate::measure::{Contender, Plan, Samples, interleaved, time};
use crate::progress;
use crate::support;
use crate::table::{self, Report, Row, Table};

/// `SOURCE_DATE_EPOCH` of every build: the same images on every run, so
/// later runs upload nothing.
const EPOCH: &str = "1700000000";
/// The backend's runtime, for `dockhand build --base`.
const BASE_IMAGE: &str = support::EXAMPLES_BASE_IMAGE;
/// A label on every image built here, so that their image ids are the
/// suite's own (the tests build the same examples with the same epoch).
const IMAGE_LABEL: &str = "dev.dockhand.bench=install";
/// Where the images go in the registry.
const REPOSITORY: &str = "dockhand-bench";
/// The socket `examples/backend-image` exposes.
const BACKEND_SOCKET: &str = "backend.sock";
/// What the UI-only install may take, as a fraction of the docker CLI's.
const UI_RATIO_TARGET: f64 = 0.5;
/// What `dockhand doctor` may take with 20 extensions installed.
const DOCTOR_TARGET: Duration = Duration::from_millis(200);
/// Timed doctor runs at least.
const DOCTOR_MIN_RUNS: usize = 10;
/// The doctor state: this many of each example.
const DOCTOR_UI: usize = 9;
const DOCTOR_HOST_BINARIES: usize = 9;
const DOCTOR_BACKENDS: usize = 2;
/// How long a backend may take to answer, and the engine to forget what
/// was removed.
const READY_TIMEOUT: Duration = Duration::from_secs(60);
const GONE_TIMEOUT: Duration = Duration::from_secs(60);
/// The baseline's compose project and the label on its container (not
/// dockhand's: a doctor elsewhere on the engine would remove it).
const BASELINE_PROJECT: &str = "dockhand-bench-baseline";
const BASELINE_LABEL: &str = "dev.dockhand.bench.baseline=install-backend";

/// What every measurement uses; cleans up the engine when dropped.
struct Env {
    registry: String,
    /// A copy of the `dockhand` binary (another build cannot replace it mid-run).
    dockhand: PathBuf,
    /// The docker CLI.
    docker: PathBuf,
    /// The compose command: `docker-compose`, else `docker compose`.
    compose: Vec<OsString>,
    compose_version: String,
    docker_version: String,
    engine: Engine,
    rt: Runtime,
    /// `XDG_RUNTIME_DIR` of every dockhand process: backend sockets go under it.
    runtime_dir: PathBuf,
    scratch: tempfile::TempDir,
    left: Leftovers,
}

/// What may be left on the engine if the suite stops now.
#[derive(Default)]
struct Leftovers {
    /// Extensions installed (or being installed) on the engine: `(home, id)`.
    installs: RefCell<BTreeSet<(PathBuf, String)>>,
    /// Every extension id the suite uses.
    ids: RefCell<BTreeSet<String>>,
    /// Baseline compose files whose project may be up.
    projects: RefCell<BTreeSet<PathBuf>>,
    /// Containers made by `docker create`.
    containers: RefCell<BTreeSet<String>>,
    /// Images pulled or loaded into the engine.
    images: RefCell<BTreeSet<String>>,
    /// Cleaned up already.
    done: Cell<bool>,
}

impl Drop for Env {
    fn drop(&mut self) {
        if !self.left.done.get() {
            progress("install: cleaning up after a failure");
            if let Err(e) = self.clean_up() {
                progress(&format!("install: cleanup incomplete: {e:#}"));
            }
        }
    }
}

/// `docker-compose` when on PATH, else `docker compose` when it answers.
fn find_compose(docker: &Path) -> Result<Vec<OsString>> {
    if let Ok(p) = support::program("docker-compose", "DOCKER_COMPOSE") {
        return Ok(vec![p.into_os_string()]);
    }
    let v2 = Command::new(docker)
        .args(["compose", "version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    if v2.is_ok_and(|s| s.success()) {
        return Ok(vec![docker.as_os_str().to_owned(), "compose".into()]);
    }
    bail!(
        "neither docker-compose nor `docker compose` is installed (scripts/deps installs docker-compose)"
    )
}

impl Env {
    fn open() -> Result<Env> {
        let registry = support::require_env("DOCKHAND_TEST_REGISTRY")?;
        let docker_host = support::require_env("DOCKER_HOST")?;
        let bin = support::dockhand_binary().context(
            "no dockhand binary next to dockhand-bench and no DOCKHAND_BIN: run scripts/bench install, which builds it",
        )?;
        let docker = support::program("docker", "DOCKHAND_BENCH_DOCKER")?;
        let compose = find_compose(&docker)?;
        let scratch = support::scratch_dir("install")?;
        let dockhand = scratch.path().join("bin/dockhand");
        fs_err::create_dir_all(scratch.path().join("bin"))?;
        fs_err::copy(&bin, &dockhand)
            .with_context(|| format!("cannot copy {} to the scratch dir", bin.display()))?;
        let runtime_dir = scratch.path().join("run");
        fs_err::create_dir_all(&runtime_dir)?;
        let rt = support::runtime()?;
        let host = dockhand_engine::resolve_host(Some(&docker_host), None, Path::new(""))?;
        let engine = rt.block_on(Engine::connect(&host))?;
        let mut c = Command::new(&compose[0]);
        c.args(&compose[1..]).arg("version");
        let compose_version = support::version_line(&mut c);
        let docker_version = support::version_line(Command::new(&docker).args([
            "version",
            "--format",
            "engine {{.Server.Version}} (API {{.Server.APIVersion}}), CLI {{.Client.Version}}",
        ]));
        Ok(Env {
            registry,
            dockhand,
            docker,
            compose,
            compose_version,
            docker_version,
            engine,
            rt,
            runtime_dir,
            scratch,
            left: Leftovers::default(),
        })
    }

    /// A path in the scratch directory that does not exist yet.
    fn fresh(&self, what: &str) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.scratch.path().join(format!("{what}-{n}"))
    }

    /// `dockhand --quiet` with `home` as `DOCKHAND_HOME`.
    fn dockhand(&self, home: &Path) -> Command {
        let mut c = Command::new(&self.dockhand);
        c.env("DOCKHAND_HOME", home)
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .env("SOURCE_DATE_EPOCH", EPOCH)
            .env("NO_COLOR", "1")
            .arg("--quiet");
        c
    }

    fn docker(&self) -> Command {
        Command::new(&self.docker)
    }

    /// The compose command on the baseline project.
    fn compose(&self, file: &Path) -> Command {
        let mut c = Command::new(&self.compose[0]);
        c.args(&self.compose[1..])
            .arg("-p")
            .arg(BASELINE_PROJECT)
            .arg("-f")
            .arg(file);
        if let Some(dir) = file.parent() {
            c.arg("--project-directory").arg(dir).current_dir(dir);
        }
        c
    }

    fn socket_dir(&self, home: &Path, id: &ExtensionId) -> PathBuf {
        Layout {
            home: home.to_path_buf(),
            runtime: self.runtime_dir.clone(),
        }
        .socket_dir(id)
    }

    fn track_install(&self, home: &Path, id: &ExtensionId) {
        self.left
            .installs
            .borrow_mut()
            .insert((home.to_path_buf(), id.to_string()));
        self.left.ids.borrow_mut().insert(id.to_string());
    }

    fn untrack_install(&self, home: &Path, id: &ExtensionId) {
        self.left
            .installs
            .borrow_mut()
            .remove(&(home.to_path_buf(), id.to_string()));
    }

    /// Removes `image` from the engine (its tag; layers other images share stay).
    fn remove_image(&self, image: &str) -> Result<()> {
        if self.rt.block_on(self.engine.image(image))?.is_some() {
            support::output(self.docker().args(["rmi", image]))?;
        }
        ensure!(
            self.rt.block_on(self.engine.image(image))?.is_none(),
            "{image} is still in the engine after docker rmi"
        );
        Ok(())
    }

    /// Waits until the engine lists no container labelled `label` and no
    /// network of the compose project `project`.
    fn wait_gone(&self, label: &str, project: &str) -> Result<()> {
        let deadline = Instant::now() + GONE_TIMEOUT;
        let project_label = format!("{COMPOSE_PROJECT_LABEL}={project}");
        loop {
            let containers = self.rt.block_on(self.engine.containers_by_label(label))?;
            let networks = self
                .rt
                .block_on(self.engine.networks_by_label(&project_label))?;
            if containers.is_empty() && networks.is_empty() {
                return Ok(());
            }
            if Instant::now() > deadline {
                let names: Vec<String> = containers
                    .into_iter()
                    .map(|c| c.name)
                    .chain(networks.into_iter().map(|n| n.name))
                    .collect();
                bail!(
                    "{} s after removal the engine still has {}",
                    GONE_TIMEOUT.as_secs(),
                    names.join(", ")
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Removes the containers and networks of the suite's extensions and
    /// of the baseline project, by label; returns how many.
    fn sweep(&self, ids: &BTreeSet<String>) -> Result<usize> {
        let mut removed = 0;
        let mut projects = vec![BASELINE_PROJECT.to_owned()];
        for id in ids {
            removed += self.rt.block_on(
                self.engine
                    .remove_containers_by_label(&format!("{EXTENSION_LABEL}={id}")),
            )?;
            // Projects carry the home that installed them: find this id's in
            // any home by the suffix every home's project name of it has.
            let suffix = project_of("", &ExtensionId::parse(id)?)
                .trim_start_matches("dockhand-")
                .to_owned();
            for n in self
                .rt
                .block_on(self.engine.networks_by_label(COMPOSE_PROJECT_LABEL))?
            {
                if let Some(p) = n.labels.get(COMPOSE_PROJECT_LABEL)
                    && p.starts_with("dockhand-")
                    && p.ends_with(&suffix)
                {
                    projects.push(p.clone());
                }
            }
        }
        removed += self
            .rt
            .block_on(self.engine.remove_containers_by_label(BASELINE_LABEL))?;
        for p in projects {
            let label = format!("{COMPOSE_PROJECT_LABEL}={p}");
            removed += self
                .rt
                .block_on(self.engine.remove_containers_by_label(&label))?;
            removed += self
                .rt
                .block_on(self.engine.remove_networks_by_label(&label))?;
        }
        Ok(removed)
    }

    /// Removes everything the suite put on the engine; fails when something
    /// labelled is left.
    fn clean_up(&self) -> Result<()> {
        self.left.done.set(true);
        let installs: Vec<(PathBuf, String)> =
            self.left.installs.borrow_mut().iter().cloned().collect();
        for (home, id) in installs {
            if let Err(e) = support::output(self.dockhand(&home).args(["rm", &id])) {
                progress(&format!("cleanup: {e:#}"));
            }
        }
        self.left.installs.borrow_mut().clear();
        let files: Vec<PathBuf> = self.left.projects.borrow().iter().cloned().collect();
        for file in files {
            if let Err(e) = support::output(self.compose(&file).args(["down", "--remove-orphans"]))
            {
                progress(&format!("cleanup: {e:#}"));
            }
        }
        self.left.projects.borrow_mut().clear();
        let containers: Vec<String> = self.left.containers.borrow().iter().cloned().collect();
        for c in containers {
            if let Err(e) = support::output(self.docker().args(["rm", "-f", &c])) {
                progress(&format!("cleanup: {e:#}"));
            }
        }
        self.left.containers.borrow_mut().clear();
        let ids = self.left.ids.borrow().clone();
        let swept = self.sweep(&ids)?;
        if swept > 0 {
            progress(&format!(
                "cleanup: removed {swept} containers/networks by label"
            ));
        }
        let images: Vec<String> = self.left.images.borrow().iter().cloned().collect();
        for image in images {
            if let Err(e) = self.remove_image(&image) {
                progress(&format!("cleanup: {e:#}"));
            }
        }
        self.left.images.borrow_mut().clear();
        let mut left = Vec::new();
        for label in ids
            .iter()
            .map(|id| format!("{EXTENSION_LABEL}={id}"))
            .chain([BASELINE_LABEL.to_owned()])
        {
            for c in self.rt.block_on(self.engine.containers_by_label(&label))? {
                left.push(c.name);
            }
        }
        ensure!(
            left.is_empty(),
            "containers left on the engine: {}",
            left.join(", ")
        );
        Ok(())
    }

    fn finish(self) -> Result<()> {
        let result = self.clean_up();
        let scratch = self.scratch.path().to_path_buf();
        // Drop (no second cleanup: `done` is set) removes the scratch dir.
        drop(self);
        result?;
        ensure!(
            !scratch.exists(),
            "cannot remove the scratch dir {}",
            scratch.display()
        );
        Ok(())
    }
}

/// Sends `GET /hello` on the unix socket `socket` and returns the answer.
fn get_hello(socket: &Path) -> std::io::Result<String> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    Ok(answer)
}

/// Polls `GET /hello` on `socket` (every 2 ms) until the backend answers 200.
fn wait_hello(socket: &Path) -> Result<()> {
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match get_hello(socket) {
            Ok(a) if a.starts_with("HTTP/1.1 200") && a.contains("hello from the backend") => {
                return Ok(());
            }
            Ok(a) if !a.is_empty() => bail!(
                "GET /hello on {} answered {:?}",
                socket.display(),
                a.lines().next().unwrap_or_default()
            ),
            Ok(_) | Err(_) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(2));
            }
            Ok(_) => bail!("{} closed without answering GET /hello", socket.display()),
            Err(e) => bail!(
                "the backend did not answer GET /hello on {} within {} s: {e}",
                socket.display(),
                READY_TIMEOUT.as_secs()
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Setup

/// The images in the registry.
struct Fixture {
    /// examples/minimal-ui.
    ui: Reference,
    /// examples/backend-image on the base image.
    backend: Reference,
    /// The doctor state: minimal-ui, host-binaries and backend-image under
    /// repositories of their own (an extension per repository).
    doctor: Vec<Reference>,
}

impl Fixture {
    fn reference(env: &Env, name: &str) -> Result<Reference> {
        Ok(Reference::parse(&format!(
            "{}/{REPOSITORY}/{name}:1",
            env.registry
        ))?)
    }

    fn ids(&self) -> BTreeSet<String> {
        [&self.ui, &self.backend]
            .into_iter()
            .chain(&self.doctor)
            .map(|r| r.extension_id().to_string())
            .collect()
    }

    fn create(env: &Env) -> Result<Fixture> {
        let ui = Self::reference(env, "install-ui")?;
        let backend = Self::reference(env, "install-backend")?;
        let mut doctor = Vec::new();
        let mut sources = Vec::new();
        // Pushed from: the image built under the first name given.
        for (example, count, source) in [
            ("minimal-ui", DOCTOR_UI, Some(ui.clone())),
            ("host-binaries", DOCTOR_HOST_BINARIES, None),
            ("backend-image", DOCTOR_BACKENDS, Some(backend.clone())),
        ] {
            let refs: Vec<Reference> = (1..=count)
                .map(|i| Self::reference(env, &format!("doctor-{example}-{i:02}")))
                .collect::<Result<_>>()?;
            sources.push((example, source, refs.clone()));
            doctor.extend(refs);
        }
        let fixture = Fixture {
            ui,
            backend,
            doctor,
        };

        // Leftovers of an interrupted earlier run carry the same labels.
        let swept = env.sweep(&fixture.ids())?;
        if swept > 0 {
            progress(&format!(
                "setup: removed {swept} containers/networks an earlier run left"
            ));
        }

        support::ensure_examples_base(&env.rt, &env.engine)?;
        let base_id = env
            .rt
            .block_on(env.engine.image(BASE_IMAGE))?
            .with_context(|| format!("{BASE_IMAGE} is not in the engine"))?
            .id;

        progress("setup: dockhand build --push of the examples");
        let home = env.fresh("build-home");
        let build = |example: &str, reference: &Reference, base: bool| -> Result<()> {
            let mut cmd = env.dockhand(&home);
            cmd.arg("build")
                .arg(support::repo_root().join("examples").join(example))
                .args(["-t", &reference.to_string(), "--label", IMAGE_LABEL]);
            if base {
                cmd.args(["--base", &format!("engine:{BASE_IMAGE}")]);
            }
            support::output(cmd.arg("--push"))?;
            Ok(())
        };
        build("minimal-ui", &fixture.ui, false)?;
        build("backend-image", &fixture.backend, true)?;
        for (example, source, refs) in sources {
            let mut refs = refs.into_iter();
            let source = match source {
                Some(source) => source,
                None => {
                    let first = refs.next().context("no reference to build")?;
                    build(example, &first, false)?;
                    first
                }
            };
            for r in refs {
                support::output(env.dockhand(&home).args([
                    "push",
                    &source.to_string(),
                    &r.to_string(),
                ]))?;
            }
        }
        support::remove_dir(&home)?;
        progress(&format!(
            "setup: pushed {} and {} more under {}/{REPOSITORY}/ (base {BASE_IMAGE}, {})",
            fixture.ui,
            fixture.doctor.len() + 1,
            env.registry,
            base_id.get(..19).unwrap_or(&base_id)
        ));
        Ok(fixture)
    }
}

pub fn run(options: &Options, report: &mut Report) -> Result<()> {
    let env = Env::open()?;
    progress(&format!(
        "install: registry {}, {}, {}, scratch {}",
        env.registry,
        env.docker_version,
        env.compose_version,
        env.scratch.path().display()
    ));
    let fixture = Fixture::create(&env)?;
    report.print(&ui_table(&env, &fixture, options)?);
    report.print(&backend_table(&env, &fixture, options)?);
    report.print(&doctor_table(&env, &fixture, options)?);
    env.finish()
}

// ---------------------------------------------------------------------------
// 1. UI-only install

fn ui_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    progress(
        "ui: dockhand install (fresh home) vs docker pull + create + cp + rm (image removed first)",
    );
    let reference = fx.ui.to_string();
    let id = fx.ui.extension_id();
    let samples = {
        let mut contenders = [
            Contender::new("dockhand install", || {
                let home = env.fresh("ui-home");
                let took =
                    support::run_timed(env.dockhand(&home).args(["install", &reference, "-y"]))?;
                let root = home
                    .join("extensions")
                    .join(id.fs_name())
                    .join("current/root");
                for f in ["ui/index.html", "metadata.json", "icon.svg"] {
                    ensure!(root.join(f).is_file(), "dockhand install left no {f}");
                }
                // A UI-only extension has nothing on the engine.
                support::discard(&home)?;
                Ok(took)
            }),
            Contender::new("docker pull + cp", || {
                env.remove_image(&reference)?;
                let dest = env.fresh("ui-docker");
                fs_err::create_dir_all(&dest)?;
                env.left.images.borrow_mut().insert(reference.clone());
                let start = Instant::now();
                support::output(env.docker().args(["pull", "-q", &reference]))?;
                // A UI-only image has no command; create needs one (nothing runs).
                let container = support::output(env.docker().args(["create", &reference, "none"]))?
                    .trim()
                    .to_owned();
                env.left.containers.borrow_mut().insert(container.clone());
                for (from, to) in [
                    ("/ui", "ui"),
                    ("/metadata.json", "metadata.json"),
                    ("/icon.svg", "icon.svg"),
                ] {
                    support::output(
                        env.docker()
                            .arg("cp")
                            .arg(format!("{container}:{from}"))
                            .arg(dest.join(to)),
                    )?;
                }
                support::output(env.docker().args(["rm", &container]))?;
                let took = start.elapsed();
                env.left.containers.borrow_mut().remove(&container);
                for f in ["ui/index.html", "metadata.json", "icon.svg"] {
                    ensure!(dest.join(f).is_file(), "docker cp left no {f}");
                }
                support::discard(&dest)?;
                Ok(took)
            }),
        ];
        interleaved(options.plan, &mut contenders)?
    };
    let ratio = table::time_ratio(&samples[0], &samples[1]);
    let mut t = Table::new(format!("install: UI-only extension {}", fx.ui));
    t.row(
        Row::new("install (pull, unpack, state)", table::samples(&samples[0]))
            .baseline(table::samples(&samples[1]), ratio)
            .target(
                format!("≤ {UI_RATIO_TARGET:.2}×"),
                ratio.is_some_and(|r| r <= UI_RATIO_TARGET),
            ),
    );
    t.note(options.plan.describe());
    t.note("dockhand: `dockhand --quiet install REF -y` (release binary) into a fresh DOCKHAND_HOME each run: pulls this platform into an empty store, validates, unpacks UI, metadata.json and icon, records the state");
    t.note("baseline (what Docker Desktop does for a UI-only extension): `docker pull -q REF`, `docker create REF none` (the image has no command; nothing runs), `docker cp` of /ui, /metadata.json and /icon.svg, `docker rm`; before each run (untimed) `docker rmi REF`, so the pull really pulls");
    t.note(format!(
        "{}; both talk to the same local registry",
        env.docker_version
    ));
    Ok(t)
}

// ---------------------------------------------------------------------------
// 2. backend: install until GET /hello answers, rm until nothing is left

/// Samples of one set of backend runs: install, rm, compose up, compose down.
struct BackendRuns {
    install: Samples,
    rm: Samples,
    up: Samples,
    down: Samples,
}

fn backend_runs(env: &Env, fx: &Fixture, plan: Plan, cold: bool) -> Result<BackendRuns> {
    let reference = fx.backend.to_string();
    let id = fx.backend.extension_id();
    let home = env.fresh("backend-home");
    let layout = Layout {
        home: home.clone(),
        runtime: env.runtime_dir.clone(),
    };
    let label = layout.owner_label(&id);
    let project = project_of(&layout.home_id(), &id);
    let socket = env.socket_dir(&home, &id).join(BACKEND_SOCKET);

    let base = env.fresh("baseline");
    let socket_dir = base.join("sockets");
    fs_err::create_dir_all(&socket_dir)?;
    let compose_file = base.join("compose.json");
    let (label_key, label_value) = BASELINE_LABEL.split_once('=').context("baseline label")?;
    let doc = serde_json::json!({
        "services": {
            "backend": {
                "image": reference,
                "labels": { label_key: label_value },
                "volumes": [format!("{}:/run/guest-services", socket_dir.display())],
            }
        }
    });
    fs_err::write(&compose_file, serde_json::to_string_pretty(&doc)?)?;
    let baseline_socket = socket_dir.join(BACKEND_SOCKET);

    let mut contenders = [
        Contender::new("dockhand install", || {
            if cold {
                env.remove_image(&reference)?;
            }
            env.track_install(&home, &id);
            env.left.images.borrow_mut().insert(reference.clone());
            let start = Instant::now();
            support::output(env.dockhand(&home).args(["install", &reference, "-y"]))?;
            wait_hello(&socket)?;
            Ok(start.elapsed())
        }),
        Contender::new("dockhand rm", || {
            let start = Instant::now();
            support::output(env.dockhand(&home).args(["rm", id.as_str()]))?;
            env.wait_gone(&label, &project)?;
            let took = start.elapsed();
            env.untrack_install(&home, &id);
            ensure!(!socket.exists(), "dockhand rm left {}", socket.display());
            Ok(took)
        }),
        Contender::new("compose up", || {
            if cold {
                env.remove_image(&reference)?;
            }
            env.left.projects.borrow_mut().insert(compose_file.clone());
            env.left.images.borrow_mut().insert(reference.clone());
            let start = Instant::now();
            support::output(
                env.compose(&compose_file)
                    .args(["up", "-d", "--remove-orphans"]),
            )?;
            wait_hello(&baseline_socket)?;
            Ok(start.elapsed())
        }),
        Contender::new("compose down", || {
            let start = Instant::now();
            support::output(
                env.compose(&compose_file)
                    .args(["down", "--remove-orphans"]),
            )?;
            env.wait_gone(BASELINE_LABEL, BASELINE_PROJECT)?;
            let took = start.elapsed();
            env.left.projects.borrow_mut().remove(&compose_file);
            // The backend's socket stays behind; the next run must not see it.
            let _ = fs_err::remove_file(&baseline_socket);
            Ok(took)
        }),
    ];
    let samples = interleaved(plan, &mut contenders)?;
    drop(contenders);
    support::discard(&home)?;
    support::discard(&base)?;
    let [install, rm, up, down] =
        <[Samples; 4]>::try_from(samples).map_err(|_| anyhow::anyhow!("four contenders"))?;
    Ok(BackendRuns {
        install,
        rm,
        up,
        down,
    })
}

fn backend_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    progress("backend: image in the engine — install, rm, compose up, compose down");
    let warm = backend_runs(env, fx, options.plan, false)?;
    progress("backend: image removed from the engine before each install and up");
    let cold = backend_runs(env, fx, options.plan, true)?;
    progress("backend: compose start-up (`compose version`)");
    let startup = {
        let mut c = [Contender::new("compose version", || {
            let mut cmd = Command::new(&env.compose[0]);
            support::run_timed(cmd.args(&env.compose[1..]).arg("version"))
        })];
        interleaved(options.plan, &mut c)?.remove(0)
    };

    let mut t = Table::new(format!("install: backend extension {}", fx.backend));
    let mut time_row = |name: &str, ours: &Samples, base: &Samples| {
        t.row(
            Row::new(name, table::samples(ours))
                .baseline(table::samples(base), table::time_ratio(ours, base))
                .goal("(none)"),
        );
    };
    time_row(
        "install → GET /hello answers, image not in the engine",
        &cold.install,
        &cold.up,
    );
    time_row(
        "install → GET /hello answers, image in the engine",
        &warm.install,
        &warm.up,
    );
    let mut rm = warm.rm.clone();
    rm.extend(&cold.rm);
    let mut down = warm.down.clone();
    down.extend(&cold.down);
    time_row("rm → nothing labelled left", &rm, &down);
    t.row(
        Row::new("compose start-up alone (`compose version`)", "-")
            .baseline(table::samples(&startup), None),
    );
    t.note(options.plan.describe());
    t.note("dockhand: `dockhand --quiet install REF -y` (release binary, one DOCKHAND_HOME kept across runs, so compose.json caches the compose detection after the warm-up; every rm empties the store, so every install pulls again), timed from spawning it until GET /hello answers 200 on $XDG_RUNTIME_DIR/dockhand/<12 hex>/backend.sock (Layout::socket_dir); install itself already waits for the socket");
    t.note("install = pull into the store, unpack, validate, [image not in the engine: export it and load it into the engine], write compose file + override, `compose up`, wait for the socket, journal and state");
    t.note(format!(
        "baseline: `compose -p {BASELINE_PROJECT} -f compose.json up -d --remove-orphans` of one service straight from REF (its socket dir bind-mounted at /run/guest-services, a label), then GET /hello polled every 2 ms; image not in the engine: compose pulls it"
    ));
    t.note("\"image not in the engine\": `docker rmi REF` before each install and up (untimed); the base image's layer stays, since the base image is in the engine");
    t.note(format!(
        "rm: `dockhand rm ID` / `compose down --remove-orphans`, until the Engine API lists no container labelled {EXTENSION_LABEL}=ID (baseline: its own label) and no network of the compose project (polled every 10 ms); runs of both sets ({} each)",
        2 * options.plan.runs
    ));
    t.note(format!(
        "compose is {}: a Python program whose start-up (last row) is paid by every `up` and `down`, dockhand's included, and dominates these times",
        env.compose_version
    ));
    Ok(t)
}

// ---------------------------------------------------------------------------
// 3. doctor with 20 extensions

fn doctor_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    let home = env.fresh("doctor-home");
    let ids: BTreeSet<String> = fx
        .doctor
        .iter()
        .map(|r| r.extension_id().to_string())
        .collect();
    // Before installing anything: fail early on a shared engine.
    progress(&format!(
        "doctor: installing {} extensions ({DOCTOR_UI} minimal-ui, {DOCTOR_HOST_BINARIES} host-binaries, {DOCTOR_BACKENDS} backend-image)",
        fx.doctor.len()
    ));
    let ((), setup) = time(|| {
        for r in &fx.doctor {
            let id = r.extension_id();
            env.track_install(&home, &id);
            env.left.images.borrow_mut().insert(r.to_string());
            support::output(env.dockhand(&home).args(["install", &r.to_string(), "-y"]))?;
        }
        Ok(())
    })?;
    progress(&format!("  installed them in {}", table::duration(setup)));
    let report: serde_json::Value = serde_json::from_str(&support::output(
        env.dockhand(&home).args(["doctor", "--format", "json"]),
    )?)
    .context("doctor --format json")?;
    let checks = report["checks"].as_array().context("doctor: no checks")?;
    let ok = checks
        .iter()
        .filter(|c| c["status"] == "ok" && c["name"].as_str().is_some_and(|n| ids.contains(n)))
        .count();
    let problems: Vec<String> = checks
        .iter()
        .filter(|c| c["status"] != "ok")
        .map(|c| format!("{} {}: {}", c["name"], c["status"], c["detail"]))
        .collect();
    ensure!(
        problems.is_empty(),
        "doctor found problems:\n  {}",
        problems.join("\n  ")
    );

    let plan = Plan {
        runs: options.plan.runs.max(DOCTOR_MIN_RUNS),
        warmup: options.plan.warmup,
    };
    progress("doctor: dockhand doctor vs docker ps -a + compose version");
    let samples = {
        let mut contenders = [
            Contender::new("dockhand doctor", || {
                support::run_timed(env.dockhand(&home).arg("doctor"))
            }),
            Contender::new("doctor, no cache", || {
                let cache = home.join("compose.json");
                match fs_err::remove_file(&cache) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e)
                            .with_context(|| format!("cannot remove {}", cache.display()));
                    }
                    _ => {}
                }
                support::run_timed(env.dockhand(&home).arg("doctor"))
            }),
            Contender::new("docker ps + compose", || {
                let ps = support::run_timed(env.docker().args(["ps", "-a"]))?;
                let mut cmd = Command::new(&env.compose[0]);
                let version = support::run_timed(cmd.args(&env.compose[1..]).arg("version"))?;
                Ok(ps + version)
            }),
        ];
        interleaved(plan, &mut contenders)?
    };

    progress(&format!("doctor: dockhand rm of the {}", ids.len()));
    let ((), removal) = time(|| {
        for r in &fx.doctor {
            let id = r.extension_id();
            support::output(env.dockhand(&home).args(["rm", id.as_str()]))?;
            env.untrack_install(&home, &id);
        }
        Ok(())
    })?;
    let mut left = Vec::new();
    let layout = Layout {
        home: home.clone(),
        runtime: env.runtime_dir.clone(),
    };
    for id in &ids {
        let id = ExtensionId::parse(id)?;
        for c in env
            .rt
            .block_on(env.engine.containers_by_label(&layout.owner_label(&id)))?
        {
            left.push(c.name);
        }
        let project = format!(
            "{COMPOSE_PROJECT_LABEL}={}",
            project_of(&layout.home_id(), &id)
        );
        for n in env.rt.block_on(env.engine.networks_by_label(&project))? {
            left.push(n.name);
        }
    }
    support::discard(&home)?;

    let mut t = Table::new(format!(
        "install: doctor with {} extensions installed ({} with a backend)",
        fx.doctor.len(),
        DOCTOR_BACKENDS
    ));
    let (doctor, nocache, base) = (&samples[0], &samples[1], &samples[2]);
    t.row(
        Row::new("dockhand doctor", table::samples(doctor))
            .baseline(table::samples(base), table::time_ratio(doctor, base))
            .target(
                format!("≤ {}", table::duration(DOCTOR_TARGET)),
                doctor.median() <= DOCTOR_TARGET,
            ),
    );
    t.row(
        Row::new(
            "dockhand doctor without compose.json",
            table::samples(nocache),
        )
        .baseline(table::samples(base), table::time_ratio(nocache, base))
        .goal("(none)"),
    );
    t.row(
        Row::new(
            "extensions doctor reports ok",
            format!("{ok} of {}", ids.len()),
        )
        .target(format!("{} of {0}", ids.len()), ok == ids.len()),
    );
    t.row(Row::new(
        format!("install of the {} (setup, one after another)", ids.len()),
        table::duration(setup),
    ));
    t.row(Row::new(
        format!("dockhand rm of the {}, one after another", ids.len()),
        table::duration(removal),
    ));
    t.row(
        Row::new(
            "containers and networks left after the rm",
            left.len().to_string(),
        )
        .target("0", left.is_empty()),
    );
    t.note(format!(
        "times: median of {} runs (min in parentheses), contenders interleaved, after {} untimed warm-up run{} each ({DOCTOR_MIN_RUNS} runs at least)",
        plan.runs,
        plan.warmup,
        if plan.warmup == 1 { "" } else { "s" }
    ));
    t.note(format!(
        "state: {DOCTOR_UI} minimal-ui, {DOCTOR_HOST_BINARIES} host-binaries and {DOCTOR_BACKENDS} backend-image extensions, each from a repository of its own under {}/{REPOSITORY}/, installed with `dockhand install -y`; both backends running",
        env.registry
    ));
    t.note("dockhand doctor: engine version, compose (cached in $DOCKHAND_HOME/compose.json), state check, journal, containers by label (leftovers, running backends), files of each extension, staging dirs; the release binary, a process per run");
    t.note("without compose.json: the cache is deleted before each run, so doctor detects compose again (runs the compose CLI)");
    t.note(format!(
        "baseline (what a shell script doing the same checks costs): `docker ps -a` + `{} version`, one after the other",
        env.compose
            .iter()
            .map(|s| s.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    t.note("doctor removes containers of extensions its home does not know: each run waits (untimed) until no other run's dockhand containers are on the engine");
    Ok(t)
}
