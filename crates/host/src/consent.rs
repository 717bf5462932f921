//! What an extension will get on this machine, said before it gets it: the
//! permission summary shown at install (and again when an update widens it).

use std::fmt;

use dockhand_spec::compose::plugin_image_placeholder;
use dockhand_spec::text::one_line;
use dockhand_spec::{ComposeFacts, ExtensionId, GrantKind, Metadata, Os};
use serde::{Deserialize, Serialize};

/// Why nobody could be asked to confirm an install or update
/// ([`crate::Hooks::confirm`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CannotConfirm {
    /// No terminal to ask on, and no `-y`.
    #[error(
        "{id} was not installed: confirming needs a terminal; pass -y to install without asking"
    )]
    NoTerminal {
        /// The extension.
        id: ExtensionId,
    },
    /// An update nobody attends wants more than the installed version has.
    #[error(
        "the new version of {id} wants more than the installed one:\n{summary}\nconfirm to update anyway"
    )]
    Widens {
        /// The extension.
        id: ExtensionId,
        /// What the new version gets.
        summary: Box<Summary>,
    },
}

/// Everything an extension asks for: one type for the CLI's prompt, the
/// dashboard's consent dialog (serialized as JSON) and an update's widening
/// check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// The dashboard tab's title.
    pub ui_tab: Option<String>,
    /// Backend services.
    pub services: Vec<ServiceLine>,
    /// Services that reach the engine's API (its socket mounted, or
    /// `use_api_socket`): full control of the engine.
    pub engine_access: Vec<String>,
    /// Host binaries copied to this machine (file names).
    pub host_binaries: Vec<String>,
    /// Everything else the compose file grants, one line each
    /// (`service api: privileged (full access to the host)`,
    /// `volume data: host path / (bound by driver options)`), keys dockhand
    /// does not know included.
    pub privileges: Vec<String>,
    /// The image this summary is about, pinned (`acme/ext:1.2.0@sha256:…`),
    /// when it came from a registry: what the dashboard installs once the
    /// person confirms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The engine's address when it runs on another machine or in a VM
    /// (remote mode, backends through the relay) and the compose file binds
    /// host paths: those are paths on the engine's host, not on this
    /// machine, and their lines in `privileges` say so (so the same bind on
    /// another engine is another privilege to an update's widening check).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remote_engine: Option<String>,
}

/// One backend service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLine {
    /// Its name.
    pub name: String,
    /// Its image (`${DESKTOP_PLUGIN_IMAGE}` for the extension's own).
    pub image: String,
}

/// The words a host path's line gets on an engine in remote mode.
fn on_engine_host(line: &str, engine: &str) -> String {
    format!("{line}, on the engine's host (remote engine {engine}), not on this machine")
}

impl Summary {
    /// The summary of an extension from its metadata and compose facts, for
    /// an engine that sees this machine's files (local mode).
    pub fn of(metadata: &Metadata, compose: Option<&ComposeFacts>) -> Self {
        Self::build(metadata, compose, None)
    }

    /// [`Summary::of`] for the engine at `engine` in remote mode: the host
    /// paths the compose file binds are on that engine's host.
    pub fn on_remote_engine(
        metadata: &Metadata,
        compose: Option<&ComposeFacts>,
        engine: &str,
    ) -> Self {
        Self::build(metadata, compose, Some(engine))
    }

    /// True when the compose file binds a host path (a bind mount, or a
    /// volume whose driver options bind one).
    pub fn binds_host_paths(compose: Option<&ComposeFacts>) -> bool {
        compose.is_some_and(|f| f.all_grants().any(|g| g.kind == GrantKind::HostPath))
    }

    fn build(metadata: &Metadata, compose: Option<&ComposeFacts>, remote: Option<&str>) -> Self {
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
        let Some(facts) = compose else {
            return s;
        };
        for svc in &facts.services {
            let image = if svc.uses_plugin_image {
                plugin_image_placeholder()
            } else {
                svc.image.clone().unwrap_or_default()
            };
            s.services.push(ServiceLine {
                name: svc.name.clone(),
                image,
            });
            if svc.grants_of(GrantKind::EngineSocket).next().is_some() {
                s.engine_access.push(svc.name.clone());
            }
        }
        for g in facts.all_grants() {
            if g.kind == GrantKind::EngineSocket {
                continue;
            }
            let line = match remote {
                Some(engine) if g.kind == GrantKind::HostPath => {
                    s.remote_engine = Some(engine.to_owned());
                    on_engine_host(&g.line(), engine)
                }
                _ => g.line(),
            };
            if !s.privileges.contains(&line) {
                s.privileges.push(line);
            }
        }
        s
    }

    /// True when `self` asks for anything `before` did not: a new service
    /// or image, engine access, host binary, or any privilege line (an
    /// update that widens permissions is asked about again).
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
            for (i, svc) in self.services.iter().enumerate() {
                let head = if i == 0 { "backend" } else { "" };
                writeln!(
                    f,
                    "  {head:<14} service {} ({})",
                    one_line(&svc.name),
                    one_line(&svc.image)
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

    #[test]
    fn host_paths_on_a_remote_engine_are_on_its_host() {
        let meta = Metadata::from_slice(br#"{"vm":{"composefile":"c.yaml"}}"#).unwrap();
        let facts = ComposeFacts::parse(
            "services:\n  api:\n    image: x\n    privileged: true\n    volumes: ['/srv/data:/data', 'cache:/cache']\nvolumes:\n  cache: {}\n",
        )
        .unwrap();
        assert!(Summary::binds_host_paths(Some(&facts)));
        assert!(!Summary::binds_host_paths(None));
        let local = Summary::of(&meta, Some(&facts));
        let engine = "tcp://10.0.0.5:2376 (TLS)";
        let remote = Summary::on_remote_engine(&meta, Some(&facts), engine);
        assert_eq!(local.remote_engine, None);
        assert_eq!(remote.remote_engine.as_deref(), Some(engine));
        let bind = |s: &Summary| {
            s.privileges
                .iter()
                .find(|p| p.contains("host path /srv/data"))
                .cloned()
                .unwrap_or_else(|| panic!("no host path line: {s:?}"))
        };
        assert!(!bind(&local).contains("engine's host"), "{local:?}");
        assert_eq!(
            bind(&remote),
            format!(
                "{}, on the engine's host (remote engine tcp://10.0.0.5:2376 (TLS)), not on this machine",
                bind(&local)
            )
        );
        // Only host paths change.
        let others = |s: &Summary| {
            s.privileges
                .iter()
                .filter(|p| !p.contains("host path"))
                .cloned()
                .collect::<Vec<_>>()
        };
        assert_eq!(others(&local), others(&remote));
        assert!(!others(&remote).is_empty(), "{remote:?}");
        // The CLI's lines and the dashboard's JSON both say so.
        let text = remote.to_string();
        assert!(
            text.contains(
                "/srv/data at /data, on the engine's host (remote engine tcp://10.0.0.5:2376 (TLS))"
            ),
            "{text}"
        );
        let json = serde_json::to_value(&remote).unwrap();
        assert_eq!(json["remote_engine"], engine);
        assert!(
            serde_json::to_value(&local)
                .unwrap()
                .get("remote_engine")
                .is_none()
        );
        // The same bind on a machine other than the one consented to asks again.
        assert!(remote.widens(&local));
        assert!(!remote.widens(&remote.clone()));
        // Without host paths nothing says remote.
        let no_binds = ComposeFacts::parse("services:\n  api:\n    image: x\n").unwrap();
        let plain = Summary::on_remote_engine(&meta, Some(&no_binds), engine);
        assert_eq!(plain, Summary::of(&meta, Some(&no_binds)));
    }
}
