//! The engine's mode for this manager and the one check on it (see
//! [`crate::engine_mode`]).

use dockhand_engine::{Engine, EngineMode, ModeReport};
use dockhand_spec::ExtensionId;

use crate::engine_mode::mode_of;
use crate::{InstallError, Manager};

impl Manager {
    /// The engine's mode (see [`mode_of`]).
    pub async fn engine_mode(
        &self,
        engine: &Engine,
        refresh: bool,
    ) -> Result<ModeReport, InstallError> {
        mode_of(engine, &self.layout.home, &self.layout.runtime, refresh).await
    }

    /// Whether this manager's backends on `engine` go through the relay
    /// (see [`crate::engine_mode::uses_relay`]).
    pub async fn uses_relay(&self, engine: &Engine) -> Result<bool, InstallError> {
        crate::engine_mode::uses_relay(engine, &self.layout).await
    }

    /// Refuses a backend for `id` when the engine is in remote mode: its
    /// socket directory would be a bind mount the engine cannot see.
    pub async fn require_local_mode(
        &self,
        engine: &Engine,
        id: &ExtensionId,
    ) -> Result<(), InstallError> {
        let report = self.engine_mode(engine, false).await?;
        match report.mode {
            EngineMode::Local => Ok(()),
            EngineMode::Remote => Err(InstallError::RemoteEngine {
                id: id.to_string(),
                host: engine.host().describe(),
                reason: report.reason,
            }),
        }
    }
}
