//! `dockhand init`: every flag combination validates with no diagnostic; the generated
//! extensions build (their std-only backend with cargo, the image with `dockhand build`),
//! install on the real engine and answer on their socket; the tab works in Chromium.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::lifecycle::{Home, http_get};
use crate::support::{self, TempDir, docker};

const KINDS: [&str; 3] = ["none", "image", "compose"];

fn init(dir: &Path, extra: &[&str]) -> std::process::Output {
    support::dockhand()
        .arg("init")
        .arg(dir)
        .args(extra)
        .output()
        .expect("dockhand init runs")
}

fn init_ok(dir: &Path, extra: &[&str]) {
    let out = init(dir, extra);
    support::assert_succeeded(&format!("init {extra:?}"), &out);
}

/// Files under `dir`, sorted, with `*` after executables.
fn listing(dir: &Path) -> Vec<String> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs_err::read_dir(&d).expect("read_dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path
                .strip_prefix(dir)
                .expect("inside")
                .to_string_lossy()
                .into_owned();
            let exec = fs_err::metadata(&path).expect("meta").permissions().mode() & 0o111 != 0;
            out.push(if exec { format!("{rel}*") } else { rel });
        }
    }
    out.sort();
    out
}

#[test]
fn every_combination_validates_with_no_diagnostic() {
    let tmp = TempDir::new("init-all");
    let mut snapshot = String::new();
    for kind in KINDS {
        for host in [false, true] {
            let dir = tmp.0.join(format!("{kind}-{host}"));
            let mut args = vec!["--name", "acme/my-ext", "--backend", kind];
            if host {
                args.push("--host-binaries");
            }
            init_ok(&dir, &args);
            let out = support::run(&["validate", &dir.display().to_string(), "--format", "json"]);
            let report: Value = serde_json::from_slice(&out.stdout).expect("json");
            assert!(out.status.success(), "{kind} {host}: {report:#}");
            assert_eq!(
                report["diagnostics"],
                serde_json::json!([]),
                "{kind} host={host}"
            );
            snapshot.push_str(&format!(
                "--backend {kind}{}\n",
                if host { " --host-binaries" } else { "" }
            ));
            for f in listing(&dir) {
                snapshot.push_str(&format!("  {f}\n"));
            }
        }
    }
    insta::assert_snapshot!("init_files", snapshot);
}

#[test]
fn init_refuses_a_non_empty_dir_and_bad_names() {
    let tmp = TempDir::new("init-bad");
    let dir = tmp.0.join("My Tool");
    tmp.write("My Tool/notes.txt", "mine");
    let err = support::failed("dockhand init", &init(&dir, &[]));
    assert!(
        err.contains("is not empty") && err.contains("--force"),
        "{err}"
    );
    // --force writes beside the author's file; the name comes from the directory.
    let out = init(&dir, &["--force", "--format", "json"]);
    assert!(out.status.success());
    let json: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["name"], "my-org/my-tool");
    assert_eq!(json["title"], "My Tool");
    assert!(dir.join("notes.txt").is_file() && dir.join("metadata.json").is_file());

    for bad in ["Acme/Ext", "ext", "acme/ext:1.0"] {
        let out = init(&tmp.0.join("x"), &["--name", bad]);
        assert_eq!(out.status.code(), Some(1), "{bad}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("ORG/REPO"));
    }
    let out = init(&tmp.0.join("y"), &["--backend", "kubernetes"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn build_adds_files_and_sets_the_run_config() {
    let tmp = TempDir::new("init-build");
    let dir = tmp.0.join("ext");
    init_ok(&dir, &["--name", "acme/ext", "--backend", "image"]);
    fs_err::create_dir_all(dir.join("dist")).expect("mkdir");
    fs_err::write(dir.join("dist/backend"), "#!/bin/sh\n").expect("write");
    let layout = tmp.0.join("layout");
    let out = support::dockhand()
        .env("DOCKHAND_HOME", tmp.0.join("home"))
        .args(["build", &dir.display().to_string(), "-t", "acme/ext:0.1.0"])
        .args([
            "--platform",
            "linux/amd64",
            "--add",
            "dist/backend:/backend",
        ])
        .args([
            "--cmd",
            "/backend",
            "--cmd",
            "--socket=/x",
            "--stop-signal",
            "SIGKILL",
        ])
        .arg("--output")
        .arg(format!("oci:{}", layout.display()))
        .output()
        .expect("build");
    support::assert_succeeded("dockhand build", &out);
    let blob = |digest: &str| -> Vec<u8> {
        let hex = digest.trim_start_matches("sha256:");
        fs_err::read(layout.join("blobs/sha256").join(hex)).expect("blob")
    };
    let index: Value =
        serde_json::from_slice(&fs_err::read(layout.join("index.json")).expect("index"))
            .expect("json");
    let top: Value = serde_json::from_slice(&blob(
        index["manifests"][0]["digest"].as_str().expect("digest"),
    ))
    .expect("json");
    let manifest: Value = serde_json::from_slice(&blob(
        top["manifests"][0]["digest"].as_str().expect("digest"),
    ))
    .expect("json");
    let config: Value = serde_json::from_slice(&blob(
        manifest["config"]["digest"].as_str().expect("digest"),
    ))
    .expect("json");
    assert_eq!(
        config["config"]["Cmd"],
        serde_json::json!(["/backend", "--socket=/x"])
    );
    assert_eq!(config["config"]["StopSignal"], "SIGKILL");
    // The extra layer is the bottom one and holds /backend, executable.
    let bottom = blob(manifest["layers"][0]["digest"].as_str().expect("digest"));
    let tar = gunzip(&bottom);
    assert!(
        tar.windows(b"backend\0".len()).any(|w| w == b"backend\0"),
        "the first layer holds backend"
    );

    // Bad --add values are refused before anything is built.
    for bad in [
        "dist/backend",
        "dist/backend:backend",
        "missing:/x",
        "dist:/dist",
    ] {
        let out = support::dockhand()
            .env("DOCKHAND_HOME", tmp.0.join("home"))
            .args([
                "build",
                &dir.display().to_string(),
                "-t",
                "acme/ext:0.1.0",
                "--add",
                bad,
            ])
            .output()
            .expect("build");
        assert_eq!(out.status.code(), Some(1), "--add {bad}");
    }
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .args(["-dc"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gzip");
    use std::io::Write;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(bytes)
        .expect("write");
    child.wait_with_output().expect("gzip output").stdout
}

/// Builds the generated backend as the README says (static, this host's gnu target) into
/// `<dir>/dist/backend`; the cargo target dir is kept between runs.
pub(crate) fn build_backend(dir: &Path) {
    let rustc = Command::new("rustc").arg("-vV").output().expect("rustc");
    let target = String::from_utf8_lossy(&rustc.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .expect("host triple")
        .to_owned();
    let target_dir = crate::dashboard::target_dir().join("init-backend");
    let out = Command::new("cargo")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env("RUSTFLAGS", "-C target-feature=+crt-static")
        .env("CARGO_TARGET_DIR", &target_dir)
        .args(["build", "--quiet", "--release", "--manifest-path"])
        .arg(dir.join("backend/Cargo.toml"))
        .args(["--target", &target])
        .output()
        .expect("cargo runs");
    support::assert_succeeded("cargo build", &out);
    fs_err::create_dir_all(dir.join("dist")).expect("mkdir");
    fs_err::copy(
        target_dir.join(&target).join("release/backend"),
        dir.join("dist/backend"),
    )
    .expect("copy the backend");
}

/// `dockhand build … --load` as the README says; gives the `engine:` reference.
pub(crate) fn build_and_load(home: &Home, dir: &Path, name: &str, backend: bool) -> String {
    let reference = format!("{name}:0.1.0");
    let dir_arg = dir.display().to_string();
    let mut args = vec!["build", &dir_arg, "-t", &reference, "--load"];
    if backend {
        args.extend([
            "--platform",
            host_platform(),
            "--add",
            "dist/backend:/backend",
        ]);
        args.extend(["--cmd", "/backend", "--stop-signal", "SIGKILL"]);
    }
    home.ok(&args);
    format!("engine:{reference}")
}

fn host_platform() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "linux/arm64"
    } else {
        "linux/amd64"
    }
}

pub(crate) fn unique_name(kind: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!("dockhand-init/{kind}-{}-{nanos}", std::process::id())
}

#[test]
fn init_extensions_build_install_and_answer() {
    let Some(env) = support::real_env("init_extensions_build_install_and_answer") else {
        return;
    };
    let tmp = TempDir::new("init-e2e");
    let home = Home::new(&env, "init-e2e-home");
    for kind in KINDS {
        let dir = tmp.0.join(kind);
        let name = unique_name(kind);
        let host = kind == "image";
        let mut args = vec!["--name", name.as_str(), "--backend", kind];
        if host {
            args.push("--host-binaries");
        }
        init_ok(&dir, &args);
        let backend = kind != "none";
        if backend {
            build_backend(&dir);
        }
        home.ok(&["validate", &dir.display().to_string()]);
        let reference = build_and_load(&home, &dir, &name, backend);
        home.ok(&["install", &reference, "-y"]);
        let listed = home.ls();
        let entry = listed
            .iter()
            .find(|e| e["id"] == name.as_str())
            .expect("listed");
        if backend {
            assert_eq!(entry["vm"]["state"], "running", "{entry:#}");
            let answer = http_get(&home.socket(&name, "backend.sock"), "/hello");
            assert!(
                answer.starts_with("HTTP/1.1 200")
                    && answer.contains(&format!("hello from the {name} backend")),
                "{kind}: {answer}"
            );
        } else {
            assert_eq!(entry["vm"], Value::Null);
        }
        if host {
            assert_eq!(
                entry["host_binaries"],
                serde_json::json!([name.rsplit('/').next()])
            );
        }
        home.ok(&["rm", &name]);
        home.assert_gone(&name);
        docker(&env, &["rmi", "-f", &format!("{name}:0.1.0")]);
    }
}

/// The init'd extension in the dashboard, in headless Chromium: its tab loads with
/// window.ddClient, shows its toast, and its `vm.service.get("/hello")` and host binary
/// answers appear in the page.
#[test]
fn init_extension_tab_works_in_chromium() {
    const TEST: &str = "init_extension_tab_works_in_chromium";
    use crate::dashboard::{
        browser_env, click_result, e2e_runtime, expect_toast, in_browser, open_tab, screenshot,
        wait_js,
    };
    let Some((env, browser)) = browser_env(TEST) else {
        return;
    };
    let tmp = TempDir::new("init-chromium");
    let home = Home::new(&env, "init-chromium-home");
    let name = unique_name("tab");
    let title = "Init Tab";
    let dir = tmp.0.join("ext");
    init_ok(
        &dir,
        &[
            "--name",
            &name,
            "--backend",
            "image",
            "--host-binaries",
            "--title",
            title,
        ],
    );
    build_backend(&dir);
    let reference = build_and_load(&home, &dir, &name, true);
    home.ok(&["install", &reference, "-y"]);

    let bin = name.rsplit('/').next().unwrap_or_default().to_owned();
    let runtime = e2e_runtime();
    let (serve, outcome) = in_browser(
        &runtime,
        &home,
        &browser,
        &tmp.0,
        "init-failure.png",
        async |c, serve| {
            crate::dashboard::open_dashboard(c, serve).await?;
            wait_js(
                c,
                "the sidebar entry",
                &format!(r#"return document.querySelector('#ext-nav a[title="{name}"]') !== null"#),
            )
            .await?;
            open_tab(c, &name, title).await?;
            // The page calls the backend as it loads.
            let hello = wait_js(
            c,
            "#hello-result",
            "const e = document.getElementById('hello-result'); \
             return ['ok', 'error'].includes(e.dataset.state) ? [e.dataset.state, e.textContent] : null",
        )
        .await?;
            anyhow::ensure!(
                hello[0] == "ok"
                    && hello[1]
                        .as_str()
                        .is_some_and(|t| t.contains(&format!("hello from the {name} backend"))),
                "#hello-result: {hello}"
            );
            // Again, by its button.
            let (state, text) = click_result(c, "hello-button", "hello-result").await?;
            anyhow::ensure!(
                state == "ok" && text.contains("\"version\": \"0.1.0\""),
                "{text}"
            );
            let (state, text) = click_result(c, "host-binary-button", "host-binary-result").await?;
            anyhow::ensure!(
                state == "ok" && text.contains(&format!("hello from {bin} on Linux")),
                "host binary: {state} {text}"
            );
            let facts = wait_js(
            c,
            "#host-facts-result",
            "const e = document.getElementById('host-facts-result'); return e.dataset.state === 'ok' ? e.textContent : null",
        )
        .await?;
            anyhow::ensure!(
                facts
                    .as_str()
                    .is_some_and(|t| t.contains("\"platform\": \"linux\"")),
                "{facts}"
            );
            expect_toast(c, title, "Init Tab is loaded").await?;
            screenshot(c, "init-tab.png").await?;
            Ok(())
        },
    );
    let stderr = serve.stderr();
    drop(serve);
    home.ok(&["rm", &name]);
    docker(&env, &["rmi", "-f", &format!("{name}:0.1.0")]);
    if let Err(e) = outcome {
        panic!("{e:#}\n--- dockhand serve's stderr:\n{stderr}");
    }
}
