//! `vm.service` measured the way the issue states its target: `curl` against
//! the bridge, against `curl --unix-socket` straight to the backend, and
//! against `curl` through a socat relay.
//!
//! Two shapes: one `curl` process per request (what a script or a person
//! does; each run is spawn → exit, so process start-up is in every number),
//! and one `curl` process making every request on a keep-alive connection,
//! timed by curl itself (`%{time_total}` per transfer).

use super::*;
use crate::table::{Goal, quantile_rows};

/// Timed `curl` processes per contender (after [`CURL_WARMUP`]).
const CURL_RUNS: usize = 600;
const CURL_WARMUP: usize = 10;
/// Transfers of the keep-alive `curl` per contender.
const CURL_KEEPALIVE: usize = 1000;

/// One way of reaching `/hello` with curl.
struct CurlTarget {
    name: &'static str,
    args: Vec<String>,
    url: String,
    bridged: bool,
}

impl CurlTarget {
    fn command(&self, curl: &Path) -> Command {
        let mut cmd = Command::new(curl);
        cmd.args(["-sS", "--fail-with-body"]).args(&self.args);
        cmd.stdin(Stdio::null());
        cmd
    }

    fn check(&self, body: &str) -> Result<()> {
        ensure!(
            body.contains("hello from the backend"),
            "{}: unexpected answer {body:?}",
            self.name
        );
        if self.bridged {
            ensure!(
                body.contains("\"status\":200"),
                "{}: backend status not 200: {body}",
                self.name
            );
        }
        Ok(())
    }

    /// One `curl` process, spawn to exit.
    fn once(&self, curl: &Path) -> Result<Duration> {
        let mut cmd = self.command(curl);
        cmd.arg(&self.url);
        let start = Instant::now();
        let out = cmd.output().context("cannot run curl")?;
        let took = start.elapsed();
        ensure!(
            out.status.success(),
            "{}: curl failed ({}): {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        self.check(&String::from_utf8_lossy(&out.stdout))?;
        Ok(took)
    }

    /// One `curl` process making `n` requests on one connection; curl's own
    /// `time_total` of each transfer (the first, which connects, dropped).
    fn keep_alive(&self, curl: &Path, n: usize) -> Result<Samples> {
        let mut cmd = self.command(curl);
        cmd.args(["-w", "%{http_code} %{num_connects} %{time_total}\\n"]);
        for _ in 0..=n {
            cmd.args(["-o", "/dev/null", &self.url]);
        }
        let out = cmd.output().context("cannot run curl")?;
        ensure!(
            out.status.success(),
            "{}: curl failed ({}): {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        let mut samples = Samples::default();
        let mut connects = 0;
        let mut timed = 0;
        for line in String::from_utf8_lossy(&out.stdout).lines().skip(1) {
            let mut parts = line.split(' ');
            let (Some(code), Some(conn), Some(secs)) = (parts.next(), parts.next(), parts.next())
            else {
                bail!("{}: unexpected curl output {line:?}", self.name);
            };
            ensure!(code == "200", "{}: a transfer answered {code}", self.name);
            connects += conn.parse::<usize>().unwrap_or(1);
            let secs: f64 = secs
                .parse()
                .with_context(|| format!("{}: time_total {secs:?}", self.name))?;
            samples.push(Duration::from_secs_f64(secs));
            timed += 1;
        }
        ensure!(
            timed == n,
            "{}: {timed} transfers timed, {n} expected",
            self.name
        );
        ensure!(
            connects == 0,
            "{}: curl opened {connects} new connections after the first (no keep-alive)",
            self.name
        );
        Ok(samples)
    }
}

fn targets(env: &Env, serve: &Serve, id: &ExtensionId) -> Result<Vec<CurlTarget>> {
    let socket = env.socket(id);
    let (socat_port, _) = env.socat(&socket)?;
    let origin = serve.ext_origin();
    Ok(vec![
        CurlTarget {
            name: "bridge",
            args: vec![
                "-H".into(),
                format!("Host: {}", serve.ext_host),
                "-H".into(),
                format!("Origin: {origin}"),
                "-H".into(),
                format!("Cookie: {}", serve.ext_cookie),
                "-H".into(),
                "Content-Type: application/json".into(),
                "--data".into(),
                r#"{"method":"GET","url":"/hello"}"#.into(),
            ],
            url: format!("http://127.0.0.1:{}/.dockhand/api/vm/request", serve.port),
            bridged: true,
        },
        CurlTarget {
            name: "curl --unix-socket",
            args: vec!["--unix-socket".into(), socket.display().to_string()],
            url: "http://backend/hello".into(),
            bridged: false,
        },
        CurlTarget {
            name: "socat",
            args: Vec::new(),
            url: format!("http://127.0.0.1:{socat_port}/hello"),
            bridged: false,
        },
    ])
}

/// The table (see the module docs).
pub(super) fn curl_table(env: &Env, serve: &Serve, id: &ExtensionId) -> Result<Table> {
    let curl = support::program("curl", "CURL")
        .context("curl is needed for the curl baseline: apt-get install -y curl")?;
    let targets = targets(env, serve, id)?;
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
