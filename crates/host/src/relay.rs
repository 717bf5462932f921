//! Relay mode for the manager (the engine does not see this machine's
//! files): an extension's relay container — the `dockhand-relay` service of
//! its compose project, labelled with the extension's owner labels and
//! [`ROLE_LABEL`]`=relay` — a session through it, and what a backend's
//! socket says through it. The bridge keeps its own sessions; the manager
//! opens one per check and drops it.

use std::io::ErrorKind;
use std::time::Duration;

use dockhand_engine::{ContainerInfo, Engine, ROLE_LABEL, Relay, SocketState};
use dockhand_spec::ExtensionId;

use crate::InstallError;

/// How long one connection attempt through the relay may take before the
/// socket counts as listening (a backend whose queue is full listens).
const PROBE_TIMEOUT: Duration = Duration::from_millis(500);

/// Why the relay of an extension cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RelayModeError {
    /// No relay container runs for the extension.
    #[error(
        "{id}: its relay container (service dockhand-relay) is not running on the engine at {host}, so its backend's sockets cannot be reached: run `dockhand doctor` (or `dockhand up`) to start it again"
    )]
    NotRunning {
        /// The extension.
        id: ExtensionId,
        /// The engine.
        host: String,
    },
    /// The relay image is not there and cannot be made.
    #[error(transparent)]
    Image(#[from] dockhand_engine::RelayImageError),
}

/// The label filter of the relay container of the owner `owner`
/// ([`crate::layout::owner_label`]).
pub fn relay_filter(owner: &str) -> String {
    format!("{owner},{ROLE_LABEL}=relay")
}

/// True for the relay container among an extension's containers.
pub fn is_relay(c: &ContainerInfo) -> bool {
    c.labels.get(ROLE_LABEL).map(String::as_str) == Some("relay")
}

/// The relay container of `owner`, running or not.
pub async fn relay_container(
    engine: &Engine,
    owner: &str,
) -> Result<Option<ContainerInfo>, InstallError> {
    let mut found = engine.containers_by_label(&relay_filter(owner)).await?;
    found.sort_by_key(|c| !c.is_running());
    Ok(found.into_iter().next())
}

/// A relay session and how it reaches the relay (it derefs to the
/// [`Relay`]).
#[derive(Debug, Clone)]
pub struct RelaySession {
    relay: Relay,
    /// Why the direct transport was not taken.
    why_exec: Option<String>,
}

impl std::ops::Deref for RelaySession {
    type Target = Relay;

    fn deref(&self) -> &Relay {
        &self.relay
    }
}

impl RelaySession {
    /// How it reaches the relay, for people: `directly (127.0.0.1:PORT on
    /// the engine's host)` or `through an exec (REASON)`.
    pub fn describe(&self) -> String {
        match &self.why_exec {
            None => "directly, on its port of the engine's host".to_owned(),
            Some(why) => format!("through an exec ({why})"),
        }
    }
}

/// A session through the running relay container of `owner` — the direct
/// transport where this machine reaches the relay's port, else an exec of
/// `dockhand-relay serve` in it ([`Engine::relay_open`]) — its driver
/// spawned on the current runtime.
pub async fn session(
    engine: &Engine,
    id: &ExtensionId,
    owner: &str,
) -> Result<RelaySession, InstallError> {
    let container = relay_container(engine, owner)
        .await?
        .filter(ContainerInfo::is_running)
        .ok_or_else(|| {
            InstallError::from(RelayModeError::NotRunning {
                id: id.clone(),
                host: engine.host().describe(),
            })
        })?;
    let io = engine.relay_open(&container.id).await?;
    let why_exec = io.why_not_direct().map(ToString::to_string);
    let (relay, driver) = Relay::start(io);
    tokio::spawn(driver);
    Ok(RelaySession { relay, why_exec })
}

/// What connecting to the socket `name` through `relay` says now: no such
/// socket is `Missing`, a refused connection `NotListening` (the relay runs
/// as root: nothing is denied); a connection still pending after half a
/// second counts as listening. A session that ended is `NotListening`.
pub async fn probe(relay: &Relay, name: &str) -> SocketState {
    match tokio::time::timeout(PROBE_TIMEOUT, relay.connect(name)).await {
        Ok(Ok(_)) | Err(_) => SocketState::Ready,
        Ok(Err(e)) => match e.kind() {
            ErrorKind::NotFound => SocketState::Missing,
            ErrorKind::WouldBlock => SocketState::Ready,
            ErrorKind::PermissionDenied => SocketState::Denied,
            _ => SocketState::NotListening,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_relay_is_found_by_its_role() {
        assert_eq!(
            relay_filter("dev.dockhand.extension=a/b,dev.dockhand.home=12"),
            "dev.dockhand.extension=a/b,dev.dockhand.home=12,dev.dockhand.role=relay"
        );
        let mut c = ContainerInfo {
            id: "1".into(),
            name: "p-dockhand-relay-1".into(),
            image: "dockhand-relay:x".into(),
            state: "running".into(),
            status: "Up".into(),
            labels: Default::default(),
            service: Some("dockhand-relay".into()),
            project: Some("p".into()),
        };
        assert!(!is_relay(&c));
        c.labels.insert(ROLE_LABEL.into(), "relay".into());
        assert!(is_relay(&c));
    }

    #[tokio::test]
    async fn socket_states_through_the_relay() {
        // A relay session over a socket pair, served by the real relay loop
        // is the engine crate's test; here an ended session.
        let (a, _b) = tokio::io::duplex(64);
        let (relay, driver) = Relay::start(a);
        drop(_b);
        let _ = driver.await;
        assert_eq!(probe(&relay, "x.sock").await, SocketState::NotListening);
    }
}
