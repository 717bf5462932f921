//! Uninstall, and the repair of operations a crash interrupted.

use dockhand_oci::store::Store;
use dockhand_spec::ExtensionId;

use crate::backend::{self, Backend};
use crate::error::InstallError;
use crate::install::InstallData;
use crate::state::{ExtensionLock, OpKind, Outcome};
use crate::uninstall::{Removed, UninstallData};
use crate::{Hooks, Manager};

use super::transaction::Transaction;

impl Manager {
    /// Removes an extension: containers, networks, files, host binaries,
    /// state (volumes only with `volumes`). Finds leftovers by label even
    /// when the extension's files are damaged or missing; idempotent.
    pub async fn uninstall(
        &self,
        id: &ExtensionId,
        volumes: bool,
        hooks: &dyn Hooks,
    ) -> Result<Removed, InstallError> {
        let _lock = ExtensionLock::acquire(&self.layout.home, id)?;
        self.repair_one(id, hooks).await?;
        let record = self.state.get(id)?;
        let project = record
            .as_ref()
            .and_then(|r| r.compose_project.clone())
            .unwrap_or_else(|| backend::project_of(&self.layout.home_id(), id));
        let Some(record) = record else {
            // Not installed: sweep what might be left of an earlier one.
            let leftovers = self.sweep_leftovers(id, &project, volumes).await?;
            if !leftovers {
                return Err(InstallError::NotInstalled(id.clone()));
            }
            return Ok(Removed {
                was_installed: false,
                leftovers,
            });
        };
        let data = UninstallData {
            project: project.clone(),
            volumes,
            image: record.image.clone(),
        };
        let tx = self.begin(id, OpKind::Uninstall, &data, hooks)?;
        match self.uninstall_steps(id, &data, &tx).await {
            Ok(()) => Ok(Removed {
                was_installed: true,
                leftovers: false,
            }),
            // An uninstall only goes forward: what is left is finished by repair.
            Err(e) => Err(e),
        }
    }

    async fn uninstall_steps(
        &self,
        id: &ExtensionId,
        data: &UninstallData,
        tx: &Transaction<'_>,
    ) -> Result<(), InstallError> {
        let hooks = tx.hooks;
        tx.step("backend-down")?;
        hooks.progress("removing the backend");
        let record = self.state.get(id)?;
        let has_backend = record.as_ref().is_none_or(|r| r.backend.is_some());
        match self.engine().await {
            Ok(engine) => {
                let runner = self.compose().await.ok();
                let backend = match &record {
                    Some(r) => self.backend_on(&engine, r).await.ok().flatten(),
                    None => None,
                }
                .unwrap_or_else(|| self.bare_backend(id, &data.project));
                backend::down(&engine, runner.as_ref(), &backend, data.volumes).await?;
            }
            Err(e) if has_backend => return Err(e),
            Err(_) => {}
        }
        tx.step("files")?;
        hooks.progress("removing files");
        let dir = self.layout.extension(id);
        if dir.exists() {
            fs_err::remove_dir_all(&dir).map_err(InstallError::io(&dir))?;
        }
        let _ = fs_err::remove_dir_all(self.layout.socket_dir(id));
        tx.step("store")?;
        if let Ok(store) = Store::open(self.layout.store()) {
            let _ = store.untag(&data.image);
            let _ = store.gc(&[]);
        }
        tx.step("commit")?;
        self.state.commit_remove(tx.op, id)?;
        // The last update check of a removed extension means nothing any more.
        let _ = self.state.forget_check(id);
        Ok(())
    }

    fn bare_backend(&self, id: &ExtensionId, project: &str) -> Backend {
        Backend {
            home_id: self.layout.home_id(),
            id: id.clone(),
            project: project.to_owned(),
            vm_dir: self.layout.extension(id).join("missing"),
            socket_dir: self.layout.socket_dir(id),
            socket: None,
            plugin_image: String::new(),
            relay: None,
        }
    }

    /// Removes containers, networks and files of an extension that is not
    /// installed; `true` when anything was found.
    async fn sweep_leftovers(
        &self,
        id: &ExtensionId,
        project: &str,
        volumes: bool,
    ) -> Result<bool, InstallError> {
        let mut found = false;
        if let Ok(engine) = self.engine().await {
            let label = self.layout.owner_label(id);
            let compose = format!("com.docker.compose.project={project}");
            found |= !engine.containers_by_label(&label).await?.is_empty();
            found |= !engine.containers_by_label(&compose).await?.is_empty();
            backend::sweep(&engine, &label, project, volumes).await?;
        }
        let dir = self.layout.extension(id);
        if dir.exists() {
            found = true;
            fs_err::remove_dir_all(&dir).map_err(InstallError::io(&dir))?;
        }
        let _ = fs_err::remove_dir_all(self.layout.socket_dir(id));
        Ok(found)
    }

    /// Repairs the interrupted operations of `id` whose process died:
    /// installs and updates are undone, uninstalls finished. Returns what
    /// was done, one line each. The caller holds the extension's lock.
    pub async fn repair_one(
        &self,
        id: &ExtensionId,
        hooks: &dyn Hooks,
    ) -> Result<Vec<String>, InstallError> {
        let mut done = Vec::new();
        for op in self
            .state
            .unfinished()?
            .into_iter()
            .filter(|o| &o.record.extension == id)
        {
            let last = op.last_step().unwrap_or("begin").to_owned();
            match op.record.kind {
                OpKind::Install | OpKind::Update => {
                    if let Ok(data) = serde_json::from_value::<InstallData>(op.record.data.clone())
                    {
                        self.undo_install(id, &data).await?;
                    }
                    self.state.finish(op.record.id, Outcome::Repaired)?;
                    done.push(format!(
                        "{id}: undid the {} interrupted at {last}",
                        op.record.kind.as_str()
                    ));
                }
                OpKind::Uninstall => {
                    let data: UninstallData = serde_json::from_value(op.record.data.clone())
                        .unwrap_or(UninstallData {
                            project: backend::project_of(&self.layout.home_id(), id),
                            volumes: false,
                            image: String::new(),
                        });
                    let quiet = crate::Quiet;
                    let _ = hooks;
                    let tx = Transaction::resume(&self.state, op.record.id, &quiet);
                    self.uninstall_steps(id, &data, &tx).await?;
                    done.push(format!(
                        "{id}: finished the uninstall interrupted at {last}"
                    ));
                }
            }
        }
        Ok(done)
    }
}
