//! Suite `update`: `dockhand update --check` for 20 installed extensions on
//! the local registry, cold (no cache) and cached.
//!
//! Setup pushes, for each of 20 repositories `dockhand-bench/update-NN`,
//! `examples/minimal-ui` built with `dockhand build --label` as 1.0.0,
//! 1.1.0, 2.0.0 (needing extension API `>= 9.0.0`) and `latest`, and installs
//! 1.0.0 of each into one `DOCKHAND_HOME` (UI only: no engine work). Then:
//!
//! 1. time: `dockhand update --check --format json` (the release binary, one
//!    process, as a user runs it) over a fresh copy of that home (cold) and
//!    again over the same home (cached), against the same registry reads
//!    done with skopeo (`list-tags` and `inspect --config` of the two
//!    candidates, per extension, one after the other);
//! 2. cost per extension: what the check downloads (response bytes),
//!    requests by kind, and layer requests, from the registry client's
//!    counters (in process, through `Manager::check_updates`). A check fetches
//!    no blob but configs, so layer requests are blob requests less the
//!    configs it read, which the check counts itself.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use dockhand_host::Manager;
use dockhand_host::layout::Layout;
use dockhand_host::update::{CheckOptions, Checked};
use dockhand_oci::registry::{RegistryClient, RegistryOptions, RequestKind};

use super::Options;
use crate::measure::{Samples, time};
use crate::progress;
use crate::support;
use crate::table::{self, Report, Row, Table};

/// Extensions installed.
const EXTENSIONS: usize = 20;
/// The total time target of one check of all of them.
const TIME_TARGET: Duration = Duration::from_secs(2);
/// Bytes one extension's check may download.
const BYTES_TARGET: u64 = 32 * 1024;
/// `SOURCE_DATE_EPOCH` of the builds: the same images on every run.
const EPOCH: &str = "1700000000";
const API_LABEL: &str = "com.docker.desktop.extension.api.version";
/// Versions pushed: tag and api.version.
const VERSIONS: [(&str, &str); 4] = [
    ("1.0.0", ">= 0.3.0"),
    ("1.1.0", ">= 0.3.0"),
    ("2.0.0", ">= 9.0.0"),
    ("latest", ">= 0.3.0"),
];

struct Env {
    registry: String,
    dockhand: PathBuf,
    skopeo: Option<PathBuf>,
    scratch: tempfile::TempDir,
}

impl Env {
    fn repo(&self, i: usize) -> String {
        format!("{}/dockhand-bench/update-{i:02}", self.registry)
    }

    fn dockhand(&self, home: &Path) -> Command {
        let mut c = Command::new(&self.dockhand);
        c.env("DOCKHAND_HOME", home)
            .env("XDG_RUNTIME_DIR", self.scratch.path().join("run"))
            .env("SOURCE_DATE_EPOCH", EPOCH);
        c
    }
}

pub fn run(options: &Options, report: &mut Report) -> Result<()> {
    let registry = support::require_env("DOCKHAND_TEST_REGISTRY")?;
    let bin = support::require_dockhand("update")?;
    let scratch = support::scratch_dir("update")?;
    // A copy: another build cannot replace it mid-run.
    let dockhand = scratch.path().join("dockhand");
    fs_err::copy(&bin, &dockhand).with_context(|| format!("cannot copy {}", bin.display()))?;
    fs_err::create_dir_all(scratch.path().join("run"))?;
    let env = Env {
        registry,
        dockhand,
        skopeo: support::program("skopeo", "SKOPEO").ok(),
        scratch,
    };
    let pristine = setup(&env)?;
    report.print(&time_table(&env, &pristine, options)?);
    report.print(&cost_table(&env, &pristine)?);
    Ok(())
}

/// Pushes the versions and installs 1.0.0 of each; returns the home.
fn setup(env: &Env) -> Result<PathBuf> {
    let example = support::repo_root().join("examples/minimal-ui");
    let build_home = env.scratch.path().join("build-home");
    progress(&format!(
        "update: pushing {} versions of {EXTENSIONS} extensions",
        VERSIONS.len()
    ));
    for i in 0..EXTENSIONS {
        for (tag, api) in VERSIONS {
            support::output(
                env.dockhand(&build_home)
                    .arg("build")
                    .arg(&example)
                    .args(["-t", &format!("{}:{tag}", env.repo(i)), "--push"])
                    .args(["--label", &format!("{API_LABEL}={api}")])
                    .args([
                        "--label",
                        &format!("org.opencontainers.image.version={tag}"),
                    ])
                    .args([
                        "--label",
                        &format!("org.opencontainers.image.title=Update bench {i:02}"),
                    ]),
            )?;
        }
    }
    progress("update: installing 1.0.0 of each");
    let home = env.scratch.path().join("pristine");
    for i in 0..EXTENSIONS {
        support::output(env.dockhand(&home).args([
            "install",
            &format!("{}:1.0.0", env.repo(i)),
            "-y",
        ]))?;
    }
    Ok(home)
}

/// A fresh copy of `pristine` (no update check cached).
fn copy_home(env: &Env, pristine: &Path) -> Result<PathBuf> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let to = env.scratch.path().join(format!("home-{n}"));
    support::output(Command::new("cp").arg("-a").arg(pristine).arg(&to))?;
    Ok(to)
}

fn check_cli(env: &Env, home: &Path) -> Result<Duration> {
    let (out, took) = time(|| {
        support::output(
            env.dockhand(home)
                .args(["update", "--check", "--format", "json"]),
        )
    })?;
    let rows: serde_json::Value = serde_json::from_str(&out)?;
    let rows = rows.as_array().context("update --check printed no array")?;
    ensure!(
        rows.len() == EXTENSIONS,
        "{} rows, not {EXTENSIONS}",
        rows.len()
    );
    for r in rows {
        ensure!(
            r["latest"] == "1.1.0" && r["blocked_by_api"] == "2.0.0",
            "unexpected answer {r}"
        );
    }
    Ok(took)
}

fn skopeo_reads(env: &Env, skopeo: &Path) -> Result<Duration> {
    let (_, took) = time(|| {
        for i in 0..EXTENSIONS {
            let repo = env.repo(i);
            support::output(Command::new(skopeo).args([
                "list-tags",
                "--tls-verify=false",
                &format!("docker://{repo}"),
            ]))?;
            for tag in ["2.0.0", "1.1.0"] {
                support::output(Command::new(skopeo).args([
                    "inspect",
                    "--tls-verify=false",
                    "--config",
                    &format!("docker://{repo}:{tag}"),
                ]))?;
            }
        }
        Ok(())
    })?;
    Ok(took)
}

fn time_table(env: &Env, pristine: &Path, options: &Options) -> Result<Table> {
    let plan = options.plan;
    let (mut cold, mut cached, mut skopeo) =
        (Samples::default(), Samples::default(), Samples::default());
    for round in 0..plan.warmup + plan.runs {
        let home = copy_home(env, pristine)?;
        let c = check_cli(env, &home)?;
        let w = check_cli(env, &home)?;
        let s = match &env.skopeo {
            Some(sk) => Some(skopeo_reads(env, sk)?),
            None => None,
        };
        support::remove_dir(&home)?;
        if round >= plan.warmup {
            cold.push(c);
            cached.push(w);
            if let Some(s) = s {
                skopeo.push(s);
            }
        }
    }
    let mut t = Table::new(format!(
        "update --check, {EXTENSIONS} extensions (4 tags each), total time"
    ));
    for (name, s) in [("cold (no cache)", &cold), ("cached", &cached)] {
        let mut row = Row::new(name, table::samples(s));
        if env.skopeo.is_some() {
            row = row.baseline(
                table::duration(skopeo.median()),
                Some(s.median().as_secs_f64() / skopeo.median().as_secs_f64()),
            );
        }
        t.row(row.target(
            format!("≤ {} s", TIME_TARGET.as_secs()),
            s.median() <= TIME_TARGET,
        ));
    }
    t.note(format!(
        "dockhand: one `dockhand update --check --format json` process, checks 8 at a time; {} runs after {} warm-up",
        plan.runs, plan.warmup
    ));
    t.note(match &env.skopeo {
        Some(_) => "baseline: the same reads with skopeo, sequentially: list-tags and inspect --config of 2.0.0 and 1.1.0 per extension (60 processes)".to_owned(),
        None => "baseline: skopeo is not installed".to_owned(),
    });
    Ok(t)
}

/// Bytes and requests of one in-process check of every extension.
struct Cost {
    bytes: u64,
    requests: u64,
    manifests: u64,
    blobs: u64,
    tags: u64,
    configs: u64,
}

fn measure_cost(manager: &Manager, rt: &tokio::runtime::Runtime) -> Result<Cost> {
    let client = RegistryClient::new(RegistryOptions::default())?;
    let results = rt.block_on(manager.check_updates(&[], &client, &CheckOptions::default(), 8))?;
    let mut configs = 0;
    for (id, r) in results {
        match r.with_context(|| format!("checking {id}"))? {
            Checked::Checked(c) => configs += c.counts.configs_read as u64,
            Checked::Skipped { reason, .. } => bail!("{id} skipped: {reason}"),
        }
    }
    let s = client.stats().snapshot();
    Ok(Cost {
        bytes: s.bytes_received,
        requests: s.total_requests(),
        manifests: s.requests_of(RequestKind::Manifest),
        blobs: s.requests_of(RequestKind::Blob),
        tags: s.requests_of(RequestKind::Tags),
        configs,
    })
}

fn cost_table(env: &Env, pristine: &Path) -> Result<Table> {
    let home = copy_home(env, pristine)?;
    let manager = Manager::open(
        Layout {
            home: home.clone(),
            runtime: env.scratch.path().join("run"),
        },
        dockhand_engine::EngineHost::default_socket(),
        "docker".into(),
        vec![],
    )?;
    let rt = support::runtime()?;
    let cold = measure_cost(&manager, &rt)?;
    let cached = measure_cost(&manager, &rt)?;
    drop(manager);
    support::remove_dir(&home)?;
    let n = EXTENSIONS as u64;
    let mut t = Table::new("update --check, per extension: downloads and requests");
    for (name, c) in [("cold", &cold), ("cached", &cached)] {
        let per = c.bytes / n;
        t.row(
            Row::new(
                format!("{name}: bytes"),
                format!(
                    "{} ({:.2}× target)",
                    table::bytes(per),
                    per as f64 / BYTES_TARGET as f64
                ),
            )
            .target(
                format!("≤ {}", table::bytes(BYTES_TARGET)),
                per <= BYTES_TARGET,
            ),
        );
        t.row(Row::new(
            format!("{name}: requests"),
            format!(
                "{:.1} ({:.1} tags, {:.1} manifest, {:.1} blob)",
                c.requests as f64 / n as f64,
                c.tags as f64 / n as f64,
                c.manifests as f64 / n as f64,
                c.blobs as f64 / n as f64
            ),
        ));
        let layers = c.blobs.saturating_sub(c.configs);
        t.row(
            Row::new(
                format!("{name}: layer requests"),
                format!("{}", layers as f64 / n as f64),
            )
            .target("0", layers == 0),
        );
    }
    t.note("in process (Manager::check_updates, 8 at a time) with the registry client's counters; bytes are response bodies");
    t.note("layer requests: blob requests less the configs the check read (a check fetches no other blob)");
    Ok(t)
}
