//! dockhand as an ordinary user in the `docker` group on a rootful engine
//! (the normal Linux set-up): a backend that leaves its socket 0755, as most
//! do, is still reachable — dockhand fixes the socket's mode from inside the
//! container — and one whose image has no `chmod` is refused with a message
//! that says what the author should do.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use crate::lifecycle::{build_and_push, copy_dir};
use crate::support::{self, RealEnv, TempDir, docker, repo_root};

fn as_user(user: &str, home: &Path, env: &RealEnv, args: &[&str]) -> Output {
    as_user_env(user, home, env, &[], args)
}

fn as_user_env(
    user: &str,
    home: &Path,
    env: &RealEnv,
    vars: &[(&str, &str)],
    args: &[&str],
) -> Output {
    Command::new("runuser")
        .args(["-u", user, "--", env!("CARGO_BIN_EXE_dockhand")])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("DOCKHAND_HOME", home.join("dh"))
        .env("XDG_RUNTIME_DIR", home.join("run"))
        .env("DOCKER_HOST", &env.docker_host)
        .env("DOCKHAND_READY_TIMEOUT", "20")
        .env("NO_COLOR", "1")
        .envs(vars.iter().copied())
        .output()
        .expect("runuser runs")
}

/// The ordinary user in the docker group that `scripts/test` makes, or
/// `None` after saying why the test skips.
fn test_user(test: &str) -> Option<String> {
    dockhand_testkit::env::require_var(
        test,
        "DOCKHAND_TEST_USER",
        "DOCKHAND_TEST_USER (a user in the docker group, made by scripts/test) is unset",
    )
}

/// A temporary home owned by `user` (traversable on the way), with a private
/// `run/` for its `XDG_RUNTIME_DIR` when `with_run`.
fn user_home(user: &str, tag: &str, with_run: bool) -> TempDir {
    let home = TempDir::new(tag);
    if with_run {
        let run = home.0.join("run");
        fs_err::create_dir_all(&run).expect("mkdir");
        fs_err::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).expect("chmod");
    }
    assert!(
        Command::new("chown")
            .args(["-R", user, &home.arg()])
            .status()
            .expect("chown")
            .success()
    );
    // The directory chain must be traversable by the user.
    fs_err::set_permissions(&home.0, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    home
}

/// An extension whose backend creates its socket 0755; `with_chmod` puts
/// busybox (as `/bin/chmod`) into its image; `late` makes the backend wait
/// 8 s before it creates the socket (busybox as `/bin/sh` and `/bin/sleep`).
pub(crate) fn publish(env: &RealEnv, with_chmod: bool, late: bool) -> (String, String) {
    let mut dockerfile = String::from("FROM scratch\nCOPY backend /backend\n");
    let mut extra = Vec::new();
    if with_chmod {
        extra.push(("/bin/busybox", "chmod"));
        dockerfile.push_str("COPY chmod /bin/chmod\n");
    }
    if late {
        extra.push(("/bin/busybox", "busybox"));
        dockerfile.push_str("COPY busybox /bin/sh\nCOPY busybox /bin/sleep\n");
    }
    dockerfile.push_str("STOPSIGNAL SIGKILL\nCMD [\"/backend\"]\n");
    let base = format!("dockhand-nr/base-{with_chmod}-{late}:e2e");
    support::build_backend_image(env, &base, &dockerfile, &extra);

    let ext = TempDir::new("nr-ext");
    let src = repo_root().join("examples/backend-compose");
    for f in ["icon.svg", "Dockerfile", "metadata.json"] {
        fs_err::copy(src.join(f), ext.0.join(f)).expect("copy");
    }
    copy_dir(&src.join("ui"), &ext.0.join("ui"));
    let command = if late {
        r#"["/bin/sh", "-c", "sleep 8; exec /backend --socket /run/guest-services/api.sock"]"#
    } else {
        r#"["/backend", "--socket", "/run/guest-services/api.sock"]"#
    };
    ext.write(
        "docker-compose.yaml",
        format!("services:\n  api:\n    image: ${{DESKTOP_PLUGIN_IMAGE}}\n    command: {command}\n    environment:\n      BACKEND_SOCKET_MODE: \"0755\"\n"),
    );
    let id = support::unique_name(
        &format!("{}/dockhand-nr", env.registry),
        &format!("ext-{with_chmod}-{late}"),
    );
    let reference = format!("{id}:1.0.0");
    build_and_push(
        env,
        &ext.0,
        &reference,
        &["--base".to_owned(), format!("engine:{base}")],
    );
    (reference, id)
}

#[test]
fn an_ordinary_user_reaches_a_root_created_socket() {
    let Some(env) = support::real_env("an_ordinary_user_reaches_a_root_created_socket") else {
        return;
    };
    let Some(user) = test_user("an_ordinary_user_reaches_a_root_created_socket") else {
        return;
    };
    let home = user_home(&user, "nr-home", true);
    let run = home.0.join("run");

    let (reference, id) = publish(&env, true, false);
    let out = as_user(&user, &home.0, &env, &["install", &reference, "-y"]);
    assert!(
        out.status.success(),
        "install as {user}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    // The socket was created 0755 by the container's root, and dockhand fixed it.
    let layout = dockhand_host::layout::Layout {
        home: home.0.join("dh"),
        runtime: run.clone(),
    };
    let sock = layout
        .socket_dir(&dockhand_spec::ExtensionId::parse(&id).expect("id"))
        .join("api.sock");
    let mode = fs_err::metadata(&sock)
        .expect("socket exists")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o666, "dockhand opened the socket to its user");
    let curl = Command::new("runuser")
        .args([
            "-u",
            &user,
            "--",
            "curl",
            "-sS",
            "--unix-socket",
            &sock.display().to_string(),
            "http://x/hello",
        ])
        .output()
        .expect("curl");
    assert!(
        String::from_utf8_lossy(&curl.stdout).contains("hello from the backend"),
        "{}",
        String::from_utf8_lossy(&curl.stderr)
    );
    let out = as_user(&user, &home.0, &env, &["rm", &id]);
    support::assert_succeeded("dockhand rm", &out);

    // A socket that appears after install (the wait is 1 s here), created
    // 0755 by the container's root: install does not wait for it, and
    // `doctor` opens it to the user once it is there.
    let (reference, id) = publish(&env, true, true);
    let out = as_user_env(
        &user,
        &home.0,
        &env,
        &[("DOCKHAND_READY_TIMEOUT", "1")],
        &["install", &reference, "-y"],
    );
    assert!(
        out.status.success() && String::from_utf8_lossy(&out.stderr).contains("api.sock yet"),
        "install as {user}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sock = layout
        .socket_dir(&dockhand_spec::ExtensionId::parse(&id).expect("id"))
        .join("api.sock");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !sock.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "the socket never appeared"
        );
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
    // bind(2) made the file; let the backend listen and set its mode.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let out = as_user(&user, &home.0, &env, &["ls", "--format", "json"]);
    let listed: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(listed[0]["vm"]["socket"]["state"], "denied", "{listed}");
    let out = as_user(&user, &home.0, &env, &["doctor", "--format", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(out.status.success(), "{report}");
    assert!(
        support::doctor_checks(&report)
            .iter()
            .any(|c| c["name"] == id.as_str()
                && c["status"] == "repaired"
                && c["detail"]
                    .as_str()
                    .is_some_and(|d| d.contains("chmod 0666"))),
        "{report}"
    );
    let mode = fs_err::metadata(&sock)
        .expect("socket")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o666, "doctor opened the socket to its user");
    let out = as_user(&user, &home.0, &env, &["rm", &id]);
    support::assert_succeeded("dockhand rm", &out);

    // Without chmod in the image: refused, with what to do, and nothing left.
    let (reference, id) = publish(&env, false, false);
    let err = support::failed(
        "dockhand install",
        &as_user(&user, &home.0, &env, &["install", &reference, "-y"]),
    );
    assert!(err.contains("create its socket with mode 0666"), "{err}");
    let left = docker(
        &env,
        &[
            "ps",
            "-aq",
            "--filter",
            &format!("label=dev.dockhand.extension={id}"),
        ],
    );
    assert!(left.trim().is_empty(), "nothing left after the refusal");
}

/// Without `XDG_RUNTIME_DIR` (su, sudo -u, cron, many ssh sessions) the
/// backend sockets live under `/tmp/dockhand-<uid>`. Another local user (here
/// root, playing one) who creates that directory first — writable by
/// everyone, or as a symlink to a directory of theirs — would sit between
/// the dashboard and every backend: dockhand refuses it, naming it.
#[test]
fn a_runtime_directory_planted_by_another_user_is_refused() {
    const TEST: &str = "a_runtime_directory_planted_by_another_user_is_refused";
    let Some(env) = support::real_env(TEST) else {
        return;
    };
    let Some(user) = test_user(TEST) else {
        return;
    };
    let uid = Command::new("id").args(["-u", &user]).output().expect("id");
    let uid = String::from_utf8_lossy(&uid.stdout).trim().to_owned();
    let planted = std::path::PathBuf::from(format!("/tmp/dockhand-{uid}"));
    let clear = || {
        let _ = fs_err::remove_file(&planted);
        let _ = fs_err::remove_dir_all(&planted);
    };
    clear();
    let home = user_home(&user, "nr-planted", false);
    let (reference, _) = publish(&env, true, false);
    let install = || {
        Command::new("runuser")
            .args(["-u", &user, "--", env!("CARGO_BIN_EXE_dockhand")])
            .args(["install", &reference, "-y"])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", &home.0)
            .env("DOCKHAND_HOME", home.0.join("dh"))
            .env("DOCKER_HOST", &env.docker_host)
            .env("NO_COLOR", "1")
            .output()
            .expect("runuser runs")
    };

    // World-writable, owned by someone else.
    fs_err::create_dir(&planted).expect("plant");
    fs_err::set_permissions(&planted, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    let out = install();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    clear();
    assert!(
        !out.status.success(),
        "installed through a planted dir: {stderr}"
    );
    assert!(stderr.contains(&planted.display().to_string()), "{stderr}");
    assert!(stderr.contains("belongs to uid 0"), "{stderr}");

    // A symlink to a directory of theirs.
    let theirs = TempDir::new("nr-theirs");
    fs_err::set_permissions(&theirs.0, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    fs_err::os::unix::fs::symlink(&theirs.0, &planted).expect("symlink");
    let out = install();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    clear();
    assert!(
        !out.status.success(),
        "installed through a symlink: {stderr}"
    );
    assert!(stderr.contains("symbolic link"), "{stderr}");
    assert!(
        fs_err::read_dir(&theirs.0).expect("read").next().is_none(),
        "nothing was made in their directory"
    );
}

/// Two homes on one engine (root and an ordinary user) install the same
/// extension: each gets its own compose project, containers and socket
/// directory, `ls` of each counts only its own, and one home's `rm` leaves
/// the other's backend answering.
#[test]
fn two_homes_on_one_engine_keep_their_own_backends() {
    const TEST: &str = "two_homes_on_one_engine_keep_their_own_backends";
    let Some(env) = support::real_env(TEST) else {
        return;
    };
    let Some(user) = test_user(TEST) else {
        return;
    };
    let (reference, id) = publish(&env, true, false);
    let ext = dockhand_spec::ExtensionId::parse(&id).expect("id");

    // Root's home.
    let root = TempDir::new("two-homes-root");
    let root_cmd = |args: &[&str]| {
        let out = support::dockhand()
            .env("DOCKHAND_HOME", root.0.join("dh"))
            .env("XDG_RUNTIME_DIR", root.0.join("run"))
            .env("DOCKER_HOST", &env.docker_host)
            .env("DOCKHAND_READY_TIMEOUT", "20")
            .args(args)
            .output()
            .expect("dockhand runs");
        support::assert_succeeded(&format!("root {args:?}"), &out);
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    fs_err::create_dir_all(root.0.join("run")).expect("run");
    root_cmd(&["install", &reference, "-y"]);

    // The user's home.
    let home = user_home(&user, "two-homes-user", true);
    let run = home.0.join("run");
    let out = as_user(&user, &home.0, &env, &["install", &reference, "-y"]);
    support::assert_succeeded(&format!("install as {user}"), &out);

    let socket_of = |dh: std::path::PathBuf, run: std::path::PathBuf| {
        dockhand_host::layout::Layout {
            home: dh,
            runtime: run,
        }
        .socket_dir(&ext)
        .join("api.sock")
    };
    let root_sock = socket_of(root.0.join("dh"), root.0.join("run"));
    let user_sock = socket_of(home.0.join("dh"), run.clone());
    assert_ne!(root_sock, user_sock);
    let hello = |as_user: bool, sock: &std::path::Path| {
        let mut c = if as_user {
            let mut c = Command::new("runuser");
            c.args(["-u", &user, "--", "curl"]);
            c
        } else {
            Command::new("curl")
        };
        let out = c
            .args(["-sS", "--max-time", "10", "--unix-socket"])
            .arg(sock)
            .arg("http://x/hello")
            .output()
            .expect("curl");
        String::from_utf8_lossy(&out.stdout).contains("hello from the backend")
    };
    assert!(hello(false, &root_sock), "root's backend answers");
    assert!(hello(true, &user_sock), "the user's backend answers");
    // Each home counts its own container only.
    let ls: serde_json::Value =
        serde_json::from_str(&root_cmd(&["ls", "--format", "json"])).expect("JSON");
    assert_eq!(ls[0]["vm"]["containers"], 1, "{ls}");

    // Root removes it: the user's backend keeps answering.
    root_cmd(&["rm", &id]);
    assert!(
        hello(true, &user_sock),
        "the user's backend survives root's rm"
    );
    let out = as_user(&user, &home.0, &env, &["ls", "--format", "json"]);
    let ls: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(ls[0]["vm"]["containers"], 1, "{ls}");
    let out = as_user(&user, &home.0, &env, &["doctor"]);
    assert!(
        !String::from_utf8_lossy(&out.stdout).contains("leftover"),
        "doctor of the user's home finds nothing of root's: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert!(
        hello(true, &user_sock),
        "and survives the other home's doctor"
    );
    let out = as_user(&user, &home.0, &env, &["rm", &id]);
    support::assert_succeeded("dockhand rm", &out);
}
