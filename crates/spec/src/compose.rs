//! The facts about a backend's compose file that the host needs: its services
//! and images, where it uses the extension's own image, which services reach
//! the engine's socket and which ask for privileges or host resources.
//!
//! This reads the file as written (before interpolation), so facts such as
//! `$HOME/.kube` bind mounts are reported as the author wrote them.

use serde_norway::Value;

/// The variable that names the extension's own image.
pub const PLUGIN_IMAGE_VAR: &str = "DESKTOP_PLUGIN_IMAGE";

/// Docker Desktop VM paths of the engine socket that compose files mount.
pub const ENGINE_SOCKET_PATHS: [&str; 3] = [
    "/var/run/docker.sock.raw",
    "/var/run/docker.raw.sock",
    "/var/run/docker.sock",
];

/// Where each backend finds its socket directory.
pub const GUEST_SERVICES_DIR: &str = "/run/guest-services";

/// Why a compose file could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ComposeError {
    /// Not YAML.
    #[error("the compose file is not valid YAML{}: {message}", position(*line, *column))]
    Syntax {
        /// 1-based line, when known.
        line: Option<usize>,
        /// 1-based column, when known.
        column: Option<usize>,
        /// What the YAML parser said.
        message: String,
    },
    /// YAML, but not a compose file.
    #[error("{message}")]
    Shape {
        /// JSON pointer of the offending value.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        _ => String::new(),
    }
}

/// What a compose file asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComposeFacts {
    /// Services in file order.
    pub services: Vec<ServiceFacts>,
    /// Top-level named volumes.
    pub volumes: Vec<String>,
    /// Networks and volumes given a fixed `name:`, as `(json pointer, name)`:
    /// shared with any other project that uses the same name.
    pub fixed_names: Vec<(String, String)>,
}

/// What one service asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Service name.
    pub name: String,
    /// `image`, as written.
    pub image: Option<String>,
    /// The service has a `build` section.
    pub build: bool,
    /// The image is (or contains) `${DESKTOP_PLUGIN_IMAGE}`.
    pub uses_plugin_image: bool,
    /// Mounts of the engine's socket.
    pub engine_socket_mounts: Vec<Mount>,
    /// Bind mounts of host paths other than the engine socket.
    pub host_bind_mounts: Vec<Mount>,
    /// `privileged: true`.
    pub privileged: bool,
    /// `network_mode: host`.
    pub host_network: bool,
    /// `pid: host`.
    pub host_pid: bool,
    /// `cap_add` entries.
    pub cap_add: Vec<String>,
    /// `devices` entries.
    pub devices: Vec<String>,
    /// Published ports, as written.
    pub ports: Vec<String>,
    /// `container_name`, when fixed.
    pub container_name: Option<String>,
}

/// A volume entry of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    /// Host side as written (`/var/run/docker.sock.raw`, `$HOME/.kube`).
    pub source: String,
    /// Container side.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
    /// JSON pointer of the entry.
    pub pointer: String,
}

impl ServiceFacts {
    /// True when the service asks for anything that reaches beyond its container.
    pub fn is_privileged_in_any_way(&self) -> bool {
        self.privileged
            || self.host_network
            || self.host_pid
            || !self.cap_add.is_empty()
            || !self.devices.is_empty()
            || !self.host_bind_mounts.is_empty()
    }
}

impl ComposeFacts {
    /// Reads the facts from a compose file's text.
    pub fn parse(text: &str) -> Result<Self, ComposeError> {
        let doc: Value = serde_norway::from_str(text).map_err(|e| {
            let loc = e.location();
            ComposeError::Syntax {
                line: loc.as_ref().map(|l| l.line()),
                column: loc.as_ref().map(|l| l.column()),
                message: strip_location(&e.to_string()),
            }
        })?;
        let Value::Mapping(top) = &doc else {
            return Err(shape(
                "",
                "a compose file must be a mapping with a `services` key",
            ));
        };
        let services = match top.get("services") {
            Some(Value::Mapping(m)) if !m.is_empty() => m,
            Some(Value::Mapping(_)) => {
                return Err(shape("/services", "the compose file has no services"));
            }
            Some(Value::Null) | None => {
                return Err(shape("/services", "the compose file has no services"));
            }
            Some(_) => return Err(shape("/services", "`services` must be a mapping")),
        };
        let mut facts = ComposeFacts::default();
        for (name, svc) in services {
            let name = scalar(name).unwrap_or_default();
            let base = format!("/services/{name}");
            let Value::Mapping(svc) = svc else {
                return Err(shape(&base, &format!("service `{name}` must be a mapping")));
            };
            facts.services.push(service_facts(&name, &base, svc)?);
        }
        if let Some(Value::Mapping(vols)) = top.get("volumes") {
            facts.volumes = vols.keys().filter_map(scalar).collect();
        }
        for section in ["networks", "volumes"] {
            let Some(Value::Mapping(items)) = top.get(section) else {
                continue;
            };
            for (key, item) in items {
                let fixed = item.get("name").and_then(scalar);
                if let (Some(key), Some(fixed)) = (scalar(key), fixed) {
                    facts
                        .fixed_names
                        .push((format!("/{section}/{key}/name"), fixed));
                }
            }
        }
        Ok(facts)
    }

    /// The first service: where `vm.cli.exec` runs.
    pub fn first_service(&self) -> Option<&ServiceFacts> {
        self.services.first()
    }

    /// True when any service mounts the engine socket.
    pub fn reaches_engine(&self) -> bool {
        self.services
            .iter()
            .any(|s| !s.engine_socket_mounts.is_empty())
    }
}

fn shape(pointer: &str, message: &str) -> ComposeError {
    ComposeError::Shape {
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => matches!(s.as_str(), "true" | "True" | "yes"),
        _ => false,
    }
}

fn string_list(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(|i| match i {
                Value::Mapping(m) => m.get("published").or(m.get("source")).and_then(scalar),
                other => scalar(other),
            })
            .collect(),
        Some(other) => scalar(other).into_iter().collect(),
        None => Vec::new(),
    }
}

/// True when `image` names the extension's own image via the variable.
pub fn mentions_plugin_image(image: &str) -> bool {
    image.contains(&format!("${{{PLUGIN_IMAGE_VAR}}}"))
        || image.contains(&format!("${{{PLUGIN_IMAGE_VAR}:"))
        || image
            .match_indices(&format!("${PLUGIN_IMAGE_VAR}"))
            .any(|(i, m)| {
                let next = image[i + m.len()..].chars().next();
                !next.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            })
}

fn service_facts(
    name: &str,
    base: &str,
    svc: &serde_norway::Mapping,
) -> Result<ServiceFacts, ComposeError> {
    let image = svc.get("image").and_then(scalar);
    let mut facts = ServiceFacts {
        name: name.to_owned(),
        uses_plugin_image: image.as_deref().is_some_and(mentions_plugin_image),
        image,
        build: svc.get("build").is_some(),
        privileged: truthy(svc.get("privileged")),
        host_network: svc.get("network_mode").and_then(scalar).as_deref() == Some("host"),
        host_pid: svc.get("pid").and_then(scalar).as_deref() == Some("host"),
        cap_add: string_list(svc.get("cap_add")),
        devices: string_list(svc.get("devices")),
        ports: string_list(svc.get("ports")),
        container_name: svc.get("container_name").and_then(scalar),
        ..Default::default()
    };
    if let Some(vols) = svc.get("volumes") {
        let Value::Sequence(vols) = vols else {
            return Err(shape(
                &format!("{base}/volumes"),
                "`volumes` must be a list",
            ));
        };
        for (i, entry) in vols.iter().enumerate() {
            let pointer = format!("{base}/volumes/{i}");
            let Some(mount) = parse_mount(entry, pointer) else {
                continue;
            };
            if ENGINE_SOCKET_PATHS.contains(&mount.source.as_str()) {
                facts.engine_socket_mounts.push(mount);
            } else if is_host_path(&mount.source) {
                facts.host_bind_mounts.push(mount);
            }
        }
    }
    Ok(facts)
}

/// A bind-mount source names a host path (rather than a named volume).
fn is_host_path(source: &str) -> bool {
    source.starts_with('/')
        || source.starts_with('.')
        || source.starts_with('~')
        || source.starts_with('$')
}

fn parse_mount(entry: &Value, pointer: String) -> Option<Mount> {
    match entry {
        Value::String(s) => {
            // SOURCE:TARGET[:MODE]; a lone TARGET is an anonymous volume.
            let parts: Vec<&str> = s.split(':').collect();
            if parts.len() < 2 {
                return None;
            }
            let read_only = parts
                .get(2)
                .is_some_and(|m| m.split(',').any(|o| o == "ro"));
            Some(Mount {
                source: parts[0].to_owned(),
                target: parts[1].to_owned(),
                read_only,
                pointer,
            })
        }
        Value::Mapping(m) => {
            let kind = m
                .get("type")
                .and_then(scalar)
                .unwrap_or_else(|| "volume".to_owned());
            if kind != "bind" {
                return None;
            }
            Some(Mount {
                source: m.get("source").and_then(scalar).unwrap_or_default(),
                target: m.get("target").and_then(scalar).unwrap_or_default(),
                read_only: truthy(m.get("read_only")),
                pointer,
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_services_and_risky_options() {
        let text = r#"
services:
  api:
    image: ${DESKTOP_PLUGIN_IMAGE}
    cap_add: [NET_ADMIN]
    network_mode: host
    volumes:
      - /var/run/docker.sock.raw:/var/run/docker.sock
      - $HOME/.kube:/root/.kube:ro
      - data:/data
      - type: bind
        source: /var/lib/docker
        target: /var/lib/docker
  sidecar:
    image: busybox
    privileged: true
    pid: host
    ports: ["8080:80", {target: 81, published: 8081}]
    container_name: fixed
volumes:
  data: {}
  shared: {name: global-data}
networks:
  default: {name: fixed-net}
"#;
        let f = ComposeFacts::parse(text).unwrap();
        assert_eq!(f.services.len(), 2);
        let api = &f.services[0];
        assert!(api.uses_plugin_image);
        assert!(api.host_network);
        assert_eq!(api.cap_add, vec!["NET_ADMIN"]);
        assert_eq!(api.engine_socket_mounts[0].target, "/var/run/docker.sock");
        assert_eq!(api.host_bind_mounts.len(), 2);
        assert!(api.host_bind_mounts[0].read_only);
        assert_eq!(api.host_bind_mounts[1].pointer, "/services/api/volumes/3");
        let side = &f.services[1];
        assert!(side.privileged && side.host_pid && !side.uses_plugin_image);
        assert_eq!(side.ports, vec!["8080:80", "8081"]);
        assert_eq!(side.container_name.as_deref(), Some("fixed"));
        assert_eq!(f.volumes, vec!["data", "shared"]);
        assert_eq!(
            f.fixed_names,
            vec![
                ("/networks/default/name".to_owned(), "fixed-net".to_owned()),
                ("/volumes/shared/name".to_owned(), "global-data".to_owned())
            ]
        );
        assert!(f.reaches_engine());
    }

    #[test]
    fn plugin_image_forms() {
        assert!(mentions_plugin_image("${DESKTOP_PLUGIN_IMAGE}"));
        assert!(mentions_plugin_image("$DESKTOP_PLUGIN_IMAGE"));
        assert!(mentions_plugin_image("${DESKTOP_PLUGIN_IMAGE:-x}"));
        assert!(!mentions_plugin_image("$DESKTOP_PLUGIN_IMAGES"));
        assert!(!mentions_plugin_image("busybox"));
    }

    #[test]
    fn bad_files_say_where() {
        let e = ComposeFacts::parse("services:\n  a: [\n").unwrap_err();
        assert!(
            matches!(e, ComposeError::Syntax { line: Some(_), .. }),
            "{e:?}"
        );
        let e = ComposeFacts::parse("version: '3'\n").unwrap_err();
        assert_eq!(e.to_string(), "the compose file has no services");
        let e = ComposeFacts::parse("services: {}\n").unwrap_err();
        assert_eq!(e.to_string(), "the compose file has no services");
        let e = ComposeFacts::parse("- 1\n").unwrap_err();
        assert!(matches!(e, ComposeError::Shape { .. }));
    }
}
