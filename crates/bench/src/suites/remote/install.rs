//! Install of `examples/backend-image` until `GET /hello` answers, relay
//! mode against local mode.

use std::time::Instant;

use anyhow::Result;

use super::homes::{Home, Homes};
use crate::measure::{Contender, Plan, interleaved};
use crate::progress;
use crate::suites::Options;
use crate::table::{self, Row, Table};

/// The target: relay-mode install ≤ 1.3× local mode.
const INSTALL_RATIO_TARGET: f64 = 1.3;

pub(super) fn install_table(homes: &Homes<'_>, options: &Options) -> Result<Table> {
    progress("install until GET /hello answers: local mode vs relay mode");
    let once = |home: &Home| -> Result<std::time::Duration> {
        let start = Instant::now();
        homes.install(home)?;
        homes.wait_for_hello(home)?;
        let took = start.elapsed();
        homes.rm(home, &homes.id)?;
        let _ = std::process::Command::new("sync").status();
        Ok(took)
    };
    let plan: Plan = options.plan;
    let samples = {
        let mut contenders = [
            Contender::new("relay mode", || once(&homes.relay)),
            Contender::new("local mode", || once(&homes.local)),
        ];
        interleaved(plan, &mut contenders)?
    };
    let r = table::time_ratio(&samples[0], &samples[1]);
    let mut t = Table::new("remote: install of examples/backend-image until GET /hello answers");
    t.row(
        Row::new(
            "relay mode (VM engine, TLS) vs local mode",
            table::samples(&samples[0]),
        )
        .baseline(table::samples(&samples[1]), r)
        .target(
            format!("≤ {INSTALL_RATIO_TARGET:.1}×"),
            r.is_some_and(|r| r <= INSTALL_RATIO_TARGET),
        ),
    );
    t.note(plan.describe());
    t.note("a run: `dockhand install REF -y` (the image pulled from the loopback registry into the home's store, loaded into the engine, compose up, readiness) until GET /hello answers — local mode on the backend's socket, relay mode through a new relay session (an exec in the relay container, as `dockhand serve` opens one); then `dockhand rm --volumes` and `sync`, untimed");
    t.note("relay mode: the VM engine of scripts/deps vm over TLS (DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH); local mode: the main engine on its unix socket; the same image, the same dockhand binary");
    Ok(t)
}
