//! The relay mode cases: the four examples over TLS and the forwarded
//! socket, an update keeping volume data, ssh, refusals.

use super::*;

/// The four examples on the VM engine reached `via`.
fn four_examples(via: Via, test: &str) {
    let Some((env, _, home)) = relay_test(test, via, &format!("relay-{via:?}").to_lowercase())
    else {
        return;
    };
    let ui = publish(&env, &example("minimal-ui"), false, &[]);
    let image = publish(&env, &example("backend-image"), true, &[]);
    let compose = publish(&env, &example("backend-compose"), true, &[]);
    let hosts = publish(&env, &example("host-binaries"), false, &[]);

    // The engine is remote: version and doctor say backends go through the relay.
    let version = home.json(&["version"]);
    assert_eq!(version["engine"]["mode"], "remote", "{version}");
    assert_eq!(version["engine"]["backends"], "relay", "{version}");
    let text = home.ok(&["version"]);
    assert!(text.contains("Mode: remote, through the relay"), "{text}");

    for (reference, _) in [&ui, &image, &compose, &hosts] {
        home.ok(&["install", reference, "-y"]);
    }
    let listed = home.json(&["ls"]);
    let listed = listed.as_array().expect("array");
    let find = |id: &str| support::entry(listed, id);
    assert_eq!(find(&image.1)["vm"]["state"], "running", "{listed:?}");
    // Two services and the relay.
    assert_eq!(find(&compose.1)["vm"]["containers"], 3, "{listed:?}");
    // No socket directory on this machine: the sockets are in a volume.
    for id in [&image.1, &compose.1] {
        assert!(!home.socket_dir(id).exists(), "a socket dir of {id}");
        let volumes = home.docker(&[
            "volume",
            "ls",
            "-q",
            "--filter",
            &format!("label=dev.dockhand.extension={id}"),
            "--filter",
            &format!("label={}", home.home_label()),
        ]);
        assert!(
            volumes.trim().ends_with("_dockhand-guest-services"),
            "{id}'s socket volume: {volumes}"
        );
    }
    let rt = rt();
    rt.block_on(async {
        let engine = home.engine().await;
        let relay = session(&engine, &home.owner(&image.1)).await;
        // vm.service GET and POST through the relay.
        let hello = through_relay(&relay, "backend.sock", &get("/hello")).await;
        assert!(hello.contains("hello from the backend"), "{hello}");
        let echo = through_relay(
            &relay,
            "backend.sock",
            &post("/echo", "ping through the relay"),
        )
        .await;
        assert!(
            echo.starts_with("HTTP/1.1 200") && echo.contains("ping through the relay"),
            "{echo}"
        );
        // Many calls over the one session, concurrently.
        let request = get("/hello");
        let calls = (0..50).map(|_| through_relay(&relay, "backend.sock", &request));
        for answer in futures_util::future::join_all(calls).await {
            assert!(answer.contains("hello from the backend"), "{answer}");
        }
        // The compose backend reaches the engine host's socket.
        let relay = session(&engine, &home.owner(&compose.1)).await;
        let api = through_relay(&relay, "api.sock", &get("/hello")).await;
        assert!(api.contains("hello from the backend"), "{api}");
        // The watcher's /var/run/docker.sock.raw is the engine host's socket
        // (where Docker Desktop's VM, colima and Linux hosts have it), not a
        // path of this machine; the namespaced test engine has none there, so
        // the backend answers that it cannot reach it.
        let watcher = through_relay(&relay, "watcher.sock", &get("/engine/version")).await;
        assert!(
            watcher.contains("ApiVersion") || watcher.contains("/var/run/docker.sock"),
            "{watcher}"
        );
        // vm.cli.exec: a command in the backend's container, collected and streamed.
        let backend = engine
            .containers_by_label(&format!(
                "{},{}",
                home.owner(&image.1),
                "dev.dockhand.version"
            ))
            .await
            .expect("list")
            .into_iter()
            .find(|c| c.is_running() && !c.labels.contains_key("dev.dockhand.role"))
            .expect("the backend container");
        let out = engine
            .exec(
                &backend.id,
                vec!["/backend".into(), "--version".into()],
                Vec::new(),
                None,
            )
            .await
            .expect("exec");
        assert_eq!(out.code, 0, "{out:?}");
    });

    let watcher = home.service_container(&compose.1, "watcher");
    let mounts = home.docker(&[
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}};{{end}}",
        &watcher,
    ]);
    assert!(
        mounts.contains("bind /var/run/docker.sock /var/run/docker.sock;")
            && mounts.contains("volume ")
            && mounts.contains(" /run/guest-services;"),
        "{mounts}"
    );
    // Host binaries are installed on this machine, not on the engine.
    let bin = home
        .home()
        .join("extensions")
        .join(
            dockhand_spec::ExtensionId::parse(&hosts.1)
                .expect("id")
                .fs_name(),
        )
        .join("current/host/hello");
    let out = Command::new(&bin)
        .arg("x")
        .output()
        .expect("host binary runs");
    assert!(String::from_utf8_lossy(&out.stdout).contains("arg[1]=x"));

    // doctor: the mode, and every extension fine with its relay answering.
    let doctor = home.json(&["doctor"]);
    let mode = support::doctor_check(&doctor, "engine mode");
    assert_eq!(mode["status"], "ok", "{doctor}");
    assert!(
        mode["detail"]
            .as_str()
            .is_some_and(|d| d.starts_with("remote: ") && d.contains("remote, through the relay")),
        "{doctor}"
    );
    for id in [&image.1, &compose.1] {
        let line = support::doctor_check(&doctor, id);
        assert_eq!(line["status"], "ok", "{doctor}");
        support::assert_str_contains(&line["detail"], "relay answers", &doctor);
        // The "VM" engine shares this machine's network: the relay's port
        // is reached directly, over TLS and over the forwarded socket alike.
        support::assert_str_contains(&line["detail"], "reached directly", &doctor);
    }

    // SIGKILL of the relay: the engine restarts it (restart: unless-stopped)
    // or doctor does; then vm.service answers again.
    let relay_of = |id: &str| {
        home.containers(&format!("dev.dockhand.extension={id}"))
            .into_iter()
            .filter(|c| {
                home.docker(&[
                    "inspect",
                    "-f",
                    "{{index .Config.Labels \"dev.dockhand.role\"}}",
                    c,
                ])
                .trim()
                    == "relay"
            })
            .collect::<Vec<_>>()
    };
    let relays = relay_of(&image.1);
    assert_eq!(relays.len(), 1, "{relays:?}");
    sigkill(&home, &relays[0]);
    // SIGKILL of a backend container: nothing restarts it but doctor.
    let backends: Vec<String> = home
        .containers(&format!("dev.dockhand.extension={}", compose.1))
        .into_iter()
        .filter(|c| !relay_of(&compose.1).contains(c))
        .collect();
    assert_eq!(backends.len(), 2, "{backends:?}");
    sigkill(&home, &backends[0]);
    std::thread::sleep(Duration::from_secs(1));
    let doctor = home.json(&["doctor"]);
    let line = support::doctor_check(&doctor, &compose.1);
    assert_eq!(line["status"], "repaired", "{doctor}");
    for id in [&image.1, &compose.1] {
        let detail = &support::doctor_check(&doctor, id)["detail"];
        support::assert_str_contains(detail, "relay answers", &doctor);
    }
    // A relay container removed is put back by doctor.
    let relays = relay_of(&image.1);
    home.docker(&["rm", "-f", &relays[0]]);
    let doctor = home.json(&["doctor"]);
    let line = support::doctor_check(&doctor, &image.1);
    assert_eq!(line["status"], "repaired", "{doctor}");
    support::assert_str_contains(&line["detail"], "relay container was missing", &doctor);
    rt.block_on(async {
        let engine = home.engine().await;
        for (id, socket) in [(&image.1, "backend.sock"), (&compose.1, "watcher.sock")] {
            let relay = session(&engine, &home.owner(id)).await;
            let hello = through_relay(&relay, socket, &get("/hello")).await;
            assert!(hello.contains("hello from the backend"), "{id}: {hello}");
        }
    });
    // disable / enable / up.
    home.ok(&["disable", &image.1]);
    assert!(
        home.containers(&format!("dev.dockhand.extension={}", image.1))
            .iter()
            .all(|c| home
                .docker(&["inspect", "-f", "{{.State.Running}}", c])
                .trim()
                == "false")
    );
    home.ok(&["enable", &image.1]);
    rt.block_on(async {
        let engine = home.engine().await;
        let relay = session(&engine, &home.owner(&image.1)).await;
        let hello = through_relay(&relay, "backend.sock", &get("/hello")).await;
        assert!(hello.contains("hello"), "{hello}");
    });

    for (_, id) in [&ui, &image, &compose, &hosts] {
        home.ok(&["rm", id, "--volumes"]);
    }
    home.assert_nothing_left(&[&image.1, &compose.1]);
}

#[test]
fn the_four_examples_in_relay_mode_over_tls() {
    four_examples(Via::Tls, "the_four_examples_in_relay_mode_over_tls");
}

#[test]
fn the_four_examples_in_relay_mode_over_the_forwarded_socket() {
    four_examples(
        Via::Unix,
        "the_four_examples_in_relay_mode_over_the_forwarded_socket",
    );
}

/// An update keeps the backend's volumes (its own and the socket volume);
/// `rm` keeps them, `rm --volumes` removes them.
#[test]
fn an_update_in_relay_mode_keeps_volume_data() {
    let test = "an_update_in_relay_mode_keeps_volume_data";
    let Some((env, _, home)) = relay_test(test, Via::Tls, "relay-update") else {
        return;
    };
    let tmp = TempDir::new("relay-update-ext");
    let dir = volume_extension(&tmp);
    let (v1, id) = publish(&env, &dir, true, &[]);
    home.ok(&["install", &v1, "-y"]);
    let api = |home: &RelayHome| home.service_container(&id, "api");
    let first = api(&home);
    // Data in the extension's volume, written with the archive API (the
    // image has no shell).
    let data = tmp.0.join("kept.txt");
    fs_err::write(&data, "kept across the update\n").expect("write");
    home.docker(&[
        "cp",
        &data.display().to_string(),
        &format!("{first}:/data/kept.txt"),
    ]);
    let volumes = || {
        let mut v: Vec<String> = home
            .docker(&[
                "volume",
                "ls",
                "-q",
                "--filter",
                &format!("label=com.docker.compose.project={}", home.project(&id)),
            ])
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    };
    let before = volumes();
    assert!(
        before
            .iter()
            .any(|v| v.ends_with("_dockhand-guest-services")),
        "the socket volume: {before:?}"
    );
    assert!(before.iter().any(|v| v.ends_with("_data")), "{before:?}");
    // Version 1.0.1 of the same extension (another UI file: another image),
    // then `update`.
    fs_err::write(dir.join("ui/version.txt"), "1.0.1\n").expect("write");
    let v2 = format!("{id}:1.0.1");
    build_and_push(
        &env,
        &dir,
        &v2,
        &["--base".to_owned(), base_image(&env).to_owned()],
    );
    home.ok(&["update", &id, "-y"]);
    let listed = home.json(&["ls"]);
    assert!(listed.to_string().contains("1.0.1"), "{listed}");
    let second = api(&home);
    assert_ne!(first, second, "the container was recreated");
    let kept = support::read_in_container(
        |args| home.docker(args),
        &second,
        "/data/kept.txt",
        &tmp.0.join("out"),
    );
    assert_eq!(kept, "kept across the update\n");
    assert_eq!(volumes(), before, "the same volumes");
    rt().block_on(async {
        let engine = home.engine().await;
        let relay = session(&engine, &home.owner(&id)).await;
        let hello = through_relay(&relay, "api.sock", &get("/hello")).await;
        assert!(hello.contains("hello from the backend"), "{hello}");
    });
    home.ok(&["rm", &id]);
    assert_eq!(volumes(), before, "rm keeps the volumes");
    home.ok(&["install", &v2, "-y"]);
    home.ok(&["rm", &id, "--volumes"]);
    home.assert_nothing_left(&[&id]);
}

/// An `ssh://` engine: install, `vm.service` through the relay (the ssh
/// engine's own exec), `docker.cli.exec`'s docker reaching the same engine.
#[test]
fn a_backend_in_relay_mode_over_ssh() {
    let Some((env, vm, home)) =
        relay_test("a_backend_in_relay_mode_over_ssh", Via::Ssh, "relay-ssh")
    else {
        return;
    };
    let image = publish(&env, &example("backend-image"), true, &[]);
    home.ok(&["install", &image.0, "-y"]);
    let version = home.json(&["version"]);
    assert_eq!(version["engine"]["kind"], "ssh", "{version}");
    assert_eq!(version["engine"]["backends"], "relay", "{version}");
    rt().block_on(async {
        let engine = home.engine().await;
        let relay = session(&engine, &home.owner(&image.1)).await;
        let hello = through_relay(&relay, "backend.sock", &get("/hello")).await;
        assert!(hello.contains("hello from the backend"), "{hello}");
    });
    // An ssh engine is another machine: its loopback is not ours, so the
    // relay is reached through an exec, and doctor says why.
    let doctor = home.json(&["doctor"]);
    let line = support::doctor_check(&doctor, &image.1);
    assert_eq!(line["status"], "ok", "{doctor}");
    support::assert_str_contains(
        &line["detail"],
        "through an exec (the engine at ssh://",
        &doctor,
    );
    // docker.cli.exec runs the docker CLI with the engine dockhand uses.
    let out = Command::new("docker")
        .env_remove("DOCKER_CONTEXT")
        .env("DOCKER_HOST", &vm.ssh_host)
        .env("PATH", &home.path)
        .args([
            "ps",
            "--filter",
            &format!("label=dev.dockhand.extension={}", image.1),
            "-q",
        ])
        .output()
        .expect("docker runs");
    support::assert_succeeded("docker ps", &out);
    assert_eq!(
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .count(),
        2
    );
    home.ok(&["rm", &image.1, "--volumes"]);
    home.assert_nothing_left(&[&image.1]);
}

/// Relay binaries that are not there, and an engine architecture dockhand
/// ships no relay for, are refused with the fix; nothing is left.
#[test]
fn relay_mode_refusals_name_the_fix() {
    let test = "relay_mode_refusals_name_the_fix";
    let Some((env, _, mut home)) = relay_test(test, Via::Tls, "relay-refusals") else {
        return;
    };
    let image = publish(&env, &example("backend-image"), true, &[]);
    home.relay_dir = home.dir.0.join("no-relay-here");
    let e = home.fails(&["install", &image.0, "-y"]);
    assert!(
        e.contains("cannot read the relay for linux/amd64")
            && e.contains("scripts/build-relay")
            && e.contains("reinstall dockhand's package"),
        "{e}"
    );
    // A directory of binaries for the wrong machine (an engine of another architecture
    // is refused before any file is read: `arch`).
    let wrong = home.dir.0.join("wrong-relay");
    fs_err::create_dir_all(&wrong).expect("mkdir");
    fs_err::write(wrong.join("dockhand-relay-amd64"), b"#!/bin/sh\n").expect("write");
    home.relay_dir = wrong;
    let e = home.fails(&["install", &image.0, "-y"]);
    assert!(
        e.contains("is not a static linux/amd64 executable") && e.contains("scripts/build-relay"),
        "{e}"
    );
    assert!(home.json(&["ls"]).as_array().expect("array").is_empty());
    home.assert_nothing_left(&[&image.1]);
}
