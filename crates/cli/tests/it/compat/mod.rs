//! The compatibility lab (`scripts/compat`, `docs/compatibility.md`):
//! published Docker Desktop extensions (`../shared/real-extensions`) and the
//! lab's own fixture (`crates/cli/tests/compat/`), their UIs built by npm
//! from their own lockfiles (`scripts/compat --build-only`, cached under
//! `.state/compat/`), each `dockhand build` and pushed to the test registry,
//! installed by an ordinary docker-group user (`DOCKHAND_TEST_USER`) with
//! `dockhand dev debug` on, and opened in headless Chromium through that
//! user's `dockhand serve`. Per extension: its first screen within the time
//! limit, no uncaught exception or unhandled rejection in its page (the
//! page-error hook of `ddclient.js`, read from the bridge call log), and every
//! bridge call its page made while opening answered by dockhand. The table is
//! printed; `DOCKHAND_COMPAT_DOCS=PATH` writes it into the docs; screenshots
//! go to `<target>/compat/`. `DOCKHAND_COMPAT_ONLY=a,b` picks extensions.

mod expect;
mod no_start;
mod page;
mod report;
pub(crate) mod user;

use std::path::Path;
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, ensure};
use fantoccini::Client;

use self::expect::{Backend, Built, Expected};
use self::report::Row;
use self::user::LabUser;
use crate::dashboard::{Driver, Serve, browser, connect, e2e_runtime, target_dir, wait_js};
use crate::support::{self, RealEnv, TempDir, docker};

const TEST: &str = "published_extensions_in_chromium";

/// The lab's busybox-static root filesystem, in the engine.
const BASE: &str = "dockhand-compat/busybox:lab";

/// A container of the lab that runs while the tabs are open.
const IDLE: &str = "dockhand-compat-idle";

#[test]
fn published_extensions_in_chromium() {
    let Some(env) = support::real_env(TEST) else {
        return;
    };
    let Some(browser) = browser() else {
        return;
    };
    let Some(user_name) = dockhand_testkit::env::require_var(
        TEST,
        "DOCKHAND_TEST_USER",
        "DOCKHAND_TEST_USER (a user in the docker group, made by scripts/test and scripts/compat) is unset",
    ) else {
        return;
    };
    if !is_root() {
        support::skip(
            TEST,
            "the lab runs dockhand as DOCKHAND_TEST_USER with setpriv, which needs root",
        );
        return;
    }
    let started = Instant::now();
    let expectations = expect::load().expect("crates/cli/tests/compat/expectations.json");
    let built = match expect::built() {
        Ok(b) => b,
        Err(e) => {
            // No extension set beside the checkout, no npm registry…
            support::skip(TEST, &format!("the extensions' UIs: {e:#}"));
            return;
        }
    };
    let mut lab: Vec<(Expected, Built)> = Vec::new();
    for b in &built {
        let exp = expectations
            .extensions
            .iter()
            .find(|e| e.name == b.name)
            .unwrap_or_else(|| {
                panic!(
                    "{} is not in crates/cli/tests/compat/expectations.json: give it its title, first screen and backend",
                    b.name
                )
            });
        if expect::selected(&b.name) {
            lab.push((exp.clone(), b.clone()));
        }
    }
    assert!(!lab.is_empty(), "no extension selected");
    eprintln!("{TEST}: UIs ready in {:?}", started.elapsed());

    let shots = target_dir().join("compat");
    let _ = fs_err::remove_dir_all(&shots);
    base_images(&env, &lab).expect("the lab's busybox-static base");
    let user = LabUser::new(&user_name, &env).expect("the lab user's home");
    let mut cleanup = Cleanup {
        env: &env,
        user: &user,
        ids: Vec::new(),
    };

    // Build and push every image at once, then install them one by one.
    let published: Vec<Result<(String, String)>> = std::thread::scope(|s| {
        let jobs: Vec<_> = lab
            .iter()
            .map(|(exp, b)| {
                let env = &env;
                s.spawn(move || publish(env, exp, b))
            })
            .collect();
        jobs.into_iter()
            .map(|j| j.join().expect("publish"))
            .collect()
    });
    eprintln!("{TEST}: built and pushed in {:?}", started.elapsed());
    let mut rows: Vec<Row> = lab.iter().map(|(e, b)| Row::new(e, b)).collect();
    let mut installed: Vec<(usize, String)> = Vec::new();
    for (i, p) in published.into_iter().enumerate() {
        let (exp, _) = &lab[i];
        let installed_as = p.and_then(|(reference, id)| {
            // Removed at the end even when a later step fails.
            cleanup.ids.push(id.clone());
            install(&user, exp, &reference).map(|()| id)
        });
        match installed_as {
            Ok(id) => installed.push((i, id)),
            Err(e) => rows[i].problems.push(format!("{e:#}")),
        }
    }
    eprintln!("{TEST}: installed in {:?}", started.elapsed());

    // One Chromium session through the user's `dockhand serve`.
    let serve = Serve::spawn(
        user.cmd(&["serve", "--port", "0"]),
        user.log_path("serve.log"),
    )
    .expect("dockhand serve as the lab user");
    let profile = TempDir::new("compat-chromium");
    let driver = Driver::start(&browser.chromedriver, &profile.0.join("chromedriver.log"))
        .expect("chromedriver");
    let runtime = e2e_runtime();
    let opened = runtime.block_on(async {
        let client = connect(&driver, &browser, &profile.0.join("profile")).await?;
        let mut result = open_all(&client, &serve, &lab, &installed, &expectations, &shots).await;
        if let Err(e) = result {
            let _ = page::screenshot(&client, &shots, "failure.png").await;
            let shown = client
                .execute("return [location.href, document.body ? document.body.innerText.slice(0, 1500) : null]", vec![])
                .await
                .unwrap_or_default();
            result = Err(e.context(format!("the dashboard shows {shown}")));
        }
        let _ = client.close().await;
        result
    });
    drop(driver);
    let opened = match opened {
        Ok(o) => o,
        Err(e) => panic!(
            "{TEST}: the dashboard: {e:#}\n--- dockhand serve's stderr:\n{}",
            serve.stderr()
        ),
    };
    drop(serve);
    eprintln!("{TEST}: every tab opened in {:?}", started.elapsed());

    for ((i, id), o) in installed.iter().zip(opened) {
        let (exp, _) = &lab[*i];
        let row = &mut rows[*i];
        row.notes.extend(o.notes.iter().cloned());
        match &o.first_screen {
            Some(Ok(t)) => row.first_screen = Some(t.as_secs_f64()),
            Some(Err(e)) => row.problems.push(format!("first screen: {e}")),
            None => {}
        }
        for (check, result) in &o.checks {
            match result {
                // lab-detects is judged by the call log (below).
                Ok(_) if check == "lab-detects" => {}
                Ok(seen) => row.notes.push(format!("{check}: {seen}")),
                Err(e) => row.problems.push(format!("{check}: {e}")),
            }
        }
        match user.ok(&["logs", id, "--bridge", "--format", "json"]) {
            Ok(log) => {
                let mut calls = report::calls(&log, exp.backend.runs());
                if exp.checks.iter().any(|c| c == "lab-detects") {
                    deliberate(row, &mut calls);
                }
                row.calls = calls.seen;
                for e in calls.page_errors {
                    row.problems.push(format!("page error: {e}"));
                }
                for r in calls.refused {
                    row.problems.push(format!("not answered: {r}"));
                }
                if !calls.backend_absent.is_empty() {
                    row.notes.push(format!(
                        "without its backend, dockhand answered {}",
                        calls.backend_absent.join(", ")
                    ));
                }
            }
            Err(e) => row.problems.push(format!("the bridge call log: {e:#}")),
        }
        if let Some(note) = &exp.first_screen_note {
            row.notes.push(format!("first screen checked: {note}"));
        }
    }
    drop(cleanup);

    let table = report::print(&rows);
    eprintln!("{table}");
    eprintln!(
        "{TEST}: {} of {} extensions work, in {:?}; screenshots in {}",
        rows.iter().filter(|r| r.passed()).count(),
        rows.len(),
        started.elapsed(),
        shots.display()
    );
    if let Some(path) = std::env::var_os("DOCKHAND_COMPAT_DOCS") {
        fs_err::write(&path, report::docs(&rows)).expect("write the docs");
        eprintln!("{TEST}: wrote {}", Path::new(&path).display());
    }
    let failed: Vec<&str> = rows
        .iter()
        .filter(|r| !r.passed())
        .map(|r| r.name.as_str())
        .collect();
    assert!(
        failed.is_empty(),
        "{TEST}: {} do not work on dockhand (the table above says why)",
        failed.join(", ")
    );
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// Takes the failures the fixture's `lab-detects` check made out of
/// `calls`: each must be there (else the lab would not see a real one).
fn deliberate(row: &mut Row, calls: &mut report::Calls) {
    let errors = calls.page_errors.len();
    calls.page_errors.retain(|e| !e.contains(page::DELIBERATE));
    let refused = calls.refused.len();
    calls.refused.retain(|r| !r.contains(page::UNKNOWN_BINARY));
    calls.seen.retain(|c| !c.contains(page::UNKNOWN_BINARY));
    let (errors, refused) = (
        errors - calls.page_errors.len(),
        refused - calls.refused.len(),
    );
    if errors == 2 && refused == 1 {
        row.notes.push(
            "lab-detects: the deliberate uncaught exception and unhandled rejection were in the call log as page.error entries, the refused call with its 404".to_owned(),
        );
    } else {
        row.problems.push(format!(
            "lab-detects: of the failures made on purpose the call log shows {errors} page errors of 2 and {refused} refused calls of 1: the lab cannot see failures"
        ));
    }
}

/// The busybox-static base (`BASE`) and, for the extensions whose compose
/// files name Docker Hub images that only run a shell, those names as tags
/// of it (unless the engine has them already).
fn base_images(env: &RealEnv, lab: &[(Expected, Built)]) -> Result<()> {
    let ctx = TempDir::new("compat-base");
    fs_err::copy("/bin/busybox", ctx.0.join("busybox"))
        .context("/bin/busybox (busybox-static, installed by scripts/deps)")?;
    ctx.write(
        "Dockerfile",
        "FROM scratch\n\
         COPY busybox /bin/busybox\n\
         RUN [\"/bin/busybox\", \"--install\", \"-s\", \"/bin\"]\n\
         ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n\
         LABEL dev.dockhand.compat=\"the compatibility lab's busybox-static base\"\n\
         STOPSIGNAL SIGKILL\n\
         CMD [\"sh\"]\n",
    );
    docker(env, &["build", "-q", "-t", BASE, &ctx.arg()]);
    // A container that runs whatever the selection, for the pages that list them.
    let _ = Command::new("docker")
        .env("DOCKER_HOST", &env.docker_host)
        .args(["rm", "-f", IDLE])
        .output();
    docker(
        env,
        &[
            "run",
            "-d",
            "--name",
            IDLE,
            "--label",
            "dev.dockhand.compat=idle",
            BASE,
            "sleep",
            "infinity",
        ],
    );
    for (exp, _) in lab {
        if let Backend::Standin { images, .. } = &exp.backend {
            for image in images {
                let present = Command::new("docker")
                    .env("DOCKER_HOST", &env.docker_host)
                    .args(["image", "inspect", "--format", "{{.Id}}", image])
                    .output()
                    .is_ok_and(|o| o.status.success());
                if !present {
                    docker(env, &["tag", BASE, image]);
                }
            }
        }
    }
    Ok(())
}

/// `dockhand build ROOT -t REGISTRY/dockhand-compat/NAME:1.0.0 --push` (on
/// the busybox base with the final stage's command for `busybox` backends);
/// gives `(reference, id)`.
fn publish(env: &RealEnv, exp: &Expected, b: &Built) -> Result<(String, String)> {
    let id = format!("{}/dockhand-compat/{}", env.registry, exp.name);
    let reference = format!("{id}:1.0.0");
    let scratch = TempDir::new("compat-build");
    let mut cmd = support::dockhand();
    cmd.env("DOCKHAND_HOME", &scratch.0)
        .env("DOCKER_HOST", &env.docker_host)
        .arg("build")
        .arg(&b.root)
        .args(["-t", &reference, "--push"]);
    if let Backend::Busybox { cmd: run, .. } = &exp.backend {
        cmd.args(["--base", &format!("engine:{BASE}")]);
        for arg in run {
            cmd.arg(format!("--cmd={arg}"));
        }
    }
    let out = cmd.output().context("dockhand build runs")?;
    ensure!(
        out.status.success(),
        "dockhand build refused it: {}",
        String::from_utf8_lossy(&out.stderr).trim_end()
    );
    Ok((reference, id))
}

/// `dockhand install REF -y` as the lab user (`--no-start` when the backend
/// cannot be built here), then `dockhand dev debug ID` for the call log.
fn install(user: &LabUser, exp: &Expected, reference: &str) -> Result<()> {
    let mut args = vec!["install", reference, "-y"];
    if matches!(exp.backend, Backend::Unbuildable { .. }) {
        args.push("--no-start");
    }
    user.ok(&args).context("install")?;
    let id = reference.rsplit_once(':').map_or(reference, |(id, _)| id);
    user.ok(&["dev", "debug", id])?;
    Ok(())
}

/// The dashboard, then every installed extension's tab in turn.
async fn open_all(
    c: &Client,
    serve: &Serve,
    lab: &[(Expected, Built)],
    installed: &[(usize, String)],
    expectations: &expect::Expectations,
    shots: &Path,
) -> Result<Vec<page::Opened>> {
    crate::dashboard::open_dashboard(c, serve).await?;
    wait_js(
        c,
        "every installed extension in the sidebar",
        &format!(
            "return document.querySelectorAll('#ext-nav a').length === {}",
            installed.len()
        ),
    )
    .await?;
    let mut all = Vec::new();
    for (i, id) in installed {
        let (exp, _) = &lab[*i];
        let started = Instant::now();
        let opened = page::open(c, id, exp, expectations, shots).await;
        eprintln!(
            "{TEST}: {} opened in {:?}: {}",
            exp.name,
            started.elapsed(),
            if opened.passed() { "ok" } else { "problems" }
        );
        all.push(opened);
    }
    Ok(all)
}

/// Removes what the lab installed (volumes too) and its idle container,
/// also when it fails.
struct Cleanup<'a> {
    env: &'a RealEnv,
    user: &'a LabUser,
    ids: Vec<String>,
}

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .env("DOCKER_HOST", &self.env.docker_host)
            .args(["rm", "-f", IDLE])
            .output();
        let user = self.user;
        std::thread::scope(|s| {
            for id in &self.ids {
                s.spawn(move || {
                    if let Err(e) = user.ok(&["rm", id, "--volumes"]) {
                        eprintln!("{TEST}: cleanup: {e:#}");
                    }
                });
            }
        });
    }
}
