//! `dockhand init`: a small working extension in a new directory.
//!
//! The files come from `crates/cli/templates/init/`, embedded in the binary; [`render`]
//! fills them in (pure, for tests) and [`run`] writes them.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dockhand_server::html::escape as html_escape;
use serde::Serialize;

use crate::args::{Format, InitArgs, InitBackend};

const ICON: &str = include_str!("../../templates/init/icon.svg");
const INDEX_HTML: &str = include_str!("../../templates/init/ui/index.html");
const APP_JS: &str = include_str!("../../templates/init/ui/app.js");
const STYLE_CSS: &str = include_str!("../../templates/init/ui/style.css");
const README: &str = include_str!("../../templates/init/README.md");
const BACKEND_CARGO: &str = include_str!("../../templates/init/backend/Cargo.toml");
const BACKEND_MAIN: &str = include_str!("../../templates/init/backend/src/main.rs");
const COMPOSE: &str = include_str!("../../templates/init/docker-compose.yaml");
const HOST_UNIX: &str = include_str!("../../templates/init/host/unix.sh");
const HOST_WINDOWS: &str = include_str!("../../templates/init/host/windows.cmd");

/// The socket the backend listens on, in `/run/guest-services/`.
pub const SOCKET: &str = "backend.sock";

/// What to generate.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The image repository, e.g. `acme/my-ext` (or `registry:5000/acme/my-ext`).
    pub name: String,
    /// The title of the tab and the image.
    pub title: String,
    /// The kind of backend.
    pub backend: InitBackend,
    /// Whether to add a host binary for Linux, macOS and Windows.
    pub host_binaries: bool,
}

/// One generated file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Path relative to the extension directory, `/`-separated.
    pub path: String,
    /// The contents.
    pub contents: String,
    /// Mode 0755 instead of 0644.
    pub executable: bool,
}

#[derive(Serialize)]
struct InitJson {
    dir: String,
    name: String,
    title: String,
    backend: &'static str,
    host_binaries: bool,
    files: Vec<String>,
}

pub fn run(args: &InitArgs) -> Result<ExitCode> {
    let name = match &args.name {
        Some(n) => check_name(n)?,
        None => default_name(&args.dir)?,
    };
    let title = match &args.title {
        Some(t) => check_title(t)?,
        None => title_from(repo_of(&name)),
    };
    let plan = Plan {
        name,
        title,
        backend: args.backend,
        host_binaries: args.host_binaries,
    };
    if args.dir.exists() {
        if !args.dir.is_dir() {
            bail!(
                "{} exists and is not a directory: pick another DIR",
                args.dir.display()
            );
        }
        let mut entries = fs_err::read_dir(&args.dir)?;
        if entries.next().is_some() && !args.force {
            bail!(
                "{} is not empty: pick a new directory, or pass --force to write the extension's files into it (files of the same name are replaced)",
                args.dir.display()
            );
        }
    }
    let files = render(&plan);
    for file in &files {
        write(&args.dir, file)?;
    }
    let json = InitJson {
        dir: args.dir.display().to_string(),
        name: plan.name.clone(),
        title: plan.title.clone(),
        backend: backend_word(plan.backend),
        host_binaries: plan.host_binaries,
        files: files.iter().map(|f| f.path.clone()).collect(),
    };
    match args.format {
        Format::Json => crate::output::json(&json)?,
        Format::Text => {
            let dir = args.dir.display();
            crate::output::data(&format!(
                "created the extension {} in {dir} ({} files)\nnext: read {dir}/README.md, then run `dockhand validate {dir}`",
                plan.name,
                files.len()
            ));
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write(dir: &Path, file: &GeneratedFile) -> Result<()> {
    let path = dir.join(&file.path);
    if let Some(parent) = path.parent() {
        fs_err::create_dir_all(parent)?;
    }
    fs_err::write(&path, &file.contents)?;
    use std::os::unix::fs::PermissionsExt;
    let mode = if file.executable { 0o755 } else { 0o644 };
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(mode))?;
    Ok(())
}

fn backend_word(kind: InitBackend) -> &'static str {
    match kind {
        InitBackend::None => "none",
        InitBackend::Image => "image",
        InitBackend::Compose => "compose",
    }
}

/// `ORG/REPO` from DIR's name: `my-org/<dir>`, lowercased, other characters as `-`.
pub fn default_name(dir: &Path) -> Result<String> {
    let base = fs_err::canonicalize(dir)
        .ok()
        .as_deref()
        .and_then(Path::file_name)
        .or_else(|| dir.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut repo = String::new();
    for c in base.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_alphanumeric() || (matches!(c, '-' | '_' | '.') && !repo.is_empty()) {
            repo.push(c);
        } else if !repo.is_empty() && !repo.ends_with('-') {
            repo.push('-');
        }
    }
    let repo = repo.trim_end_matches(['-', '_', '.']);
    if repo.is_empty() {
        bail!(
            "cannot make an image name from {}: pass --name ORG/REPO",
            dir.display()
        );
    }
    check_name(&format!("my-org/{repo}"))
}

/// Checks `--name`: an image repository with an organisation, no tag or digest.
pub fn check_name(name: &str) -> Result<String> {
    let parsed = dockhand_oci::Reference::parse_loose(name).with_context(|| {
        format!("--name `{name}` is not an image name: write ORG/REPO, e.g. acme/my-extension")
    })?;
    if parsed.tag().is_some() || parsed.digest().is_some() {
        bail!(
            "--name `{name}` has a tag or digest: write ORG/REPO; the version is the tag you build"
        );
    }
    if !name.contains('/') {
        bail!("--name `{name}` has no organisation: write ORG/REPO, e.g. acme/{name}");
    }
    Ok(name.to_owned())
}

fn check_title(title: &str) -> Result<String> {
    let t = title.trim();
    if t.is_empty() || t.chars().any(char::is_control) || t.chars().count() > 80 {
        bail!("--title `{title}` must be one line of 1 to 80 characters");
    }
    Ok(t.to_owned())
}

fn repo_of(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// The organisation part: the path component before the repository.
fn org_of(name: &str) -> &str {
    let mut parts = name.rsplit('/');
    parts.next();
    parts.next().unwrap_or("my-org")
}

/// `my-cool_ext` → `My Cool Ext`.
pub fn title_from(repo: &str) -> String {
    repo.split(['-', '_', '.'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_uppercase().collect::<String>() + chars.as_str()
            })
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The host binary's file name.
fn bin_name(plan: &Plan) -> String {
    repo_of(&plan.name).to_owned()
}

fn has_backend(plan: &Plan) -> bool {
    plan.backend != InitBackend::None
}

/// Every file of the new extension, sorted by path.
pub fn render(plan: &Plan) -> Vec<GeneratedFile> {
    let repo = repo_of(&plan.name);
    let bin = bin_name(plan);
    let crate_name: String = repo
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let vars: Vec<(&str, String)> = vec![
        ("name", plan.name.clone()),
        ("json_name", plan.name.clone()),
        ("title_html", html_escape(&plan.title)),
        ("title_md", plan.title.clone()),
        ("title_js", js_string(&plan.title)),
        ("title_js_comment", plan.title.clone()),
        ("title_comment", plan.title.clone()),
        (
            "title_toml",
            plan.title.replace('\\', "\\\\").replace('"', "\\\""),
        ),
        ("socket", SOCKET.to_owned()),
        ("bin", bin.clone()),
        ("crate", crate_name.trim_matches('-').to_owned()),
        ("sections", ui_sections(plan)),
        ("wiring", ui_wiring(plan)),
        ("layout", readme_layout(plan)),
        ("commands", readme_commands(plan)),
        (
            "platform_note",
            if has_backend(plan) {
                concat!(
                    "The image has one platform because the backend binary is built for this machine:\n",
                    "for more, build the backend for each (`cargo build --target`) and give each platform\n",
                    "its own with `--add linux/amd64=out/amd64/backend:/backend --add\n",
                    "linux/arm64=out/arm64/backend:/backend` (a binary in the wrong image is refused).\n",
                )
                .to_owned()
            } else {
                "The image is built for linux/amd64 and linux/arm64 (`--platform` to change it).\n"
                    .to_owned()
            },
        ),
        (
            "docker_build_note",
            if has_backend(plan) {
                " once `dist/backend` is built".to_owned()
            } else {
                String::new()
            },
        ),
    ];
    let fill = |template: &str| fill(template, &vars);
    let mut files = vec![
        file("metadata.json", metadata(plan)),
        file("Dockerfile", dockerfile(plan)),
        file("icon.svg", ICON.to_owned()),
        file("ui/index.html", fill(INDEX_HTML)),
        file("ui/app.js", fill(APP_JS)),
        file("ui/style.css", STYLE_CSS.to_owned()),
        file("README.md", fill(README)),
    ];
    if has_backend(plan) {
        files.push(file("backend/Cargo.toml", fill(BACKEND_CARGO)));
        files.push(file("backend/src/main.rs", fill(BACKEND_MAIN)));
        files.push(file(
            ".gitignore",
            "# Build outputs: the backend's cargo target and the binary the image gets.\n/backend/target/\n/dist/\n".to_owned(),
        ));
        files.push(file(
            ".dockerignore",
            "# docker build needs only the image's files.\nbackend/\n".to_owned(),
        ));
    }
    if plan.backend == InitBackend::Compose {
        files.push(file("docker-compose.yaml", fill(COMPOSE)));
    }
    if plan.host_binaries {
        let unix = fill(HOST_UNIX);
        files.push(executable(&format!("linux/{bin}"), unix.clone()));
        files.push(executable(&format!("darwin/{bin}"), unix));
        files.push(executable(
            &format!("windows/{bin}.cmd"),
            fill(HOST_WINDOWS),
        ));
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

fn file(path: &str, contents: String) -> GeneratedFile {
    GeneratedFile {
        path: path.to_owned(),
        contents,
        executable: false,
    }
}

fn executable(path: &str, contents: String) -> GeneratedFile {
    GeneratedFile {
        executable: true,
        ..file(path, contents)
    }
}

/// Replaces each `{{key}}` of `vars` (and only those: the backend's Rust source has `{{` of
/// its own).
fn fill(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (key, value) in vars {
        out = out.replace(&format!("{{{{{key}}}}}"), value);
    }
    out
}

fn js_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

fn metadata(plan: &Plan) -> String {
    let mut doc = serde_json::json!({
        "icon": "icon.svg",
        "ui": {
            "dashboard-tab": {
                "title": plan.title,
                "root": "/ui",
                "src": "index.html"
            }
        }
    });
    match plan.backend {
        InitBackend::None => {}
        InitBackend::Image => {
            doc["vm"] = serde_json::json!({
                "image": "${DESKTOP_PLUGIN_IMAGE}",
                "exposes": { "socket": SOCKET }
            });
        }
        InitBackend::Compose => {
            doc["vm"] = serde_json::json!({
                "composefile": "docker-compose.yaml",
                "exposes": { "socket": SOCKET }
            });
        }
    }
    if plan.host_binaries {
        let bin = bin_name(plan);
        doc["host"] = serde_json::json!({
            "binaries": [{
                "darwin": [{ "path": format!("/darwin/{bin}") }],
                "linux": [{ "path": format!("/linux/{bin}") }],
                "windows": [{ "path": format!("/windows/{bin}.cmd") }]
            }]
        });
    }
    // A `Value` always serializes; `{:#}` is to_string_pretty's layout.
    let mut text = format!("{doc:#}");
    text.push('\n');
    text
}

/// A Dockerfile double-quoted word: `\`, `"` and `$` escaped.
fn dockerfile_quote(value: &str) -> String {
    let mut out = String::from('"');
    for c in value.chars() {
        if matches!(c, '\\' | '"' | '$') {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

fn dockerfile(plan: &Plan) -> String {
    let org = org_of(&plan.name);
    let repo = repo_of(&plan.name);
    let raw = format!("https://raw.githubusercontent.com/{org}/{repo}/main");
    let home = format!("https://github.com/{org}/{repo}");
    let what = match (has_backend(plan), plan.host_binaries) {
        (false, false) => "A tab",
        (true, false) => "A tab and a backend",
        (false, true) => "A tab and a host binary",
        (true, true) => "A tab, a backend and a host binary",
    };
    let screenshots = serde_json::json!([{
        "alt": format!("The {} tab", plan.title),
        "url": format!("{raw}/screenshot.png"),
    }]);
    let urls = serde_json::json!([{ "title": "Source", "url": home }]);
    let labels: Vec<(&str, String)> = vec![
        ("org.opencontainers.image.title", plan.title.clone()),
        (
            "org.opencontainers.image.description",
            format!("{what}, made with dockhand init."),
        ),
        ("org.opencontainers.image.vendor", org.to_owned()),
        (
            "com.docker.desktop.extension.api.version",
            format!(">= {}", dockhand_spec::API_VERSION),
        ),
        (
            "com.docker.desktop.extension.icon",
            format!("{raw}/icon.svg"),
        ),
        ("com.docker.extension.screenshots", screenshots.to_string()),
        (
            "com.docker.extension.detailed-description",
            format!(
                "<p>{} is a Docker Desktop extension: {}.</p>",
                html_escape(&plan.title),
                what.to_lowercase()
            ),
        ),
        ("com.docker.extension.publisher-url", home.clone()),
        ("com.docker.extension.additional-urls", urls.to_string()),
        (
            "com.docker.extension.changelog",
            "<ul><li>First version.</li></ul>".to_owned(),
        ),
        (
            "com.docker.extension.categories",
            "utility-tools".to_owned(),
        ),
    ];
    let mut out = format!(
        "# {}: the extension's image. `dockhand build` reads the labels below (and builds without a\n\
         # Docker daemon); `docker build` works too. See README.md.\n\
         FROM scratch\n\nLABEL ",
        plan.title
    );
    let lines: Vec<String> = labels
        .iter()
        .map(|(k, v)| format!("{k}={}", dockerfile_quote(v)))
        .collect();
    out.push_str(&lines.join(" \\\n    "));
    out.push_str("\n\n");
    if has_backend(plan) {
        out.push_str("# The static backend binary (see README.md): dockhand build --add dist/backend:/backend\nCOPY dist/backend /backend\n");
    }
    let mut top = vec!["metadata.json", "icon.svg"];
    if plan.backend == InitBackend::Compose {
        top.push("docker-compose.yaml");
    }
    out.push_str(&format!("COPY {} /\nCOPY ui /ui\n", top.join(" ")));
    if plan.host_binaries {
        out.push_str("COPY linux /linux\nCOPY darwin /darwin\nCOPY windows /windows\n");
    }
    if has_backend(plan) {
        out.push_str(
            "\n# The backend is PID 1 and keeps no state: stop it at once (--stop-signal SIGKILL).\nSTOPSIGNAL SIGKILL\nCMD [\"/backend\"]\n",
        );
    }
    out
}

/// The part every extension gets, then the backend's and the host binary's
/// where the plan has them.
fn by_part(
    plan: &Plan,
    always: &str,
    backend: &str,
    host_binary: impl FnOnce() -> String,
) -> String {
    let mut out = String::from(always);
    if has_backend(plan) {
        out.push_str(backend);
    }
    if plan.host_binaries {
        out.push_str(&host_binary());
    }
    out
}

fn ui_sections(plan: &Plan) -> String {
    by_part(
        plan,
        "\n  <section>\n    <h2>This host (ddClient.host)</h2>\n    <button id=\"host-facts-button\" type=\"button\">Show again</button>\n    <pre id=\"host-facts-result\" data-state=\"idle\">not run yet</pre>\n  </section>\n",
        "\n  <section>\n    <h2>The backend: GET /hello (ddClient.extension.vm.service)</h2>\n    <button id=\"hello-button\" type=\"button\">Call it again</button>\n    <pre id=\"hello-result\" data-state=\"idle\">not run yet</pre>\n  </section>\n",
        || {
            format!(
                "\n  <section>\n    <h2>The host binary: {} (ddClient.extension.host.cli)</h2>\n    <button id=\"host-binary-button\" type=\"button\">Run it again</button>\n    <pre id=\"host-binary-result\" data-state=\"idle\">not run yet</pre>\n  </section>\n",
                html_escape(&bin_name(plan))
            )
        },
    )
}

fn ui_wiring(plan: &Plan) -> String {
    by_part(
        plan,
        "\n  wire(\"host-facts-button\", \"host-facts-result\", async () => {\n    const { platform, arch, hostname } = ddClient.host;\n    return { platform, arch, hostname };\n  });\n",
        "\n  // The backend answers on its unix socket; the host forwards this call to it.\n  wire(\"hello-button\", \"hello-result\", () => ddClient.extension.vm.service.get(\"/hello\"));\n",
        || {
            format!(
                "\n  // Runs the extension's own host binary, named by its file name; no shell.\n  wire(\"host-binary-button\", \"host-binary-result\", async () => {{\n    const result = await ddClient.extension.host.cli.exec({}, [\"from the UI\"]);\n    return result.stdout;\n  }});\n",
                js_string(&bin_name(plan))
            )
        },
    )
}

fn readme_layout(plan: &Plan) -> String {
    let mut out = String::from("- `metadata.json`: what the host runs (the UI tab");
    match plan.backend {
        InitBackend::None => {}
        InitBackend::Image => {
            out.push_str(", the backend: `vm.image` is the extension's own image")
        }
        InitBackend::Compose => out.push_str(", the backend: `vm.composefile`"),
    }
    if plan.host_binaries {
        out.push_str(", the host binaries");
    }
    out.push_str(").\n- `Dockerfile`: the image's labels (and how `docker build` assembles it).\n- `icon.svg`, `ui/` (`index.html`, `app.js`, `style.css`): the tab, plain HTML and JavaScript.\n");
    if has_backend(plan) {
        out.push_str(&format!(
            "- `backend/`: the backend, a Rust program using the standard library only. It listens on\n  `/run/guest-services/{SOCKET}` (`vm.exposes.socket`) and answers `GET /hello`; the UI calls it\n  with `ddClient.extension.vm.service.get(\"/hello\")`. It is linked statically and goes into\n  the image as `/backend`, so the image needs nothing else (`FROM scratch`).\n"
        ));
    }
    if plan.backend == InitBackend::Compose {
        out.push_str(
            "- `docker-compose.yaml`: the backend's service, from the extension's own image.\n",
        );
    }
    if plan.host_binaries {
        let bin = bin_name(plan);
        out.push_str(&format!(
            "- `linux/{bin}`, `darwin/{bin}`, `windows/{bin}.cmd`: a host binary (shell scripts here), copied\n  to the user's machine and run by the UI with `ddClient.extension.host.cli.exec(\"{bin}\", …)`.\n"
        ));
    }
    out
}

fn readme_commands(plan: &Plan) -> String {
    let name = &plan.name;
    let mut out = String::new();
    if has_backend(plan) {
        out.push_str(
            "# 1. The backend: a static Linux binary in dist/backend (needs a *-linux-gnu Rust toolchain)\n\
             target=$(rustc -vV | sed -n 's/^host: //p')\n\
             RUSTFLAGS=\"-C target-feature=+crt-static\" \\\n  \
             cargo build --release --manifest-path backend/Cargo.toml --target \"$target\"\n\
             install -D -m 0755 \"backend/target/$target/release/backend\" dist/backend\n\n",
        );
    }
    let step = if has_backend(plan) { 2 } else { 1 };
    out.push_str(&format!(
        "# {step}. Check the extension: no errors, no warnings\ndockhand validate .\n\n"
    ));
    if has_backend(plan) {
        out.push_str(&format!(
            "# {}. The image for this machine's platform, loaded into the Docker engine\n\
             arch=$(uname -m | sed 's/x86_64/amd64/; s/aarch64/arm64/')\n\
             dockhand build . -t {name}:0.1.0 --platform \"linux/$arch\" \\\n  \
             --add dist/backend:/backend --cmd /backend --stop-signal SIGKILL --load\n\n",
            step + 1
        ));
    } else {
        out.push_str(&format!(
            "# {}. The image (linux/amd64 and linux/arm64), loaded into the Docker engine\n\
             dockhand build . -t {name}:0.1.0 --load\n\n",
            step + 1
        ));
    }
    out.push_str(&format!(
        "# {}. Install it (-y: do not ask), then open its tab in the dashboard\n\
         dockhand install engine:{name}:0.1.0 -y\n\
         dockhand serve\n",
        step + 2
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(backend: InitBackend, host_binaries: bool) -> Plan {
        Plan {
            name: "acme/my-ext".to_owned(),
            title: "My Ext".to_owned(),
            backend,
            host_binaries,
        }
    }

    #[test]
    fn names_come_from_the_directory() {
        assert_eq!(
            default_name(Path::new("/nowhere/My Cool_Ext!")).unwrap(),
            "my-org/my-cool_ext"
        );
        assert!(default_name(Path::new("/nowhere/!!!")).is_err());
        assert_eq!(title_from("my-cool_ext"), "My Cool Ext");
    }

    #[test]
    fn bad_names_are_refused_with_a_hint() {
        for bad in ["Acme/Ext", "acme/ext:1.0", "ext", "acme//ext"] {
            let e = check_name(bad).unwrap_err();
            assert!(format!("{e:#}").contains("ORG/REPO"), "{bad}: {e:#}");
        }
        assert_eq!(
            check_name("127.0.0.1:5000/acme/ext").unwrap(),
            "127.0.0.1:5000/acme/ext"
        );
        assert!(check_title("a\nb").is_err());
    }

    #[test]
    fn no_placeholder_is_left() {
        for backend in [InitBackend::None, InitBackend::Image, InitBackend::Compose] {
            for host in [false, true] {
                for f in render(&plan(backend, host)) {
                    for key in [
                        "name",
                        "title_html",
                        "title_js",
                        "bin",
                        "socket",
                        "sections",
                        "wiring",
                        "crate",
                        "layout",
                        "commands",
                        "json_name",
                    ] {
                        assert!(
                            !f.contents.contains(&format!("{{{{{key}}}}}")),
                            "{} keeps {{{{{key}}}}}",
                            f.path
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn titles_are_escaped_where_they_land() {
        let mut p = plan(InitBackend::Image, true);
        p.title = "Say \"hi\" <now> $HOME".to_owned();
        let files = render(&p);
        let get = |path: &str| {
            files
                .iter()
                .find(|f| f.path == path)
                .map(|f| f.contents.clone())
                .unwrap()
        };
        assert!(get("ui/index.html").contains("Say &quot;hi&quot; &lt;now&gt; $HOME"));
        assert!(get("ui/app.js").contains(r#""Say \"hi\" <now> $HOME" + " is loaded""#));
        assert!(
            get("Dockerfile")
                .contains(r#"org.opencontainers.image.title="Say \"hi\" <now> \$HOME""#)
        );
        let meta: serde_json::Value = serde_json::from_str(&get("metadata.json")).unwrap();
        assert_eq!(meta["ui"]["dashboard-tab"]["title"], p.title);
    }

    #[test]
    fn the_windows_script_has_crlf_line_ends() {
        let files = render(&plan(InitBackend::None, true));
        let cmd = files.iter().find(|f| f.path.ends_with(".cmd")).unwrap();
        assert!(cmd.contents.lines().count() > 3);
        assert!(
            cmd.contents
                .split('\n')
                .filter(|l| !l.is_empty())
                .all(|l| l.ends_with('\r'))
        );
    }
}
