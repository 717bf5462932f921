//! The engine itself: ping and version.

use crate::{Engine, EngineError};

/// Engine versions, for `doctor`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineVersion {
    /// Docker or Podman.
    pub flavor: crate::EngineFlavor,
    /// The engine's version (`20.10.24`).
    pub version: String,
    /// The highest API version it speaks (`1.41`).
    pub api_version: String,
    /// `linux`, `windows`.
    pub os: String,
    /// `amd64`, `arm64`.
    pub arch: String,
    /// The kernel it runs on.
    pub kernel: String,
}

impl From<&bollard::models::SystemVersion> for EngineVersion {
    fn from(v: &bollard::models::SystemVersion) -> Self {
        Self {
            flavor: crate::EngineFlavor::of(v),
            version: v.version.clone().unwrap_or_default(),
            api_version: v.api_version.clone().unwrap_or_default(),
            os: v.os.clone().unwrap_or_default(),
            arch: v.arch.clone().unwrap_or_default(),
            kernel: v.kernel_version.clone().unwrap_or_default(),
        }
    }
}

impl Engine {
    /// Answers when the engine is up.
    pub async fn ping(&self) -> Result<(), EngineError> {
        self.docker
            .ping()
            .await
            .map(|_| ())
            .map_err(|e| EngineError::Unreachable {
                host: self.host.to_string(),
                reason: e.to_string(),
            })
    }

    /// The engine's version, as it answered when connected.
    pub async fn version(&self) -> Result<EngineVersion, EngineError> {
        Ok(self.version.clone())
    }
}
