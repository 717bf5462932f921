//! The extension lifecycle on Podman's Docker API (`scripts/deps podman`):
//! the four examples built (on the Docker engine, for the backend base) and
//! pushed to the registry, installed on Podman, their backends answering —
//! the compose example's `watcher` reaching Podman through the remapped
//! `/var/run/docker.sock.raw` — the host binary running, `ls`, `disable` /
//! `enable`, `up`, `logs`, then `rm` leaving no container,
//! network, volume or file behind.

use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{self, RealEnv, TempDir, repo_root, succeeded};

/// The examples, and whether each runs on the backend base image.
const EXAMPLES: [(&str, bool); 4] = [
    ("minimal-ui", false),
    ("backend-image", true),
    ("backend-compose", true),
    ("host-binaries", false),
];

/// The backend base, built on the Docker engine from the example's base.Dockerfile.
const BASE: &str = "dockhand-it/podman-backend-base:e2e";

/// The real components this test needs: Podman's socket, and the Docker
/// engine and registry the images are built with and pushed to.
struct Env {
    real: RealEnv,
    podman: String,
}

fn podman_env(test: &str) -> Option<Env> {
    let podman = dockhand_testkit::env::require_var(
        test,
        "DOCKHAND_PODMAN_HOST",
        "no Podman service from `scripts/deps podman` (DOCKHAND_PODMAN_HOST unset)",
    )?;
    let real = support::real_env(test)?;
    Some(Env { real, podman })
}

/// A `dockhand` on Podman with its own home and runtime dir (socket dirs).
struct Dockhand {
    home: TempDir,
    run: TempDir,
    podman: String,
}

impl Dockhand {
    fn run(&self, args: &[&str]) -> Output {
        support::dockhand()
            .env("DOCKER_HOST", &self.podman)
            .env("DOCKHAND_HOME", &self.home.0)
            .env("XDG_RUNTIME_DIR", &self.run.0)
            .args(args)
            .output()
            .expect("dockhand runs")
    }

    fn ok(&self, args: &[&str]) -> String {
        succeeded(&format!("dockhand {args:?} on Podman"), self.run(args))
    }

    fn json(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        serde_json::from_str(&self.ok(&all)).expect("json")
    }

    /// The socket named `name` in some extension's socket dir.
    fn socket(&self, name: &str) -> PathBuf {
        let dirs = fs_err::read_dir(self.run.0.join("dockhand")).expect("socket dirs");
        dirs.flatten()
            .map(|d| d.path().join(name))
            .find(|p| p.exists())
            .unwrap_or_else(|| panic!("no {name} under {}", self.run.0.display()))
    }
}

/// A repository name no earlier run used (the registry outlives test runs).
fn unique(name: &str) -> String {
    support::unique_name("dockhand-it", &format!("podman-{name}"))
}

fn ensure_backend_built() {
    dockhand_testkit::examples::example_backend();
}

/// One HTTP/1.1 GET over a unix socket; returns (status, body).
fn http_get(sock: &Path, path: &str) -> (u16, String) {
    dockhand_testkit::http::unix_get(sock, path).into_parts()
}

fn answers_hello(sock: &Path) {
    let (status, body) = http_get(sock, "/hello");
    assert_eq!(status, 200, "{}: {body}", sock.display());
    assert!(body.contains("hello from the backend"), "{body}");
}

/// The extension whose id ends with `-<example>-…` (see [`unique`]).
fn id_of<'a>(ids: &'a [String], example: &str) -> &'a str {
    let needle = format!("/podman-{example}-");
    ids.iter()
        .find(|id| id.contains(&needle))
        .unwrap_or_else(|| panic!("{example} is not among {ids:?}"))
}

/// Lines of `docker <what> ls -q --filter label=<label>` on Podman.
fn listed(podman: &str, what: &str, label: &str) -> Vec<String> {
    let mut args = vec![what, "ls", "-q", "--filter"];
    let filter = format!("label={label}");
    args.push(&filter);
    if what == "container" {
        args.push("--all");
    }
    support::docker_ok_at(podman, &args)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_lifecycle_on_podman() {
    let test = "the_lifecycle_on_podman";
    let Some(env) = podman_env(test) else {
        return;
    };
    let mut phases = support::Phases::start(test);
    ensure_backend_built();
    let base_ctx = repo_root().join("examples/backend-image");
    support::docker_ok_at(
        &env.real.docker_host,
        &[
            "build",
            "-q",
            "-t",
            BASE,
            "-f",
            &base_ctx.join("base.Dockerfile").display().to_string(),
            &base_ctx.display().to_string(),
        ],
    );

    // Built with the Docker engine (the base is read from it) and pushed.
    let build_home = TempDir::new("podman-build");
    let mut refs = Vec::new();
    for (name, on_base) in EXAMPLES {
        let reference = format!("{}/{}:0.1.0", env.real.registry, unique(name));
        let dir = repo_root()
            .join("examples")
            .join(name)
            .display()
            .to_string();
        let base = format!("engine:{BASE}");
        let mut args = vec!["build", dir.as_str(), "-t", &reference, "--push"];
        if on_base {
            args.extend(["--base", base.as_str()]);
        }
        let out = support::dockhand()
            .env("DOCKHAND_HOME", &build_home.0)
            .env("DOCKER_HOST", &env.real.docker_host)
            .env("SOURCE_DATE_EPOCH", "1700000000")
            .args(&args)
            .output()
            .expect("dockhand runs");
        support::assert_succeeded(&format!("dockhand build {name}"), &out);
        refs.push(reference);
    }
    phases.end("built and pushed");

    // Installed on Podman: dockhand loads the backend images itself.
    let dh = Dockhand {
        home: TempDir::new("podman-home"),
        run: TempDir::new("podman-run"),
        podman: env.podman.clone(),
    };
    let mut guard = support::Uninstall {
        dockhand: |args: &[&str]| {
            let _ = dh.run(args);
        },
        host: dh.podman.clone(),
        ids: Vec::new(),
        images: refs.clone(),
    };
    for reference in &refs {
        dh.ok(&["-q", "install", reference, "-y"]);
    }
    let listed_now = dh.json(&["ls"]);
    let entries = listed_now.as_array().expect("ls is an array");
    let ids: Vec<String> = entries
        .iter()
        .map(|e| e["id"].as_str().expect("id").to_owned())
        .collect();
    guard.ids = ids.clone();
    assert_eq!(ids.len(), 4, "{listed_now}");
    phases.end("installed");
    for e in entries {
        let id = e["id"].as_str().expect("id");
        let want = if id.contains("/podman-backend-compose-") {
            Some(2)
        } else if id.contains("/podman-backend-image-") {
            Some(1)
        } else {
            None
        };
        match want {
            Some(n) => {
                assert_eq!(e["vm"]["state"], "running", "{e}");
                assert_eq!(e["vm"]["containers"], n, "{e}");
            }
            None => assert!(e["vm"].is_null(), "{e}"),
        }
    }

    // The backends answer on their sockets; the watcher reaches Podman
    // through /var/run/docker.sock.raw, remapped to Podman's socket.
    answers_hello(&dh.socket("backend.sock"));
    answers_hello(&dh.socket("api.sock"));
    let (status, body) = http_get(&dh.socket("watcher.sock"), "/engine/version");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Podman Engine"),
        "not Podman's /version: {body}"
    );

    // The containers run the image dockhand loaded, under the name
    // ${DESKTOP_PLUGIN_IMAGE} gave them.
    let image_id = id_of(&ids, "backend-image");
    let ps = support::docker_ok_at(
        &env.podman,
        &[
            "ps",
            "--filter",
            &format!("label=dev.dockhand.extension={image_id}"),
            "--format",
            "{{.Image}}",
        ],
    );
    assert_eq!(ps.trim(), refs[1], "{ps}");

    // The host binary runs.
    let hello = fs_err::read_dir(dh.home.0.join("extensions"))
        .expect("extensions")
        .flatten()
        .map(|d| d.path().join("current/host/hello"))
        .find(|p| p.is_file())
        .expect("the hello host binary is installed");
    let out = Command::new(&hello)
        .arg("a b")
        .output()
        .expect("hello runs");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("arg[1]=a b"),
        "{out:?}"
    );

    // disable stops the backend, enable brings it back, up leaves it running.
    dh.ok(&["-q", "disable", image_id]);
    let ls = dh.json(&["ls"]);
    let entry = ls
        .as_array()
        .expect("array")
        .iter()
        .find(|e| e["id"] == image_id)
        .expect("listed");
    assert_eq!(entry["vm"]["state"], "disabled", "{entry}");
    assert!(UnixStream::connect(dh.socket("backend.sock")).is_err());
    dh.ok(&["-q", "enable", image_id]);
    answers_hello(&dh.socket("backend.sock"));
    let up = dh.json(&["up"]);
    assert_eq!(up.as_array().map(Vec::len), Some(2), "{up}");
    assert!(
        up.as_array()
            .expect("array")
            .iter()
            .all(|u| u["ok"] == true),
        "{up}"
    );
    answers_hello(&dh.socket("backend.sock"));
    answers_hello(&dh.socket("api.sock"));

    // logs of both compose services. (No `doctor` here: it removes the
    // containers of every extension its home has not installed, which on a
    // shared engine includes those of tests running beside this one.)
    let compose_id = id_of(&ids, "backend-compose");
    let logs = dh.run(&["logs", compose_id]);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&logs.stdout),
        String::from_utf8_lossy(&logs.stderr)
    );
    assert!(logs.status.success(), "{text}");
    // Whole lines, though the backend writes them in pieces (Podman logs each piece).
    for (service, sock) in [("api", "api.sock"), ("watcher", "watcher.sock")] {
        let line = format!("{service} | backend 0.1.0: listening on /run/guest-services/{sock}\n");
        assert!(text.contains(&line), "no {line:?} in:\n{text}");
    }

    // rm (once with --volumes) leaves nothing behind.
    phases.end("checked");
    for id in &ids {
        if id == compose_id {
            dh.ok(&["-q", "rm", "--volumes", id]);
        } else {
            dh.ok(&["-q", "rm", id]);
        }
    }
    guard.ids.clear();
    assert_eq!(dh.json(&["ls"]), serde_json::json!([]));
    for id in &ids {
        let home_id = dockhand_host::layout::Layout {
            home: dh.home.0.clone(),
            runtime: Default::default(),
        }
        .home_id();
        let project = dockhand_host::backend::project_of(
            &home_id,
            &dockhand_spec::ExtensionId::parse(id).expect("id"),
        );
        let ours = format!("dev.dockhand.extension={id}");
        let compose = format!("com.docker.compose.project={project}");
        assert_eq!(
            listed(&env.podman, "container", &ours),
            Vec::<String>::new()
        );
        for what in ["container", "network", "volume"] {
            assert_eq!(
                listed(&env.podman, what, &compose),
                Vec::<String>::new(),
                "{what}s of {project} left on Podman"
            );
        }
    }
    let left = support::dir_entries(&dh.home.0.join("extensions"), "extensions dir");
    assert!(left.is_empty(), "files left: {left:?}");
    let sockets = support::dir_entries(&dh.run.0.join("dockhand"), "runtime dir");
    assert!(sockets.is_empty(), "socket dirs left: {sockets:?}");
    drop(guard);
    phases.end("removed");
    eprintln!("{phases}");
}
