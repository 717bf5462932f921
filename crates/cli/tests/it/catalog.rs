//! `dockhand catalog` and the allow-list from the CLI: catalog files with
//! errors (every one named with its line), config errors and locked
//! settings, and on the real registry the latest compatible version, the
//! installed column and allow-list refusals naming the policy file.

use std::process::Output;

use serde_json::Value;

use crate::support::{self, RealEnv, TempDir, repo_root};

/// A home with a user config and a system config (possibly absent).
struct Setup {
    dir: TempDir,
    docker_host: Option<String>,
}

impl Setup {
    fn new(tag: &str) -> Self {
        let dir = TempDir::new(tag);
        fs_err::create_dir_all(dir.0.join("home")).expect("home");
        Self {
            dir,
            docker_host: None,
        }
    }

    fn user_config(&self, text: &str) {
        self.dir.write("home/config.toml", text);
    }

    fn system_config(&self, text: &str) {
        self.dir.write("etc/config.toml", text);
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = support::dockhand();
        cmd.env("DOCKHAND_HOME", self.dir.0.join("home"))
            .env("DOCKHAND_SYSTEM_CONFIG", self.dir.0.join("etc/config.toml"))
            .env("XDG_RUNTIME_DIR", self.dir.0.join("run"))
            .args(args);
        if let Some(h) = &self.docker_host {
            cmd.env("DOCKER_HOST", h);
        }
        let _ = fs_err::create_dir_all(self.dir.0.join("run"));
        cmd.output().expect("dockhand runs")
    }

    fn ok(&self, args: &[&str]) -> (String, String) {
        support::succeeded_texts(&format!("dockhand {args:?}"), &self.run(args))
    }

    fn fails(&self, args: &[&str]) -> String {
        support::failed(&format!("dockhand {args:?}"), &self.run(args))
            .replace(&self.dir.arg(), "[DIR]")
    }
}

#[test]
fn catalog_file_errors_are_each_named_with_their_line() {
    let s = Setup::new("cat-errors");
    s.dir.write(
        "home/extensions.txt",
        "# approved extensions\nacme/ok\nAcme/Upper\n\nacme/ok\nacme/two words\nacme/bad@sha256:1234\nacme/fine:1.0.0 # pinned\n",
    );
    s.user_config("[[catalog]]\nname = \"team\"\nfile = \"extensions.txt\"\n");
    insta::assert_snapshot!("catalog_txt_errors", s.fails(&["catalog"]));

    s.dir.write(
        "home/team.json",
        r#"{
  "name": "Team",
  "extensions": [
    {"reference": "acme/ok"},
    {"reference": "acme/BAD"},
    {"title": "no reference"},
    {"reference": "acme/c", "categories": ["utility-tools", "toys"]},
    {"reference": "acme/d",
     "colour": "blue"},
    "acme/e"
  ]
}
"#,
    );
    s.user_config("[[catalog]]\nname = \"team\"\nfile = \"team.json\"\n");
    insta::assert_snapshot!("catalog_json_errors", s.fails(&["catalog"]));
}

#[test]
fn config_errors_name_the_file_and_line() {
    let s = Setup::new("cat-config");
    s.user_config("[[catalog]]\nname = \"team\"\nurl = \"127.0.0.1:5000/acme\"\n\n[updates]\ncheck_interval = \"soon\"\n");
    let err = s.fails(&["catalog"]);
    assert!(
        err.contains(
            "[DIR]/home/config.toml:6: [updates] check_interval: `soon` is not a duration"
        ),
        "{err}"
    );
    s.user_config("[catalog]\nname = 1\n");
    let err = s.fails(&["catalog"]);
    assert!(err.contains("[DIR]/home/config.toml:1:"), "{err}");
    s.user_config("");
    let err = s.fails(&["catalog"]);
    assert!(err.contains("no catalog is configured"), "{err}");
}

#[test]
fn a_locked_setting_in_the_user_file_is_ignored_with_a_warning() {
    let s = Setup::new("cat-locked");
    s.dir
        .write("etc/approved.txt", "127.0.0.1:9/acme/only:1.0.0\n");
    s.system_config(
        "locked = [\"allow\"]\n\n[[catalog]]\nname = \"approved\"\nfile = \"approved.txt\"\n\n[allow]\ncatalogs = [\"approved\"]\n",
    );
    s.user_config("[allow]\nenabled = false\n");
    let err = s.fails(&["install", "-y", "127.0.0.1:9/acme/other:1.0.0"]);
    assert!(
        err.contains("[DIR]/home/config.toml:1: `allow` is locked by [DIR]/etc/config.toml: this setting is ignored"),
        "{err}"
    );
    assert!(
        err.contains("127.0.0.1:9/acme/other:1.0.0 is not allowed by the allow-list ([allow] in [DIR]/etc/config.toml): 127.0.0.1:9/acme/other is not listed"),
        "{err}"
    );
    let err = s.fails(&["install", "-y", "127.0.0.1:9/acme/only:2.0.0"]);
    assert!(
        err.contains(
            "only 127.0.0.1:9/acme/only:1.0.0 ([DIR]/etc/approved.txt:1) may be installed"
        ),
        "{err}"
    );
}

/// Builds `examples/minimal-ui` as `repo:tag` on the registry, with `labels`.
fn push(env: &RealEnv, repo: &str, tag: &str, labels: &[&str]) {
    let mut args = vec!["-q".to_owned()];
    for l in labels {
        args.extend(["--label".to_owned(), (*l).to_owned()]);
    }
    let dir = repo_root().join("examples/minimal-ui");
    crate::lifecycle::build_and_push(env, &dir, &format!("{repo}:{tag}"), &args);
}

/// A namespace of its own on the registry.
fn namespace(env: &RealEnv) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    format!(
        "{}/dockhand-cat-{}-{nanos}",
        env.registry,
        std::process::id()
    )
}

fn json(stdout: &str) -> Vec<Value> {
    serde_json::from_str::<Value>(stdout)
        .expect("json")
        .as_array()
        .expect("array")
        .clone()
}

#[test]
fn catalog_and_allow_list_on_the_real_registry() {
    let Some(env) = support::real_env("catalog_and_allow_list_on_the_real_registry") else {
        return;
    };
    let ns = namespace(&env);
    let repo = format!("{ns}/minimal");
    push(&env, &repo, "1.0.0", &[]);
    push(
        &env,
        &repo,
        "1.1.0",
        &["org.opencontainers.image.title=Minimal 1.1"],
    );
    push(
        &env,
        &repo,
        "2.0.0",
        &["com.docker.desktop.extension.api.version=>= 9.0.0"],
    );
    let mut s = Setup::new("cat-real");
    s.docker_host = Some(env.docker_host.clone());
    s.user_config(&format!("[[catalog]]\nname = \"local\"\nurl = \"{ns}\"\n"));

    let (out, _) = s.ok(&["catalog", "--format", "json"]);
    let items = json(&out);
    assert_eq!(items.len(), 1, "{out}");
    let e = &items[0];
    assert_eq!(e["id"], repo.as_str());
    assert_eq!(e["latest"], "1.1.0", "2.0.0 needs API 9");
    assert_eq!(e["title"], "Minimal 1.1");
    assert_eq!(e["vendor"], "dockhand examples");
    assert_eq!(e["categories"], serde_json::json!(["utility-tools"]));
    assert_eq!(e["compatible"], true);
    assert_eq!(e["installed"], Value::Null);
    assert_eq!(e["catalog"], "local");

    // The allow-list lets only 1.0.0 in.
    s.user_config(&format!(
        "[[catalog]]\nname = \"local\"\nurl = \"{ns}\"\n\n[allow]\nenabled = true\nextensions = [\"{repo}:1.0.0\"]\n"
    ));
    let err = s.fails(&["install", "-y", &format!("{repo}:1.1.0")]);
    assert!(
        err.contains(&format!(
            "{repo}:1.1.0 is not allowed by the allow-list ([allow] in [DIR]/home/config.toml): only {repo}:1.0.0 ([DIR]/home/config.toml:7 ([allow] extensions)) may be installed"
        )),
        "{err}"
    );
    // Without a tag: the highest version the allow-list lets in, not 1.1.0.
    let (out, err) = s.ok(&["install", "-y", &repo]);
    assert!(out.contains(&format!("installed {repo} 1.0.0")), "{out}");
    assert!(err.contains("chose 1.0.0"), "{err}");

    let (out, _) = s.ok(&["catalog", "--format", "json", "minimal"]);
    assert_eq!(json(&out)[0]["installed"], "1.0.0");
    let (text, _) = s.ok(&["catalog", "--category", "utility-tools"]);
    assert!(text.starts_with("EXTENSION"), "{text}");
    assert!(text.contains("1.0.0 (update: 1.1.0)"), "{text}");
    let (out, _) = s.ok(&["catalog", "--format", "json", "--category", "volumes"]);
    assert!(json(&out).is_empty());
    s.ok(&["rm", &repo]);
}
