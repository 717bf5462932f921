//! The lab's table: one row per extension, printed after a run and written
//! into `docs/compatibility.md` by `scripts/compat --write-docs`.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::Value;

use super::expect::{Built, Expected, fixtures_dir};

/// One extension's outcome.
#[derive(Debug, Default)]
pub(crate) struct Row {
    pub name: String,
    pub title: String,
    /// `owner/repo` @ commit (sub-folder), linked in the docs.
    pub upstream: String,
    /// Bundler, React, MUI, theme and client packages as installed.
    pub stack: String,
    /// How the backend runs here.
    pub backend: String,
    /// The `ddClient` calls its page made while opening (bridge call log).
    pub calls: Vec<String>,
    /// The texts its first screen must show (expectations.json).
    pub first_screen_texts: Vec<String>,
    /// How long the first screen took.
    pub first_screen: Option<f64>,
    /// What went wrong: any entry fails the row.
    pub problems: Vec<String>,
    /// What is worth knowing but is not a failure.
    pub notes: Vec<String>,
}

impl Row {
    pub(crate) fn new(exp: &Expected, built: &Built) -> Self {
        let source = read_json(&built.source.join("SOURCE.json"));
        let compose = read_json(&built.root.join("metadata.json"))["vm"]
            .get("composefile")
            .is_some();
        Self {
            name: exp.name.clone(),
            title: exp.title.clone(),
            upstream: upstream(&source),
            stack: ui_stack(&built.ui_dir),
            backend: exp.backend.describe(compose),
            first_screen_texts: exp.first_screen.clone(),
            ..Self::default()
        }
    }

    pub(crate) fn passed(&self) -> bool {
        self.problems.is_empty()
    }

    /// The docs' words (no times: they differ from run to run).
    fn result(&self) -> String {
        if self.passed() {
            "works".to_owned()
        } else {
            format!("**fails**: {}", self.problems.join("; "))
        }
    }
}

fn read_json(path: &Path) -> Value {
    fs_err::read_to_string(path)
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

fn upstream(source: &Value) -> String {
    let s = |k: &str| source[k].as_str().unwrap_or_default().to_owned();
    let (repo, commit, subdir) = (s("repo"), s("commit"), s("subdir"));
    if commit.is_empty() {
        return format!("{repo}, `{subdir}`");
    }
    let short: String = commit.chars().take(12).collect();
    let mut out = format!("[{repo}](https://github.com/{repo}/tree/{commit}) @ `{short}`");
    if !subdir.is_empty() {
        let _ = write!(out, ", `{subdir}`");
    }
    out
}

/// The version of package `name` as npm installed it for `ui_dir` (in its
/// `node_modules` or a workspace's above it).
fn installed(ui_dir: &Path, name: &str) -> Option<String> {
    ui_dir.ancestors().take(4).find_map(|dir| {
        let v = read_json(&dir.join("node_modules").join(name).join("package.json"));
        v["version"].as_str().map(str::to_owned)
    })
}

/// Bundler, React, MUI and Docker's packages of the UI, as installed.
pub(crate) fn ui_stack(ui_dir: &Path) -> String {
    let pkg = read_json(&ui_dir.join("package.json"));
    let declared = |name: &str| {
        ["dependencies", "devDependencies"]
            .iter()
            .any(|k| pkg[k].get(name).is_some())
    };
    let version = |name: &str| installed(ui_dir, name).unwrap_or_else(|| "?".to_owned());
    let mut parts = Vec::new();
    if declared("react-scripts") {
        parts.push(format!("CRA (react-scripts {})", version("react-scripts")));
    } else if declared("vite") {
        parts.push(format!("Vite {}", version("vite")));
    } else if declared("esbuild") {
        parts.push(format!("esbuild {}", version("esbuild")));
    }
    for (name, label) in [("react", "React"), ("@mui/material", "MUI")] {
        if installed(ui_dir, name).is_some() {
            parts.push(format!("{label} {}", version(name)));
        }
    }
    match installed(ui_dir, "@docker/docker-mui-theme") {
        Some(v) => parts.push(format!("docker-mui-theme {v}")),
        None => parts.push("no docker-mui-theme".to_owned()),
    }
    if let Some(v) = installed(ui_dir, "@docker/extension-api-client") {
        parts.push(format!("extension-api-client {v}"));
    }
    parts.join(", ")
}

/// What the bridge call log says about the calls of a page.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    /// Each kind of call once, sorted (`docker.cli.exec ps`, `vm.service GET /api/os`).
    pub seen: Vec<String>,
    /// Calls dockhand refused or could not answer (4xx/5xx of its own).
    pub refused: Vec<String>,
    /// `vm.service` calls that failed because the backend is not running here.
    pub backend_absent: Vec<String>,
    /// Uncaught exceptions and unhandled rejections of the page.
    pub page_errors: Vec<String>,
}

/// Reads the `dockhand logs ID --bridge --format json` lines.
pub(crate) fn calls(log: &str, backend_runs: bool) -> Calls {
    let mut out = Calls::default();
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(e) = serde_json::from_str::<Value>(line) else {
            out.refused
                .push(format!("unreadable bridge log line: {line}"));
            continue;
        };
        let s = |k: &str| e[k].as_str().unwrap_or_default().to_owned();
        let kind = s("kind");
        if kind == "page.error" {
            let mut text = format!("{}: {}", s("error"), s("target"));
            if !s("source").is_empty() {
                let _ = write!(text, " at {}", s("source"));
            }
            out.page_errors.push(text);
            continue;
        }
        let label = match kind.as_str() {
            "docker.cli.exec" | "host.cli.exec" | "vm.cli.exec" => {
                // The subcommand, not its arguments (`ps`, `image ls`).
                let argv = e["argv"].as_array().cloned().unwrap_or_default();
                let mut words = vec![s("target")];
                if matches!(
                    s("target").as_str(),
                    "image" | "container" | "network" | "volume"
                ) && let Some(sub) = argv.first().and_then(Value::as_str)
                {
                    words.push(sub.to_owned());
                }
                format!("{kind} {}", words.join(" "))
            }
            "vm.service" => format!("vm.service {} {}", s("method"), s("target")),
            _ => kind.clone(),
        };
        let status = e["status"].as_u64().unwrap_or(0);
        if status >= 400 {
            let what = format!("{label} → {status}");
            if kind == "vm.service" && !backend_runs && matches!(status, 502..=504) {
                out.backend_absent.push(what);
            } else {
                out.refused.push(what);
            }
        }
        if kind == "info" {
            continue;
        }
        if !out.seen.contains(&label) {
            out.seen.push(label);
        }
    }
    // Sorted, without counts: the docs stay the same from run to run.
    out.seen.sort();
    out
}

/// The table as text, for the test's output.
pub(crate) fn print(rows: &[Row]) -> String {
    let mut out = String::from("\ncompatibility lab:\n");
    for r in rows {
        let _ = writeln!(
            out,
            "  {:<16} {}  [{}]",
            r.name,
            if r.passed() { "works" } else { "FAILS" },
            r.backend
        );
        if let Some(s) = r.first_screen {
            let _ = writeln!(out, "  {:<16}   first screen in {s:.1} s", "");
        }
        let _ = writeln!(out, "  {:<16}   calls: {}", "", calls_text(r));
        for p in &r.problems {
            let _ = writeln!(out, "  {:<16}   problem: {p}", "");
        }
        for n in &r.notes {
            let _ = writeln!(out, "  {:<16}   note: {n}", "");
        }
    }
    out
}

fn calls_text(r: &Row) -> String {
    if r.calls.is_empty() {
        "none".to_owned()
    } else {
        r.calls.join(", ")
    }
}

fn calls_code(r: &Row) -> String {
    if r.calls.is_empty() {
        "none".to_owned()
    } else {
        r.calls
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// `docs/compatibility.md`: the template with the table and the notes.
pub(crate) fn docs(rows: &[Row]) -> String {
    let template_path = fixtures_dir().join("compatibility.template.md");
    let template = fs_err::read_to_string(&template_path).unwrap_or_else(|e| {
        panic!("{}: {e}", template_path.display());
    });
    let mut table = String::from(
        "| extension | upstream | UI stack | backend | `ddClient` calls seen while opening | result |\n|---|---|---|---|---|---|\n",
    );
    for r in rows {
        let _ = writeln!(
            table,
            "| `{}` ({}) | {} | {} | {} | {} | {} |",
            r.name,
            cell(&r.title),
            cell(&r.upstream),
            cell(&r.stack),
            cell(&r.backend),
            cell(&calls_code(r)),
            cell(&r.result())
        );
    }
    let mut screens = String::new();
    for r in rows {
        let texts: Vec<String> = r
            .first_screen_texts
            .iter()
            .map(|t| format!("“{t}”"))
            .collect();
        let _ = writeln!(screens, "- **{}**: {}", r.name, texts.join(", "));
    }
    let mut notes = String::new();
    for r in rows.iter().filter(|r| !r.notes.is_empty()) {
        let _ = writeln!(notes, "- **{}**: {}", r.name, r.notes.join("; "));
    }
    if notes.is_empty() {
        notes.push_str("- none\n");
    }
    template
        .replace("{{TABLE}}", table.trim_end())
        .replace("{{NOTES}}", notes.trim_end())
        .replace("{{FIRST_SCREENS}}", screens.trim_end())
}

#[test]
fn calls_tell_refusals_absent_backends_and_page_errors_apart() {
    let log = [
        r#"{"kind":"info","method":"GET","status":200}"#,
        r#"{"kind":"docker.cli.exec","target":"ps","argv":["--all"],"status":200}"#,
        r#"{"kind":"docker.cli.exec","target":"image","argv":["ls","--format","{{json .}}"],"status":200}"#,
        r#"{"kind":"docker.cli.exec","target":"ps","argv":[],"status":200}"#,
        r#"{"kind":"vm.service","method":"GET","target":"/api/os","status":503}"#,
        r#"{"kind":"host.cli.exec","target":"nope","status":404}"#,
        r#"{"kind":"page.error","target":"TypeError: x","error":"error","source":"main.js:1:2","status":204}"#,
    ]
    .join("\n");
    let without = calls(&log, false);
    assert_eq!(
        without.seen,
        [
            "docker.cli.exec image ls",
            "docker.cli.exec ps",
            "host.cli.exec nope",
            "vm.service GET /api/os"
        ]
    );
    assert_eq!(without.backend_absent, ["vm.service GET /api/os → 503"]);
    assert_eq!(without.refused, ["host.cli.exec nope → 404"]);
    assert_eq!(without.page_errors, ["error: TypeError: x at main.js:1:2"]);
    // With a backend that runs here, a 503 is dockhand's failure.
    let with = calls(&log, true);
    assert_eq!(
        with.refused,
        ["vm.service GET /api/os → 503", "host.cli.exec nope → 404"]
    );
    assert!(with.backend_absent.is_empty());
}
