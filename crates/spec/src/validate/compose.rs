//! Checks of the backend's compose file: it parses, its services use images,
//! and what each service asks of the host (reported as warnings, shown to
//! the user at install).

use super::{ImageFiles, image_path};
use crate::compose::{ComposeError, ComposeFacts, GUEST_SERVICES_DIR};
use crate::diagnostics::{Code, Diagnostic, Location};
use crate::metadata::Metadata;

fn at(pointer: &str) -> Location {
    Location::Compose(pointer.to_owned())
}

/// Docker Desktop VM paths that exist on no other host.
const DESKTOP_VM_PATHS: [&str; 2] = ["/run/host-services", GUEST_SERVICES_DIR];

pub(super) fn check(
    meta: &Metadata,
    files: &dyn ImageFiles,
    out: &mut Vec<Diagnostic>,
) -> Option<ComposeFacts> {
    let vm = meta.vm.as_ref()?;
    // With both keys the compose file runs (DH125), so it is the one checked.
    let file = vm.composefile.as_deref().filter(|f| !f.trim().is_empty())?;
    let path = image_path(file).filter(|p| !p.is_empty())?;
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
    let facts = match ComposeFacts::parse(&text) {
        Ok(f) => f,
        Err(e) => {
            let (code, loc) = match &e {
                ComposeError::Syntax {
                    line: Some(l),
                    column: Some(c),
                    ..
                } => (
                    Code::ComposeSyntax,
                    Location::File(format!("{path}:{l}:{c}")),
                ),
                ComposeError::Syntax { .. } => (Code::ComposeSyntax, Location::File(path)),
                ComposeError::Shape { pointer, .. } => (Code::ComposeShape, at(pointer)),
            };
            out.push(Diagnostic::new(code, loc, e.to_string()));
            return None;
        }
    };
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
                    "service `{}` has a build section, which is ignored: the image is pulled",
                    svc.name
                ),
            ));
        }
        for m in &svc.engine_socket_mounts {
            out.push(Diagnostic::new(
                Code::EngineSocket,
                at(&m.pointer),
                format!(
                    "service `{}` mounts the engine socket at {}{}: it can control every container",
                    svc.name,
                    m.target,
                    if m.read_only {
                        " (read-only mounts still allow every API call)"
                    } else {
                        ""
                    }
                ),
            ));
        }
        if svc.privileged {
            out.push(Diagnostic::new(
                Code::Privileged,
                at(&format!("{base}/privileged")),
                format!(
                    "service `{}` is privileged: it has full access to the host",
                    svc.name
                ),
            ));
        }
        if svc.host_network {
            out.push(Diagnostic::new(
                Code::HostNetwork,
                at(&format!("{base}/network_mode")),
                format!("service `{}` uses the host network", svc.name),
            ));
        }
        if svc.host_pid {
            out.push(Diagnostic::new(
                Code::HostPid,
                at(&format!("{base}/pid")),
                format!("service `{}` sees every process of the host", svc.name),
            ));
        }
        if !svc.cap_add.is_empty() {
            out.push(Diagnostic::new(
                Code::CapAdd,
                at(&format!("{base}/cap_add")),
                format!(
                    "service `{}` adds capabilities {}",
                    svc.name,
                    svc.cap_add.join(", ")
                ),
            ));
        }
        if !svc.devices.is_empty() {
            out.push(Diagnostic::new(
                Code::Devices,
                at(&format!("{base}/devices")),
                format!(
                    "service `{}` maps host devices {}",
                    svc.name,
                    svc.devices.join(", ")
                ),
            ));
        }
        for m in &svc.host_bind_mounts {
            if DESKTOP_VM_PATHS
                .iter()
                .any(|p| m.source == *p || m.source.starts_with(&format!("{p}/")))
            {
                out.push(Diagnostic::new(
                    Code::DesktopVmPath,
                    at(&m.pointer),
                    format!("`{}` is a Docker Desktop VM path that other hosts do not have: the mount is left out", m.source),
                ));
            } else {
                out.push(Diagnostic::new(
                    Code::HostBindMount,
                    at(&m.pointer),
                    format!(
                        "service `{}` bind-mounts host path `{}`{}",
                        svc.name,
                        m.source,
                        if m.read_only { " read-only" } else { "" }
                    ),
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
    for (pointer, name) in &facts.fixed_names {
        out.push(Diagnostic::new(
            Code::FixedResourceName,
            at(pointer),
            format!("`{name}` is a fixed name: every project using it shares it, and removing the extension may affect others"),
        ));
    }
    Some(facts)
}
