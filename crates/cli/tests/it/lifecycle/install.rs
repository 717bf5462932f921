//! Installs from every source on the real engine, registry and compose
//! (v2 and v1): the examples working, then gone; volumes kept unless asked;
//! a host port in `expose`.

use super::*;

#[test]
fn all_examples_install_work_and_leave_nothing_behind() {
    all_examples(
        Compose::V2,
        "all_examples_install_work_and_leave_nothing_behind",
    );
}

#[test]
fn all_examples_install_work_and_leave_nothing_behind_with_compose_v1() {
    all_examples(
        Compose::V1,
        "all_examples_install_work_and_leave_nothing_behind_with_compose_v1",
    );
}

fn all_examples(which: Compose, test: &str) {
    let Some(env) = which.env(test) else {
        return;
    };
    let home = Home::with_compose(&env, "lc-all", which);
    let ui = publish(&env, &example("minimal-ui"), false, &[]);
    let image = publish(&env, &example("backend-image"), true, &[]);
    let compose = publish(&env, &example("backend-compose"), true, &[]);
    let hosts = publish(&env, &example("host-binaries"), false, &[]);
    for (reference, _) in [&ui, &image, &compose, &hosts] {
        home.ok(&["install", reference, "-y"]);
    }
    let listed = home.ls();
    assert_eq!(listed.len(), 4);
    let find = |id: &str| support::entry(&listed, id);
    assert_eq!(find(&ui.1)["vm"], Value::Null);
    assert_eq!(find(&ui.1)["ui"]["title"], "Minimal UI");
    assert_eq!(find(&image.1)["vm"]["state"], "running");
    assert_eq!(find(&compose.1)["vm"]["containers"], 2);
    assert_eq!(
        find(&hosts.1)["host_binaries"],
        serde_json::json!(["hello"])
    );
    // The text table has Docker Desktop's columns.
    let table = home.ok(&["ls"]);
    assert!(
        table.starts_with("EXTENSION")
            && table.contains("PROVIDER")
            && table.contains("Running(2)"),
        "{table}"
    );
    assert!(table.contains("1 tab(Minimal UI)"), "{table}");
    // Without an engine the backends' states are unknown, and ls says why
    // rather than calling running backends stopped.
    let out = home
        .cmd(&["ls"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .expect("ls runs");
    let (table, err) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{err}");
    assert!(
        table.contains("Unknown") && !table.contains("Stopped"),
        "{table}"
    );
    assert!(
        err.contains("the backends' states are unknown")
            && err.contains("/nonexistent/docker.sock"),
        "{err}"
    );

    // The vm.image backend answers on its socket.
    assert!(
        http_get(&home.socket(&image.1, "backend.sock"), "/hello")
            .contains("hello from the backend")
    );
    // The compose backend reaches the engine through /var/run/docker.sock.raw.
    let engine = http_get(&home.socket(&compose.1, "watcher.sock"), "/engine/version");
    assert!(engine.contains("ApiVersion"), "{engine}");
    // Host binaries are installed executable and run.
    let bin = home.extension_dir(&hosts.1).join("current/host/hello");
    let out = Command::new(&bin)
        .args(["a b", "c"])
        .output()
        .expect("host binary runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("arg[1]=a b"));
    // Logs, disable / enable, doctor.
    let logs = home.run(&["logs", &compose.1, "--tail", "5"]);
    // The backend writes to stderr: logs keeps the streams apart.
    assert!(
        String::from_utf8_lossy(&logs.stderr).contains("listening on"),
        "{}",
        String::from_utf8_lossy(&logs.stdout)
    );
    home.ok(&["disable", &image.1]);
    assert_eq!(
        home.ls()
            .iter()
            .find(|e| e["id"] == image.1.as_str())
            .expect("x")["vm"]["state"],
        "disabled"
    );
    home.ok(&["enable", &image.1]);
    assert!(http_get(&home.socket(&image.1, "backend.sock"), "/hello").contains("hello"));
    let doctor: Value =
        serde_json::from_str(&home.ok(&["doctor", "--format", "json"])).expect("json");
    assert!(
        support::doctor_checks(&doctor)
            .iter()
            .all(|c| c["status"] == "ok"),
        "{doctor}"
    );
    // The compose the test asked for is the one that ran the backends.
    assert!(
        support::doctor_checks(&doctor)
            .iter()
            .any(|c| c["name"] == "compose"
                && c["detail"]
                    .as_str()
                    .is_some_and(|d| d.starts_with(which.doctor_name()))),
        "{doctor}"
    );
    // After the engine stops the backends (a restart), `up` starts them again.
    let ids = docker(
        &env,
        &[
            "ps",
            "-q",
            "--filter",
            &format!("label=dev.dockhand.extension={}", image.1),
        ],
    );
    let mut stop = vec!["stop"];
    stop.extend(ids.split_whitespace());
    docker(&env, &stop);
    let stopped = home.ls();
    assert_eq!(
        stopped
            .iter()
            .find(|e| e["id"] == image.1.as_str())
            .expect("x")["vm"]["state"],
        "stopped"
    );
    home.ok(&["up"]);
    assert!(http_get(&home.socket(&image.1, "backend.sock"), "/hello").contains("hello"));
    // Reinstalling the same digest is a no-op; --force reinstalls.
    assert!(
        home.ok(&["install", &image.0, "-y"])
            .contains("installed already")
    );
    home.ok(&["install", &image.0, "--force"]);
    assert!(http_get(&home.socket(&image.1, "backend.sock"), "/hello").contains("hello"));

    for (_, id) in [&ui, &image, &compose, &hosts] {
        home.ok(&["rm", id]);
        home.assert_gone(id);
    }
    // rm is idempotent in effect: a second one says it is not installed.
    assert!(home.fails(&["rm", &ui.1]).contains("is not installed"));
}

#[test]
fn installs_from_engine_and_oci_sources() {
    let Some(env) = support::real_env("installs_from_engine_and_oci_sources") else {
        return;
    };
    let home = Home::new(&env, "lc-src");
    // engine: an image built by `docker build` from the example's Dockerfile.
    let bin = repo_root().join("examples/backend-image/dist/backend");
    if !bin.is_file() {
        assert!(
            Command::new(repo_root().join("scripts/build-examples"))
                .status()
                .expect("runs")
                .success()
        );
    }
    let name = format!("{}:e2e", unique("engine-backend"));
    docker(
        &env,
        &[
            "build",
            "-q",
            "-t",
            &name,
            &example("backend-image").display().to_string(),
        ],
    );
    home.ok(&["install", &format!("engine:{name}"), "-y"]);
    let id = name.rsplit_once(':').expect("tag").0.to_owned();
    assert!(
        http_get(&home.socket(&id, "backend.sock"), "/hello").contains("hello from the backend")
    );
    // oci: a layout written by dockhand build.
    let layout = TempDir::new("lc-oci");
    let oci_name = format!("{}:2.0.0", unique("oci-hosts"));
    build_to_layout("host-binaries", &oci_name, &layout.0.join("out"));
    home.ok(&[
        "install",
        &format!("oci:{}:{oci_name}", layout.0.join("out").display()),
        "-y",
    ]);
    let oci_id = oci_name.rsplit_once(':').expect("tag").0.to_owned();
    assert!(
        home.ls()
            .iter()
            .any(|e| e["id"] == oci_id.as_str() && e["version"] == "2.0.0")
    );
    home.ok(&["rm", &id]);
    home.ok(&["rm", &oci_id]);
    home.assert_gone(&id);
    home.assert_gone(&oci_id);
}

#[test]
fn volumes_stay_unless_asked() {
    volumes_stay(Compose::V2, "volumes_stay_unless_asked");
}

#[test]
fn volumes_stay_unless_asked_with_compose_v1() {
    volumes_stay(Compose::V1, "volumes_stay_unless_asked_with_compose_v1");
}

fn volumes_stay(compose: Compose, test: &str) {
    let Some(env) = compose.env(test) else {
        return;
    };
    let home = Home::with_compose(&env, "lc-vol", compose);
    let tmp = TempDir::new("lc-vol-ext");
    let (reference, id) = publish(&env, &volume_extension(&tmp), true, &[]);
    let project = home.project(&id);
    let volumes = || {
        docker(
            &env,
            &[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={project}"),
            ],
        )
    };
    home.ok(&["install", &reference, "-y"]);
    assert!(!volumes().trim().is_empty(), "the backend's volume exists");
    home.ok(&["rm", &id]);
    assert!(!volumes().trim().is_empty(), "rm keeps volumes");
    home.ok(&["install", &reference, "-y"]);
    home.ok(&["rm", &id, "--volumes"]);
    assert!(volumes().trim().is_empty(), "rm --volumes removes them");
    home.assert_gone(&id);
}

/// `expose: ["5317:4317"]` (a published observability extension ships it):
/// compose v2 accepts the file and took the container port; compose v5
/// stops at container creation, so dockhand runs the container port. With
/// docker-compose v1, which refuses the file, the install is refused before
/// anything runs, saying why.
#[test]
fn an_expose_entry_with_a_host_port_installs() {
    let test = "an_expose_entry_with_a_host_port_installs";
    let Some(env) = Compose::V2.env(test) else {
        return;
    };
    let tmp = TempDir::new("lc-expose");
    let root = volume_extension(&tmp);
    fs_err::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n    expose:\n    - 5317:4317\n    - \"8080\"\n",
    )
    .expect("write");
    let (reference, id) = publish(&env, &root, true, &[]);
    let home = Home::with_compose(&env, "lc-expose", Compose::V2);
    home.ok(&["install", &reference, "-y"]);
    assert!(http_get(&home.socket(&id, "api.sock"), "/hello").contains("hello from the backend"));
    let ports = docker(
        &env,
        &[
            "ps",
            "--filter",
            &format!("label=dev.dockhand.extension={id}"),
            "--format",
            "{{.Ports}}",
        ],
    );
    assert!(
        ports.contains("4317/tcp") && ports.contains("8080/tcp") && !ports.contains("5317"),
        "{ports}"
    );
    home.ok(&["rm", &id]);
    home.assert_gone(&id);
    if Compose::V1.available(test) {
        let v1 = Home::with_compose(&env, "lc-expose-v1", Compose::V1);
        let err = v1.fails(&["install", &reference, "-y"]);
        assert!(err.contains("expose"), "v1 refuses it, saying why: {err}");
        assert!(v1.ls().is_empty(), "nothing installed");
    }
}
