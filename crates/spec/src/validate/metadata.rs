//! Checks of metadata.json on its own: syntax, shape and the values of its fields.

use std::collections::{BTreeMap, BTreeSet};

use super::image_path;
use crate::diagnostics::{Code, Diagnostic, Location};
use crate::metadata::{Metadata, MetadataError, Os};

/// Longest socket name accepted: `/run/guest-services/` plus the name must
/// fit a unix socket path (107 bytes) on every host layout dockhand uses.
pub const MAX_SOCKET_NAME: usize = 64;

fn at(pointer: &str) -> Location {
    Location::Metadata(pointer.to_owned())
}

/// Parses and checks metadata.json; `None` when it could not be read at all.
pub(super) fn check(bytes: &[u8], out: &mut Vec<Diagnostic>) -> Option<Metadata> {
    let meta = match Metadata::from_slice(bytes) {
        Ok(m) => m,
        Err(e) => {
            let (code, loc) = match &e {
                MetadataError::TooLarge { .. } => (Code::MetadataTooLarge, at("")),
                MetadataError::NotUtf8 { .. } => (Code::MetadataNotUtf8, at("")),
                MetadataError::Syntax { line, column, .. } => (
                    Code::MetadataSyntax,
                    Location::File(format!("metadata.json:{line}:{column}")),
                ),
                MetadataError::Shape { pointer, .. } => (Code::MetadataShape, at(pointer)),
            };
            out.push(Diagnostic::new(code, loc, shape_message(&e)));
            return None;
        }
    };
    unknown_fields(&meta, out);
    if meta.icon.as_deref().is_none_or(|i| i.trim().is_empty()) {
        out.push(Diagnostic::new(
            Code::NoIcon,
            at("/icon"),
            "no icon: add \"icon\" with the path of an .svg or .png file in the image",
        ));
    }
    let has_host = Os::ALL.iter().any(|os| !meta.host_binaries(*os).is_empty());
    if meta.dashboard_tab().is_none() && meta.vm.is_none() && !has_host {
        out.push(Diagnostic::new(
            Code::NoComponent,
            at(""),
            "the extension declares nothing to run: add ui.dashboard-tab, vm or host.binaries",
        ));
    }
    tab(&meta, out);
    vm(&meta, out);
    host(&meta, out);
    Some(meta)
}

fn shape_message(e: &MetadataError) -> String {
    match e {
        MetadataError::Shape { pointer, message } if !pointer.is_empty() => {
            format!("{pointer}: {message}")
        }
        other => other.to_string(),
    }
}

fn unknown_fields(meta: &Metadata, out: &mut Vec<Diagnostic>) {
    for pointer in meta.unknown_fields() {
        let key = pointer.rsplit('/').next().unwrap_or_default();
        let is_os_key = pointer.starts_with("/host/binaries/") && pointer.matches('/').count() == 4;
        let (code, message) = if is_os_key {
            (
                Code::UnknownOs,
                format!("`{key}` is not an OS key: use darwin, linux or windows (entry ignored)"),
            )
        } else if pointer == "/name" || pointer == "/provider" {
            (
                Code::UnknownField,
                format!(
                    "`{key}` is a pre-release SDK field that hosts ignore: remove it (the title comes from the image labels)"
                ),
            )
        } else {
            (
                Code::UnknownField,
                format!("unknown field `{key}` is ignored: check its spelling"),
            )
        };
        out.push(Diagnostic::new(code, at(&pointer), message));
    }
}

fn tab(meta: &Metadata, out: &mut Vec<Diagnostic>) {
    let Some(tab) = meta.dashboard_tab() else {
        return;
    };
    let base = "/ui/dashboard-tab";
    for (field, value) in [
        ("title", &tab.title),
        ("root", &tab.root),
        ("src", &tab.src),
    ] {
        if value.trim().is_empty() {
            out.push(Diagnostic::new(
                Code::EmptyTabField,
                at(&format!("{base}/{field}")),
                format!(
                    "ui.dashboard-tab.{field} is empty: give the tab's {}",
                    tab_hint(field)
                ),
            ));
        }
    }
    // (field, whether its path leaves its root, the message saying so)
    let leaving = [
        (
            "root",
            image_path(&tab.root).is_none(),
            format!(
                "root `{}` leaves the image root: use a directory inside the image such as `/ui`",
                tab.root
            ),
        ),
        (
            "src",
            !tab.src.trim().is_empty() && image_path(&tab.entry_path()).is_none(),
            format!(
                "src `{}` leaves the ui root: name a page inside it such as `index.html`",
                tab.src
            ),
        ),
    ];
    for (field, _, message) in leaving.into_iter().filter(|(_, left, _)| *left) {
        out.push(Diagnostic::new(
            Code::BadUiPath,
            at(&format!("{base}/{field}")),
            message,
        ));
    }
    if let Some(backend) = &tab.backend {
        if let Some(socket) = &backend.socket {
            out.push(Diagnostic::new(
                Code::LegacyBackend,
                at(&format!("{base}/backend/socket")),
                "ui.dashboard-tab.backend.socket is a pre-release SDK field: declare the socket as vm.exposes.socket",
            ));
            socket_name(socket, &format!("{base}/backend/socket"), out);
            let exposed = meta
                .vm
                .as_ref()
                .and_then(|v| v.exposes.as_ref())
                .and_then(|e| e.socket.as_ref());
            if let Some(exposed) = exposed.filter(|e| *e != socket) {
                out.push(Diagnostic::new(
                    Code::SocketMismatch,
                    at(&format!("{base}/backend/socket")),
                    format!("legacy socket `{socket}` differs from vm.exposes.socket `{exposed}`: vm.exposes.socket is used"),
                ));
            }
        }
        if backend.tcp.is_some() {
            out.push(Diagnostic::new(
                Code::LegacyBackendTcp,
                at(&format!("{base}/backend/tcp")),
                "a TCP backend is not supported: listen on a unix socket named in vm.exposes.socket",
            ));
        }
    }
}

fn tab_hint(field: &str) -> &'static str {
    match field {
        "title" => "title shown in the sidebar",
        "root" => "directory of the UI in the image, such as `/ui`",
        _ => "entry page relative to root, such as `index.html`",
    }
}

fn vm(meta: &Metadata, out: &mut Vec<Diagnostic>) {
    let Some(vm) = &meta.vm else {
        if let Some(socket) = meta.legacy_socket() {
            out.push(Diagnostic::new(
                Code::SocketWithoutVm,
                at("/ui/dashboard-tab/backend/socket"),
                format!("socket `{socket}` is declared but there is no vm to create it: vm.service calls will fail; add a vm or remove the socket"),
            ));
        }
        return;
    };
    match (&vm.image, &vm.composefile) {
        // Docker Desktop installs this and runs the compose file.
        (Some(image), Some(file)) => out.push(Diagnostic::new(
            Code::VmImageIgnored,
            at("/vm/image"),
            format!("vm has both image and composefile: the compose file `{file}` runs and vm.image `{image}` is ignored; remove vm.image (or name the image in the compose file)"),
        )),
        (None, None) => out.push(Diagnostic::new(
            Code::VmImageAndCompose,
            at("/vm"),
            "vm has neither image nor composefile: add \"image\": \"${DESKTOP_PLUGIN_IMAGE}\" or a composefile",
        )),
        _ => {}
    }
    for (field, value) in [("image", &vm.image), ("composefile", &vm.composefile)] {
        if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
            out.push(Diagnostic::new(
                Code::VmEmpty,
                at(&format!("/vm/{field}")),
                format!("vm.{field} is empty"),
            ));
        }
    }
    if let Some(file) = vm.composefile.as_deref().filter(|f| !f.trim().is_empty())
        && image_path(file).is_none_or(|p| p.is_empty())
    {
        out.push(Diagnostic::new(
            Code::BadComposePath,
            at("/vm/composefile"),
            format!("composefile `{file}` leaves the image root: name a file inside the image"),
        ));
    }
    if let Some(socket) = vm.exposes.as_ref().and_then(|e| e.socket.as_deref()) {
        socket_name(socket, "/vm/exposes/socket", out);
    }
}

/// A socket name must be a plain file name that fits a socket path.
fn socket_name(name: &str, pointer: &str, out: &mut Vec<Diagnostic>) {
    let portable = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    let problem = if name.is_empty() {
        Some("is empty".to_owned())
    } else if name.contains('/') {
        Some(
            "must be a bare file name, not a path: the socket is created in /run/guest-services"
                .to_owned(),
        )
    } else if name == "." || name == ".." {
        Some("is not a file name".to_owned())
    } else if name.len() > MAX_SOCKET_NAME {
        Some(format!(
            "is {} bytes long: keep it to {MAX_SOCKET_NAME} so the socket path fits",
            name.len()
        ))
    } else if !portable {
        Some("may use only letters, digits, `.`, `_` and `-`".to_owned())
    } else {
        None
    };
    if let Some(problem) = problem {
        out.push(Diagnostic::new(
            Code::BadSocketName,
            at(pointer),
            format!("socket `{name}` {problem}"),
        ));
    }
}

fn host(meta: &Metadata, out: &mut Vec<Diagnostic>) {
    for os in Os::ALL {
        let bins = meta.host_binaries(os);
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut names: BTreeMap<&str, &str> = BTreeMap::new();
        for bin in &bins {
            if bin.path.trim().is_empty() {
                out.push(Diagnostic::new(
                    Code::EmptyHostPath,
                    at(&bin.pointer),
                    "host binary path is empty",
                ));
                continue;
            }
            if !bin.path.starts_with('/') {
                out.push(Diagnostic::new(
                    Code::HostPathNotAbsolute,
                    at(&bin.pointer),
                    format!(
                        "`{}` is not absolute: write the path in the image, such as `/{}`",
                        bin.path, bin.path
                    ),
                ));
            } else if image_path(&bin.path).is_none() {
                out.push(Diagnostic::new(
                    Code::HostPathNotAbsolute,
                    at(&bin.pointer),
                    format!("`{}` leaves the image root", bin.path),
                ));
            }
            if !seen.insert(bin.path.as_str()) {
                out.push(Diagnostic::new(
                    Code::DuplicateHostBinary,
                    at(&bin.pointer),
                    format!(
                        "`{}` is listed twice for {}: remove one",
                        bin.path,
                        os.key()
                    ),
                ));
                continue;
            }
            if os == Os::Linux && looks_foreign(&bin.path) {
                out.push(Diagnostic::new(
                    Code::ForeignOsBinary,
                    at(&bin.pointer),
                    format!("`{}` is listed for linux but looks like a Windows or macOS file: check the OS key", bin.path),
                ));
            }
            if os == Os::Linux
                && !bin.is_dir()
                && let Some(first) = names.insert(bin.name(), bin.path.as_str())
            {
                out.push(Diagnostic::new(
                        Code::HostNameClash,
                        at(&bin.pointer),
                        format!("`{}` and `{first}` are both called `{}`: host.cli.exec cannot tell them apart; rename one", bin.path, bin.name()),
                    ));
            }
        }
    }
}

/// A path under a Windows/macOS directory or with a Windows script ending.
fn looks_foreign(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    let in_dir = |d: &str| lower.split('/').any(|part| part == d);
    in_dir("windows")
        || in_dir("darwin")
        || in_dir("mac")
        || [".exe", ".cmd", ".bat", ".dll", ".ps1"]
            .iter()
            .any(|e| lower.ends_with(e))
}
