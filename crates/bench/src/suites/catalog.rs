//! Suite `catalog`: `dockhand catalog` over a registry-namespace catalog of
//! 50 extensions, cold (an empty cache) and cached.
//!
//! Setup builds `examples/minimal-ui` once into an OCI layout with the
//! dockhand binary and pushes it to 50 repositories under one namespace of
//! the local registry (a few KiB each). Then `dockhand_host::catalog::list`
//! runs with a fresh registry client (zeroed counters, no pooled
//! connections) per run:
//!
//! - cold: a fresh `dockhand.db` each run: `_catalog`, then per entry the
//!   tag list, the manifest and the config blob;
//! - cached: the same database each run (filled by one untimed cold run):
//!   the listings are fresh, so per entry one `HEAD` of its manifest;
//! - cached, `--refresh`: listings asked again, manifests still `HEAD` only.
//!
//! The table gives time, requests and bytes of each, and cached / cold.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use dockhand_host::catalog::{self, CatalogOptions};
use dockhand_host::config::Config;
use dockhand_host::state::State;
use dockhand_oci::registry::{RegistryClient, RegistryOptions, RequestKind, StatsSnapshot};
use tokio::runtime::Runtime;

use super::Options;
use crate::measure::{Contender, Samples, interleaved};
use crate::progress;
use crate::support;
use crate::table::{self, Report, Row, Table};

/// Extensions in the catalog.
const ENTRIES: usize = 50;

struct Env {
    rt: Runtime,
    scratch: tempfile::TempDir,
    config: Config,
}

/// What one run asked and received.
#[derive(Debug, Clone, Copy, Default)]
struct Traffic {
    stats: StatsSnapshot,
}

impl Traffic {
    fn requests(&self) -> u64 {
        self.stats.total_requests()
    }
    fn bytes(&self) -> u64 {
        self.stats.bytes_received
    }
    fn blobs(&self) -> u64 {
        self.stats.requests_of(RequestKind::Blob)
    }
}

pub fn run(options: &Options, report: &mut Report) -> Result<()> {
    let registry = support::require_env("DOCKHAND_TEST_REGISTRY")?;
    let dockhand = support::dockhand_binary()
        .context("the dockhand binary is needed to build the example: run through scripts/bench")?;
    let scratch = support::scratch_dir("catalog")?;
    let namespace = format!("{registry}/dockhand-bench-catalog-{}", std::process::id());
    publish(&dockhand, scratch.path(), &namespace)?;
    let config_path = scratch.path().join("config.toml");
    let text = format!("[[catalog]]\nname = \"bench\"\nurl = \"{namespace}\"\n");
    fs_err::write(&config_path, &text)?;
    let env = Env {
        rt: support::runtime()?,
        config: Config::parse(&config_path, &text)?,
        scratch,
    };
    report.print(&table(&env, options)?);
    Ok(())
}

/// Builds the minimal example once and pushes it as `namespace/ext-NN:1.0.0`.
fn publish(dockhand: &PathBuf, scratch: &std::path::Path, namespace: &str) -> Result<()> {
    let layout = scratch.join("layout");
    let home = scratch.join("build-home");
    let example = support::repo_root().join("examples/minimal-ui");
    progress(&format!("catalog: building {} once", example.display()));
    support::run_timed(
        Command::new(dockhand)
            .env("DOCKHAND_HOME", &home)
            .arg("build")
            .arg(&example)
            .args(["-q", "-t", "bench/minimal:1.0.0", "--output"])
            .arg(format!("oci:{}", layout.display())),
    )?;
    progress(&format!(
        "catalog: pushing it to {ENTRIES} repositories under {namespace}"
    ));
    let started = Instant::now();
    for i in 0..ENTRIES {
        support::run_timed(
            Command::new(dockhand)
                .env("DOCKHAND_HOME", &home)
                .arg("push")
                .arg(format!("oci:{}", layout.display()))
                .arg(format!("{namespace}/ext-{i:02}:1.0.0")),
        )?;
    }
    progress(&format!("catalog: pushed in {:?}", started.elapsed()));
    Ok(())
}

impl Env {
    /// One listing on `home`'s state; its duration and traffic.
    fn list(&self, home: &std::path::Path, refresh: bool) -> Result<(Duration, Traffic)> {
        let state = State::open(home)?;
        let client = RegistryClient::new(RegistryOptions::default())?;
        let options = CatalogOptions {
            refresh,
            ..CatalogOptions::default()
        };
        let start = Instant::now();
        let listing = self
            .rt
            .block_on(catalog::list(&self.config, &state, &client, &options))?;
        let took = start.elapsed();
        anyhow::ensure!(
            listing.items.len() == ENTRIES && listing.items.iter().all(|i| i.error.is_none()),
            "the catalog lists {} entries ({} with errors), not {ENTRIES}: {:?}",
            listing.items.len(),
            listing.items.iter().filter(|i| i.error.is_some()).count(),
            listing.problems
        );
        Ok((
            took,
            Traffic {
                stats: client.stats().snapshot(),
            },
        ))
    }
}

fn table(env: &Env, options: &Options) -> Result<Table> {
    let warm_home = env.scratch.path().join("warm");
    env.list(&warm_home, false)?;
    let mut cold_n = 0;
    let (mut t_cold, mut t_cached, mut t_refresh) =
        (Traffic::default(), Traffic::default(), Traffic::default());
    let samples: Vec<Samples> = {
        let mut contenders = [
            Contender::new("cold", || {
                cold_n += 1;
                let home = env.scratch.path().join(format!("cold-{cold_n}"));
                let (d, t) = env.list(&home, false)?;
                t_cold = t;
                support::remove_dir(&home)?;
                Ok(d)
            }),
            Contender::new("cached", || {
                let (d, t) = env.list(&warm_home, false)?;
                t_cached = t;
                Ok(d)
            }),
            Contender::new("cached --refresh", || {
                let (d, t) = env.list(&warm_home, true)?;
                t_refresh = t;
                Ok(d)
            }),
        ];
        interleaved(options.plan, &mut contenders)?
    };
    let (cold, cached, refresh) = (t_cold, t_cached, t_refresh);
    let mut t = Table::new(format!(
        "catalog of {ENTRIES} entries (a registry namespace on loopback): cached vs cold"
    ));
    let per = |n: u64| n as f64 / ENTRIES as f64;
    t.row(Row::new("cold: time", table::samples(&samples[0])).goal("-"));
    t.row(Row::timed("cached: time", &samples[1], &samples[0]).goal("< cold"));
    t.row(Row::timed(
        "cached --refresh: time",
        &samples[2],
        &samples[0],
    ));
    t.row(Row::new("cold: requests", cold.requests().to_string()));
    t.row(
        Row::new("cached: requests", cached.requests().to_string())
            .baseline(
                cold.requests().to_string(),
                table::ratio(cached.requests() as f64, cold.requests() as f64),
            )
            .target("≤ 1 per entry", per(cached.requests()) <= 1.0),
    );
    t.row(
        Row::new("cached --refresh: requests", refresh.requests().to_string()).baseline(
            cold.requests().to_string(),
            table::ratio(refresh.requests() as f64, cold.requests() as f64),
        ),
    );
    t.row(Row::new("cold: bytes", table::bytes(cold.bytes())));
    t.row(
        Row::new("cached: bytes", table::bytes(cached.bytes()))
            .baseline(
                table::bytes(cold.bytes()),
                table::ratio(cached.bytes() as f64, cold.bytes() as f64),
            )
            .target("0 (HEAD only)", cached.bytes() == 0),
    );
    t.row(
        Row::new("cached: blob requests", cached.blobs().to_string())
            .baseline(cold.blobs().to_string(), None)
            .target("0", cached.blobs() == 0 && refresh.blobs() == 0),
    );
    t.note(options.plan.describe());
    t.note(format!(
        "cold per entry: {:.1} requests, {}; cached: {:.1} requests; layers are never requested (blob requests are image configs)",
        per(cold.requests()),
        table::bytes(cold.bytes() / ENTRIES as u64),
        per(cached.requests())
    ));
    t.note("each run: a fresh registry client; cold: a fresh dockhand.db; entries resolved 8 at a time");
    Ok(t)
}
