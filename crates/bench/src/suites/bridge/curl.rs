//! `vm.service` measured the way the issue states its target: `curl` against
//! the bridge, against `curl --unix-socket` straight to the backend, and
//! against `curl` through a socat relay.
//!
//! Two shapes: one `curl` process per request (what a script or a person
//! does; each run is spawn → exit, so process start-up is in every number),
//! and one `curl` process making every request on a keep-alive connection,
//! timed by curl itself (`%{time_total}` per transfer).

use super::*;
use crate::curl::CurlTarget;
use crate::table::{Goal, quantile_rows};

/// Timed `curl` processes per contender (after [`CURL_WARMUP`]).
const CURL_RUNS: usize = 600;
const CURL_WARMUP: usize = 10;
/// Transfers of the keep-alive `curl` per contender.
const CURL_KEEPALIVE: usize = 1000;

fn targets(env: &Env, serve: &Serve, id: &ExtensionId) -> Result<Vec<CurlTarget>> {
    let socket = env.socket(id);
    let (socat_port, _) = env.socat(&socket)?;
    Ok(vec![
        CurlTarget::vm_service("bridge", serve),
        CurlTarget {
            name: "curl --unix-socket",
            prefix: Vec::new(),
            args: vec!["--unix-socket".into(), socket.display().to_string()],
            url: "http://backend/hello".into(),
            bridged: false,
        },
        CurlTarget {
            name: "socat",
            prefix: Vec::new(),
            args: Vec::new(),
            url: format!("http://127.0.0.1:{socat_port}/hello"),
            bridged: false,
        },
    ])
}

/// The table (see the module docs).
pub(super) fn curl_table(env: &Env, serve: &Serve, id: &ExtensionId) -> Result<Table> {
    let curl = crate::curl::program()?;
    let targets = targets(env, serve, id)?;
    let (once, kept) =
        crate::curl::measure(&targets, &curl, CURL_WARMUP, CURL_RUNS, CURL_KEEPALIVE)?;

    let mut t = Table::new("bridge: vm.service GET /hello with curl");
    let ratio_target = Goal::AtMost(LATENCY_RATIO_TARGET);
    let once_label = "one curl per request";
    quantile_rows(
        &mut t,
        once_label,
        "bridge vs curl --unix-socket",
        &once[0],
        &once[1],
        ratio_target,
    );
    quantile_rows(
        &mut t,
        once_label,
        "bridge vs socat relay",
        &once[0],
        &once[2],
        Goal::Faster,
    );
    let kept_label = "curl keep-alive";
    quantile_rows(
        &mut t,
        kept_label,
        "bridge vs curl --unix-socket",
        &kept[0],
        &kept[1],
        Goal::Info,
    );
    quantile_rows(
        &mut t,
        kept_label,
        "bridge vs socat relay",
        &kept[0],
        &kept[2],
        Goal::Info,
    );
    t.note(format!(
        "one curl per request: {CURL_RUNS} runs per contender after {CURL_WARMUP} untimed, interleaved; a run is spawning `curl -sS --fail-with-body …` until it exits, its output checked (bridge: the JSON envelope with status 200 and the backend's text)"
    ));
    t.note("bridge: curl -H 'Host: <slug>.localhost:PORT' -H Origin -H Cookie --data '{\"method\":\"GET\",\"url\":\"/hello\"}' http://127.0.0.1:PORT/.dockhand/api/vm/request; baseline: curl --unix-socket SOCK http://backend/hello; socat: curl http://127.0.0.1:P/hello through `socat TCP-LISTEN:P,fork UNIX-CONNECT:SOCK` (a process forked per connection, as TCP sidecars do)");
    t.note(format!(
        "curl keep-alive: one curl process per contender given the URL {} times; each transfer's own `%{{time_total}}` (the first, which connects, dropped; curl must report no new connection after it)",
        CURL_KEEPALIVE + 1
    ));
    Ok(t)
}
