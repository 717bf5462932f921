//! `curl` as a client: one process per request, or one process making
//! every request on a keep-alive connection, timed by curl itself
//! (`%{time_total}` per transfer). Answers are checked.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};

use crate::measure::Samples;
use crate::progress;
use crate::serve::Serve;

/// One way of reaching `/hello` with curl.
pub struct CurlTarget {
    pub name: &'static str,
    /// A program curl is run by (`nsenter … curl …`), empty for none.
    pub prefix: Vec<String>,
    pub args: Vec<String>,
    pub url: String,
    /// The bridge's JSON envelope, whose backend status must be 200 too.
    pub bridged: bool,
}

impl CurlTarget {
    /// `vm.service` `GET /hello` through `serve`'s bridge, on the
    /// extension's origin with its session cookie.
    pub fn vm_service(name: &'static str, serve: &Serve) -> Self {
        Self {
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

    fn command(&self, curl: &Path) -> Command {
        let mut cmd = match self.prefix.split_first() {
            Some((program, args)) => {
                let mut c = Command::new(program);
                c.args(args).arg(curl);
                c
            }
            None => Command::new(curl),
        };
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

    /// Runs curl to its end; an error with its stderr when it fails.
    fn run(&self, cmd: &mut Command) -> Result<Output> {
        let out = cmd.output().context("cannot run curl")?;
        ensure!(
            out.status.success(),
            "{}: curl failed ({}): {}",
            self.name,
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
        Ok(out)
    }

    /// One `curl` process, spawn to exit.
    pub fn once(&self, curl: &Path) -> Result<Duration> {
        let mut cmd = self.command(curl);
        cmd.arg(&self.url);
        let start = Instant::now();
        let out = self.run(&mut cmd)?;
        let took = start.elapsed();
        self.check(&String::from_utf8_lossy(&out.stdout))?;
        Ok(took)
    }

    /// One `curl` process making `n` requests on one connection; curl's own
    /// `time_total` of each transfer (the first, which connects, dropped).
    pub fn keep_alive(&self, curl: &Path, n: usize) -> Result<Samples> {
        let mut cmd = self.command(curl);
        cmd.args(["-w", "%{http_code} %{num_connects} %{time_total}\\n"]);
        for _ in 0..=n {
            cmd.args(["-o", "/dev/null", &self.url]);
        }
        let out = self.run(&mut cmd)?;
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

/// The curl program (`$CURL`, else on PATH).
pub fn program() -> Result<std::path::PathBuf> {
    crate::support::program("curl", "CURL")
        .context("curl is needed for the curl baseline: apt-get install -y curl")
}

/// Each target measured `runs` times one curl process per request (after
/// `warmup` unmeasured rounds; the targets interleaved round by round), then
/// with `keep_alive` requests on one connection: the samples of each, in the
/// targets' order.
pub fn measure(
    targets: &[CurlTarget],
    curl: &Path,
    warmup: usize,
    runs: usize,
    keep_alive: usize,
) -> Result<(Vec<Samples>, Vec<Samples>)> {
    progress(&format!(
        "vm.service with curl: {runs} curl processes per contender, interleaved"
    ));
    let mut once = vec![Samples::default(); targets.len()];
    for round in 0..warmup + runs {
        for (t, s) in targets.iter().zip(&mut once) {
            let d = t.once(curl)?;
            if round >= warmup {
                s.push(d);
            }
        }
    }
    progress(&format!(
        "vm.service with curl: {keep_alive} requests on one connection per contender"
    ));
    let kept = targets
        .iter()
        .map(|t| t.keep_alive(curl, keep_alive))
        .collect::<Result<_>>()?;
    Ok((once, kept))
}
