//! Update checks and updates of installed extensions: the check against the
//! registry is [`crate::update`]'s; the new version goes through the install
//! transaction (`Manager::install_with`).

use dockhand_oci::registry::RegistryClient;
use dockhand_oci::source::ImageSource;
use dockhand_spec::ExtensionId;
use futures_util::StreamExt as _;

use crate::install::{InstallRequest, Installed};
use crate::state::{CachedCheck, ExtensionRecord};
use crate::update::tags::VersionTag;
use crate::update::{
    CheckOptions, Checked, UpdateCheck, UpdateError, UpdateRequest, Updated, check,
    installed_version, registry_of,
};
use crate::{Hooks, Manager};

impl Manager {
    /// Checks one installed extension for updates and caches the answer
    /// (setting the record's `update_available`).
    pub async fn check_update(
        &self,
        id: &ExtensionId,
        client: &RegistryClient,
        options: &CheckOptions,
    ) -> Result<Checked, UpdateError> {
        let record = self.get(id)?;
        let installed = installed_version(&record);
        let Some(repo) = registry_of(&record) else {
            let kind = record.source.split(':').next().unwrap_or_default();
            return Ok(Checked::Skipped {
                id: id.clone(),
                installed,
                reason: format!(
                    "installed from {kind}: (not a registry): there is nothing to check; install a registry reference to get updates"
                ),
            });
        };
        let version = VersionTag::parse(&installed).map(|t| t.version);
        let by_version = version.is_some();
        let (outcome, counts) = check::check_repository(
            client,
            &self.state,
            &repo,
            &check::Installed { version },
            options,
        )
        .await?;
        let (latest, update_available) = match outcome.latest {
            Some((tag, manifest)) => {
                let newer = by_version || manifest != record.digest;
                (Some(tag), newer)
            }
            None if by_version => (Some(installed.clone()), false),
            None => (None, false),
        };
        let check = UpdateCheck {
            id: id.clone(),
            installed,
            latest,
            update_available,
            blocked_by_api: outcome.blocked_by_api,
            counts,
        };
        self.state.put_check(&CachedCheck {
            id: id.clone(),
            checked_at: crate::state::check_time(),
            installed: check.installed.clone(),
            latest: check.latest.clone(),
            update_available: check.update_available,
            blocked_by_api: check.blocked_by_api.clone(),
        })?;
        Ok(Checked::Checked(check))
    }

    /// Checks `ids` (every installed extension when empty), at most
    /// `concurrency` at once; results in the order of `ids` (or of `ls`).
    pub async fn check_updates(
        &self,
        ids: &[ExtensionId],
        client: &RegistryClient,
        options: &CheckOptions,
        concurrency: usize,
    ) -> Result<Vec<(ExtensionId, Result<Checked, UpdateError>)>, UpdateError> {
        let ids: Vec<ExtensionId> = if ids.is_empty() {
            self.state.list()?.into_iter().map(|r| r.id).collect()
        } else {
            ids.to_vec()
        };
        let results = futures_util::stream::iter(ids.into_iter().map(|id| async move {
            let result = self.check_update(&id, client, options).await;
            (id, result)
        }))
        .buffered(concurrency.max(1))
        .collect()
        .await;
        Ok(results)
    }

    /// Installs another version of an installed extension: the latest
    /// compatible one, or the tag asked for (older ones too: a rollback).
    /// The install transaction puts it beside the old version, switches and
    /// then removes the old one; the backend's compose project (and so its
    /// named volumes) stays; any failure brings the old version back up.
    /// Consent is asked again only when the new version wants more.
    pub async fn update(
        &self,
        req: &UpdateRequest,
        client: &RegistryClient,
        hooks: &dyn Hooks,
    ) -> Result<Updated, UpdateError> {
        let record = self.get(&req.id)?;
        let from = installed_version(&record);
        let repo = registry_of(&record).ok_or_else(|| UpdateError::NoRegistry {
            id: req.id.clone(),
            from: record.source.clone(),
        })?;
        let tag = match &req.tag {
            Some(tag) => tag.clone(),
            None => {
                hooks.progress(&format!("checking {} for updates", req.id));
                match self.check_update(&req.id, client, &req.check).await? {
                    Checked::Checked(c) if c.update_available => match &c.latest {
                        Some(latest) => latest.clone(),
                        None => return Ok(Updated::UpToDate(Box::new(c))),
                    },
                    Checked::Checked(c) => return Ok(Updated::UpToDate(Box::new(c))),
                    Checked::Skipped { .. } => {
                        return Err(UpdateError::NoRegistry {
                            id: req.id.clone(),
                            from: record.source.clone(),
                        });
                    }
                }
            }
        };
        let reference = repo.with_tag(&tag).map_err(|_| UpdateError::BadTag {
            id: req.id.clone(),
            tag: tag.clone(),
        })?;
        // A pinned update installs that image or fails (the registry's
        // digest check), whatever the tag names by now.
        let reference = match &req.pin {
            Some(digest) => reference.with_digest(digest.clone()),
            None => reference,
        };
        let before = self.summary_of_installed(&record);
        let install = InstallRequest {
            source: ImageSource::Registry(reference),
            platform: req.check.platform.clone(),
            yes: req.yes,
            force: req.force,
            ignore_api_version: false,
            pre: false,
        };
        hooks.progress(&format!("updating {} from {from} to {tag}", req.id));
        let installed = self
            .install_with(&install, client, hooks, before.as_ref())
            .await?;
        match installed {
            Installed::New(record) => {
                self.after_update(&record)?;
                Ok(Updated::Updated { from, record })
            }
            Installed::Unchanged(record) => Ok(Updated::Unchanged(record)),
        }
    }

    /// Keeps the cached check true after an update: an update stays
    /// available when the last check's `latest` is above what is now
    /// installed (after a rollback).
    fn after_update(&self, record: &ExtensionRecord) -> Result<(), UpdateError> {
        let Some(mut cached) = self.state.get_check(&record.id)? else {
            return Ok(());
        };
        let now = installed_version(record);
        let above = |latest: &str| match (VersionTag::parse(latest), VersionTag::parse(&now)) {
            (Some(l), Some(n)) => l.version > n.version,
            _ => false,
        };
        cached.update_available = cached.latest.as_deref().is_some_and(above);
        cached.installed = now;
        self.state.put_check(&cached)?;
        Ok(())
    }
}
