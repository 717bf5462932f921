//! The engine's mode for this manager and the one choice made on it:
//! local or relay mode (see [`crate::engine_mode`]).

use dockhand_engine::{Engine, ModeReport};

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
}
