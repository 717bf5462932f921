//! A reference without a tag on the real registry: `install`, `inspect`,
//! `validate` and `docker extension install` take the highest version whose
//! api.version 0.4.2 satisfies (pre-releases with `--pre`, `latest` only
//! without version tags) and say which; a repository with nothing
//! compatible is refused naming what each version needs; a tag given is
//! taken as it is.

use std::process::{Command, Output};

use serde_json::Value;

use crate::lifecycle::{Home, build_and_push, example};
use crate::support::{self, RealEnv, TempDir};

const API: &str = "com.docker.desktop.extension.api.version";

/// Builds examples/minimal-ui (api.version `>= 0.3.0`) as `repo:tag`, with
/// `api` instead when given.
fn push(env: &RealEnv, repo: &str, tag: &str, api: Option<&str>) {
    let mut args = vec![
        "--label".to_owned(),
        format!("org.opencontainers.image.version={tag}"),
    ];
    if let Some(api) = api {
        args.extend(["--label".to_owned(), format!("{API}={api}")]);
    }
    build_and_push(env, &example("minimal-ui"), &format!("{repo}:{tag}"), &args);
}

fn unique(env: &RealEnv, name: &str) -> String {
    support::unique_name(&format!("{}/dockhand-ut", env.registry), name)
}

/// Runs dockhand in `home`, expecting success; stdout and stderr.
fn ok(home: &Home, args: &[&str]) -> (String, String) {
    support::succeeded_texts(&format!("dockhand {args:?}"), &home.run(args))
}

#[test]
fn untagged_takes_the_highest_compatible_version_and_says_so() {
    let Some(env) = support::real_env("untagged_takes_the_highest_compatible_version_and_says_so")
    else {
        return;
    };
    let repo = unique(&env, "ui");
    push(&env, &repo, "1.0.0", None);
    push(&env, &repo, "1.1.0", None);
    push(&env, &repo, "1.2.0", Some(">= 9"));
    push(&env, &repo, "2.0.0-rc.1", Some(">= 0.4.0"));
    push(&env, &repo, "latest", None);
    let home = Home::new(&env, "ut-install");

    // inspect and validate name the version they read.
    let (out, err) = ok(&home, &["inspect", &repo, "--format", "json"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["chosen_tag"], "1.1.0", "{out}");
    assert_eq!(v["reference"], format!("{repo}:1.1.0"));
    assert!(
        err.contains(&format!("{repo}: no tag given, chose 1.1.0"))
            && err.contains("1.2.0 needs `>= 9`"),
        "{err}"
    );
    let (out, err) = ok(&home, &["inspect", &repo]);
    assert!(out.starts_with(&format!("{repo}:1.1.0\n")), "{out}");
    assert!(err.contains("chose 1.1.0"), "{err}");
    let (out, err) = ok(&home, &["validate", &repo, "--format", "json"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(
        (v["chosen_tag"].as_str(), v["valid"].as_bool()),
        (Some("1.1.0"), Some(true))
    );
    assert!(err.contains("chose 1.1.0"), "{err}");
    let (out, _) = ok(&home, &["validate", "--pre", &repo, "--format", "json"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["chosen_tag"], "2.0.0-rc.1", "{out}");
    // A tag given is read as it is, with no chosen_tag.
    let (out, err) = ok(
        &home,
        &["inspect", &format!("{repo}:1.2.0"), "--format", "json"],
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v.get("chosen_tag"), None, "{out}");
    assert_eq!(v["api_compatible"], false);
    assert!(!err.contains("chose"), "{err}");

    // install: 1.1.0, saying why.
    let (out, err) = ok(&home, &["install", "-y", &repo]);
    assert!(out.contains(&format!("installed {repo} 1.1.0")), "{out}");
    assert!(err.contains("chose 1.1.0"), "{err}");
    assert_eq!(home.ls()[0]["version"], "1.1.0");
    // The record is the version's: `update --check` sees nothing newer.
    let (out, _) = ok(&home, &["update", "--check", "--format", "json"]);
    let rows: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(rows[0]["installed"], "1.1.0", "{out}");
    assert_eq!(rows[0]["update_available"], false, "{out}");
    // Again: the same image, nothing to do.
    let (out, _) = ok(&home, &["install", "-y", &repo]);
    assert!(out.contains("is installed already"), "{out}");
    // --pre: the release candidate.
    let (out, err) = ok(&home, &["install", "-y", "--pre", &repo]);
    assert!(
        out.contains(&format!("installed {repo} 2.0.0-rc.1")),
        "{out}"
    );
    assert!(err.contains("pre-releases included"), "{err}");
    // A tag given behaves as before: 1.2.0 needs API 9.
    let err = home.fails(&["install", "-y", &format!("{repo}:1.2.0")]);
    assert!(
        err.contains(">= 9") && err.contains("--ignore-api-version"),
        "{err}"
    );
    // --ignore-api-version without a tag: the highest release.
    let (out, _) = ok(&home, &["install", "-y", "--ignore-api-version", &repo]);
    assert!(out.contains(&format!("installed {repo} 1.2.0")), "{out}");
    ok(&home, &["rm", &repo]);
}

#[test]
fn latest_without_version_tags_and_a_refusal_without_a_compatible_one() {
    let Some(env) =
        support::real_env("latest_without_version_tags_and_a_refusal_without_a_compatible_one")
    else {
        return;
    };
    let plain = unique(&env, "plain");
    push(&env, &plain, "latest", None);
    push(&env, &plain, "edge", None);
    let future = unique(&env, "future");
    push(&env, &future, "1.0.0", Some(">= 9"));
    push(&env, &future, "2.0.0", Some(">= 10"));
    push(&env, &future, "latest", None);
    let home = Home::new(&env, "ut-latest");

    let (out, err) = ok(&home, &["install", "-y", &plain, "--format", "json"]);
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["version"], "latest", "{out}");
    assert!(err.contains("chose `latest`"), "{err}");

    let err = home.fails(&["install", "-y", &future]);
    assert!(
        err.contains(&format!(
            "no version of {future} works with extension API 0.4.2: 2.0.0 needs `>= 10`, 1.0.0 needs `>= 9`; name a version made for 0.4.2 ({future}:TAG), or pass --ignore-api-version to install the highest (2.0.0) anyway"
        )),
        "{err}"
    );
    let err = home.fails(&["inspect", &future]);
    assert!(err.contains("no version of"), "{err}");
    // Named, latest installs as before.
    let (out, _) = ok(&home, &["install", "-y", &format!("{future}:latest")]);
    assert!(out.contains("latest"), "{out}");
    ok(&home, &["rm", &plain]);
    ok(&home, &["rm", &future]);
}

#[test]
fn docker_extension_install_without_a_tag_takes_the_same_version() {
    let Some(env) =
        support::real_env("docker_extension_install_without_a_tag_takes_the_same_version")
    else {
        return;
    };
    let ok_cli = Command::new("docker")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok_cli {
        support::skip(
            "docker_extension_install_without_a_tag_takes_the_same_version",
            "the docker CLI is not on PATH",
        );
        return;
    }
    let repo = unique(&env, "plugin");
    push(&env, &repo, "0.9.0", None);
    push(&env, &repo, "v1.0.0", None);
    push(&env, &repo, "1.1.0", Some(">= 9"));
    let tmp = TempDir::new("ut-plugin");
    let (config, home) = (tmp.0.join("docker"), tmp.0.join("home"));
    let out = support::dockhand()
        .env("DOCKER_CONFIG", &config)
        .args(["plugin", "install"])
        .output()
        .expect("dockhand runs");
    assert!(out.status.success(), "{:?}", support::texts(&out));
    let docker = |args: &[&str]| -> Output {
        Command::new("docker")
            .env("DOCKER_CONFIG", &config)
            .env("DOCKHAND_HOME", &home)
            .env("DOCKER_HOST", &env.docker_host)
            .env("XDG_RUNTIME_DIR", tmp.0.join("run"))
            .env("NO_COLOR", "1")
            .args(args)
            .output()
            .expect("docker runs")
    };
    fs_err::create_dir_all(tmp.0.join("run")).expect("run dir");
    let out = docker(&["extension", "install", &repo, "-f"]);
    let (stdout, stderr) = support::texts(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(
        stdout.contains(&format!("installed {repo} v1.0.0")),
        "{stdout}"
    );
    assert!(stderr.contains("chose v1.0.0"), "{stderr}");
    let out = docker(&["extension", "rm", &repo]);
    assert!(out.status.success(), "{:?}", support::texts(&out));
}
