//! The docker.cli.exec round trip, serve start-up and memory.

use super::*;

pub(super) fn exec_table(env: &Env, serve: &Serve, options: &Options) -> Result<Table> {
    progress("docker.cli.exec('version') through the bridge vs docker version");
    let plan = Plan {
        runs: options.plan.runs.max(EXEC_MIN_RUNS),
        warmup: options.plan.warmup,
    };
    let req = serve.bridge(
        "/.dockhand/api/docker/exec",
        r#"{"cmd":"version","args":[]}"#,
    );
    let client = RefCell::new(Client::new(tcp(serve.port)?));
    let samples: Vec<Samples> = {
        let mut contenders = [
            Contender::new("bridge docker/exec", || {
                let start = Instant::now();
                let r = client.borrow_mut().send(&req)?;
                let took = start.elapsed();
                ensure!(
                    r.status == 200,
                    "docker/exec answered {}: {}",
                    r.status,
                    r.text()
                );
                let v: serde_json::Value = serde_json::from_slice(&r.body)?;
                ensure!(v["code"] == 0, "docker version through the bridge: {v}");
                Ok(took)
            }),
            Contender::new("docker version", || {
                support::run_timed(Command::new(&env.docker).arg("version"))
            }),
        ];
        interleaved(plan, &mut contenders)?
    };
    let mut t = Table::new("bridge: docker.cli.exec('version')");
    t.row(Row::timed("round trip", &samples[0], &samples[1]).ratio_at_most(EXEC_RATIO_TARGET, 1));
    t.note(format!(
        "times: median of {} runs (min in parentheses), contenders interleaved, after {} untimed warm-up run{} each ({EXEC_MIN_RUNS} runs at least)",
        plan.runs,
        plan.warmup,
        if plan.warmup == 1 { "" } else { "s" }
    ));
    t.note("dockhand: POST /.dockhand/api/docker/exec {\"cmd\":\"version\",\"args\":[]} on a keep-alive connection, until the JSON answer (exit code 0) is read; baseline: `docker version` spawned directly, until it exits");
    Ok(t)
}

pub(super) fn startup_table(env: &Env, options: &Options) -> Result<Table> {
    progress("serve: spawn → first answer of the login URL");
    let plan = Plan {
        runs: options.plan.runs.max(STARTUP_MIN_RUNS),
        warmup: options.plan.warmup,
    };
    let samples = {
        let mut contenders = [
            Contender::new("serve → 303", || {
                let (mut child, port, token, start) = env.spawn_serve()?;
                let result = Env::login(port, &token).map(|_| start.elapsed());
                end(&mut child);
                result
            }),
            Contender::new("dockhand --version", || {
                support::run_timed(Command::new(&env.dockhand).arg("--version"))
            }),
        ];
        interleaved(plan, &mut contenders)?
    };
    let (ours, base) = (&samples[0], &samples[1]);
    let mut t = Table::new(format!(
        "bridge: dockhand serve start-up, {} extensions installed",
        UI_EXTENSIONS + 1
    ));
    t.row(
        Row::timed("spawn → GET /?token= answers", ours, base).target(
            format!("≤ {}", table::duration(STARTUP_TARGET)),
            ours.median() <= STARTUP_TARGET,
        ),
    );
    t.note(format!(
        "times: median of {} runs (min in parentheses), interleaved, after {} untimed warm-up run{} each ({STARTUP_MIN_RUNS} runs at least)",
        plan.runs,
        plan.warmup,
        if plan.warmup == 1 { "" } else { "s" }
    ));
    t.note("dockhand: from spawning `dockhand serve --port 0` (release binary) until it has printed its URL and GET /?token=T on it answered 303 with the session cookie; baseline: `dockhand --version` spawned until it exits (the cost of starting the process at all)");
    Ok(t)
}

pub(super) fn rss_row(t: &mut Table, what: &str, kib: u64, target: bool) {
    let row = Row::new(what, table::bytes(kib * 1024));
    t.row(if target {
        row.target(
            format!("≤ {}", table::bytes(RSS_TARGET_KIB * 1024)),
            kib <= RSS_TARGET_KIB,
        )
    } else {
        row.goal("(none)")
    });
}
