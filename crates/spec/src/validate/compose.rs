//! Checks of the backend's compose file: it parses, dockhand may run it (no
//! `build`, no other files), compose accepts it, its services use images,
//! and everything each service and the document grant (reported as warnings,
//! shown to the user at install).

use super::{ImageFiles, image_path};
use crate::compose::{
    ComposeError, ComposeFacts, DESKTOP_VM_PATHS, GUEST_SERVICES_DIR, GrantKind, ModelContext,
    RefusalKind, placeholder_env, plugin_image_placeholder,
};
use crate::diagnostics::{Code, Diagnostic, Location};
use crate::metadata::Metadata;

/// How the compose file is read ([`super::ValidateOptions::compose`]).
#[derive(Debug, Clone)]
pub struct ComposeInput {
    /// The interpolation environment dockhand gives compose (the same for
    /// the local reading).
    pub env: Vec<(String, String)>,
    /// What the model is read against.
    pub context: ModelContext,
    /// What `compose config` printed for the file (`Ok`), or why compose
    /// refused it (`Err`); `None`: no compose CLI ran, the local reading
    /// gives the facts.
    pub normalized: Option<Result<Vec<u8>, String>>,
}

impl Default for ComposeInput {
    /// The documented variables standing for themselves
    /// ([`placeholder_env`]), no compose output.
    fn default() -> Self {
        Self {
            env: placeholder_env(),
            context: ModelContext {
                plugin_image: plugin_image_placeholder(),
                ..Default::default()
            },
            normalized: None,
        }
    }
}

/// The compose file `meta` runs, as a path in the image, when there is one.
pub fn compose_file_path(meta: &Metadata) -> Option<String> {
    let vm = meta.vm.as_ref()?;
    // With both keys the compose file runs (DH125), so it is the one checked.
    let file = vm.composefile.as_deref().filter(|f| !f.trim().is_empty())?;
    image_path(file).filter(|p| !p.is_empty())
}

fn at(pointer: &str) -> Location {
    Location::Compose(pointer.to_owned())
}

pub(super) fn check(
    meta: &Metadata,
    files: &dyn ImageFiles,
    input: &ComposeInput,
    out: &mut Vec<Diagnostic>,
) -> Option<ComposeFacts> {
    let file = meta.vm.as_ref()?.composefile.clone().unwrap_or_default();
    let path = compose_file_path(meta)?;
    let bytes = match files.read(&path) {
        Ok(Some(b)) => b,
        Ok(None) => {
            out.push(Diagnostic::new(
                Code::ComposeMissing,
                Location::File(path.clone()),
                format!("vm.composefile names `{file}`, which is not in the image: add it or fix the name"),
            ));
            return None;
        }
        Err(message) => {
            out.push(Diagnostic::new(
                Code::ComposeMissing,
                Location::File(path),
                message,
            ));
            return None;
        }
    };
    let Ok(text) = String::from_utf8(bytes) else {
        out.push(Diagnostic::new(
            Code::ComposeSyntax,
            Location::File(path),
            "the compose file is not UTF-8",
        ));
        return None;
    };
    let local = match ComposeFacts::local(&text, &input.env, &input.context) {
        Ok(f) => f,
        Err(e) => {
            out.push(error_diagnostic(&e, &path));
            return None;
        }
    };
    for r in &local.refused {
        let code = match r.kind {
            RefusalKind::OtherFiles => Code::ComposeOtherFiles,
        };
        out.push(Diagnostic::new(code, at(&r.pointer), r.message.clone()));
    }
    let facts = match &input.normalized {
        None => local,
        Some(Err(message)) => {
            out.push(Diagnostic::new(
                Code::ComposeRejected,
                Location::File(path),
                format!("compose rejects the file: {}", message.trim()),
            ));
            local
        }
        Some(Ok(output)) => match ComposeFacts::from_config_output(output, &input.context) {
            Ok(mut f) => {
                f.refused = local.refused;
                f
            }
            Err(e) => {
                out.push(Diagnostic::new(
                    Code::ComposeRejected,
                    Location::File(path),
                    e.to_string(),
                ));
                local
            }
        },
    };
    describe(&facts, out);
    Some(facts)
}

fn error_diagnostic(e: &ComposeError, path: &str) -> Diagnostic {
    let (code, loc) = match e {
        ComposeError::Syntax {
            line: Some(l),
            column: Some(c),
            ..
        } => (
            Code::ComposeSyntax,
            Location::File(format!("{path}:{l}:{c}")),
        ),
        ComposeError::Syntax { .. } | ComposeError::Model { .. } => {
            (Code::ComposeSyntax, Location::File(path.to_owned()))
        }
        ComposeError::Shape { pointer, .. } => (Code::ComposeShape, at(pointer)),
        ComposeError::Interpolation { pointer, .. } => (Code::ComposeRejected, at(pointer)),
    };
    Diagnostic::new(code, loc, e.to_string())
}

fn code_of(kind: GrantKind) -> Code {
    match kind {
        GrantKind::EngineSocket => Code::EngineSocket,
        GrantKind::Privileged => Code::Privileged,
        GrantKind::HostNetwork => Code::HostNetwork,
        GrantKind::HostPid => Code::HostPid,
        GrantKind::Namespace => Code::SharedNamespace,
        GrantKind::Capabilities => Code::CapAdd,
        GrantKind::Devices => Code::Devices,
        GrantKind::DeviceRules => Code::DeviceRules,
        GrantKind::SecurityOpt => Code::SecurityOpt,
        GrantKind::Sysctls => Code::Sysctls,
        GrantKind::CgroupParent => Code::CgroupParent,
        GrantKind::HostPath => Code::HostBindMount,
        GrantKind::HostFile => Code::HostFile,
        GrantKind::VolumesFrom => Code::VolumesFrom,
        GrantKind::Shared => Code::OutsideProject,
        GrantKind::Runtime => Code::Runtime,
        GrantKind::Unknown => Code::UnknownComposeKey,
    }
}

/// One diagnostic per grant, image problem, VM-only path, fixed name.
fn describe(facts: &ComposeFacts, out: &mut Vec<Diagnostic>) {
    for svc in &facts.services {
        let base = format!("/services/{}", svc.name);
        if svc.image.as_deref().is_none_or(|i| i.trim().is_empty()) {
            out.push(Diagnostic::new(
                Code::ServiceWithoutImage,
                at(&base),
                format!("service `{}` has no image: hosts do not build images; set image (for example ${{DESKTOP_PLUGIN_IMAGE}})", svc.name),
            ));
        }
        if svc.build {
            out.push(Diagnostic::new(
                Code::ServiceBuild,
                at(&format!("{base}/build")),
                format!(
                    "service `{}` has a build section, which dockhand ignores: it never builds images (compose runs `up --no-build`) and runs the service's image",
                    svc.name
                ),
            ));
        }
        for g in &svc.grants {
            let message = match g.kind {
                GrantKind::Privileged if g.pointer.ends_with("/privileged") => format!(
                    "service `{}` is privileged: it has full access to the host",
                    svc.name
                ),
                GrantKind::HostNetwork => format!("service `{}` uses the host network", svc.name),
                GrantKind::HostPid => {
                    format!("service `{}` sees every process of the host", svc.name)
                }
                GrantKind::Capabilities => format!("service `{}` adds {}", svc.name, g.what),
                GrantKind::EngineSocket => match svc
                    .engine_socket_mounts
                    .iter()
                    .find(|m| m.pointer == g.pointer)
                {
                    Some(m) => format!(
                        "service `{}` mounts the engine socket at {}{}: it can control every container",
                        svc.name,
                        m.target,
                        if m.read_only {
                            " (read-only mounts still allow every API call)"
                        } else {
                            ""
                        }
                    ),
                    None => format!("service `{}` gets {}", svc.name, g.what),
                },
                _ => format!("service `{}` gets {}", svc.name, g.what),
            };
            out.push(Diagnostic::new(code_of(g.kind), at(&g.pointer), message));
        }
        for m in &svc.host_bind_mounts {
            let source = m.source.trim_end_matches('/');
            if source == GUEST_SERVICES_DIR
                || DESKTOP_VM_PATHS
                    .iter()
                    .any(|p| source == *p || source.starts_with(&format!("{p}/")))
            {
                out.push(Diagnostic::new(
                    Code::DesktopVmPath,
                    at(&m.pointer),
                    format!("`{}` is a Docker Desktop VM path that other hosts do not have: the mount is left out", m.source),
                ));
            }
        }
        if let Some(name) = &svc.container_name {
            out.push(Diagnostic::new(
                Code::FixedContainerName,
                at(&format!("{base}/container_name")),
                format!("service `{}` is always named `{name}`: it clashes with any other container of that name", svc.name),
            ));
        }
        if !svc.ports.is_empty() {
            out.push(Diagnostic::new(
                Code::PublishedPorts,
                at(&format!("{base}/ports")),
                format!(
                    "service `{}` publishes host ports {}",
                    svc.name,
                    svc.ports.join(", ")
                ),
            ));
        }
    }
    for g in &facts.grants {
        out.push(Diagnostic::new(
            code_of(g.kind),
            at(&g.pointer),
            format!("{} gets {}", g.scope, g.what),
        ));
    }
    for (pointer, name) in &facts.fixed_names {
        out.push(Diagnostic::new(
            Code::FixedResourceName,
            at(pointer),
            format!("`{name}` is a fixed name: every project using it shares it, and removing the extension may affect others"),
        ));
    }
}
