//! Every way of naming an engine, through the binary, against the real
//! engines of `scripts/deps`: `version`, `ls` and `doctor` answer on each
//! endpoint kind and say the mode — `local` for the main engine, `remote`
//! for the "VM" engine of `scripts/deps vm` (its own mount namespace),
//! however it is reached: TLS tcp:// with the environment, with the --tls*
//! flags, with a docker context holding its TLS material (chosen by
//! --context, DOCKER_CONTEXT and currentContext), https://, ssh:// and its
//! forwarded unix socket. Refusals name the fix. A UI-only extension installs
//! on the TLS engine (its image loaded and exported over the API), and one
//! with a backend, in relay mode.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{self, TempDir, vm};

/// The variables that name an engine: cleared, then set per run.
const ENGINE_VARS: [&str; 6] = [
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_TLS_VERIFY",
    "DOCKER_TLS",
    "DOCKER_CERT_PATH",
    "DOCKER_CONFIG",
];

/// A dockhand with its own home, runtime dir and docker config dir, and
/// the ssh wrapper of `scripts/deps vm` first on its PATH.
struct Dh {
    home: TempDir,
    run: TempDir,
    config: TempDir,
    ssh_bin: Option<String>,
}

impl Dh {
    fn new(tag: &str, ssh_bin: Option<&str>) -> Self {
        Self {
            home: TempDir::new(&format!("{tag}-home")),
            run: TempDir::new(&format!("{tag}-run")),
            config: TempDir::new(&format!("{tag}-dockercfg")),
            ssh_bin: ssh_bin.map(str::to_owned),
        }
    }

    fn command(&self, env: &[(&str, &str)]) -> Command {
        let mut cmd = support::dockhand();
        for var in ENGINE_VARS {
            cmd.env_remove(var);
        }
        cmd.env("DOCKHAND_HOME", &self.home.0)
            .env("XDG_RUNTIME_DIR", &self.run.0)
            .env("DOCKER_CONFIG", &self.config.0);
        if let Some(bin) = &self.ssh_bin {
            let path = std::env::var("PATH").unwrap_or_default();
            cmd.env("PATH", format!("{bin}:{path}"));
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, env: &[(&str, &str)], args: &[&str]) -> Output {
        self.command(env)
            .args(args)
            .output()
            .expect("dockhand runs")
    }

    fn json(&self, env: &[(&str, &str)], args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.extend(["--format", "json"]);
        let out = self.run(env, &all);
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "dockhand {all:?}: {e}\nstdout: {}\nstderr: {}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        })
    }

    /// The docker CLI with this dockhand's config dir (contexts) and PATH.
    fn docker(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let mut cmd = Command::new("docker");
        for var in ENGINE_VARS {
            cmd.env_remove(var);
        }
        // The plugin mode's dockhand (`dockhand plugin install`) gets these too.
        cmd.env("DOCKER_CONFIG", &self.config.0)
            .env("DOCKHAND_HOME", &self.home.0)
            .env("XDG_RUNTIME_DIR", &self.run.0)
            .env("NO_COLOR", "1");
        if let Some(bin) = &self.ssh_bin {
            let path = std::env::var("PATH").unwrap_or_default();
            cmd.env("PATH", format!("{bin}:{path}"));
        }
        let out = cmd
            .envs(env.iter().copied())
            .args(args)
            .output()
            .expect("docker runs");
        support::succeeded(&format!("docker {args:?}"), out)
    }
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

/// `version`, `ls` and `doctor` against one endpoint: all answer, and both
/// reports say `mode`.
fn answers_in_mode(dh: &Dh, what: &str, env: &[(&str, &str)], args: &[&str], mode: &str) {
    let with = |cmd: &[&'static str]| -> Vec<String> {
        args.iter().chain(cmd).map(|s| (*s).to_owned()).collect()
    };
    let version = dh.json(env, &strs(&with(&["version"])));
    let engine = &version["engine"];
    assert_eq!(engine["reachable"], true, "{what}: {version}");
    assert_eq!(engine["mode"], mode, "{what}: {version}");
    assert!(engine["error"].is_null(), "{what}: {version}");
    let ls = dh.run(env, &strs(&with(&["ls", "--format", "json"])));
    support::assert_succeeded(&format!("{what}: ls"), &ls);
    let doctor = dh.json(env, &strs(&with(&["doctor"])));
    let engine_check = support::doctor_check(&doctor, "engine");
    assert_eq!(engine_check["status"], "ok", "{what}: {doctor}");
    let mode_check = support::doctor_check(&doctor, "engine mode");
    let detail = mode_check["detail"].as_str().expect("detail");
    assert!(detail.starts_with(&format!("{mode}: ")), "{what}: {detail}");
    let text = dh.run(env, &strs(&with(&["version"])));
    let text = String::from_utf8(text.stdout).expect("utf-8");
    assert!(text.contains(&format!("Mode: {mode}")), "{what}: {text}");
}

fn copy(from: &Path, to: &Path) {
    fs_err::copy(from, to)
        .unwrap_or_else(|e| panic!("copy {} to {}: {e}", from.display(), to.display()));
}

#[test]
fn every_endpoint_kind_answers_and_says_its_mode() {
    let test = "every_endpoint_kind_answers_and_says_its_mode";
    let Some((real, vm)) = support::real_env_and_vm(test) else {
        return;
    };
    let certs = vm.cert_path.display().to_string();
    let dh = Dh::new("engines", Some(&vm.ssh_bin));

    answers_in_mode(
        &dh,
        "the main engine",
        &[("DOCKER_HOST", &real.docker_host)],
        &[],
        "local",
    );
    answers_in_mode(
        &dh,
        "TLS from the environment",
        &[
            ("DOCKER_HOST", &vm.tls_host),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", &certs),
        ],
        &[],
        "remote",
    );

    // The --tls* flags, with files under names the docker CLI would not
    // find in a DOCKER_CERT_PATH: children get a directory of links.
    let own = TempDir::new("engines-own-certs");
    copy(&vm.cert_path.join("ca.pem"), &own.0.join("engine-ca.crt"));
    copy(&vm.cert_path.join("cert.pem"), &own.0.join("me.crt"));
    copy(&vm.cert_path.join("key.pem"), &own.0.join("me.key"));
    let ca = own.0.join("engine-ca.crt").display().to_string();
    let cert = own.0.join("me.crt").display().to_string();
    let key = own.0.join("me.key").display().to_string();
    answers_in_mode(
        &dh,
        "TLS from the flags",
        &[],
        &tls_flags(&vm.tls_host, &ca, &cert, &key),
        "remote",
    );
    let links: Vec<PathBuf> = fs_err::read_dir(dh.home.0.join("engine-tls"))
        .expect("engine-tls")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(links.len(), 1, "{links:?}");
    assert_eq!(
        fs_err::read_link(links[0].join("key.pem")).expect("a link"),
        own.0.join("me.key")
    );

    let https = vm.tls_host.replacen("tcp://", "https://", 1);
    answers_in_mode(
        &dh,
        "https://",
        &[("DOCKER_HOST", &https), ("DOCKER_CERT_PATH", &certs)],
        &[],
        "remote",
    );
    answers_in_mode(
        &dh,
        "the forwarded unix socket",
        &[("DOCKER_HOST", &vm.unix_host)],
        &[],
        "remote",
    );
    answers_in_mode(
        &dh,
        "ssh://",
        &[("DOCKER_HOST", &vm.ssh_host)],
        &[],
        "remote",
    );

    // Contexts made by the docker CLI itself: TLS material in the context store.
    let spec = format!(
        "host={},ca={certs}/ca.pem,cert={certs}/cert.pem,key={certs}/key.pem",
        vm.tls_host
    );
    dh.docker(&[], &["context", "create", "vm-tls", "--docker", &spec]);
    dh.docker(
        &[],
        &[
            "context",
            "create",
            "vm-ssh",
            "--docker",
            &format!("host={}", vm.ssh_host),
        ],
    );
    let tls_dir = dh.config.0.join("contexts/tls");
    assert!(
        tls_dir.is_dir(),
        "docker keeps the TLS material in {}",
        tls_dir.display()
    );
    // The docker CLI agrees it is the VM engine.
    let id = dh.docker(&[], &["--context", "vm-tls", "info", "--format", "{{.ID}}"]);
    answers_in_mode(&dh, "--context", &[], &["--context", "vm-tls"], "remote");
    answers_in_mode(
        &dh,
        "--context ssh",
        &[],
        &["--context", "vm-ssh"],
        "remote",
    );
    answers_in_mode(
        &dh,
        "DOCKER_CONTEXT",
        &[("DOCKER_CONTEXT", "vm-tls")],
        &[],
        "remote",
    );
    dh.docker(&[], &["context", "use", "vm-tls"]);
    answers_in_mode(&dh, "currentContext", &[], &[], "remote");
    let version = dh.json(&[], &["version"]);
    assert_eq!(
        version["engine"]["source"],
        format!(
            "docker context `vm-tls` (currentContext in {})",
            dh.config.0.join("config.json").display()
        )
    );
    assert_eq!(version["engine"]["engine_id"], id.trim());
    assert_eq!(version["engine"]["kind"], "tcp+tls");
    // DOCKER_HOST beats currentContext, as with the docker CLI.
    let v = dh.json(&[("DOCKER_HOST", &real.docker_host)], &["version"]);
    assert_eq!(v["engine"]["mode"], "local", "{v}");
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn refusals_name_the_fix() {
    let dh = Dh::new("engine-refusals", None);
    // An unknown scheme.
    let out = dh.run(&[("DOCKER_HOST", "ftp://engine.example:21")], &["ls"]);
    let e = support::failed("dockhand ls", &out);
    assert!(
        e.contains("unknown scheme `ftp`") && e.contains("ssh://[USER@]HOST"),
        "{e}"
    );
    // Missing TLS files, from the environment and from a flag.
    let out = dh.run(
        &[
            ("DOCKER_HOST", "tcp://127.0.0.1:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", "/nonexistent/certs"),
        ],
        &["ls"],
    );
    let e = support::failed("dockhand ls", &out);
    assert!(
        e.contains("/nonexistent/certs/ca.pem") && e.contains("DOCKER_CERT_PATH"),
        "{e}"
    );
    let out = dh.run(
        &[],
        &[
            "-H",
            "tcp://127.0.0.1:2376",
            "--tls",
            "--tlscert",
            "/nonexistent/me.crt",
            "ls",
        ],
    );
    let e = stderr(&out);
    assert!(
        e.contains("/nonexistent/me.crt") && e.contains("--tlscert"),
        "{e}"
    );
    // A context that does not exist; --context with --host.
    let out = dh.run(&[], &["--context", "nope", "ls"]);
    let e = stderr(&out);
    assert!(e.contains("`nope` does not exist"), "{e}");
    let out = dh.run(&[], &["--context", "nope", "-H", "unix:///x.sock", "ls"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A password in an ssh address.
    let out = dh.run(&[("DOCKER_HOST", "ssh://me:secret@box")], &["ls"]);
    let e = stderr(&out);
    assert!(e.contains("use an ssh key"), "{e}");
    // version reports an engine it cannot resolve, and still succeeds.
    let v = dh.json(&[("DOCKER_HOST", "ftp://x")], &["version"]);
    assert_eq!(v["api_version"], "0.4.2");
    support::assert_str_contains(&v["engine"]["error"], "unknown scheme", &v);
}

#[test]
fn an_ssh_host_without_docker_is_named() {
    let test = "an_ssh_host_without_docker_is_named";
    let Some(vm) = vm(test) else {
        return;
    };
    let dh = Dh::new("engine-nodocker", Some(&vm.ssh_bin));
    let out = dh.run(&[("DOCKER_HOST", &vm.ssh_nodocker_host)], &["doctor"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("has no `docker` command") && text.contains("install the docker CLI there"),
        "{text}"
    );
    let v = dh.json(&[("DOCKER_HOST", &vm.ssh_nodocker_host)], &["version"]);
    assert_eq!(v["engine"]["reachable"], false, "{v}");
    support::assert_str_contains(&v["engine"]["error"], "docker: not found", &v);
}

#[test]
fn a_ui_extension_and_a_backend_install_on_the_tls_engine() {
    let test = "a_ui_extension_and_a_backend_install_on_the_tls_engine";
    let Some(vm) = vm(test) else {
        return;
    };
    let certs = vm.cert_path.display().to_string();
    let env = [
        ("DOCKER_HOST", vm.tls_host.as_str()),
        ("DOCKER_TLS_VERIFY", "1"),
        ("DOCKER_CERT_PATH", certs.as_str()),
    ];
    let dh = Dh::new("engine-install", None);
    let ok = |args: &[&str]| support::succeeded(&format!("dockhand {args:?}"), dh.run(&env, args));
    let examples = support::repo_root().join("examples");
    let tag = format!("dockhand-it/vm-ui-{}:1", std::process::id());
    let backend_tag = format!("dockhand-it/vm-backend-{}:1", std::process::id());
    // Built without a daemon, loaded into the VM engine over TLS.
    ok(&[
        "build",
        &examples.join("minimal-ui").display().to_string(),
        "-t",
        &tag,
        "--load",
    ]);
    // The backend binary in the image itself (no base image on the VM engine).
    let backend = dockhand_testkit::examples::example_backend();
    ok(&[
        "build",
        &examples.join("backend-image").display().to_string(),
        "-t",
        &backend_tag,
        "--add",
        &format!("{}:/backend", backend.display()),
        "--cmd",
        "/backend",
        "--stop-signal",
        "SIGKILL",
        "--platform",
        "linux/amd64",
        "--load",
    ]);
    // Exported over TLS by install.
    ok(&["install", "-y", &format!("engine:{tag}")]);
    let ls = dh.json(&env, &["ls"]);
    let id = tag.trim_end_matches(":1");
    assert!(
        ls.as_array()
            .or_else(|| ls["extensions"].as_array())
            .expect("a list")
            .iter()
            .any(|e| e["id"] == id),
        "{ls}"
    );
    // A backend installs in relay mode (crates/cli/tests/it/relay_mode.rs has the rest).
    ok(&["install", "-y", &format!("engine:{backend_tag}")]);
    let ls = dh.json(&env, &["ls"]);
    let backend_id = backend_tag.trim_end_matches(":1");
    assert!(ls.to_string().contains(backend_id), "{ls}");
    ok(&["rm", id]);
    ok(&["rm", backend_id, "--volumes"]);
    dh.docker(&env, &["rmi", &tag, &backend_tag]);
}

#[test]
fn the_docker_plugin_passes_the_tls_flags_and_the_context_on() {
    let test = "the_docker_plugin_passes_the_tls_flags_and_the_context_on";
    let Some(vm) = vm(test) else {
        return;
    };
    let dh = Dh::new("engine-plugin", None);
    let out = dh.run(&[], &["plugin", "install"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let c = |f: &str| vm.cert_path.join(f).display().to_string();
    let (ca, cert, key) = (c("ca.pem"), c("cert.pem"), c("key.pem"));
    let out = dh.docker(
        &[],
        &[
            &tls_flags(&vm.tls_host, &ca, &cert, &key)[..],
            &["extension", "version", "--format", "json"],
        ]
        .concat(),
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["engine"]["kind"], "tcp+tls", "{v}");
    assert_eq!(v["engine"]["mode"], "remote", "{v}");
    let spec = format!("host={},ca={ca},cert={cert},key={key}", vm.tls_host);
    dh.docker(&[], &["context", "create", "vm-plugin", "--docker", &spec]);
    let out = dh.docker(
        &[],
        &[
            "--context",
            "vm-plugin",
            "extension",
            "version",
            "--format",
            "json",
        ],
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        v["engine"]["source"], "docker context `vm-plugin` (--context)",
        "{v}"
    );
    assert_eq!(v["engine"]["mode"], "remote", "{v}");
}

/// The docker CLI's flags for the TLS engine at `host` (`-H host
/// --tlsverify` and the three files).
fn tls_flags<'a>(host: &'a str, ca: &'a str, cert: &'a str, key: &'a str) -> [&'a str; 9] {
    [
        "-H",
        host,
        "--tlsverify",
        "--tlscacert",
        ca,
        "--tlscert",
        cert,
        "--tlskey",
        key,
    ]
}
