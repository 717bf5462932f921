//! Which engine serves the Docker API: Docker Engine, or Podman's
//! Docker-compatible service (`podman system service`).
//!
//! The two answer the same requests with a few differences. Every place
//! where a difference changes what dockhand does asks the [`EngineFlavor`]
//! here, so the list below is the whole story (ARCHITECTURE.md, "Podman"):
//!
//! - a container's `Image` is the image's fully qualified name on Podman
//!   (`localhost/acme/ext:1` for an image loaded as `acme/ext:1`,
//!   `docker.io/library/alpine:3` for `alpine:3`); Docker gives back the name
//!   the container was created with. [`EngineFlavor::container_image`] turns
//!   Podman's name back into the short form;
//! - a line a container writes in several pieces (Rust's `eprintln!` does)
//!   is logged by Podman's conmon as partial entries, and its logs endpoint
//!   gives each piece out as a frame of its own; Docker's log copier joins
//!   them; and its `tail=N` counts those pieces, not lines. Logs from
//!   Podman are joined into whole lines again, and a tail is asked for with
//!   room to spare and cut to whole lines ([`EngineFlavor::splits_log_lines`]);
//! - exec in a stopped container is refused with 500 `container state
//!   improper` by Podman and 409 `is not running` by Docker; both are
//!   [`crate::EngineError::NotRunning`] ([`EngineFlavor::is_not_running`]).

use bollard::models::SystemVersion;

/// The name of the component Podman lists first in `GET /version`.
const PODMAN_COMPONENT: &str = "Podman Engine";

/// Which engine answers on the Docker API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EngineFlavor {
    /// Docker Engine (moby), or anything else that does not say it is Podman.
    #[default]
    Docker,
    /// Podman's Docker-compatible API.
    Podman,
}

impl EngineFlavor {
    /// Tells the engine from its `GET /version` answer: Podman lists a
    /// `Podman Engine` component (its `Platform.Name` is the host's OS, such
    /// as `linux/amd64/debian-12`, and names nothing); Docker lists `Engine`.
    pub fn of(version: &SystemVersion) -> Self {
        let podman_component = version
            .components
            .iter()
            .flatten()
            .any(|c| c.name == PODMAN_COMPONENT);
        let podman_platform = version
            .platform
            .as_ref()
            .is_some_and(|p| p.name.to_ascii_lowercase().contains("podman"));
        if podman_component || podman_platform {
            Self::Podman
        } else {
            Self::Docker
        }
    }

    /// The engine's product name, for messages (`Docker Engine`, `Podman`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Docker => "Docker Engine",
            Self::Podman => "Podman",
        }
    }

    /// A container's image as listed, in the short form the docker CLI
    /// shows: Podman's `localhost/` (its name for images without a
    /// registry) and `docker.io/[library/]` prefixes are removed; Docker's
    /// answer is kept as it is.
    pub fn container_image(self, listed: &str) -> String {
        if self == Self::Docker {
            return listed.to_owned();
        }
        for prefix in ["localhost/", "docker.io/library/", "docker.io/"] {
            if let Some(rest) = listed.strip_prefix(prefix)
                && !rest.is_empty()
            {
                return rest.to_owned();
            }
        }
        listed.to_owned()
    }

    /// True when the logs endpoint may give one line out in several frames
    /// (Podman: one per `write` the container made), so that frames have to
    /// be joined into lines; Docker gives out whole lines.
    pub fn splits_log_lines(self) -> bool {
        self == Self::Podman
    }

    /// True when an engine error (`status`, `message`) about a container
    /// means that the container is not running: Docker answers 409 `Container
    /// … is not running`, Podman 500 `… container state improper`.
    pub fn is_not_running(self, status: u16, message: &str) -> bool {
        match self {
            Self::Docker => status == 409 && message.contains("is not running"),
            Self::Podman => {
                matches!(status, 409 | 500)
                    && (message.contains("container state improper")
                        || message.contains("is not running"))
            }
        }
    }
}

impl std::fmt::Display for EngineFlavor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn version(json: &str) -> SystemVersion {
        serde_json::from_str(json).expect("version json")
    }

    #[test]
    fn podman_is_told_by_its_component() {
        // Abridged from podman 4.3.1 (Debian 12) and dockerd 20.10 (Debian's docker.io).
        let podman = version(
            r#"{"Platform":{"Name":"linux/amd64/debian-12"},
                "Components":[{"Name":"Podman Engine","Version":"4.3.1","Details":{"APIVersion":"4.3.1"}},
                              {"Name":"Conmon","Version":"conmon version 2.1.6","Details":{}}],
                "Version":"4.3.1","ApiVersion":"1.41","MinAPIVersion":"1.24","Os":"linux","Arch":"amd64"}"#,
        );
        assert_eq!(EngineFlavor::of(&podman), EngineFlavor::Podman);
        let docker = version(
            r#"{"Platform":{"Name":""},
                "Components":[{"Name":"Engine","Version":"20.10.24+dfsg1","Details":{"ApiVersion":"1.41"}},
                              {"Name":"containerd","Version":"1.6.20","Details":{}}],
                "Version":"20.10.24+dfsg1","ApiVersion":"1.41","Os":"linux","Arch":"amd64"}"#,
        );
        assert_eq!(EngineFlavor::of(&docker), EngineFlavor::Docker);
        let ce =
            version(r#"{"Platform":{"Name":"Docker Engine - Community"},"ApiVersion":"1.45"}"#);
        assert_eq!(EngineFlavor::of(&ce), EngineFlavor::Docker);
        assert_eq!(EngineFlavor::of(&version("{}")), EngineFlavor::Docker);
        assert_eq!(EngineFlavor::Podman.to_string(), "Podman");
    }

    #[test]
    fn podman_image_names_are_shortened() {
        let p = EngineFlavor::Podman;
        assert_eq!(p.container_image("localhost/acme/ext:1"), "acme/ext:1");
        assert_eq!(p.container_image("docker.io/library/alpine:3"), "alpine:3");
        assert_eq!(p.container_image("docker.io/acme/ext:1"), "acme/ext:1");
        assert_eq!(
            p.container_image("127.0.0.1:5000/acme/ext:1"),
            "127.0.0.1:5000/acme/ext:1"
        );
        assert_eq!(p.container_image("localhost/"), "localhost/");
        // Docker's answer is what the container was created with: kept.
        assert_eq!(
            EngineFlavor::Docker.container_image("localhost/acme/ext:1"),
            "localhost/acme/ext:1"
        );
    }

    #[test]
    fn not_running_in_both_dialects() {
        let podman =
            "can only create exec sessions on running containers: container state improper";
        assert!(EngineFlavor::Podman.is_not_running(500, podman));
        assert!(EngineFlavor::Docker.is_not_running(409, "Container abc is not running"));
        assert!(!EngineFlavor::Docker.is_not_running(409, "Container abc is paused"));
        assert!(!EngineFlavor::Docker.is_not_running(500, podman));
        assert!(!EngineFlavor::Podman.is_not_running(500, "no space left on device"));
    }
}
