//! `vm.service` with curl: through `dockhand serve` in relay mode and in
//! local mode, against `curl --unix-socket` on the backend's socket inside
//! the VM engine's mount namespace (`nsenter --target PID --mount`, the
//! socket named relative to its directory: its path is longer than a unix
//! socket address allows).

use std::path::Path;

use anyhow::{Context, Result};

use super::Env;
use crate::curl::CurlTarget;
use crate::measure::Samples;
use crate::progress;
use crate::serve::Serve;
use crate::support;
use crate::table::{Goal, Table, quantile_rows};

/// Timed `curl` processes per contender (after [`CURL_WARMUP`]).
const CURL_RUNS: usize = 300;
const CURL_WARMUP: usize = 10;
/// Transfers of the keep-alive `curl` per contender.
const CURL_KEEPALIVE: usize = 1000;

fn bridge(name: &'static str, serve: &Serve) -> CurlTarget {
    CurlTarget {
        name,
        prefix: Vec::new(),
        args: vec![
            "-H".into(),
            format!("Host: {}", serve.ext_host),
            "-H".into(),
            format!("Origin: {}", serve.ext_origin()),
            "-H".into(),
            format!("Cookie: {}", serve.ext_cookie),
            "-H".into(),
            "Content-Type: application/json".into(),
            "--data".into(),
            r#"{"method":"GET","url":"/hello"}"#.into(),
        ],
        url: format!("http://127.0.0.1:{}/.dockhand/api/vm/request", serve.port),
        bridged: true,
    }
}

pub(super) fn curl_table(
    env: &Env,
    relay: &Serve,
    local: &Serve,
    vm_socket: &Path,
) -> Result<Table> {
    let curl = support::program("curl", "CURL")
        .context("curl is needed for the curl baseline: apt-get install -y curl")?;
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
        bridge("relay mode", relay),
        bridge("local mode", local),
        in_vm,
    ];
    progress(&format!(
        "vm.service with curl: {CURL_RUNS} curl processes per contender, interleaved"
    ));
    let mut once = vec![Samples::default(); targets.len()];
    for round in 0..CURL_WARMUP + CURL_RUNS {
        for (t, s) in targets.iter().zip(&mut once) {
            let d = t.once(&curl)?;
            if round >= CURL_WARMUP {
                s.push(d);
            }
        }
    }
    progress(&format!(
        "vm.service with curl: {CURL_KEEPALIVE} requests on one connection per contender"
    ));
    let kept: Vec<Samples> = targets
        .iter()
        .map(|t| t.keep_alive(&curl, CURL_KEEPALIVE))
        .collect::<Result<_>>()?;

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
