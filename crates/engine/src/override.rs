//! The override compose file dockhand adds to every backend, and the
//! one-service compose file of a `vm.image` backend. Pure: no I/O.
//!
//! The override is given to compose after the extension's own file
//! (`-f theirs.yml -f override.json`; compose reads JSON since JSON is YAML).
//! It adds to every service:
//!
//! - the labels [`EXTENSION_LABEL`]`=<id>` and [`VERSION_LABEL`]`=<version>`
//!   (merged with the service's own labels, in either list or mapping form);
//! - `<socket_dir>:/run/guest-services`, where the backend creates its socket;
//! - for every volume entry whose source is one of Docker Desktop's engine
//!   socket paths (`/var/run/docker.sock.raw`, `/var/run/docker.raw.sock`,
//!   `/var/run/docker.sock`), the engine's real socket at the same target
//!   (read-only when the original was);
//! - for every volume entry whose source lies under `/run/host-services` or
//!   `/run/guest-services` (sockets of Docker Desktop's VM and of other
//!   extensions, which exist on no other host), an empty `tmpfs` at the same
//!   target; a source of exactly `/run/guest-services` becomes the socket dir.
//!
//! Why this works: compose merges a service's `volumes` across files by
//! container path. An override entry with the same target replaces the base
//! entry (short or long syntax alike); there is no other way to remove a base
//! mount. Verified with docker-compose 1.29.2 (`docker-compose -f a.yml -f
//! b.json config`, see the integration tests); compose v2 does the same.
//!
//! Why `tmpfs` for the VM-only paths: a bind of a host path that does not
//! exist would make the engine create a root-owned directory there (short
//! syntax) or fail (long syntax); an empty tmpfs leaves nothing on the host,
//! and the service starts as it would on a Docker Desktop where that other
//! service is absent. The caller gets the list of what was replaced
//! ([`Override::replaced`]) to tell the user.
//!
//! Every string written is escaped for compose interpolation (`$` → `$$`), so
//! a path or an id with `$` in it reaches the engine as written.
//!
//! In relay mode ([`OverrideInput::relay`]: the engine does not see this
//! machine's files) `/run/guest-services` is instead the project's named
//! volume [`RELAY_VOLUME`] (compose names it `<project>_<RELAY_VOLUME>`,
//! labelled with the extension and the home, so updates keep it and
//! `rm --volumes` and the label sweeps remove it), and the override adds the
//! service [`RELAY_SERVICE`]: the relay image (`${DOCKHAND_RELAY_IMAGE}`,
//! [`relay_image_env`]) with the volume, its main process listening on a
//! loopback port of the engine's host (the host's network: the direct
//! transport, `relay/direct.rs`), a read-only root, restarted with the
//! engine, labelled [`ROLE_LABEL`]`=relay`. dockhand reaches the sockets
//! through that port where it can, else through an exec of the relay.

use std::path::{Path, PathBuf};

use dockhand_spec::ComposeFacts;
use dockhand_spec::compose::{GUEST_SERVICES_DIR, PLUGIN_IMAGE_VAR};
use serde_json::{Map, Value, json};

/// The label naming the extension on everything dockhand starts.
pub const EXTENSION_LABEL: &str = "dev.dockhand.extension";
/// The label naming the extension's version on everything dockhand starts.
pub const VERSION_LABEL: &str = "dev.dockhand.version";

/// The service relay mode adds to an extension's project.
pub const RELAY_SERVICE: &str = "dockhand-relay";
/// The project's volume at `/run/guest-services` in relay mode.
pub const RELAY_VOLUME: &str = "dockhand-guest-services";
/// The label saying what a container dockhand adds is for (`relay`).
pub const ROLE_LABEL: &str = "dev.dockhand.role";
/// The compose variable naming the relay image.
pub const RELAY_IMAGE_VAR: &str = "DOCKHAND_RELAY_IMAGE";
/// The engine host's socket in relay mode, where services that mount the
/// engine socket get it: where Docker Desktop's VM, colima, Lima, OrbStack
/// and Linux hosts keep it (the path of a forwarded socket on this machine
/// means nothing there).
pub const REMOTE_ENGINE_SOCKET: &str = "/var/run/docker.sock";

/// Sources that are paths inside Docker Desktop's VM, available nowhere else.
const VM_ONLY_SOURCES: [&str; 2] = ["/run/host-services", GUEST_SERVICES_DIR];

/// What the override needs to know besides the compose file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideInput {
    /// The extension id (`docker/volumes-backup-extension`).
    pub extension_id: String,
    /// The installed version (a tag or a digest).
    pub version: String,
    /// The host directory mounted at `/run/guest-services` (absolute, no `:`).
    pub socket_dir: PathBuf,
    /// The engine's socket on the engine's host; `None` for a TCP engine,
    /// which makes services that mount the engine socket an error.
    pub engine_socket: Option<PathBuf>,
    /// More labels for every service (for example the manifest digest),
    /// and for the socket volume in relay mode.
    pub extra_labels: Vec<(String, String)>,
    /// Relay mode: the socket directory is the project's volume
    /// [`RELAY_VOLUME`] (`socket_dir` is not used) and the relay service is
    /// added (see the module docs).
    pub relay: bool,
}

/// Why a mount was replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplacedKind {
    /// A Docker Desktop engine socket path, now the engine's real socket.
    EngineSocket,
    /// A Docker Desktop VM path, now an empty tmpfs.
    Unavailable,
    /// `/run/guest-services` itself, now the extension's socket dir (the
    /// socket volume in relay mode).
    SocketDir,
}

/// A volume entry of the extension's compose file that the override replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replaced {
    /// The service.
    pub service: String,
    /// JSON pointer of the original entry (`/services/api/volumes/0`).
    pub pointer: String,
    /// The original source.
    pub source: String,
    /// The container path (unchanged).
    pub target: String,
    /// What it became.
    pub kind: ReplacedKind,
}

/// The override compose document and what it replaced.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The document (`{"services": {…}}`).
    pub document: Value,
    /// Volume entries replaced, in file order.
    pub replaced: Vec<Replaced>,
}

impl Override {
    /// The document as pretty JSON, ready to be written as `override.json`.
    pub fn to_json(&self) -> String {
        json_text(&self.document)
    }
}

/// Why the override cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OverrideError {
    /// A host path that compose's short volume syntax cannot carry.
    #[error(
        "the {what} {path} cannot be mounted by compose: it must be absolute, UTF-8 and without `:`; choose another location"
    )]
    UnusablePath {
        /// Which path (`socket dir`, `engine socket`).
        what: &'static str,
        /// The path.
        path: PathBuf,
    },
    /// The extension has a service of the name relay mode adds.
    #[error(
        "the extension's compose file has a service named `{RELAY_SERVICE}`, the name dockhand gives its relay on an engine in remote mode; the author must rename it (or install with an engine on this machine)"
    )]
    ReservedService,
    /// A service mounts the engine socket, but the engine has none.
    #[error(
        "service `{service}` mounts the engine socket ({source_path}), but the engine is reached over TCP and its socket path is unknown; use a local engine on a unix socket (DOCKER_HOST=unix://…)"
    )]
    NoEngineSocket {
        /// The service.
        service: String,
        /// The socket path it mounts.
        source_path: String,
    },
}

/// Builds the override compose document for `facts` (see the module docs).
pub fn compose_override(
    facts: &ComposeFacts,
    input: &OverrideInput,
) -> Result<Override, OverrideError> {
    let socket_source = if input.relay {
        if facts.services.iter().any(|s| s.name == RELAY_SERVICE) {
            return Err(OverrideError::ReservedService);
        }
        RELAY_VOLUME.to_owned()
    } else {
        escape(mount_path("socket dir", &input.socket_dir)?)
    };
    let engine_socket = input
        .engine_socket
        .as_deref()
        .map(|p| mount_path("engine socket", p))
        .transpose()?;
    let mut labels = Map::new();
    labels.insert(EXTENSION_LABEL.into(), escaped(&input.extension_id));
    labels.insert(VERSION_LABEL.into(), escaped(&input.version));
    for (k, v) in &input.extra_labels {
        labels.insert(k.clone(), escaped(v));
    }
    let mut services = Map::new();
    let mut replaced = Vec::new();
    for svc in &facts.services {
        let mut volumes = vec![Value::String(format!(
            "{socket_source}:{GUEST_SERVICES_DIR}"
        ))];
        for m in &svc.engine_socket_mounts {
            let Some(real) = engine_socket else {
                return Err(OverrideError::NoEngineSocket {
                    service: svc.name.clone(),
                    source_path: m.source.clone(),
                });
            };
            let mode = if m.read_only { ":ro" } else { "" };
            volumes.push(Value::String(format!(
                "{}:{}{mode}",
                escape(real),
                escape(&m.target)
            )));
            replaced.push(replacement(&svc.name, m, ReplacedKind::EngineSocket));
        }
        for m in &svc.host_bind_mounts {
            let Some(kind) = vm_only(&m.source) else {
                continue;
            };
            if m.target == GUEST_SERVICES_DIR {
                // Our socket dir entry replaces it already.
            } else if kind == ReplacedKind::SocketDir {
                let mode = if m.read_only { ":ro" } else { "" };
                volumes.push(Value::String(format!(
                    "{socket_source}:{}{mode}",
                    escape(&m.target)
                )));
            } else {
                volumes.push(json!({"type": "tmpfs", "target": escape(&m.target)}));
            }
            replaced.push(replacement(&svc.name, m, kind));
        }
        services.insert(
            svc.name.clone(),
            json!({"labels": Value::Object(labels.clone()), "volumes": volumes}),
        );
    }
    if !input.relay {
        return Ok(Override {
            document: json!({ "services": services }),
            replaced,
        });
    }
    let mut owner = Map::new();
    owner.insert(EXTENSION_LABEL.into(), escaped(&input.extension_id));
    for (k, v) in &input.extra_labels {
        owner.insert(k.clone(), escaped(v));
    }
    let mut relay_labels = labels;
    relay_labels.insert(ROLE_LABEL.into(), "relay".into());
    services.insert(
        RELAY_SERVICE.to_owned(),
        json!({
            "image": format!("${{{RELAY_IMAGE_VAR}}}"),
            "command": ["listen"],
            "network_mode": "host",
            "read_only": true,
            "restart": "unless-stopped",
            "labels": Value::Object(relay_labels),
            "volumes": [format!("{RELAY_VOLUME}:{GUEST_SERVICES_DIR}")],
        }),
    );
    Ok(Override {
        document: json!({
            "services": services,
            "volumes": { RELAY_VOLUME: { "labels": Value::Object(owner) } },
        }),
        replaced,
    })
}

/// The environment entry that names the relay image for compose (relay mode).
pub fn relay_image_env(image_ref: &str) -> (String, String) {
    (RELAY_IMAGE_VAR.to_owned(), image_ref.to_owned())
}

/// The service name of a `vm.image` backend: the last segment of the
/// extension id, lowercased, reduced to `[a-z0-9_-]` (`backend` if nothing is left).
pub fn vm_image_service(extension_id: &str) -> String {
    let last = extension_id.rsplit('/').next().unwrap_or(extension_id);
    let slug = crate::compose::compose_slug(last);
    let slug = slug.trim_start_matches(['-', '_']);
    if slug.is_empty() {
        "backend".to_owned()
    } else {
        slug.to_owned()
    }
}

/// The compose document of a `vm.image` backend: one service (named by
/// [`vm_image_service`]) running `image` exactly as `metadata.json` writes it.
///
/// `${DESKTOP_PLUGIN_IMAGE}` is left for compose to interpolate, as in a
/// `vm.composefile`: run the project with [`plugin_image_env`] in its
/// environment, so both kinds of backend get the image the same way.
pub fn vm_image_compose(extension_id: &str, image: &str) -> Value {
    let mut services = Map::new();
    services.insert(vm_image_service(extension_id), json!({ "image": image }));
    json!({ "services": services })
}

/// The environment entry that names the extension's own image for compose.
pub fn plugin_image_env(image_ref: &str) -> (String, String) {
    (PLUGIN_IMAGE_VAR.to_owned(), image_ref.to_owned())
}

/// Pretty JSON text of a compose document.
pub(crate) fn json_text(doc: &Value) -> String {
    // A `Value` always serializes; `{:#}` is to_string_pretty's layout.
    let mut text = format!("{doc:#}");
    text.push('\n');
    text
}

fn vm_only(source: &str) -> Option<ReplacedKind> {
    let source = source.trim_end_matches('/');
    if source == GUEST_SERVICES_DIR {
        return Some(ReplacedKind::SocketDir);
    }
    VM_ONLY_SOURCES
        .iter()
        .any(|p| source == *p || source.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
        .then_some(ReplacedKind::Unavailable)
}

fn replacement(service: &str, m: &dockhand_spec::Mount, kind: ReplacedKind) -> Replaced {
    Replaced {
        service: service.to_owned(),
        pointer: m.pointer.clone(),
        source: m.source.clone(),
        target: m.target.clone(),
        kind,
    }
}

fn mount_path<'a>(what: &'static str, path: &'a Path) -> Result<&'a str, OverrideError> {
    match path.to_str() {
        Some(s) if path.is_absolute() && !s.contains(':') => Ok(s),
        _ => Err(OverrideError::UnusablePath {
            what,
            path: path.to_owned(),
        }),
    }
}

fn escape(s: &str) -> String {
    s.replace('$', "$$")
}

fn escaped(s: &str) -> Value {
    Value::String(escape(s))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The facts of compose file `text`, which must parse.
    fn parse(text: &str) -> ComposeFacts {
        ComposeFacts::parse(text).unwrap()
    }

    fn input() -> OverrideInput {
        OverrideInput {
            extension_id: "acme/my-ext".into(),
            version: "1.2.0".into(),
            socket_dir: "/run/user/1000/dockhand/ab12".into(),
            engine_socket: Some("/var/run/docker.sock".into()),
            extra_labels: vec![],
            relay: false,
        }
    }

    #[test]
    fn every_service_gets_labels_and_the_socket_dir() {
        let facts =
            parse("services:\n  a:\n    image: x\n    labels: [\"k=v\"]\n  b:\n    image: y\n");
        let mut inp = input();
        inp.extra_labels = vec![("dev.dockhand.digest".into(), "sha256:00".into())];
        let o = compose_override(&facts, &inp).unwrap();
        assert!(o.replaced.is_empty());
        for svc in ["a", "b"] {
            assert_eq!(
                o.document["services"][svc],
                json!({
                    "labels": {
                        "dev.dockhand.extension": "acme/my-ext",
                        "dev.dockhand.version": "1.2.0",
                        "dev.dockhand.digest": "sha256:00",
                    },
                    "volumes": ["/run/user/1000/dockhand/ab12:/run/guest-services"],
                })
            );
        }
        assert!(o.to_json().ends_with("}\n"));
    }

    #[test]
    fn engine_socket_mounts_are_mapped_by_target() {
        let facts = parse(
            r#"
services:
  api:
    image: ${DESKTOP_PLUGIN_IMAGE}
    volumes:
      - /var/run/docker.sock.raw:/var/run/docker.sock
      - /var/run/docker.raw.sock:/var/run/docker.raw.sock:ro
      - data:/data
      - type: bind
        source: /var/run/docker.sock
        target: /docker.sock
        read_only: true
volumes:
  data: {}
"#,
        );
        let mut inp = input();
        inp.engine_socket = Some("/work/deps/docker.sock".into());
        let o = compose_override(&facts, &inp).unwrap();
        assert_eq!(
            o.document["services"]["api"]["volumes"],
            json!([
                "/run/user/1000/dockhand/ab12:/run/guest-services",
                "/work/deps/docker.sock:/var/run/docker.sock",
                "/work/deps/docker.sock:/var/run/docker.raw.sock:ro",
                "/work/deps/docker.sock:/docker.sock:ro",
            ])
        );
        let kinds: Vec<_> = o
            .replaced
            .iter()
            .map(|r| (r.pointer.as_str(), r.kind))
            .collect();
        assert_eq!(
            kinds,
            vec![
                ("/services/api/volumes/0", ReplacedKind::EngineSocket),
                ("/services/api/volumes/1", ReplacedKind::EngineSocket),
                ("/services/api/volumes/3", ReplacedKind::EngineSocket),
            ]
        );
    }

    #[test]
    fn vm_only_paths_become_tmpfs() {
        // The labs-ai-tools case.
        let facts = parse(
            r#"
services:
  mcp:
    image: mcp/docker:0.0.18
    volumes:
      - "/var/run/docker.sock:/var/run/docker.sock"
      - "/run/host-services/backend.sock:/backend.sock"
      - "/run/guest-services/jfs.sock:/jfs.sock"
      - "/run/guest-services:/sockets:ro"
      - "/home/me/.kube:/root/.kube"
"#,
        );
        let o = compose_override(&facts, &input()).unwrap();
        assert_eq!(
            o.document["services"]["mcp"]["volumes"],
            json!([
                "/run/user/1000/dockhand/ab12:/run/guest-services",
                "/var/run/docker.sock:/var/run/docker.sock",
                {"type": "tmpfs", "target": "/backend.sock"},
                {"type": "tmpfs", "target": "/jfs.sock"},
                "/run/user/1000/dockhand/ab12:/sockets:ro",
            ])
        );
        let kinds: Vec<_> = o.replaced.iter().map(|r| r.kind).collect();
        assert_eq!(
            kinds,
            vec![
                ReplacedKind::EngineSocket,
                ReplacedKind::Unavailable,
                ReplacedKind::Unavailable,
                ReplacedKind::SocketDir,
            ]
        );
        assert_eq!(o.replaced[1].source, "/run/host-services/backend.sock");
        // Paths that only look alike are left alone.
        assert_eq!(vm_only("/run/host-services-x/a"), None);
        assert_eq!(
            vm_only("/run/guest-services/"),
            Some(ReplacedKind::SocketDir)
        );
    }

    #[test]
    fn a_tcp_engine_cannot_serve_socket_mounts() {
        let facts = parse(
            "services:\n  a:\n    image: x\n    volumes: [\"/var/run/docker.sock.raw:/var/run/docker.sock\"]\n",
        );
        let mut inp = input();
        inp.engine_socket = None;
        let e = compose_override(&facts, &inp).unwrap_err();
        assert!(matches!(e, OverrideError::NoEngineSocket { .. }), "{e:?}");
        assert!(e.to_string().contains("service `a`"), "{e}");
        // Without such mounts a TCP engine is fine.
        let facts = parse("services:\n  a:\n    image: x\n");
        assert!(compose_override(&facts, &inp).is_ok());
    }

    #[test]
    fn paths_are_checked_and_dollars_escaped() {
        let facts = parse("services:\n  a:\n    image: x\n");
        for bad in ["relative/dir", "/a:b"] {
            let mut inp = input();
            inp.socket_dir = bad.into();
            assert!(matches!(
                compose_override(&facts, &inp),
                Err(OverrideError::UnusablePath {
                    what: "socket dir",
                    ..
                })
            ));
        }
        let mut inp = input();
        inp.socket_dir = "/tmp/$HOME".into();
        inp.version = "v$1".into();
        let o = compose_override(&facts, &inp).unwrap();
        let svc = &o.document["services"]["a"];
        assert_eq!(svc["volumes"][0], "/tmp/$$HOME:/run/guest-services");
        assert_eq!(svc["labels"][VERSION_LABEL], "v$$1");
    }

    #[test]
    fn vm_image_backends_are_one_service() {
        assert_eq!(
            vm_image_compose("docker/volumes-backup-extension", "${DESKTOP_PLUGIN_IMAGE}"),
            json!({"services": {"volumes-backup-extension": {"image": "${DESKTOP_PLUGIN_IMAGE}"}}})
        );
        assert_eq!(vm_image_service("Acme/My.Ext"), "my_ext");
        assert_eq!(vm_image_service("acme/__"), "backend");
        assert_eq!(
            plugin_image_env("acme/x:1"),
            ("DESKTOP_PLUGIN_IMAGE".to_owned(), "acme/x:1".to_owned())
        );
    }

    #[test]
    fn relay_mode_mounts_the_project_volume_and_adds_the_relay() {
        let facts = parse(
            r#"
services:
  api:
    image: x
    volumes:
      - "/run/guest-services:/sockets:ro"
      - "/var/run/docker.sock.raw:/var/run/docker.sock"
"#,
        );
        let mut inp = input();
        inp.relay = true;
        // Not used in relay mode: not even checked.
        inp.socket_dir = "relative".into();
        inp.engine_socket = Some(REMOTE_ENGINE_SOCKET.into());
        inp.extra_labels = vec![("dev.dockhand.home".into(), "abc$".into())];
        let o = compose_override(&facts, &inp).unwrap();
        assert_eq!(
            o.document["services"]["api"]["volumes"],
            json!([
                "dockhand-guest-services:/run/guest-services",
                "/var/run/docker.sock:/var/run/docker.sock",
                "dockhand-guest-services:/sockets:ro",
            ])
        );
        assert_eq!(
            o.document["services"][RELAY_SERVICE],
            json!({
                "image": "${DOCKHAND_RELAY_IMAGE}",
                "command": ["listen"],
                "network_mode": "host",
                "read_only": true,
                "restart": "unless-stopped",
                "labels": {
                    "dev.dockhand.extension": "acme/my-ext",
                    "dev.dockhand.version": "1.2.0",
                    "dev.dockhand.home": "abc$$",
                    "dev.dockhand.role": "relay",
                },
                "volumes": ["dockhand-guest-services:/run/guest-services"],
            })
        );
        // The volume carries the owner labels, not the version: updates keep it.
        assert_eq!(
            o.document["volumes"],
            json!({"dockhand-guest-services": {"labels": {
                "dev.dockhand.extension": "acme/my-ext",
                "dev.dockhand.home": "abc$$",
            }}})
        );
        assert_eq!(
            relay_image_env("dockhand-relay:1"),
            (
                "DOCKHAND_RELAY_IMAGE".to_owned(),
                "dockhand-relay:1".to_owned()
            )
        );
    }

    #[test]
    fn relay_mode_refuses_a_service_of_the_relay_s_name() {
        let facts = parse("services:\n  dockhand-relay:\n    image: x\n");
        let mut inp = input();
        inp.relay = true;
        let e = compose_override(&facts, &inp).unwrap_err();
        assert_eq!(e, OverrideError::ReservedService);
        assert!(e.to_string().contains("must rename it"), "{e}");
        // In local mode the name is the extension's to use.
        inp.relay = false;
        assert!(compose_override(&facts, &inp).is_ok());
    }
}
