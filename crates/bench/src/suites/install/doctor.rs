//! Step 3: `dockhand doctor` with 20 extensions installed.

use super::*;

pub(super) fn doctor_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    let home = env.fresh("doctor-home");
    let ids: BTreeSet<String> = fx
        .doctor
        .iter()
        .map(|r| r.extension_id().to_string())
        .collect();
    // Before installing anything: fail early on a shared engine.
    progress(&format!(
        "doctor: installing {} extensions ({DOCTOR_UI} minimal-ui, {DOCTOR_HOST_BINARIES} host-binaries, {DOCTOR_BACKENDS} backend-image)",
        fx.doctor.len()
    ));
    let ((), setup) = time(|| {
        for r in &fx.doctor {
            let id = r.extension_id();
            env.track_install(&home, &id);
            env.left.images.borrow_mut().insert(r.to_string());
            support::output(env.dockhand(&home).args(["install", &r.to_string(), "-y"]))?;
        }
        Ok(())
    })?;
    progress(&format!("  installed them in {}", table::duration(setup)));
    let report: serde_json::Value = serde_json::from_str(&support::output(
        env.dockhand(&home).args(["doctor", "--format", "json"]),
    )?)
    .context("doctor --format json")?;
    let checks = report["checks"].as_array().context("doctor: no checks")?;
    let ok = checks
        .iter()
        .filter(|c| c["status"] == "ok" && c["name"].as_str().is_some_and(|n| ids.contains(n)))
        .count();
    let problems: Vec<String> = checks
        .iter()
        .filter(|c| c["status"] != "ok")
        .map(|c| format!("{} {}: {}", c["name"], c["status"], c["detail"]))
        .collect();
    ensure!(
        problems.is_empty(),
        "doctor found problems:\n  {}",
        problems.join("\n  ")
    );

    let plan = Plan {
        runs: options.plan.runs.max(DOCTOR_MIN_RUNS),
        warmup: options.plan.warmup,
    };
    progress("doctor: dockhand doctor vs docker ps -a + compose version");
    let samples = {
        let mut contenders = [
            Contender::new("dockhand doctor", || {
                support::run_timed(env.dockhand(&home).arg("doctor"))
            }),
            Contender::new("doctor, no cache", || {
                let cache = home.join("compose.json");
                match fs_err::remove_file(&cache) {
                    Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                        return Err(e)
                            .with_context(|| format!("cannot remove {}", cache.display()));
                    }
                    _ => {}
                }
                support::run_timed(env.dockhand(&home).arg("doctor"))
            }),
            Contender::new("docker ps + compose", || {
                let ps = support::run_timed(env.docker().args(["ps", "-a"]))?;
                let mut cmd = Command::new(&env.compose[0]);
                let version = support::run_timed(cmd.args(&env.compose[1..]).arg("version"))?;
                Ok(ps + version)
            }),
        ];
        interleaved(plan, &mut contenders)?
    };

    progress(&format!("doctor: dockhand rm of the {}", ids.len()));
    let ((), removal) = time(|| {
        for r in &fx.doctor {
            let id = r.extension_id();
            support::output(env.dockhand(&home).args(["rm", id.as_str()]))?;
            env.untrack_install(&home, &id);
        }
        Ok(())
    })?;
    let mut left = Vec::new();
    let layout = Layout {
        home: home.clone(),
        runtime: env.runtime_dir.clone(),
    };
    for id in &ids {
        let id = ExtensionId::parse(id)?;
        for c in env
            .rt
            .block_on(env.engine.containers_by_label(&layout.owner_label(&id)))?
        {
            left.push(c.name);
        }
        let project = format!(
            "{COMPOSE_PROJECT_LABEL}={}",
            project_of(&layout.home_id(), &id)
        );
        for n in env.rt.block_on(env.engine.networks_by_label(&project))? {
            left.push(n.name);
        }
    }
    support::discard(&home)?;

    let mut t = Table::new(format!(
        "install: doctor with {} extensions installed ({} with a backend)",
        fx.doctor.len(),
        DOCTOR_BACKENDS
    ));
    let (doctor, nocache, base) = (&samples[0], &samples[1], &samples[2]);
    t.row(Row::timed("dockhand doctor", doctor, base).target(
        format!("≤ {}", table::duration(DOCTOR_TARGET)),
        doctor.median() <= DOCTOR_TARGET,
    ));
    t.row(Row::timed("dockhand doctor without compose.json", nocache, base).goal("(none)"));
    t.row(
        Row::new(
            "extensions doctor reports ok",
            format!("{ok} of {}", ids.len()),
        )
        .target(format!("{} of {0}", ids.len()), ok == ids.len()),
    );
    t.row(Row::new(
        format!("install of the {} (setup, one after another)", ids.len()),
        table::duration(setup),
    ));
    t.row(Row::new(
        format!("dockhand rm of the {}, one after another", ids.len()),
        table::duration(removal),
    ));
    t.row(
        Row::new(
            "containers and networks left after the rm",
            left.len().to_string(),
        )
        .target("0", left.is_empty()),
    );
    t.note(format!(
        "times: median of {} runs (min in parentheses), contenders interleaved, after {} untimed warm-up run{} each ({DOCTOR_MIN_RUNS} runs at least)",
        plan.runs,
        plan.warmup,
        if plan.warmup == 1 { "" } else { "s" }
    ));
    t.note(format!(
        "state: {DOCTOR_UI} minimal-ui, {DOCTOR_HOST_BINARIES} host-binaries and {DOCTOR_BACKENDS} backend-image extensions, each from a repository of its own under {}/{REPOSITORY}/, installed with `dockhand install -y`; both backends running",
        env.registry
    ));
    t.note("dockhand doctor: engine version, compose (cached in $DOCKHAND_HOME/compose.json), state check, journal, containers by label (leftovers, running backends), files of each extension, staging dirs; the release binary, a process per run");
    t.note("without compose.json: the cache is deleted before each run, so doctor detects compose again (runs the compose CLI)");
    t.note(format!(
        "baseline (what a shell script doing the same checks costs): `docker ps -a` + `{} version`, one after the other",
        env.compose
            .iter()
            .map(|s| s.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    ));
    t.note("doctor removes containers of extensions its home does not know: each run waits (untimed) until no other run's dockhand containers are on the engine");
    Ok(t)
}
