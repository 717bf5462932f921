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

mod backend;
mod doctor;
mod env;
mod fixture;
mod ui;

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

use backend::backend_table;
use doctor::doctor_table;
use env::{Env, wait_hello};
use fixture::Fixture;
use ui::ui_table;

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
