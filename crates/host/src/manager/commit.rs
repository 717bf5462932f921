//! The journalled part of an install or update: from staging to a committed
//! record, and its undo.

use std::path::Path;

use dockhand_oci::source::{ImageSource, export_docker_archive};
use dockhand_oci::store::Store;
use dockhand_spec::ExtensionId;
use dockhand_spec::labels::name;
use dockhand_spec::{Metadata, Os};

use super::prepare::{Candidate, Prepared};
use super::transaction::Transaction;
use crate::backend::{self, Backend};
use crate::error::InstallError;
use crate::install::{InstallData, PreviousVersion, plugin_image_of};
use crate::layout::switch_symlink;
use crate::state::{BackendRecord, ExtensionRecord, OpKind};
use crate::{Hooks, Manager};

impl Manager {
    /// The journalled part: from staging to a committed install.
    pub(super) async fn commit_install(
        &self,
        store: &Store,
        source: &ImageSource,
        p: Prepared,
        hooks: &dyn Hooks,
    ) -> Result<ExtensionRecord, InstallError> {
        let c = &p.candidate;
        let version_dir = self
            .layout
            .version(&c.id, &c.image.manifest_descriptor.digest);
        let existing = self.state.get(&c.id)?;
        // An update keeps the project its record names (its containers are
        // recreated in place, its volumes kept); a new install gets this
        // home's project.
        let project = existing
            .as_ref()
            .and_then(|r| r.compose_project.clone())
            .unwrap_or_else(|| backend::project_of(&self.layout.home_id(), &c.id));
        let previous = existing.map(|r| PreviousVersion {
            dir: self.layout.home.join(&r.dir),
            enabled: r.enabled,
            has_backend: r.backend.is_some(),
            plugin_image: plugin_image_of(&r),
            socket: r.backend.as_ref().and_then(|b| b.socket.clone()),
        });
        let aside = (version_dir.exists()
            && previous.as_ref().is_some_and(|pv| pv.dir == version_dir))
        .then(|| version_dir.with_extension(format!("old-{}", std::process::id())));
        let data = InstallData {
            version_dir: version_dir.clone(),
            aside: aside.clone(),
            previous,
            project,
        };
        let kind = if data.previous.is_some() {
            OpKind::Update
        } else {
            OpKind::Install
        };
        let tx = self.begin(&c.id, kind, &data, hooks)?;
        let result = self.install_steps(store, source, &p, &data, &tx).await;
        match result {
            Ok(record) => {
                if let Some(aside) = &data.aside {
                    let _ = fs_err::remove_dir_all(aside);
                }
                if let Some(prev) = &data.previous
                    && prev.dir != version_dir
                {
                    let _ = fs_err::remove_dir_all(&prev.dir);
                }
                Ok(record)
            }
            Err(InstallError::Failpoint(step)) => Err(InstallError::Failpoint(step)),
            Err(e) => {
                hooks.progress("undoing");
                let _ = fs_err::remove_dir_all(&p.staging);
                match self.undo_install(&c.id, &data).await {
                    Ok(()) => {
                        let _ = self.state.finish(tx.op, crate::state::Outcome::RolledBack);
                        Err(e)
                    }
                    // The journal stays open: the next command or doctor finishes the undo.
                    Err(undo) => Err(InstallError::UndoFailed {
                        error: Box::new(e),
                        undo: Box::new(undo),
                    }),
                }
            }
        }
    }

    async fn install_steps(
        &self,
        store: &Store,
        source: &ImageSource,
        p: &Prepared,
        data: &InstallData,
        tx: &Transaction<'_>,
    ) -> Result<ExtensionRecord, InstallError> {
        let c = &p.candidate;
        let hooks = tx.hooks;
        let version_dir = &data.version_dir;
        tx.step("unpacked")?;
        if let Some(aside) = &data.aside {
            fs_err::rename(version_dir, aside).map_err(InstallError::io(version_dir))?;
        } else if version_dir.exists() {
            fs_err::remove_dir_all(version_dir).map_err(InstallError::io(version_dir))?;
        }
        fs_err::rename(&p.staging, version_dir).map_err(InstallError::io(&p.staging))?;
        crate::compose_model::write_summary(version_dir, &p.summary)?;
        let labels_path = version_dir.join("labels.json");
        let labels = serde_json::to_vec_pretty(&c.labels.0)
            .map_err(InstallError::serialize(labels_path.display()))?;
        fs_err::write(&labels_path, labels).map_err(InstallError::io(&labels_path))?;
        let root = version_dir.join("root");
        let mut backend_record = None;
        if p.metadata.vm.is_some() {
            let engine = self.engine().await?;
            // Remote mode: the backend's sockets are reached through the relay.
            let relay = self.uses_relay(&engine).await?;
            tx.step("backend")?;
            if hooks.start_backend() {
                hooks.progress("starting the backend");
            }
            let plugin_image = self
                .plugin_image_into_engine(&engine, store, source, c)
                .await?;
            let socket_dir = self.layout.socket_dir(&c.id);
            let vm_dir = version_dir.join("vm");
            let facts = backend::write_compose_files(
                &c.id,
                &c.version,
                &p.metadata,
                &root,
                &vm_dir,
                backend::Placement {
                    socket_dir: &socket_dir,
                    engine: &self.engine_host,
                    home_id: &self.layout.home_id(),
                    relay,
                },
            )?;
            let backend = Backend {
                home_id: self.layout.home_id(),
                id: c.id.clone(),
                project: data.project.clone(),
                vm_dir,
                socket_dir,
                socket: p.metadata.backend_socket().map(str::to_owned),
                plugin_image,
                relay: relay.then(|| self.relay_binaries.clone()),
            };
            if hooks.start_backend() {
                let runner = self.compose().await?;
                backend::up(&engine, &runner, &backend, self.ready_timeout).await?;
            } else {
                hooks.progress("not starting the backend: `dockhand up` starts it");
            }
            backend_record = Some(BackendRecord {
                socket: backend.socket.clone(),
                services: facts.services.len(),
            });
        }
        tx.step("host-binaries")?;
        let host_binaries = install_host_binaries(&p.metadata, &root, &version_dir.join("host"))?;
        tx.step("switch")?;
        switch_symlink(&self.layout.current(&c.id), version_dir)
            .map_err(InstallError::io(version_dir))?;
        let metadata = serde_json::to_value(&p.metadata).map_err(InstallError::serialize(
            format_args!("the record of {}", c.id),
        ))?;
        let record = ExtensionRecord {
            id: c.id.clone(),
            image: c.name.clone(),
            source: source.to_string(),
            digest: c.digest.clone(),
            version: Some(c.version.clone()),
            title: c
                .labels
                .get(name::TITLE)
                .unwrap_or(c.id.as_str())
                .to_owned(),
            vendor: c.labels.get(name::VENDOR).unwrap_or_default().to_owned(),
            enabled: true,
            installed_at: now(),
            dir: version_dir.clone(),
            compose_project: backend_record.as_ref().map(|_| data.project.clone()),
            backend: backend_record,
            host_binaries,
            ui_title: p.metadata.dashboard_tab().map(|t| t.title.clone()),
            metadata,
            labels: c.labels.0.clone(),
            update_available: None,
        };
        tx.step("commit")?;
        self.state.commit_put(tx.op, &record)?;
        Ok(record)
    }

    /// Makes sure the engine has the extension's image and returns the name
    /// `${DESKTOP_PLUGIN_IMAGE}` should have.
    async fn plugin_image_into_engine(
        &self,
        engine: &dockhand_engine::Engine,
        store: &Store,
        source: &ImageSource,
        c: &Candidate,
    ) -> Result<String, InstallError> {
        let tag = c.plugin_image_name(source);
        if let ImageSource::Engine(_) = source {
            return Ok(tag);
        }
        let config = c.image.manifest.config.digest.to_string();
        if engine.image(&tag).await?.is_some_and(|i| i.id == config) {
            return Ok(tag);
        }
        let tmp = store
            .root()
            .join("ingest")
            .join(format!("engine-load-{}.tar", std::process::id()));
        export_docker_archive(store, &c.image, &tag, &tmp)?;
        let loaded = engine.load_image(&tmp).await;
        let _ = fs_err::remove_file(&tmp);
        loaded?;
        Ok(tag)
    }

    /// Undoes an install or update (also used by repair): the previous
    /// version back in place and running as it was, or nothing left.
    pub(crate) async fn undo_install(
        &self,
        id: &ExtensionId,
        data: &InstallData,
    ) -> Result<(), InstallError> {
        let engine = self.engine().await.ok();
        let runner = self.compose().await.ok();
        let relay = match &engine {
            Some(engine) => self.uses_relay(engine).await.unwrap_or(false),
            None => false,
        };
        let new_backend = Backend {
            home_id: self.layout.home_id(),
            id: id.clone(),
            project: data.project.clone(),
            vm_dir: data.version_dir.join("vm"),
            socket_dir: self.layout.socket_dir(id),
            socket: None,
            plugin_image: String::new(),
            relay: relay.then(|| self.relay_binaries.clone()),
        };
        if let Some(aside) = &data.aside
            && aside.exists()
        {
            let _ = fs_err::remove_dir_all(&data.version_dir);
            fs_err::rename(aside, &data.version_dir).map_err(InstallError::io(aside))?;
        }
        match &data.previous {
            Some(prev) => {
                switch_symlink(&self.layout.current(id), &prev.dir)
                    .map_err(InstallError::io(&prev.dir))?;
                if let (Some(engine), Some(runner)) = (&engine, &runner) {
                    let old = Backend {
                        vm_dir: prev.dir.join("vm"),
                        socket: prev.socket.clone(),
                        plugin_image: prev.plugin_image.clone(),
                        ..new_backend.clone()
                    };
                    if prev.has_backend && prev.enabled {
                        backend::up(engine, runner, &old, self.ready_timeout).await?;
                    } else if !prev.has_backend {
                        backend::down(engine, Some(runner), &new_backend, false).await?;
                    }
                }
                if prev.dir != data.version_dir {
                    let _ = fs_err::remove_dir_all(&data.version_dir);
                }
            }
            None => {
                if let Some(engine) = &engine {
                    backend::down(engine, runner.as_ref(), &new_backend, false).await?;
                }
                // Nothing of value is left there: staging dirs, the new version.
                let ext = self.layout.extension(id);
                if ext.exists() {
                    fs_err::remove_dir_all(&ext).map_err(InstallError::io(&ext))?;
                }
                let _ = fs_err::remove_dir_all(self.layout.socket_dir(id));
            }
        }
        Ok(())
    }
}

/// Copies the linux host binaries to `host/`, executable, by file name.
fn install_host_binaries(
    metadata: &Metadata,
    root: &Path,
    host: &Path,
) -> Result<Vec<String>, InstallError> {
    use std::os::unix::fs::PermissionsExt;
    let mut names = Vec::new();
    for bin in metadata.host_binaries(Os::Linux) {
        if bin.is_dir() {
            continue;
        }
        let src = root.join(bin.path.trim_start_matches('/'));
        if !src.is_file() {
            return Err(InstallError::HostBinaryMissing {
                path: bin.path.clone(),
            });
        }
        fs_err::create_dir_all(host).map_err(InstallError::io(host))?;
        let dest = host.join(bin.name());
        fs_err::copy(&src, &dest).map_err(InstallError::io(&dest))?;
        fs_err::set_permissions(&dest, std::fs::Permissions::from_mode(0o755))
            .map_err(InstallError::io(&dest))?;
        names.push(bin.name().to_owned());
    }
    Ok(names)
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
