//! dockhand as the ordinary user who owns a rootless engine (`scripts/deps
//! rootless`: rootless Podman and rootless dockerd, run as
//! `DOCKHAND_ROOTLESS_USER`, on sockets in its `/run/user/<uid>`), with that
//! engine as `DOCKER_HOST`: the engine is in local mode; the backend example
//! installs and answers `vm.service` through the user's `dockhand serve`;
//! a backend socket made by the container's root belongs to the user (root
//! in the user namespace is the user), so a backend that leaves its socket
//! 0755 in an image without `chmod` — refused on a rootful engine — works
//! without the socket-access fallback; the compose example's watcher reaches
//! the rootless engine through `/var/run/docker.sock.raw`; `rm` leaves no
//! container, network, file or socket directory.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

use crate::backend_socket::Served;
use crate::compat::user::LabUser;
use crate::lifecycle::{example, http_get, publish};
use crate::support::{self, RealEnv};

/// The main engine and registry (images are built and pushed with them),
/// the rootless engine's address and the user who owns it.
struct Rootless {
    main: RealEnv,
    host: String,
    user: String,
}

fn rootless_env(test: &str, var: &str) -> Option<Rootless> {
    let host = std::env::var(var).ok().filter(|v| !v.is_empty());
    let user = std::env::var("DOCKHAND_ROOTLESS_USER")
        .ok()
        .filter(|v| !v.is_empty());
    let (Some(host), Some(user)) = (host, user) else {
        support::skip(
            test,
            &format!(
                "no rootless engine from `scripts/deps rootless` ({var} or DOCKHAND_ROOTLESS_USER unset)"
            ),
        );
        return None;
    };
    let main = support::real_env(test)?;
    Some(Rootless { main, host, user })
}

/// A `docker` CLI command on the rootless engine (as root, who may use the
/// user's socket), which must succeed; its stdout.
fn docker_on(host: &str, args: &[&str]) -> String {
    let out = Command::new("docker")
        .env("DOCKER_HOST", host)
        .args(args)
        .output()
        .expect("the docker CLI runs");
    support::assert_succeeded(&format!("docker {args:?} on {host}"), &out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn uid_of(user: &str) -> u32 {
    let out = Command::new("id").args(["-u", user]).output().expect("id");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .expect("a uid")
}

fn json(user: &LabUser, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&user.ok(&all).expect("dockhand runs as the user")).expect("json")
}

fn entry<'a>(listed: &'a Value, id: &str) -> &'a Value {
    support::entry(listed.as_array().expect("ls is an array"), id)
}

/// Where the backend of `id` makes its socket `name` in the user's home.
fn socket(user: &LabUser, id: &str, name: &str) -> PathBuf {
    let layout = dockhand_host::layout::Layout {
        home: user.home().join("dh"),
        runtime: user.home().join("run"),
    };
    layout
        .socket_dir(&dockhand_spec::ExtensionId::parse(id).expect("id"))
        .join(name)
}

/// `vm.service.get(path)` through the served bridge answers 200 with `want`.
fn vm_get_answers(served: &Served, id: &str, path: &str, want: &str) {
    let site = served.enter(id);
    let (status, answer) = served.vm_get(&site, path);
    assert_eq!(status, 200, "vm.service GET {path} of {id}: {answer}");
    assert_eq!(answer["status"], 200, "{answer}");
    assert!(
        answer["body"].as_str().is_some_and(|b| b.contains(want)),
        "{answer}"
    );
}

fn lifecycle_on(test: &str, var: &str, flavor: &str) {
    let Some(r) = rootless_env(test, var) else {
        return;
    };
    let mut phases = support::Phases::start(test);
    // Built on the main engine, pushed to the registry.
    let (image_ref, image_id) = publish(&r.main, &example("backend-image"), true, &[]);
    let (compose_ref, compose_id) = publish(&r.main, &example("backend-compose"), true, &[]);
    let (bare_ref, bare_id) = crate::nonroot::publish(&r.main, false, false);
    phases.end("built and pushed");

    let on_rootless = RealEnv {
        docker_host: r.host.clone(),
        registry: r.main.registry.clone(),
    };
    let user = LabUser::new(&r.user, &on_rootless).expect("the user's home");
    let uid = uid_of(&r.user);

    // The engine is the user's (its storage belongs to the user), and the
    // user's dockhand finds it in local mode.
    let root_dir = docker_on(&r.host, &["info", "--format", "{{.DockerRootDir}}"]);
    assert_eq!(
        fs_err::metadata(root_dir.trim())
            .expect("the engine's root dir")
            .uid(),
        uid,
        "not {}'s rootless engine: its root dir is {root_dir}",
        r.user
    );
    let version = json(&user, &["version"]);
    let engine = &version["engine"];
    assert_eq!(engine["host"], r.host.as_str(), "{engine}");
    assert_eq!(engine["reachable"], true, "{engine}");
    assert_eq!(engine["flavor"], flavor, "{engine}");
    assert_eq!(engine["mode"], "local", "{engine}");

    let mut cleanup = support::Uninstall {
        dockhand: |args: &[&str]| {
            let _ = user.run(args);
        },
        host: r.host.clone(),
        ids: vec![image_id.clone(), compose_id.clone(), bare_id.clone()],
        images: vec![image_ref.clone(), compose_ref.clone(), bare_ref.clone()],
    };
    for reference in [&image_ref, &compose_ref, &bare_ref] {
        user.ok(&["-q", "install", reference, "-y"])
            .expect("install as the user");
    }
    phases.end("installed 3");
    let listed = json(&user, &["ls"]);
    for (id, containers, sock) in [
        (&image_id, 1, "backend.sock"),
        (&compose_id, 2, "api.sock"),
        (&bare_id, 1, "api.sock"),
    ] {
        let vm = &entry(&listed, id)["vm"];
        assert_eq!(vm["state"], "running", "{vm}");
        assert_eq!(vm["containers"], containers, "{vm}");
        assert_eq!(
            vm["socket"],
            serde_json::json!({"name": sock, "state": "ready"})
        );
    }

    // Root in the backend's user namespace is the user: its sockets are the
    // user's, and the one left 0755 stays so (no chmod was needed, and the
    // image has none).
    let image_sock = socket(&user, &image_id, "backend.sock");
    assert_eq!(
        fs_err::metadata(&image_sock).expect("socket").uid(),
        uid,
        "{} belongs to the user",
        image_sock.display()
    );
    let bare_sock = socket(&user, &bare_id, "api.sock");
    let meta = fs_err::metadata(&bare_sock).expect("socket");
    assert_eq!(meta.uid(), uid);
    assert_eq!(meta.permissions().mode() & 0o777, 0o755);

    // vm.service through the user's dashboard server.
    let served = Served::spawn(user.cmd(&["serve", "--port", "0"]));
    vm_get_answers(&served, &image_id, "/hello", "hello from the backend");
    vm_get_answers(&served, &compose_id, "/hello", "hello from the backend");
    vm_get_answers(&served, &bare_id, "/hello", "hello from the backend");
    drop(served);

    // The watcher reaches the rootless engine through docker.sock.raw: its
    // socket is the user's, bind-mounted where container root (the user) may
    // use it.
    let engine_version = http_get(
        &socket(&user, &compose_id, "watcher.sock"),
        "/engine/version",
    );
    assert!(
        engine_version.starts_with("HTTP/1.1 200"),
        "{engine_version}"
    );
    assert!(engine_version.contains("ApiVersion"), "{engine_version}");
    if flavor == "Podman" {
        assert!(engine_version.contains("Podman Engine"), "{engine_version}");
    }

    let doctor = json(&user, &["doctor"]);
    let mode = support::doctor_check(&doctor, "engine mode");
    assert_eq!(mode["status"], "ok", "{mode}");

    // rm leaves nothing: no record, container, network, file or socket dir.
    phases.end("checked");
    for id in [&image_id, &compose_id, &bare_id] {
        user.ok(&["-q", "rm", "--volumes", id])
            .expect("rm as the user");
    }
    cleanup.ids.clear();
    assert_eq!(json(&user, &["ls"]), serde_json::json!([]));
    let home_id = dockhand_host::layout::Layout {
        home: user.home().join("dh"),
        runtime: user.home().join("run"),
    }
    .home_id();
    for id in [&image_id, &compose_id, &bare_id] {
        let project = dockhand_host::backend::project_of(
            &home_id,
            &dockhand_spec::ExtensionId::parse(id).expect("id"),
        );
        for (what, label) in [
            ("container", format!("dev.dockhand.extension={id}")),
            ("container", format!("com.docker.compose.project={project}")),
            ("network", format!("com.docker.compose.project={project}")),
            ("volume", format!("com.docker.compose.project={project}")),
        ] {
            let mut args = vec![what, "ls", "-q", "--filter"];
            let filter = format!("label={label}");
            args.push(&filter);
            if what == "container" {
                args.push("--all");
            }
            let left = docker_on(&r.host, &args);
            assert!(left.trim().is_empty(), "{what}s with {label} left: {left}");
        }
    }
    let files = support::dir_entries(&user.home().join("dh/extensions"), "extensions dir");
    assert!(files.is_empty(), "files left: {files:?}");
    let dirs = support::dir_entries(&user.home().join("run/dockhand"), "socket dirs");
    assert!(dirs.is_empty(), "socket dirs left: {dirs:?}");
    drop(cleanup);
    phases.end("removed");
    eprintln!("{phases}");
}

#[test]
fn the_lifecycle_on_rootless_podman() {
    lifecycle_on(
        "the_lifecycle_on_rootless_podman",
        "DOCKHAND_ROOTLESS_PODMAN_HOST",
        "Podman",
    );
}

#[test]
fn the_lifecycle_on_rootless_dockerd() {
    lifecycle_on(
        "the_lifecycle_on_rootless_dockerd",
        "DOCKHAND_ROOTLESS_DOCKER_HOST",
        "Docker Engine",
    );
}
