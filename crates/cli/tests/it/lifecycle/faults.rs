//! Faults: backends that fail roll back, an engine that errors leaves the
//! previous state, a crash at any journal step is repaired by doctor, bad
//! input is refused.

use super::*;

#[test]
fn failed_backends_roll_back_completely() {
    failed_backends(Compose::V2, "failed_backends_roll_back_completely");
}

#[test]
fn failed_backends_roll_back_completely_with_compose_v1() {
    failed_backends(
        Compose::V1,
        "failed_backends_roll_back_completely_with_compose_v1",
    );
}

fn failed_backends(compose: Compose, test: &str) {
    let Some(env) = compose.env(test) else {
        return;
    };
    let home = Home::with_compose(&env, "lc-fail", compose);
    // A backend that exits before it creates its socket (it cannot listen
    // where it is told to). A socket that is merely late is no failure
    // (backend_socket.rs); a backend that stopped is.
    let tmp = TempDir::new("lc-exits");
    let root = volume_extension(&tmp);
    fs_err::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/backend/api.sock\"]\n",
    )
    .expect("write");
    let (reference, id) = publish(&env, &root, true, &[]);
    let started = std::time::Instant::now();
    let err = support::fails(
        home.cmd(&["install", &reference, "-y"])
            .env("DOCKHAND_READY_TIMEOUT", "120"),
    );
    assert!(
        err.contains("stopped before it created its socket")
            && err.contains("api.sock")
            && err.contains("cannot listen on"),
        "{err}"
    );
    assert!(
        started.elapsed() < std::time::Duration::from_secs(60),
        "an exited backend is seen at once, not after the 120 s socket wait: {:?}",
        started.elapsed()
    );
    home.assert_gone(&id);

    // A compose file whose `up` fails (an image no registry has).
    let tmp2 = TempDir::new("lc-badup");
    let root2 = volume_extension(&tmp2);
    fs_err::write(
        root2.join("docker-compose.yaml"),
        "services:\n  api:\n    image: 127.0.0.1:9/nope/never:1\n",
    )
    .expect("write");
    let (reference2, id2) = publish(&env, &root2, true, &[]);
    let err = home.fails(&["install", &reference2, "-y"]);
    assert!(
        err.contains("127.0.0.1:9/nope/never"),
        "the compose error is shown: {err}"
    );
    home.assert_gone(&id2);
}

#[test]
fn an_engine_that_errors_leaves_the_previous_state() {
    let Some(env) = support::real_env("an_engine_that_errors_leaves_the_previous_state") else {
        return;
    };
    let real = PathBuf::from(env.docker_host.trim_start_matches("unix://"));
    let (reference, id) = publish(&env, &example("backend-image"), true, &[]);
    for fail_on in ["/images/", "/containers/create", "/containers/json"] {
        let home = Home::new(&env, "lc-fault");
        let fault = FaultEngine::start(&home.dir.0, &real, fail_on);
        let mut home = home;
        home.docker_host = fault.docker_host();
        let out = home.run(&["install", &reference, "-y"]);
        assert_eq!(out.status.code(), Some(1), "{fail_on}: install fails");
        assert!(
            fault.refused.load(std::sync::atomic::Ordering::SeqCst) > 0,
            "{fail_on}: the fault was hit"
        );
        home.docker_host = env.docker_host.clone();
        // What the failing engine kept from being cleaned, doctor cleans.
        home.run(&["doctor"]);
        home.assert_gone(&id);
    }
}

#[test]
fn a_crash_at_any_step_is_repaired_by_doctor() {
    let Some(env) = support::real_env("a_crash_at_any_step_is_repaired_by_doctor") else {
        return;
    };
    let (v1, id) = publish(&env, &example("backend-image"), true, &[]);
    for step in ["unpacked", "backend", "host-binaries", "switch", "commit"] {
        let home = Home::new(&env, "lc-crash");
        let out = home
            .cmd(&["install", &v1, "-y"])
            .env("DOCKHAND_FAILPOINT", step)
            .output()
            .expect("runs");
        assert!(!out.status.success(), "{step}: the process was killed");
        let doctor = home.run(&["doctor", "--format", "json"]);
        let report: Value = serde_json::from_slice(&doctor.stdout).expect("json");
        let checks = report["checks"].as_array().expect("checks");
        assert!(
            checks.iter().any(|c| c["status"] == "repaired"),
            "{step}: doctor repaired: {report}"
        );
        home.assert_gone(&id);
    }
    // An update interrupted: the old version stays installed and running.
    let home = Home::new(&env, "lc-crash-update");
    home.ok(&["install", &v1, "-y"]);
    let before = home.ls()[0]["digest"].clone();
    let v2 = v1.replace(":1.0.0", ":1.1.0");
    build_and_push(
        &env,
        &example("backend-image"),
        &v2,
        &[
            "--base".to_owned(),
            base_image(&env).to_owned(),
            "--label".to_owned(),
            "com.example.rev=2".to_owned(),
        ],
    );
    let out = home
        .cmd(&["install", &v2, "-y"])
        .env("DOCKHAND_FAILPOINT", "switch")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    // The next command repairs on its own (here: a reinstall of v1 is a no-op after repair).
    home.ok(&["doctor"]);
    let after = home.ls();
    assert_eq!(
        after[0]["digest"], before,
        "the previous version is what is installed"
    );
    assert_eq!(after[0]["vm"]["state"], "running");
    assert!(http_get(&home.socket(&id, "backend.sock"), "/hello").contains("hello"));
    // An uninstall interrupted is finished by doctor.
    let out = home
        .cmd(&["rm", &id])
        .env("DOCKHAND_FAILPOINT", "files")
        .output()
        .expect("runs");
    assert!(!out.status.success());
    home.ok(&["doctor"]);
    home.assert_gone(&id);
}

#[test]
fn bad_input_is_refused_with_a_clear_message() {
    let Some(env) = support::real_env("bad_input_is_refused_with_a_clear_message") else {
        return;
    };
    let home = Home::new(&env, "lc-bad");
    assert!(
        home.fails(&["rm", "acme/never-installed"])
            .contains("is not installed")
    );
    assert!(
        home.fails(&["enable", "acme/never-installed"])
            .contains("is not installed")
    );
    // An API version dockhand does not implement.
    let (future, future_id) = publish(
        &env,
        &example("minimal-ui"),
        false,
        &[
            "--label",
            "com.docker.desktop.extension.api.version=>= 9.0.0",
        ],
    );
    let err = home.fails(&["install", &future, "-y"]);
    assert!(
        err.contains(">= 9.0.0") && err.contains("0.4.2") && err.contains("--ignore-api-version"),
        "{err}"
    );
    home.ok(&["install", &future, "-y", "--ignore-api-version"]);
    home.ok(&["rm", &future_id]);
    // No terminal and no -y: refused, nothing installed.
    let (ui, ui_id) = publish(&env, &example("minimal-ui"), false, &[]);
    let err = support::fails(
        home.cmd(&["install", &ui])
            .stdin(std::process::Stdio::null()),
    );
    assert!(err.contains("pass -y"), "{err}");
    assert!(home.ls().is_empty());
    // A second install of the same extension while one runs: the lock says so.
    let lock_path = home.dir.0.join("home/locks");
    fs_err::create_dir_all(&lock_path).expect("mkdir");
    let fs_name = dockhand_spec::ExtensionId::parse(&ui_id)
        .expect("id")
        .fs_name();
    let lock = fs_err::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(lock_path.join(format!("{fs_name}.lock")))
        .expect("lock file");
    lock.lock().expect("take the lock");
    let err = home.fails(&["install", &ui, "-y"]);
    assert!(
        err.contains("another dockhand") || err.contains("busy") || err.contains("is changing"),
        "{err}"
    );
    drop(lock);
    home.ok(&["install", &ui, "-y"]);
    home.ok(&["rm", &ui_id]);
}
