//! What each key of a compose model grants beyond an isolated container.
//!
//! Every key of a service, of a named volume or network, of a secret or a
//! config and of the document is either known to grant nothing, read here
//! into a [`Grant`], or shown as a key dockhand does not know: nothing is
//! skipped. Values are read in every spelling compose accepts (`"on"`,
//! `yes`, `1` for true; lists and mappings; short and long volume syntax).

use serde::Serialize;
use serde_json::{Map, Value};

use super::local::escape;
use super::{
    DESKTOP_VM_PATHS, ENGINE_SOCKET_PATHS, GUEST_SERVICES_DIR, Mount, ServiceFacts, text_of, truthy,
};

/// What kind of reach a grant is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantKind {
    /// The engine's socket (or `use_api_socket`): control of every container.
    EngineSocket,
    /// `privileged` (also on a lifecycle hook).
    Privileged,
    /// The host's network (`network_mode: host`, a `host` network).
    HostNetwork,
    /// The host's process namespace (`pid: host`).
    HostPid,
    /// Another namespace shared with the host or another container (`ipc`,
    /// `uts`, `userns_mode`, `cgroup`, `container:…` modes).
    Namespace,
    /// `cap_add`.
    Capabilities,
    /// `devices`, `gpus`, device reservations.
    Devices,
    /// `device_cgroup_rules`.
    DeviceRules,
    /// `security_opt` (seccomp, AppArmor, SELinux profiles).
    SecurityOpt,
    /// `sysctls`.
    Sysctls,
    /// `cgroup_parent`.
    CgroupParent,
    /// A host path: a bind mount, or a named volume whose options bind one.
    HostPath,
    /// A host file given to a service (`secrets`/`configs` with `file`,
    /// `env_file`).
    HostFile,
    /// `volumes_from` a container outside the project.
    VolumesFrom,
    /// A volume or network outside the project's own: `external`, another
    /// driver, driver options.
    Shared,
    /// `runtime`: another container runtime.
    Runtime,
    /// A key dockhand does not know: it may grant anything.
    Unknown,
}

/// One thing a compose model grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grant {
    /// What kind.
    pub kind: GrantKind,
    /// Who gets it: `service api`, `volume data`, `network n`, `secret s`,
    /// `compose file`.
    pub scope: String,
    /// What, as shown to the person (`privileged (full access to the host)`).
    pub what: String,
    /// JSON pointer into the model.
    pub pointer: String,
}

impl Grant {
    /// `scope: what`, the line the consent summary shows.
    pub fn line(&self) -> String {
        format!("{}: {}", self.scope, self.what)
    }
}

/// Service keys that grant nothing beyond the container (or are read
/// elsewhere: `image`, `ports`, `container_name`, `build`).
const QUIET_SERVICE_KEYS: &[&str] = &[
    "annotations",
    "attach",
    "blkio_config",
    "build",
    "cap_drop",
    "command",
    "configs",
    "container_name",
    "cpu_count",
    "cpu_percent",
    "cpu_period",
    "cpu_quota",
    "cpu_rt_period",
    "cpu_rt_runtime",
    "cpu_shares",
    "cpus",
    "cpuset",
    "credential_spec",
    "depends_on",
    "develop",
    "dns",
    "dns_opt",
    "dns_search",
    "domainname",
    "entrypoint",
    "environment",
    "expose",
    "extends",
    "external_links",
    "extra_hosts",
    "group_add",
    "healthcheck",
    "hostname",
    "image",
    "init",
    "isolation",
    "labels",
    "links",
    "log_driver",
    "log_opt",
    "logging",
    "mac_address",
    "mem_limit",
    "mem_reservation",
    "mem_swappiness",
    "memswap_limit",
    "networks",
    "oom_kill_disable",
    "oom_score_adj",
    "pids_limit",
    "platform",
    "ports",
    "profiles",
    "pull_policy",
    "read_only",
    "restart",
    "scale",
    "secrets",
    "shm_size",
    "stdin_open",
    "stop_grace_period",
    "stop_signal",
    "storage_opt",
    "tmpfs",
    "tty",
    "ulimits",
    "user",
    "working_dir",
];

/// Service keys holding a list that grants something whenever it has an
/// item: the grant's kind and what the items are shown as.
const LIST_GRANTS: [(&str, GrantKind, &str); 4] = [
    ("cap_add", GrantKind::Capabilities, "capabilities"),
    ("devices", GrantKind::Devices, "host devices"),
    (
        "device_cgroup_rules",
        GrantKind::DeviceRules,
        "device access rules",
    ),
    ("sysctls", GrantKind::Sysctls, "kernel parameters"),
];

/// Service keys holding a text that grants something whenever it is set.
const TEXT_GRANTS: [(&str, GrantKind, &str); 2] = [
    ("cgroup_parent", GrantKind::CgroupParent, "cgroup parent"),
    ("runtime", GrantKind::Runtime, "container runtime"),
];

/// `what a, b` for a list key's items; nothing when there are none.
fn listed(what: &str, items: &[String]) -> Option<String> {
    (!items.is_empty()).then(|| format!("{what} {}", items.join(", ")))
}

/// Reads every key of one service into `facts` (mounts, grants).
pub(super) fn service(
    facts: &mut ServiceFacts,
    base: &str,
    svc: &Map<String, Value>,
    services: &[String],
) {
    let scope = format!("service {}", facts.name);
    let mut grant = |kind: GrantKind, key: &str, what: String| {
        facts.grants.push(Grant {
            kind,
            scope: scope.clone(),
            what,
            pointer: format!("{base}/{}", escape(key)),
        });
    };
    for (key, value) in svc {
        let key = key.as_str();
        if key.starts_with("x-") || QUIET_SERVICE_KEYS.contains(&key) {
            continue;
        }
        if let Some(&(_, kind, what)) = LIST_GRANTS.iter().find(|(k, ..)| *k == key) {
            if let Some(what) = listed(what, &items(value)) {
                grant(kind, key, what);
            }
            continue;
        }
        if let Some(&(_, kind, what)) = TEXT_GRANTS.iter().find(|(k, ..)| *k == key) {
            let text = text_of(value);
            if !text.is_empty() {
                grant(kind, key, format!("{what} {text}"));
            }
            continue;
        }
        match key {
            "privileged" => {
                if truthy(value) {
                    grant(
                        GrantKind::Privileged,
                        key,
                        "privileged (full access to the host)".into(),
                    );
                }
            }
            "network_mode" => {
                let mode = text_of(value);
                match mode.as_str() {
                    "" | "bridge" | "default" | "none" => {}
                    "host" => grant(GrantKind::HostNetwork, key, "host network".into()),
                    m if m.starts_with("service:") => {}
                    m => grant(GrantKind::Namespace, key, namespace_text("network", m)),
                }
            }
            "pid" => match text_of(value).as_str() {
                "" | "private" => {}
                "host" => grant(
                    GrantKind::HostPid,
                    key,
                    "host process namespace (sees every process)".into(),
                ),
                m if m.starts_with("service:") => {}
                m => grant(GrantKind::Namespace, key, namespace_text("process", m)),
            },
            "ipc" => match text_of(value).as_str() {
                "" | "private" | "shareable" | "none" => {}
                m if m.starts_with("service:") => {}
                m => grant(GrantKind::Namespace, key, namespace_text("IPC", m)),
            },
            "uts" => match text_of(value).as_str() {
                "" => {}
                m => grant(
                    GrantKind::Namespace,
                    key,
                    namespace_text("UTS (hostname)", m),
                ),
            },
            "userns_mode" => match text_of(value).as_str() {
                "" => {}
                "host" => grant(
                    GrantKind::Namespace,
                    key,
                    "the host's user namespace (no user remapping)".into(),
                ),
                m => grant(
                    GrantKind::Namespace,
                    key,
                    format!("user namespace mode {m}"),
                ),
            },
            "cgroup" | "cgroupns_mode" => match text_of(value).as_str() {
                "" | "private" => {}
                m => grant(GrantKind::Namespace, key, namespace_text("cgroup", m)),
            },
            "gpus" => grant(GrantKind::Devices, key, format!("GPUs {}", text_of(value))),
            "security_opt" => {
                let opts: Vec<String> = items(value)
                    .into_iter()
                    .filter(|o| !o.starts_with("no-new-privileges"))
                    .collect();
                if let Some(what) = listed("security options", &opts) {
                    grant(GrantKind::SecurityOpt, key, what);
                }
            }
            "use_api_socket" => {
                if truthy(value) {
                    grant(
                        GrantKind::EngineSocket,
                        key,
                        "the engine's API socket and your registry credentials".into(),
                    );
                }
            }
            "volume_driver" => grant(
                GrantKind::Shared,
                key,
                format!("volume driver {}", text_of(value)),
            ),
            "volumes_from" => {
                for from in items(value) {
                    let source = from
                        .strip_prefix("service:")
                        .map(|s| s.split(':').next().unwrap_or_default().to_owned());
                    let plain = from.split(':').next().unwrap_or_default();
                    let inside = match &source {
                        Some(s) => services.contains(s),
                        None => {
                            !from.starts_with("container:") && services.iter().any(|s| s == plain)
                        }
                    };
                    if !inside {
                        grant(
                            GrantKind::VolumesFrom,
                            key,
                            format!(
                                "the volumes of container {}",
                                from.trim_start_matches("container:")
                            ),
                        );
                    }
                }
            }
            "env_file" | "label_file" => grant(
                GrantKind::HostFile,
                key,
                format!("host file {} ({key})", text_of(value)),
            ),
            "deploy" => deploy(value, &mut grant),
            "post_start" | "pre_stop" => {
                let hooks = match value {
                    Value::Array(a) => a.clone(),
                    other => vec![other.clone()],
                };
                if hooks
                    .iter()
                    .any(|h| h.get("privileged").is_some_and(truthy))
                {
                    grant(
                        GrantKind::Privileged,
                        key,
                        format!("a privileged {key} command (full access to the host)"),
                    );
                }
            }
            "volumes" => {}
            other => grant(
                GrantKind::Unknown,
                other,
                format!(
                    "key `{other}` = {} (dockhand does not know what it grants)",
                    text_of(value)
                ),
            ),
        }
    }
}

fn namespace_text(what: &str, mode: &str) -> String {
    if mode == "host" {
        format!("the host's {what} namespace")
    } else if let Some(c) = mode.strip_prefix("container:") {
        format!("the {what} namespace of container {c}")
    } else {
        format!("{what} namespace mode {mode}")
    }
}

fn deploy(value: &Value, grant: &mut impl FnMut(GrantKind, &str, String)) {
    let devices = value
        .pointer("/resources/reservations/devices")
        .map(|d| match d {
            Value::Array(a) => a.iter().map(text_of).collect::<Vec<_>>(),
            other => vec![text_of(other)],
        })
        .unwrap_or_default();
    if !devices.is_empty() {
        grant(
            GrantKind::Devices,
            "deploy",
            format!("reserved devices {}", devices.join("; ")),
        );
    }
}

/// Each entry of a list (or mapping: `key=value`) as text.
pub(super) fn items(value: &Value) -> Vec<String> {
    match value {
        Value::Array(a) => a.iter().map(text_of).filter(|s| !s.is_empty()).collect(),
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| format!("{k}={}", text_of(v)))
            .collect(),
        Value::Null => Vec::new(),
        other => vec![text_of(other)],
    }
}

/// One entry of a service's `volumes`, short or long syntax.
pub(super) fn mount(
    facts: &mut ServiceFacts,
    entry: &Value,
    pointer: String,
    context: &super::ModelContext,
) {
    let scope = format!("service {}", facts.name);
    let (kind, mount, propagation) = match entry {
        Value::String(s) => {
            // SOURCE:TARGET[:MODE]; a lone TARGET is an anonymous volume.
            let parts: Vec<&str> = s.split(':').collect();
            if parts.len() < 2 {
                return;
            }
            let mode = parts.get(2).copied().unwrap_or_default();
            let source = parts[0].to_owned();
            let kind = if is_host_path(&source) {
                "bind"
            } else {
                "volume"
            };
            let propagation = mode
                .split(',')
                .find(|o| o.contains("shared") || o.contains("slave"))
                .map(str::to_owned);
            let m = Mount {
                source,
                target: parts[1].to_owned(),
                read_only: mode.split(',').any(|o| o == "ro"),
                pointer,
            };
            (kind.to_owned(), m, propagation)
        }
        Value::Object(o) => {
            let kind = o
                .get("type")
                .map(text_of)
                .unwrap_or_else(|| "volume".into());
            let m = Mount {
                source: o.get("source").map(text_of).unwrap_or_default(),
                target: o.get("target").map(text_of).unwrap_or_default(),
                read_only: o.get("read_only").is_some_and(truthy),
                pointer,
            };
            let propagation = o
                .get("bind")
                .and_then(|b| b.get("propagation"))
                .map(text_of)
                .filter(|p| p.contains("shared") || p.contains("slave"));
            (kind, m, propagation)
        }
        _ => return,
    };
    let ro = if mount.read_only { " (read-only)" } else { "" };
    let prop = propagation
        .map(|p| format!(" with mount propagation {p}"))
        .unwrap_or_default();
    match kind.as_str() {
        "bind" | "npipe" => {
            let source = mount.source.trim_end_matches('/');
            if ENGINE_SOCKET_PATHS.contains(&source) {
                facts.grants.push(Grant {
                    kind: GrantKind::EngineSocket,
                    scope,
                    what: format!(
                        "the engine socket at {} (can control every container on this engine)",
                        mount.target
                    ),
                    pointer: mount.pointer.clone(),
                });
                facts.engine_socket_mounts.push(mount);
            } else if source == GUEST_SERVICES_DIR
                || DESKTOP_VM_PATHS
                    .iter()
                    .any(|p| source.strip_prefix(p).is_some_and(|r| r.starts_with('/')))
            {
                // A Docker Desktop VM path: the override replaces it.
                facts.host_bind_mounts.push(mount);
            } else {
                facts.grants.push(Grant {
                    kind: GrantKind::HostPath,
                    scope,
                    what: format!(
                        "host path {} at {}{ro}{prop}",
                        display_source(&mount.source, context),
                        display_source(
                            &mount.target,
                            &super::ModelContext {
                                home: context.home.clone(),
                                ..Default::default()
                            }
                        )
                    ),
                    pointer: mount.pointer.clone(),
                });
                facts.host_bind_mounts.push(mount);
            }
        }
        "volume" | "tmpfs" | "image" => {}
        other => facts.grants.push(Grant {
            kind: GrantKind::Unknown,
            scope,
            what: format!(
                "a `{other}` mount of {} at {} (dockhand does not know what it grants)",
                mount.source, mount.target
            ),
            pointer: mount.pointer,
        }),
    }
}

/// A host path as shown: `./…` below the project directory, `$HOME/…`
/// below the home directory.
pub(super) fn display_source(s: &str, context: &super::ModelContext) -> String {
    if s.is_empty() {
        return "(empty)".to_owned();
    }
    for (dir, shown) in [(&context.project_dir, "."), (&context.home, "$HOME")] {
        let dir = dir.trim_end_matches('/');
        if dir.is_empty() {
            continue;
        }
        if s == dir {
            return shown.to_owned();
        }
        if let Some(rest) = s.strip_prefix(dir).and_then(|r| r.strip_prefix('/')) {
            return format!("{shown}/{rest}");
        }
    }
    s.to_owned()
}

/// A bind-mount source names a host path (rather than a named volume).
pub(super) fn is_host_path(source: &str) -> bool {
    source.starts_with('/')
        || source.starts_with('.')
        || source.starts_with('~')
        || source.starts_with('$')
}

const VOLUME_KEYS: &[&str] = &["name", "driver", "driver_opts", "external", "labels"];
const NETWORK_KEYS: &[&str] = &[
    "name",
    "driver",
    "driver_opts",
    "external",
    "labels",
    "ipam",
    "internal",
    "attachable",
    "enable_ipv4",
    "enable_ipv6",
];
const FILE_OBJECT_KEYS: &[&str] = &[
    "name",
    "file",
    "environment",
    "content",
    "external",
    "labels",
    "driver",
    "driver_opts",
    "template_driver",
];
const TOP_KEYS: &[&str] = &[
    "version", "name", "services", "volumes", "networks", "secrets", "configs",
];

/// Grants of the document itself: named volumes and networks, secrets and
/// configs, and top-level keys dockhand does not know.
pub(super) fn project(doc: &Map<String, Value>) -> Vec<Grant> {
    let mut out = Vec::new();
    for (key, value) in doc {
        if key.starts_with("x-") || TOP_KEYS.contains(&key.as_str()) {
            continue;
        }
        out.push(Grant {
            kind: GrantKind::Unknown,
            scope: "compose file".into(),
            what: format!(
                "top-level key `{key}` = {} (dockhand does not know what it grants)",
                text_of(value)
            ),
            pointer: format!("/{}", escape(key)),
        });
    }
    for (section, noun, known) in [
        ("volumes", "volume", VOLUME_KEYS),
        ("networks", "network", NETWORK_KEYS),
        ("secrets", "secret", FILE_OBJECT_KEYS),
        ("configs", "config", FILE_OBJECT_KEYS),
    ] {
        let Some(Value::Object(defs)) = doc.get(section) else {
            continue;
        };
        for (name, def) in defs {
            let scope = format!("{noun} {name}");
            let base = format!("/{section}/{}", escape(name));
            let Value::Object(def) = def else { continue };
            let mut grant = |kind, key: &str, what: String| {
                out.push(Grant {
                    kind,
                    scope: scope.clone(),
                    what,
                    pointer: format!("{base}/{}", escape(key)),
                });
            };
            for (key, value) in def {
                if !key.starts_with("x-") && !known.contains(&key.as_str()) {
                    grant(
                        GrantKind::Unknown,
                        key,
                        format!(
                            "key `{key}` = {} (dockhand does not know what it grants)",
                            text_of(value)
                        ),
                    );
                }
            }
            let external = def.get("external").is_some_and(truthy);
            let fixed = def.get("name").map(text_of).unwrap_or_else(|| name.clone());
            match section {
                "volumes" | "networks" => {
                    if external {
                        grant(
                            GrantKind::Shared,
                            "external",
                            format!(
                                "the existing {noun} {fixed} (shared with whatever else uses it)"
                            ),
                        );
                    }
                    let driver = def.get("driver").map(text_of).unwrap_or_default();
                    match (section, driver.as_str()) {
                        (_, "") | ("volumes", "local") | ("networks", "bridge" | "default") => {}
                        ("networks", "host") => {
                            grant(GrantKind::HostNetwork, "driver", "host network".into())
                        }
                        _ => grant(GrantKind::Shared, "driver", format!("driver {driver}")),
                    }
                    let opts = def.get("driver_opts").map(items).unwrap_or_default();
                    if section == "volumes"
                        && let Some(path) = bind_device(def)
                    {
                        grant(
                            GrantKind::HostPath,
                            "driver_opts",
                            format!(
                                "host path {} (bound by driver options)",
                                display_source(&path, &super::ModelContext::default())
                            ),
                        );
                    } else if !opts.is_empty() {
                        grant(
                            GrantKind::Shared,
                            "driver_opts",
                            format!("driver options {}", opts.join(", ")),
                        );
                    }
                }
                _ => {
                    if let Some(file) = def.get("file") {
                        grant(
                            GrantKind::HostFile,
                            "file",
                            format!("host file {}", text_of(file)),
                        );
                    }
                }
            }
        }
    }
    out
}

/// The host path a local volume's options bind (`type: none`, `o: bind`,
/// `device: PATH`), in any order and spelling.
fn bind_device(def: &Map<String, Value>) -> Option<String> {
    let opts = def.get("driver_opts")?.as_object()?;
    let o = opts.get("o").map(text_of).unwrap_or_default();
    let is_bind = o
        .split(',')
        .any(|p| p.trim() == "bind" || p.trim() == "rbind");
    let device = opts.get("device").map(text_of)?;
    is_bind.then_some(device)
}
