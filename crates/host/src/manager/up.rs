//! `up`: every enabled backend started again (after an engine restart).

use dockhand_spec::ExtensionId;

use crate::Manager;
use crate::backend;
use crate::error::InstallError;

impl Manager {
    /// Starts every enabled backend again (after an engine restart); returns
    /// `(id, result)` for each extension with a backend.
    pub async fn up(
        &self,
    ) -> Result<Vec<(ExtensionId, Result<backend::Started, InstallError>)>, InstallError> {
        let mut out = Vec::new();
        let records = self.state.list()?;
        if !records.iter().any(|r| r.enabled && r.backend.is_some()) {
            return Ok(out);
        }
        let engine = self.engine().await?;
        let runner = self.compose().await?;
        for r in records.iter().filter(|r| r.enabled) {
            let Some(backend) = self.backend_on(&engine, r).await? else {
                continue;
            };
            let result = backend::up(&engine, &runner, &backend, self.ready_timeout).await;
            out.push((r.id.clone(), result));
        }
        Ok(out)
    }
}
