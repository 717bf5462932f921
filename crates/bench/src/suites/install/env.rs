//! The engine, registry, CLIs and scratch space every measurement uses,
//! cleaned up when dropped; the backend's `GET /hello`.

use super::*;

/// What every measurement uses; cleans up the engine when dropped.
pub(super) struct Env {
    pub(super) registry: String,
    /// A copy of the `dockhand` binary (another build cannot replace it mid-run).
    pub(super) dockhand: PathBuf,
    /// The docker CLI.
    pub(super) docker: PathBuf,
    /// The compose command: `docker-compose`, else `docker compose`.
    pub(super) compose: Vec<OsString>,
    pub(super) compose_version: String,
    pub(super) docker_version: String,
    pub(super) engine: Engine,
    pub(super) rt: Runtime,
    /// `XDG_RUNTIME_DIR` of every dockhand process: backend sockets go under it.
    pub(super) runtime_dir: PathBuf,
    pub(super) scratch: tempfile::TempDir,
    pub(super) left: Leftovers,
}

/// What may be left on the engine if the suite stops now.
#[derive(Default)]
pub(super) struct Leftovers {
    /// Extensions installed (or being installed) on the engine: `(home, id)`.
    pub(super) installs: RefCell<BTreeSet<(PathBuf, String)>>,
    /// Every extension id the suite uses.
    pub(super) ids: RefCell<BTreeSet<String>>,
    /// Baseline compose files whose project may be up.
    pub(super) projects: RefCell<BTreeSet<PathBuf>>,
    /// Containers made by `docker create`.
    pub(super) containers: RefCell<BTreeSet<String>>,
    /// Images pulled or loaded into the engine.
    pub(super) images: RefCell<BTreeSet<String>>,
    /// Cleaned up already.
    pub(super) done: Cell<bool>,
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
pub(super) fn find_compose(docker: &Path) -> Result<Vec<OsString>> {
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
    pub(super) fn open() -> Result<Env> {
        let registry = support::require_env("DOCKHAND_TEST_REGISTRY")?;
        let docker_host = support::require_env("DOCKER_HOST")?;
        let bin = support::require_dockhand("install")?;
        let docker = support::program("docker", "DOCKHAND_BENCH_DOCKER")?;
        let compose = find_compose(&docker)?;
        let scratch = support::scratch_dir("install")?;
        let dockhand = support::copy_dockhand(&bin, scratch.path())?;
        let runtime_dir = scratch.path().join("run");
        fs_err::create_dir_all(&runtime_dir)?;
        let rt = support::runtime()?;
        let engine = support::connect_engine(&rt, &docker_host)?;
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
    pub(super) fn fresh(&self, what: &str) -> PathBuf {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.scratch.path().join(format!("{what}-{n}"))
    }

    /// `dockhand --quiet` with `home` as `DOCKHAND_HOME`.
    pub(super) fn dockhand(&self, home: &Path) -> Command {
        support::dockhand_command(&self.dockhand, home, &self.runtime_dir)
    }

    pub(super) fn docker(&self) -> Command {
        Command::new(&self.docker)
    }

    /// The compose command on the baseline project.
    pub(super) fn compose(&self, file: &Path) -> Command {
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

    pub(super) fn socket_dir(&self, home: &Path, id: &ExtensionId) -> PathBuf {
        Layout {
            home: home.to_path_buf(),
            runtime: self.runtime_dir.clone(),
        }
        .socket_dir(id)
    }

    pub(super) fn track_install(&self, home: &Path, id: &ExtensionId) {
        self.left
            .installs
            .borrow_mut()
            .insert((home.to_path_buf(), id.to_string()));
        self.left.ids.borrow_mut().insert(id.to_string());
    }

    pub(super) fn untrack_install(&self, home: &Path, id: &ExtensionId) {
        self.left
            .installs
            .borrow_mut()
            .remove(&(home.to_path_buf(), id.to_string()));
    }

    /// Removes `image` from the engine (its tag; layers other images share stay).
    pub(super) fn remove_image(&self, image: &str) -> Result<()> {
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
    pub(super) fn wait_gone(&self, label: &str, project: &str) -> Result<()> {
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
    pub(super) fn sweep(&self, ids: &BTreeSet<String>) -> Result<usize> {
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
    pub(super) fn clean_up(&self) -> Result<()> {
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

    pub(super) fn finish(self) -> Result<()> {
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
pub(super) fn get_hello(socket: &Path) -> std::io::Result<String> {
    let mut s = UnixStream::connect(socket)?;
    s.set_read_timeout(Some(Duration::from_secs(5)))?;
    s.set_write_timeout(Some(Duration::from_secs(5)))?;
    s.write_all(b"GET /hello HTTP/1.1\r\nHost: backend\r\nConnection: close\r\n\r\n")?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    Ok(answer)
}

/// Polls `GET /hello` on `socket` (every 2 ms) until the backend answers 200.
pub(super) fn wait_hello(socket: &Path) -> Result<()> {
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
