//! `dockhand dev` and `dockhand logs --bridge` on a home with an extension
//! put straight into its state (no engine needed).
#![allow(clippy::unwrap_used)] // test helpers

use std::path::Path;
use std::process::Output;

use dockhand_host::dev::BridgeLog;
use dockhand_host::layout::Layout;
use dockhand_host::state::{ExtensionRecord, State};
use dockhand_spec::ExtensionId;
use dockhand_testkit::records::record;

use crate::support::{TempDir, dockhand};

const ID: &str = "acme/devved";

fn home_with_extension(tmp: &TempDir) -> std::path::PathBuf {
    let home = tmp.0.join("home");
    let state = State::open(&home).unwrap();
    let id = ExtensionId::parse(ID).unwrap();
    state
        .put(&ExtensionRecord {
            digest: format!("sha256:{}", "cd".repeat(32)),
            ..record(&id, "Devved", home.join("extensions/acme_devved/v"))
        })
        .unwrap();
    home
}

fn dh(home: &Path, args: &[&str]) -> Output {
    dockhand()
        .args(args)
        .env("DOCKHAND_HOME", home)
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn settings(home: &Path) -> dockhand_host::dev::DevSettings {
    State::open(home)
        .unwrap()
        .dev_settings(&ExtensionId::parse(ID).unwrap())
        .unwrap()
}

#[test]
fn ui_source_debug_and_reset() {
    let tmp = TempDir::new("dev");
    let home = home_with_extension(&tmp);
    let o = dh(&home, &["dev", "ui-source", ID, "http://localhost:1/app/"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("nothing answers at http://localhost:1/app/"),
        "{err}"
    );
    assert!(err.contains(&format!("dockhand dev reset {ID}")), "{err}");
    let s = settings(&home);
    assert_eq!(s.ui_source.unwrap().as_str(), "http://localhost:1/app/");
    assert!(!s.debug);

    let o = dh(&home, &["dev", "debug", ID]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("bridge.log"), "{}", stderr(&o));
    let s = settings(&home);
    assert!(s.debug && s.ui_source.is_some());

    let o = dh(&home, &["dev", "reset", ID]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("out of dev mode"), "{}", stderr(&o));
    assert_eq!(settings(&home), Default::default());
    let o = dh(&home, &["dev", "reset", ID]);
    assert!(o.status.success());
    assert!(stderr(&o).contains("was not in dev mode"), "{}", stderr(&o));
}

#[test]
fn refusals_name_what_and_why() {
    let tmp = TempDir::new("dev-refuse");
    let home = home_with_extension(&tmp);
    let cases: &[(&[&str], &str)] = &[
        (
            &["dev", "ui-source", "acme/missing", "http://localhost:5173"],
            "acme/missing is not installed",
        ),
        (
            &["dev", "debug", "acme/missing"],
            "acme/missing is not installed",
        ),
        (
            &["dev", "reset", "acme/missing"],
            "acme/missing is not installed",
        ),
        (
            &["dev", "ui-source", ID, "http://user:pw@localhost:5173"],
            "carries credentials",
        ),
        (
            &["dev", "ui-source", ID, "http://192.0.2.1:5173"],
            "--allow-remote",
        ),
        (
            &["dev", "ui-source", ID, "file:///etc"],
            "not an http(s) URL",
        ),
        (&["dev", "ui-source", ID, "::nope"], "is not a URL"),
    ];
    for (args, expect) in cases {
        let o = dh(&home, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(expect), "{args:?}: {}", stderr(&o));
        assert!(!stderr(&o).contains("pw@"), "credentials are not echoed");
    }
    assert_eq!(settings(&home), Default::default(), "nothing was stored");
    // Trusted explicitly.
    let o = dh(
        &home,
        &[
            "dev",
            "ui-source",
            ID,
            "http://192.0.2.1:5173",
            "--allow-remote",
        ],
    );
    assert!(o.status.success(), "{}", stderr(&o));
}

#[test]
fn help_explains() {
    let tmp = TempDir::new("dev-help");
    let o = dh(&tmp.0, &["dev", "--help"]);
    let out = String::from_utf8_lossy(&o.stdout);
    for word in [
        "ui-source",
        "debug",
        "reset",
        "--allow-remote",
        "hot reload",
        "logs ID --bridge",
    ] {
        assert!(out.contains(word), "{word}: {out}");
    }
}

#[test]
fn logs_bridge_prints_tails_and_json() {
    let tmp = TempDir::new("dev-logs");
    let home = home_with_extension(&tmp);
    let o = dh(&home, &["logs", ID, "--bridge"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(o.stdout.is_empty());
    assert!(
        stderr(&o).contains(&format!("dockhand dev debug {ID}")),
        "{}",
        stderr(&o)
    );

    let layout = Layout {
        home: home.clone(),
        runtime: tmp.0.join("run"),
    };
    let log = BridgeLog::of(&layout, &ExtensionId::parse(ID).unwrap());
    for (i, kind) in ["info", "docker.cli.exec", "vm.service"].iter().enumerate() {
        log.append(
            &serde_json::json!({"ts": format!("t{i}"), "kind": kind, "method": "GET", "path": "/p", "target": "ps", "argv": ["-a"], "status": 200, "duration_ms": 1.5, "bytes_out": 10})
                .to_string(),
        )
        .unwrap();
    }
    assert!(dh(&home, &["dev", "debug", ID]).status.success());
    let o = dh(&home, &["logs", ID, "--bridge", "--tail", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(
        out,
        "t1 docker.cli.exec ps -a -> 200 1.5 ms, 10 B\nt2 vm.service GET ps -a -> 200 1.5 ms, 10 B\n"
    );
    assert!(!stderr(&o).contains("not being logged"));
    let o = dh(&home, &["logs", ID, "--bridge", "--format", "json"]);
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 3);
    assert_eq!(lines[1]["kind"], "docker.cli.exec");
}
