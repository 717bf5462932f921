//! The facts about a backend's compose file that the host needs: its
//! services and images, where it uses the extension's own image, and every
//! thing it grants beyond isolated containers (the engine socket, privileges,
//! namespaces, host paths and files, devices, keys dockhand does not know).
//!
//! The facts are read from compose's **normalized model**: what `docker
//! compose config --format json` (or docker-compose v1's `config`, YAML)
//! prints for the file, run by the caller with the interpolation environment
//! dockhand controls ([`ComposeFacts::from_config_output`]). Without a compose
//! CLI, the local reading ([`ComposeFacts::local`]) makes the same model as
//! far as it can — YAML merge keys resolved, `extends` within the file
//! followed, every string interpolated with that same environment — and the
//! facts come from it by the same code ([`ComposeFacts::from_model`]).
//!
//! The local reading also finds what dockhand refuses before compose ever
//! runs ([`Refusal`]): keys that make compose read other files on this host
//! (`env_file`, `label_file`, `extends.file`, `include`). A `build` section
//! is reported ([`ServiceFacts::build`]) but never acted on: compose runs
//! `up --no-build`.

mod grants;
mod interpolate;
mod local;

use serde_json::{Map, Value};

pub use grants::{Grant, GrantKind};
pub use interpolate::{InterpolationError, interpolate};

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

/// Docker Desktop VM paths that exist on no other host (the override
/// replaces mounts of them).
pub const DESKTOP_VM_PATHS: [&str; 2] = ["/run/host-services", GUEST_SERVICES_DIR];

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
    /// A variable that cannot be interpolated.
    #[error("{error}")]
    Interpolation {
        /// JSON pointer of the value.
        pointer: String,
        /// What is wrong.
        error: InterpolationError,
    },
    /// What compose printed is not a model (a compose CLI that answers
    /// something else).
    #[error("the output of `compose config` is not a compose model: {message}")]
    Model {
        /// Why.
        message: String,
    },
}

fn position(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" at line {l}, column {c}"),
        _ => String::new(),
    }
}

/// What dockhand refuses in a compose file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RefusalKind {
    /// A key that makes compose read another file on the host.
    OtherFiles,
}

/// Something the compose file asks that dockhand refuses to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// What.
    pub kind: RefusalKind,
    /// JSON pointer into the file.
    pub pointer: String,
    /// Why, and what to do.
    pub message: String,
}

/// Where the model the facts were read from came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ModelSource {
    /// dockhand's local reading of the file.
    #[default]
    Local,
    /// Compose's own `config` output.
    Compose,
}

/// What the model is read against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ModelContext {
    /// The compose project name (`name:`s compose gives a project's own
    /// networks and volumes, `<project>_<key>`, are not fixed names); empty:
    /// every `name:` is a fixed one.
    pub project: String,
    /// What `DESKTOP_PLUGIN_IMAGE` was set to (a service with that image runs
    /// the extension's own image).
    pub plugin_image: String,
    /// The project directory compose ran in: paths below it (relative ones,
    /// which compose makes absolute) are shown as `./…`, the same for every
    /// install of the extension.
    pub project_dir: String,
    /// `HOME` as compose got it: paths below it are shown as `$HOME/…`,
    /// the same for every user.
    pub home: String,
}

/// What a compose file asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComposeFacts {
    /// Services, in the model's order (the file's, for the local reading).
    pub services: Vec<ServiceFacts>,
    /// Top-level named volumes.
    pub volumes: Vec<String>,
    /// Networks and volumes given a fixed `name:`, as `(json pointer, name)`:
    /// shared with any other project that uses the same name.
    pub fixed_names: Vec<(String, String)>,
    /// What the document grants besides its services: named volumes and
    /// networks reaching outside the project, host files as secrets or
    /// configs, top-level keys dockhand does not know.
    pub grants: Vec<Grant>,
    /// What dockhand refuses (found by the local reading).
    pub refused: Vec<Refusal>,
    /// Where the model came from.
    pub source: ModelSource,
}

/// What one service asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Service name.
    pub name: String,
    /// `image`, as the model has it (interpolated).
    pub image: Option<String>,
    /// The service has a `build` section.
    pub build: bool,
    /// The image is the extension's own (`${DESKTOP_PLUGIN_IMAGE}`).
    pub uses_plugin_image: bool,
    /// Mounts of the engine's socket (Docker Desktop's VM paths of it).
    pub engine_socket_mounts: Vec<Mount>,
    /// Bind mounts of host paths other than the engine socket, Docker
    /// Desktop VM paths included (the override replaces those).
    pub host_bind_mounts: Vec<Mount>,
    /// Published ports.
    pub ports: Vec<String>,
    /// `container_name`, when fixed.
    pub container_name: Option<String>,
    /// Everything the service gets beyond an isolated container, in the
    /// model's key order.
    pub grants: Vec<Grant>,
}

/// A volume entry of a service.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mount {
    /// Host side (`/var/run/docker.sock.raw`, `/home/me/.kube`).
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
        !self.grants.is_empty()
    }

    /// The grants of one kind.
    pub fn grants_of(&self, kind: GrantKind) -> impl Iterator<Item = &Grant> {
        self.grants.iter().filter(move |g| g.kind == kind)
    }
}

/// The local reading's interpolation environment when none is given: the
/// variables dockhand documents for compose files, `DESKTOP_PLUGIN_IMAGE`
/// and `HOME`, each standing for itself (so a file reads as written).
pub fn placeholder_env() -> Vec<(String, String)> {
    vec![
        (PLUGIN_IMAGE_VAR.to_owned(), plugin_image_placeholder()),
        ("HOME".to_owned(), "$HOME".to_owned()),
    ]
}

/// `${DESKTOP_PLUGIN_IMAGE}`.
pub fn plugin_image_placeholder() -> String {
    format!("${{{PLUGIN_IMAGE_VAR}}}")
}

impl ComposeFacts {
    /// The local reading of a compose file's text with the documented
    /// variables standing for themselves ([`placeholder_env`]: images read
    /// `${DESKTOP_PLUGIN_IMAGE}`, paths `$HOME/…`): for callers that need
    /// the services and mounts of a file as written.
    pub fn parse(text: &str) -> Result<Self, ComposeError> {
        let context = ModelContext {
            plugin_image: plugin_image_placeholder(),
            ..Default::default()
        };
        Self::local(text, &placeholder_env(), &context)
    }

    /// The local reading of a compose file's text, interpolated with `env`
    /// (see the module docs).
    pub fn local(
        text: &str,
        env: &[(String, String)],
        context: &ModelContext,
    ) -> Result<Self, ComposeError> {
        let (model, refused) = local::read(text, env)?;
        let mut facts = Self::from_model(&model, context)?;
        facts.refused = refused;
        Ok(facts)
    }

    /// The facts of what `compose config` printed: JSON (compose v2's
    /// `--format json`) or YAML (docker-compose v1).
    pub fn from_config_output(output: &[u8], context: &ModelContext) -> Result<Self, ComposeError> {
        let model = match serde_json::from_slice::<Value>(output) {
            Ok(v) => v,
            Err(_) => {
                let text = std::str::from_utf8(output).map_err(|_| ComposeError::Model {
                    message: "it is not UTF-8".into(),
                })?;
                local::parse_plain(text).map_err(|e| ComposeError::Model {
                    message: e.to_string(),
                })?
            }
        };
        let mut facts = Self::from_model(&model, context)?;
        facts.source = ModelSource::Compose;
        Ok(facts)
    }

    /// The facts of a compose model (see the module docs).
    pub fn from_model(model: &Value, context: &ModelContext) -> Result<Self, ComposeError> {
        let Value::Object(top) = model else {
            return Err(shape(
                "",
                "a compose file must be a mapping with a `services` key",
            ));
        };
        let services = match top.get("services") {
            Some(Value::Object(m)) if !m.is_empty() => m,
            Some(Value::Object(_) | Value::Null) | None => {
                return Err(shape("/services", "the compose file has no services"));
            }
            Some(_) => return Err(shape("/services", "`services` must be a mapping")),
        };
        let names: Vec<String> = services.keys().cloned().collect();
        let mut facts = ComposeFacts::default();
        for (name, svc) in services {
            let base = format!("/services/{}", local::escape(name));
            let Value::Object(svc) = svc else {
                return Err(shape(&base, &format!("service `{name}` must be a mapping")));
            };
            facts
                .services
                .push(service_facts(name, &base, svc, &names, context)?);
        }
        if let Some(Value::Object(vols)) = top.get("volumes") {
            facts.volumes = vols.keys().cloned().collect();
        }
        for section in ["networks", "volumes"] {
            let Some(Value::Object(items)) = top.get(section) else {
                continue;
            };
            for (key, item) in items {
                let Some(fixed) = item.get("name").map(text_of) else {
                    continue;
                };
                let own =
                    !context.project.is_empty() && fixed == format!("{}_{key}", context.project);
                let external = item.get("external").is_some_and(truthy);
                if !own && !external {
                    facts
                        .fixed_names
                        .push((format!("/{section}/{}/name", local::escape(key)), fixed));
                }
            }
        }
        facts.grants = grants::project(top);
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
            .any(|s| s.grants_of(GrantKind::EngineSocket).next().is_some())
    }

    /// Every grant, the services' first, each with its scope.
    pub fn all_grants(&self) -> impl Iterator<Item = &Grant> {
        self.services
            .iter()
            .flat_map(|s| s.grants.iter())
            .chain(self.grants.iter())
    }
}

pub(crate) fn shape(pointer: &str, message: &str) -> ComposeError {
    ComposeError::Shape {
        pointer: pointer.to_owned(),
        message: message.to_owned(),
    }
}

/// A value as one line of text: scalars as they are, lists joined with
/// `, `, mappings as `key=value`.
pub(crate) fn text_of(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::Array(items) => items.iter().map(text_of).collect::<Vec<_>>().join(", "),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| match v {
                Value::Object(_) | Value::Array(_) => format!("{k}=[{}]", text_of(v)),
                _ => format!("{k}={}", text_of(v)),
            })
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Whether a value means true in any spelling compose accepts (`true`,
/// `"on"`, `yes`, `y`, `1`…). Anything that is not clearly false counts as
/// true: a privilege shown that compose would not grant is better than the
/// reverse.
pub(crate) fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64() != Some(0.0),
        Value::String(s) => !matches!(
            s.trim().to_ascii_lowercase().as_str(),
            "" | "false" | "no" | "n" | "off" | "0"
        ),
        Value::Array(a) => !a.is_empty(),
        Value::Object(_) => true,
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
    svc: &Map<String, Value>,
    services: &[String],
    context: &ModelContext,
) -> Result<ServiceFacts, ComposeError> {
    let image = svc
        .get("image")
        .map(text_of)
        .filter(|i| !i.trim().is_empty());
    let mut facts = ServiceFacts {
        name: name.to_owned(),
        uses_plugin_image: image.as_deref().is_some_and(|i| {
            (!context.plugin_image.is_empty() && i == context.plugin_image)
                || mentions_plugin_image(i)
        }),
        image,
        build: svc.get("build").is_some(),
        ports: svc.get("ports").map(ports).unwrap_or_default(),
        container_name: svc
            .get("container_name")
            .map(text_of)
            .filter(|n| !n.is_empty()),
        ..Default::default()
    };
    grants::service(&mut facts, base, svc, services);
    if let Some(vols) = svc.get("volumes") {
        let Value::Array(vols) = vols else {
            return Err(shape(
                &format!("{base}/volumes"),
                "`volumes` must be a list",
            ));
        };
        for (i, entry) in vols.iter().enumerate() {
            grants::mount(&mut facts, entry, format!("{base}/volumes/{i}"), context);
        }
    }
    Ok(facts)
}

fn ports(v: &Value) -> Vec<String> {
    match v {
        Value::Array(items) => items
            .iter()
            .map(|i| match i {
                Value::Object(m) => port(m),
                other => text_of(other),
            })
            .filter(|p| !p.is_empty())
            .collect(),
        Value::Null => Vec::new(),
        other => vec![text_of(other)],
    }
}

/// A long-syntax port as the short one reads: `[IP:]PUBLISHED:TARGET[/udp]`,
/// or `TARGET` when nothing is published.
fn port(m: &Map<String, Value>) -> String {
    let target = m.get("target").map(text_of).unwrap_or_default();
    let published = m
        .get("published")
        .or(m.get("source"))
        .map(text_of)
        .unwrap_or_default();
    let mut out = match m.get("host_ip").map(text_of).filter(|i| !i.is_empty()) {
        Some(ip) => format!("{ip}:"),
        None => String::new(),
    };
    if published.is_empty() {
        out.push_str(&target);
    } else {
        out.push_str(&format!("{published}:{target}"));
    }
    if let Some(p) = m
        .get("protocol")
        .map(text_of)
        .filter(|p| p != "tcp" && !p.is_empty())
    {
        out.push_str(&format!("/{p}"));
    }
    out
}

#[cfg(test)]
mod tests;
