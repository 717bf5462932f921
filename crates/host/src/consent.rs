//! What an extension will get on this machine, said before it gets it: the
//! permission summary shown at install (and again when an update widens it).

use std::fmt;

use dockhand_spec::text::one_line;
use dockhand_spec::{ComposeFacts, Metadata, Os};

/// Everything an extension asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// The dashboard tab's title.
    pub ui_tab: Option<String>,
    /// Backend services: `(name, image)`.
    pub services: Vec<(String, String)>,
    /// Services that mount the engine's socket (full control of the engine).
    pub engine_access: Vec<String>,
    /// Host binaries copied to this machine (file names).
    pub host_binaries: Vec<String>,
    /// Privileges, one line each (`service api: privileged`).
    pub privileges: Vec<String>,
}

impl Summary {
    /// The summary of an extension from its metadata and compose facts.
    pub fn of(metadata: &Metadata, compose: Option<&ComposeFacts>) -> Self {
        let mut s = Summary {
            ui_tab: metadata.dashboard_tab().map(|t| t.title.clone()),
            ..Default::default()
        };
        s.host_binaries = metadata
            .host_binaries(Os::Linux)
            .iter()
            .filter(|b| !b.is_dir())
            .map(|b| b.name().to_owned())
            .collect();
        if let Some(facts) = compose {
            for svc in &facts.services {
                s.services
                    .push((svc.name.clone(), svc.image.clone().unwrap_or_default()));
                if !svc.engine_socket_mounts.is_empty() {
                    s.engine_access.push(svc.name.clone());
                }
                let mut add =
                    |what: String| s.privileges.push(format!("service {}: {what}", svc.name));
                if svc.privileged {
                    add("privileged (full access to the host)".into());
                }
                if svc.host_network {
                    add("host network".into());
                }
                if svc.host_pid {
                    add("host process namespace".into());
                }
                if !svc.cap_add.is_empty() {
                    add(format!("capabilities {}", svc.cap_add.join(", ")));
                }
                if !svc.devices.is_empty() {
                    add(format!("devices {}", svc.devices.join(", ")));
                }
                for m in &svc.host_bind_mounts {
                    add(format!(
                        "host path {}{}",
                        m.source,
                        if m.read_only { " (read-only)" } else { "" }
                    ));
                }
            }
        }
        s
    }

    /// True when `self` asks for anything `before` did not (an update that
    /// widens permissions is asked about again).
    pub fn widens(&self, before: &Summary) -> bool {
        let more = |now: &[String], then: &[String]| now.iter().any(|x| !then.contains(x));
        more(&self.engine_access, &before.engine_access)
            || more(&self.host_binaries, &before.host_binaries)
            || more(&self.privileges, &before.privileges)
            || self.services.iter().any(|s| !before.services.contains(s))
    }

    /// True when the extension asks for anything beyond a UI.
    pub fn is_privileged(&self) -> bool {
        !self.engine_access.is_empty()
            || !self.host_binaries.is_empty()
            || !self.privileges.is_empty()
    }
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Every value comes from the image: each stays on its line, with its
        // control characters escaped, whoever shows the summary.
        match &self.ui_tab {
            Some(t) => writeln!(f, "  UI             a dashboard tab \"{}\"", one_line(t))?,
            None => writeln!(f, "  UI             none")?,
        }
        if self.services.is_empty() {
            writeln!(f, "  backend        none")?;
        } else {
            for (i, (name, image)) in self.services.iter().enumerate() {
                let head = if i == 0 { "backend" } else { "" };
                writeln!(
                    f,
                    "  {head:<14} service {} ({})",
                    one_line(name),
                    one_line(image)
                )?;
            }
        }
        if !self.engine_access.is_empty() {
            writeln!(
                f,
                "  engine socket  {} (can control every container on this engine)",
                one_line(&self.engine_access.join(", "))
            )?;
        }
        if !self.host_binaries.is_empty() {
            writeln!(
                f,
                "  host binaries  {} (run on this machine as you)",
                one_line(&self.host_binaries.join(", "))
            )?;
        }
        for (i, p) in self.privileges.iter().enumerate() {
            let head = if i == 0 { "privileges" } else { "" };
            writeln!(f, "  {head:<14} {}", one_line(&p.to_string()))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarises_and_detects_widening() {
        let meta = Metadata::from_slice(
            br#"{"ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"i.html"}},"host":{"binaries":[{"linux":[{"path":"/l/tool"}],"windows":[{"path":"/w/tool.exe"}]}]},"vm":{"composefile":"c.yaml"}}"#,
        )
        .unwrap();
        let facts = ComposeFacts::parse(
            "services:\n  api:\n    image: x\n    privileged: true\n    volumes: ['/var/run/docker.sock.raw:/var/run/docker.sock']\n",
        )
        .unwrap();
        let s = Summary::of(&meta, Some(&facts));
        assert_eq!(s.host_binaries, vec!["tool"]);
        assert_eq!(s.engine_access, vec!["api"]);
        assert!(s.is_privileged());
        let text = s.to_string();
        assert!(text.contains("engine socket  api"), "{text}");
        assert!(text.contains("privileged"), "{text}");
        let ui_only = Summary::of(&meta, None);
        assert!(s.widens(&ui_only));
        assert!(!ui_only.widens(&s));
    }
}
