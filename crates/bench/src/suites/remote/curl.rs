//! `vm.service` with curl: through `dockhand serve` in relay mode and in
//! local mode, against `curl --unix-socket` on the backend's socket inside
//! the VM engine's mount namespace (`nsenter --target PID --mount`, the
//! socket named relative to its directory: its path is longer than a unix
//! socket address allows).

use std::path::Path;

use anyhow::{Context, Result};

use super::Env;
use crate::curl::CurlTarget;
use crate::serve::Serve;
use crate::support;
use crate::table::{Goal, Table, quantile_rows};

/// Timed `curl` processes per contender (after [`CURL_WARMUP`]).
const CURL_RUNS: usize = 300;
const CURL_WARMUP: usize = 10;
/// Transfers of the keep-alive `curl` per contender.
const CURL_KEEPALIVE: usize = 1000;

pub(super) fn curl_table(
    env: &Env,
    relay: &Serve,
    local: &Serve,
    vm_socket: &Path,
) -> Result<Table> {
    let curl = crate::curl::program()?;
    let nsenter = support::program("nsenter", "NSENTER")
        .context("nsenter (util-linux) is needed to run curl inside the VM engine's namespace")?;
    let dir = vm_socket.parent().context("a socket in a directory")?;
    let in_vm = CurlTarget {
        name: "curl --unix-socket in the VM",
        prefix: vec![
            nsenter.display().to_string(),
            format!("--target={}", env.vm_pid),
            "--mount".into(),
            format!("--wdns={}", dir.display()),
        ],
        args: vec!["--unix-socket".into(), "backend.sock".into()],
        url: "http://backend/hello".into(),
        bridged: false,
    };
    let targets = [
        CurlTarget::vm_service("relay mode", relay),
        CurlTarget::vm_service("local mode", local),
        in_vm,
    ];
    let (once, kept) =
        crate::curl::measure(&targets, &curl, CURL_WARMUP, CURL_RUNS, CURL_KEEPALIVE)?;

    let mut t = Table::new(
        "remote: vm.service GET /hello with curl, relay mode vs local mode and the socket in the VM",
    );
    for (label, s) in [("one curl per request", &once), ("curl keep-alive", &kept)] {
        quantile_rows(
            &mut t,
            label,
            "relay vs local mode",
            &s[0],
            &s[1],
            Goal::Info,
        );
        quantile_rows(
            &mut t,
            label,
            "relay vs curl --unix-socket in the VM",
            &s[0],
            &s[2],
            Goal::Info,
        );
    }
    t.note(format!(
        "one curl per request: {CURL_RUNS} runs per contender after {CURL_WARMUP} untimed, interleaved, spawn to exit, output checked; curl keep-alive: one curl given the URL {} times, each transfer's own %{{time_total}} (the first, which connects, dropped)",
        CURL_KEEPALIVE + 1
    ));
    t.note(format!(
        "relay / local mode: curl -H 'Host: <slug>.localhost:PORT' -H Origin -H Cookie --data '{{\"method\":\"GET\",\"url\":\"/hello\"}}' http://127.0.0.1:PORT/.dockhand/api/vm/request; in the VM: nsenter --target {} --mount --wdns=DIR curl --unix-socket backend.sock http://backend/hello, DIR the volume's directory (nsenter's own exec is in that number)",
        env.vm_pid
    ));
    t.note("rows for information: the issue's targets are against local mode, in the table above");
    Ok(t)
}
