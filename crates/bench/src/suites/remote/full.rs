//! dockhand's real path (see the suite's docs): `vm.service` through
//! `dockhand serve`, relay mode against local mode and against the socket
//! in the VM; install; the relay's memory.

use std::sync::Arc;

use anyhow::{Context, Result};

use super::Env;
use super::homes::{Homes, Mode};
use super::session::{
    CONCURRENT_CALLS, FRESH_REQUESTS, FRESH_WARMUP, LATENCY_REQUESTS, LATENCY_ROUNDS,
    LATENCY_WARMUP, THROUGHPUT_CONNECTIONS, THROUGHPUT_TIME, Way, concurrent, fresh, keep_alive,
    load_rows, throughput,
};
use crate::measure::Samples;
use crate::progress;
use crate::serve::{self, Serve};
use crate::suites::Options;
use crate::table::{self, QUANTILES, Report, Row, Table};

/// The issue's latency target: relay mode ≤ 2× local mode (p50).
const LATENCY_RATIO_TARGET: f64 = 2.0;
const VM_REQUEST: &str = r#"{"method":"GET","url":"/hello"}"#;

/// A p50 row held to `limit` (when given) and a p99 row for information.
fn latency_rows(
    t: &mut Table,
    what: &str,
    against: &str,
    ours: &Samples,
    base: &Samples,
    limit: Option<f64>,
) {
    for (label, q) in QUANTILES {
        let (o, b) = (ours.quantile(q), base.quantile(q));
        let r = table::ratio(o.as_secs_f64(), b.as_secs_f64());
        let row = Row::new(format!("{what} {label}, {against}"), table::duration(o))
            .baseline(table::duration(b), r);
        t.row(match limit {
            Some(limit) if label == "p50" => {
                row.target(format!("≤ {limit:.1}×"), r.is_some_and(|r| r <= limit))
            }
            _ => row.goal("(none)"),
        });
    }
}

fn bridge_way(name: &'static str, serve: &Serve) -> Way {
    Way::Bridge {
        name,
        port: serve.port,
        request: Arc::new(serve.bridge("/.dockhand/api/vm/request", VM_REQUEST)),
    }
}

pub(super) fn tables(env: &Env, options: &Options, report: &mut Report) -> Result<()> {
    let homes = Homes::set_up(env)?;
    report.print(&super::install::install_table(&homes, options)?);

    progress("setup: the backend installed in both homes, dockhand serve on each");
    for home in [&homes.local, &homes.relay] {
        homes.install(home)?;
        homes.wait_for_hello(home)?;
    }
    let log = |mode: Mode| {
        env.scratch
            .path()
            .join(format!("serve-{}.log", mode.name()))
    };
    let local = serve::start(homes.dockhand(&homes.local), &log(Mode::Local), &homes.id)?;
    let relay = serve::start(homes.dockhand(&homes.relay), &log(Mode::Relay), &homes.id)?;
    let (vm_socket, vm_path) = homes.vm_socket()?;
    let ways = [
        bridge_way("relay mode", &relay),
        bridge_way("local mode", &local),
        Way::Socket(vm_socket),
    ];
    env.rt
        .block_on(async {
            let mut c = ways[0].connect().await?;
            ways[0].call(&mut c).await
        })
        .with_context(|| {
            format!(
                "vm.service through dockhand serve in relay mode fails (serve's log: {})",
                log(Mode::Relay).display()
            )
        })?;

    progress(&format!(
        "vm.service: {LATENCY_REQUESTS} keep-alive calls each (relay mode, local mode, socket in the VM)"
    ));
    let kept = env.rt.block_on(keep_alive(&ways))?;
    progress(&format!(
        "vm.service: {FRESH_REQUESTS} calls each on a connection per call"
    ));
    let per_call = env.rt.block_on(fresh(&ways))?;
    progress("vm.service: throughput");
    let rps: Vec<f64> = ways[..2]
        .iter()
        .map(|w| env.rt.block_on(throughput(w)).context("throughput"))
        .collect::<Result<_>>()?;
    progress(&format!("vm.service: {CONCURRENT_CALLS} concurrent calls"));
    let (errors, why, took) = env.rt.block_on(concurrent(&ways[0]));
    let (base_errors, _, base_took) = env.rt.block_on(concurrent(&ways[1]));

    let mut t = Table::new(
        "remote: vm.service GET /hello through dockhand serve, relay mode (VM engine) vs local mode",
    );
    let (r, l, s) = (0, 1, 2);
    latency_rows(
        &mut t,
        "keep-alive",
        "relay vs local mode",
        &kept[r],
        &kept[l],
        Some(LATENCY_RATIO_TARGET),
    );
    latency_rows(
        &mut t,
        "connection per call",
        "relay vs local mode",
        &per_call[r],
        &per_call[l],
        Some(LATENCY_RATIO_TARGET),
    );
    latency_rows(
        &mut t,
        "keep-alive",
        "relay vs the socket in the VM",
        &kept[r],
        &kept[s],
        None,
    );
    latency_rows(
        &mut t,
        "connection per call",
        "relay vs the socket in the VM",
        &per_call[r],
        &per_call[s],
        None,
    );
    load_rows(
        &mut t,
        ", relay vs local mode",
        [rps[0], rps[1]],
        (errors, took),
        (base_errors, base_took),
    );
    for w in &why {
        t.note(format!("relay mode error: {w}"));
    }
    t.note("relay mode / local mode: POST /.dockhand/api/vm/request {\"method\":\"GET\",\"url\":\"/hello\"} on the extension origin (Host <slug>.localhost:PORT, Origin, dockhand_ext cookie) of `dockhand serve`, one serve per home (the relay home's on the VM engine over TLS); the JSON envelope must hold status 200 and the backend's text");
    t.note(format!(
        "socket in the VM: GET /hello on backend.sock in the extension's volume on the VM engine, the file its mount namespace sees (checked through /proc/PID/root: {})",
        vm_path.display()
    ));
    t.note(format!(
        "keep-alive: {LATENCY_REQUESTS} sequential calls per contender on one connection (after {LATENCY_WARMUP} untimed), {LATENCY_ROUNDS} interleaved rounds; connection per call: {FRESH_REQUESTS} (after {FRESH_WARMUP}), each connecting, calling, closing; throughput: {THROUGHPUT_CONNECTIONS} kept-alive connections back to back for {} s; concurrent: {CONCURRENT_CALLS} connections opened at once, a call each; the client: this process (tokio, 2 workers)",
        THROUGHPUT_TIME.as_secs()
    ));
    report.print(&t);

    report.print(&super::curl::curl_table(env, &relay, &local, &vm_path)?);

    let rss = super::relay_rss(&homes.relay_container()?);
    let mut t = Table::new("remote: the relay container's memory");
    super::rss_rows(&mut t, &rss);
    t.note("VmRSS from /proc/PID/status of each dockhand-relay process in the relay container's cgroup (the engines share this machine's pid namespace), after the tables above: `idle` is the container's main process, `serve` the session of the relay home's dockhand serve");
    report.print(&t);
    drop((local, relay));
    Ok(())
}
