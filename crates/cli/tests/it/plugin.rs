//! The Docker CLI plugin (`dockhand plugin install`, then the real `docker` CLI running
//! `docker extension …` through it against the real engine), shell completions and the man
//! page.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::{self, TempDir};

/// The docker CLI with `DOCKER_CONFIG` = `config` (where the plugin is installed) and a
/// dockhand home of the test's own.
fn docker_cli(config: &Path, home: &Path, docker_host: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new("docker");
    cmd.env("DOCKER_CONFIG", config)
        .env("DOCKHAND_HOME", home)
        .env("NO_COLOR", "1")
        .args(args);
    match docker_host {
        Some(h) => cmd.env("DOCKER_HOST", h),
        None => cmd.env_remove("DOCKER_HOST"),
    };
    cmd.output().expect("docker runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn have_docker_cli(test: &str) -> bool {
    let ok = Command::new("docker")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        support::skip(test, "the docker CLI is not on PATH");
    }
    ok
}

#[test]
fn plugin_install_links_and_uninstall_removes() {
    let tmp = TempDir::new("plugin-files");
    let config = tmp.0.join("docker");
    let run = |args: &[&str]| {
        support::dockhand()
            .env("DOCKER_CONFIG", &config)
            .args(args)
            .output()
            .expect("dockhand runs")
    };
    let out = run(&["plugin", "install"]);
    assert!(out.status.success(), "{}", text(&out));
    let plugin = config.join("cli-plugins/docker-extension");
    let target = fs_err::read_link(&plugin).expect("a symlink");
    assert_eq!(
        target,
        fs_err::canonicalize(env!("CARGO_BIN_EXE_dockhand")).expect("canonical")
    );
    // Again: nothing to do.
    assert!(run(&["plugin", "install"]).status.success());

    // The handshake, straight from the plugin.
    let out = Command::new(&plugin)
        .arg("docker-cli-plugin-metadata")
        .output()
        .expect("plugin runs");
    let meta: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(meta["SchemaVersion"], "0.1.0");
    assert_eq!(meta["Vendor"], "dockhand");
    assert_eq!(meta["Version"], env!("CARGO_PKG_VERSION"));
    assert!(meta["ShortDescription"].is_string() && meta["URL"].is_string());

    // Someone else's plugin is left alone unless --force.
    let other = tmp.0.join("other");
    let foreign = other.join("docker-extension");
    fs_err::create_dir_all(&other).expect("mkdir");
    fs_err::write(&foreign, "#!/bin/sh\necho '{\"Vendor\":\"Docker Inc.\"}'\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    fs_err::set_permissions(&foreign, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let dir = other.display().to_string();
    for verb in ["install", "uninstall"] {
        let out = run(&["plugin", verb, "--dir", &dir]);
        assert_eq!(out.status.code(), Some(1), "{verb}: {}", text(&out));
        assert!(text(&out).contains("not dockhand's"), "{}", text(&out));
        assert!(fs_err::read_link(&foreign).is_err(), "{verb} left it alone");
    }
    let out = run(&["plugin", "install", "--dir", &dir, "--copy", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(fs_err::read_link(&foreign).is_err(), "a copy, not a link");
    assert!(
        run(&["plugin", "uninstall", "--dir", &dir])
            .status
            .success()
    );
    assert!(!foreign.exists());

    let out = run(&["plugin", "uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(fs_err::symlink_metadata(&plugin).is_err());
    assert!(run(&["plugin", "uninstall"]).status.success());
}

#[test]
fn docker_extension_runs_dockhand_through_the_real_docker_cli() {
    const TEST: &str = "docker_extension_runs_dockhand_through_the_real_docker_cli";
    let Some(env) = support::real_env(TEST) else {
        return;
    };
    if !have_docker_cli(TEST) {
        return;
    }
    let tmp = TempDir::new("plugin-docker");
    let config = tmp.0.join("docker");
    let home = tmp.0.join("home");
    let out = support::dockhand()
        .env("DOCKER_CONFIG", &config)
        .args(["plugin", "install"])
        .output()
        .expect("dockhand runs");
    assert!(out.status.success(), "{}", text(&out));
    let host = Some(env.docker_host.as_str());
    // docker with the plugin, on the engine of DOCKER_HOST; `docker_ok` must succeed.
    let docker = |args: &[&str]| docker_cli(&config, &home, host, args);
    let docker_ok = |args: &[&str]| {
        let out = docker(args);
        assert!(out.status.success(), "docker {args:?}: {}", text(&out));
        out
    };

    // docker lists the plugin with our description.
    let out = docker(&["--help"]);
    assert!(
        text(&out).contains("extension*") && text(&out).contains("(dockhand)"),
        "{}",
        text(&out)
    );

    // ls through the plugin, on the engine of DOCKER_HOST, then with -H given to docker.
    let out = docker_ok(&["extension", "ls"]);
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("EXTENSION"));
    let out = docker_cli(
        &config,
        &home,
        None,
        &[
            "-H",
            &env.docker_host,
            "extension",
            "ls",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let listed: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(listed, serde_json::json!([]));

    // version.
    let out = docker_ok(&["extension", "version"]);
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains(&format!("Extension API {}", dockhand_spec::API_VERSION)),
        "{}",
        text(&out)
    );

    // validate with Docker's flags: -e and -s are ours too, -a and -i are accepted.
    let ext = tmp.0.join("ext");
    let init = support::dockhand()
        .arg("init")
        .arg(&ext)
        .args(["--name", "acme/plugin-test"])
        .output()
        .expect("init");
    assert!(init.status.success());
    let dir = ext.display().to_string();
    docker_ok(&["extension", "validate", &dir]);
    let out = docker_ok(&[
        "extension",
        "validate",
        "-a",
        "-e",
        "-i",
        "--sdk-version",
        "0.4.2",
        &dir,
    ]);
    assert!(
        text(&out).contains("-a: has no effect"),
        "the dropped flag is said: {}",
        text(&out)
    );
    // install -f (no question), ls, rm IMAGE:TAG (the tag dropped) through the plugin.
    let name = crate::init::unique_name("plugin");
    let reference = format!("{name}:0.1.0");
    let build = support::dockhand()
        .env("DOCKHAND_HOME", &home)
        .env("DOCKER_HOST", &env.docker_host)
        .args(["build", &dir, "-t", &reference, "--load"])
        .output()
        .expect("build");
    assert!(build.status.success(), "{}", text(&build));
    let engine_ref = format!("engine:{reference}");
    docker_ok(&["extension", "install", &engine_ref, "-f"]);
    let out = docker(&["extension", "ls"]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&name),
        "{}",
        text(&out)
    );
    docker_ok(&["extension", "rm", &reference]);
    let out = docker(&["extension", "ls", "--format", "json"]);
    assert_eq!(
        serde_json::from_slice::<Value>(&out.stdout).expect("json"),
        serde_json::json!([])
    );
    crate::support::docker(&env, &["rmi", "-f", &reference]);

    // An invalid extension fails the same way as `dockhand validate`.
    fs_err::write(ext.join("metadata.json"), "{").expect("write");
    let out = docker(&["extension", "validate", &dir]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));

    // Help is dockhand's, under docker's name.
    for args in [
        &["extension", "--help"][..],
        &["help", "extension"][..],
        &["extension"][..],
    ] {
        let out = docker(args);
        let shown = text(&out);
        assert!(
            shown.contains("Usage: docker extension") && shown.contains("validate"),
            "docker {args:?}: {shown}"
        );
    }
    let out = docker(&["extension", "rm", "--help"]);
    assert!(
        text(&out).contains("Usage: docker extension rm"),
        "{}",
        text(&out)
    );
}

#[test]
fn completion_scripts_load_in_their_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let out = support::run(&["completion", shell]);
        assert!(out.status.success(), "{shell}");
        let script = String::from_utf8(out.stdout).expect("utf-8");
        assert!(script.contains("dockhand"), "{shell}");
        for verb in ["validate", "init", "plugin", "completion"] {
            assert!(script.contains(verb), "{shell} completes {verb}");
        }
        let tmp = TempDir::new(&format!("completion-{shell}"));
        let file = tmp.write(&format!("dockhand.{shell}"), &script);
        let check = match shell {
            "bash" => Command::new("bash")
                .arg("-c")
                .arg(format!(". {} && complete -p dockhand", file.display()))
                .output(),
            other => Command::new(other).arg("-n").arg(&file).output(),
        };
        match check {
            Ok(out) => {
                assert!(out.status.success(), "{shell}: {}", text(&out));
                if shell == "bash" {
                    assert!(
                        String::from_utf8_lossy(&out.stdout).contains("dockhand"),
                        "{}",
                        text(&out)
                    );
                }
            }
            Err(_) => eprintln!("{shell} is not installed: only generated, not checked"),
        }
    }
    let out = support::run(&["completion", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn the_man_page_renders() {
    let out = support::run(&["man"]);
    assert!(out.status.success());
    let roff = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        roff.starts_with(".ie") || roff.contains(".TH dockhand"),
        "{roff}"
    );
    assert!(roff.contains("validate") && roff.contains("init"));
    let tmp = TempDir::new("man");
    let dir = tmp.0.join("man1");
    let out = support::run(&["man", "--dir", &dir.display().to_string()]);
    assert!(out.status.success());
    for page in ["dockhand.1", "dockhand-init.1", "dockhand-plugin.1"] {
        assert!(dir.join(page).is_file(), "{page}");
    }
    // man renders it when it is there.
    let rendered = Command::new("man")
        .env("MANWIDTH", "80")
        .env("MAN_KEEP_FORMATTING", "0")
        .args(["-l", &dir.join("dockhand.1").display().to_string()])
        .output();
    match rendered {
        Ok(o) if o.status.success() => {
            // Bold is overstruck (`X\bX`): keep the last of each pair.
            let mut page = String::new();
            for c in String::from_utf8_lossy(&o.stdout).chars() {
                if c == '\u{8}' {
                    page.pop();
                } else {
                    page.push(c);
                }
            }
            assert!(
                page.contains("dockhand") && page.contains("SUBCOMMANDS"),
                "{page}"
            );
        }
        _ => eprintln!("man -l is not available: the page was generated, not rendered"),
    }
}
