//! Step 2, a backend: install until `GET /hello` answers, rm until nothing
//! is left, against compose up and down of the same image.

use super::*;

/// Samples of one set of backend runs: install, rm, compose up, compose down.
pub(super) struct BackendRuns {
    pub(super) install: Samples,
    pub(super) rm: Samples,
    pub(super) up: Samples,
    pub(super) down: Samples,
}

pub(super) fn backend_runs(env: &Env, fx: &Fixture, plan: Plan, cold: bool) -> Result<BackendRuns> {
    let reference = fx.backend.to_string();
    let id = fx.backend.extension_id();
    let home = env.fresh("backend-home");
    let layout = Layout {
        home: home.clone(),
        runtime: env.runtime_dir.clone(),
    };
    let label = layout.owner_label(&id);
    let project = project_of(&layout.home_id(), &id);
    let socket = env.socket_dir(&home, &id).join(BACKEND_SOCKET);

    let base = env.fresh("baseline");
    let socket_dir = base.join("sockets");
    fs_err::create_dir_all(&socket_dir)?;
    let compose_file = base.join("compose.json");
    let (label_key, label_value) = BASELINE_LABEL.split_once('=').context("baseline label")?;
    let doc = serde_json::json!({
        "services": {
            "backend": {
                "image": reference,
                "labels": { label_key: label_value },
                "volumes": [format!("{}:/run/guest-services", socket_dir.display())],
            }
        }
    });
    fs_err::write(&compose_file, serde_json::to_string_pretty(&doc)?)?;
    let baseline_socket = socket_dir.join(BACKEND_SOCKET);

    let mut contenders = [
        Contender::new("dockhand install", || {
            if cold {
                env.remove_image(&reference)?;
            }
            env.track_install(&home, &id);
            env.left.images.borrow_mut().insert(reference.clone());
            let start = Instant::now();
            support::output(env.dockhand(&home).args(["install", &reference, "-y"]))?;
            wait_hello(&socket)?;
            Ok(start.elapsed())
        }),
        Contender::new("dockhand rm", || {
            let start = Instant::now();
            support::output(env.dockhand(&home).args(["rm", id.as_str()]))?;
            env.wait_gone(&label, &project)?;
            let took = start.elapsed();
            env.untrack_install(&home, &id);
            ensure!(!socket.exists(), "dockhand rm left {}", socket.display());
            Ok(took)
        }),
        Contender::new("compose up", || {
            if cold {
                env.remove_image(&reference)?;
            }
            env.left.projects.borrow_mut().insert(compose_file.clone());
            env.left.images.borrow_mut().insert(reference.clone());
            let start = Instant::now();
            support::output(
                env.compose(&compose_file)
                    .args(["up", "-d", "--remove-orphans"]),
            )?;
            wait_hello(&baseline_socket)?;
            Ok(start.elapsed())
        }),
        Contender::new("compose down", || {
            let start = Instant::now();
            support::output(
                env.compose(&compose_file)
                    .args(["down", "--remove-orphans"]),
            )?;
            env.wait_gone(BASELINE_LABEL, BASELINE_PROJECT)?;
            let took = start.elapsed();
            env.left.projects.borrow_mut().remove(&compose_file);
            // The backend's socket stays behind; the next run must not see it.
            let _ = fs_err::remove_file(&baseline_socket);
            Ok(took)
        }),
    ];
    let samples = interleaved(plan, &mut contenders)?;
    drop(contenders);
    support::discard(&home)?;
    support::discard(&base)?;
    let [install, rm, up, down] =
        <[Samples; 4]>::try_from(samples).map_err(|_| anyhow::anyhow!("four contenders"))?;
    Ok(BackendRuns {
        install,
        rm,
        up,
        down,
    })
}

pub(super) fn backend_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    progress("backend: image in the engine — install, rm, compose up, compose down");
    let warm = backend_runs(env, fx, options.plan, false)?;
    progress("backend: image removed from the engine before each install and up");
    let cold = backend_runs(env, fx, options.plan, true)?;
    progress("backend: compose start-up (`compose version`)");
    let startup = {
        let mut c = [Contender::new("compose version", || {
            let mut cmd = Command::new(&env.compose[0]);
            support::run_timed(cmd.args(&env.compose[1..]).arg("version"))
        })];
        interleaved(options.plan, &mut c)?.remove(0)
    };

    let mut t = Table::new(format!("install: backend extension {}", fx.backend));
    let mut time_row = |name: &str, ours: &Samples, base: &Samples| {
        t.row(Row::timed(name, ours, base).goal("(none)"));
    };
    time_row(
        "install → GET /hello answers, image not in the engine",
        &cold.install,
        &cold.up,
    );
    time_row(
        "install → GET /hello answers, image in the engine",
        &warm.install,
        &warm.up,
    );
    let mut rm = warm.rm.clone();
    rm.extend(&cold.rm);
    let mut down = warm.down.clone();
    down.extend(&cold.down);
    time_row("rm → nothing labelled left", &rm, &down);
    t.row(
        Row::new("compose start-up alone (`compose version`)", "-")
            .baseline(table::samples(&startup), None),
    );
    t.note(options.plan.describe());
    t.note("dockhand: `dockhand --quiet install REF -y` (release binary, one DOCKHAND_HOME kept across runs, so compose.json caches the compose detection after the warm-up; every rm empties the store, so every install pulls again), timed from spawning it until GET /hello answers 200 on $XDG_RUNTIME_DIR/dockhand/<12 hex>/backend.sock (Layout::socket_dir); install itself already waits for the socket");
    t.note("install = pull into the store, unpack, validate, [image not in the engine: export it and load it into the engine], write compose file + override, `compose up`, wait for the socket, journal and state");
    t.note(format!(
        "baseline: `compose -p {BASELINE_PROJECT} -f compose.json up -d --remove-orphans` of one service straight from REF (its socket dir bind-mounted at /run/guest-services, a label), then GET /hello polled every 2 ms; image not in the engine: compose pulls it"
    ));
    t.note("\"image not in the engine\": `docker rmi REF` before each install and up (untimed); the base image's layer stays, since the base image is in the engine");
    t.note(format!(
        "rm: `dockhand rm ID` / `compose down --remove-orphans`, until the Engine API lists no container labelled {EXTENSION_LABEL}=ID (baseline: its own label) and no network of the compose project (polled every 10 ms); runs of both sets ({} each)",
        2 * options.plan.runs
    ));
    t.note(format!(
        "compose is {}: a Python program whose start-up (last row) is paid by every `up` and `down`, dockhand's included, and dominates these times",
        env.compose_version
    ));
    Ok(t)
}
