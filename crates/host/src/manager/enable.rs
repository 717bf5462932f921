//! `enable` and `disable`: the backend started or stopped, and the tab shown
//! or hidden.

use dockhand_spec::ExtensionId;

use crate::Manager;
use crate::backend;
use crate::error::InstallError;
use crate::state::{ExtensionLock, ExtensionRecord};

impl Manager {
    /// Starts (`true`) or stops the backend and shows or hides the tab.
    pub async fn set_enabled(
        &self,
        id: &ExtensionId,
        enabled: bool,
    ) -> Result<ExtensionRecord, InstallError> {
        let _lock = ExtensionLock::acquire(&self.layout.home, id)?;
        let record = self.get(id)?;
        if record.backend.is_some() {
            let engine = self.engine().await?;
            let Some(backend) = self.backend_on(&engine, &record).await? else {
                return self.get(id);
            };
            let runner = self.compose().await?;
            if enabled {
                backend::up(&engine, &runner, &backend, self.ready_timeout).await?;
            } else {
                runner.stop(&backend.compose_project()).await?;
            }
        }
        self.state.set_enabled(id, enabled)?;
        self.get(id)
    }
}
