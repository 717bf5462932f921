//! Install, as a transaction (DESIGN.md): fetch → check → unpack to staging
//! → validate → consent → [journal] unpacked → backend → host binaries →
//! switch → commit. Every step after the journal opens is recorded before it
//! happens; a failure undoes what was done, and a crash is undone by
//! [`Manager::repair_one`]. This file: the request up to consent;
//! `prepare.rs` unpacks and validates, `commit.rs` is the journalled part.

use dockhand_oci::Reference;
use dockhand_oci::pull::PullError;
use dockhand_oci::registry::{RegistryClient, RegistryError};
use dockhand_oci::source::ImageSource;
use dockhand_oci::store::Store;
use dockhand_spec::ExtensionId;
use dockhand_spec::labels::name;
use dockhand_spec::{ApiVersionReq, Labels};

use super::prepare::Candidate;
use crate::acquire::{AcquireError, AcquiredImage, Acquirer};
use crate::allow::Permit;
use crate::consent::Summary;
use crate::error::{InstallError, NotConfirmed};
use crate::install::{InstallRequest, Installed};
use crate::state::ExtensionLock;
use crate::update::CheckOptions;
use crate::update::untagged::{ResolveError, ResolveOptions, is_untagged, resolve_permitted};
use crate::{Hooks, Manager};

impl Manager {
    /// Installs an extension (see the module docs).
    pub async fn install(
        &self,
        req: &InstallRequest,
        client: &RegistryClient,
        hooks: &dyn Hooks,
    ) -> Result<Installed, InstallError> {
        self.install_with(req, client, hooks, None).await
    }

    /// [`Manager::install`], asking for consent only when the new version's
    /// summary widens `previous` (an update), or always when `previous` is
    /// `None`.
    pub(crate) async fn install_with(
        &self,
        req: &InstallRequest,
        client: &RegistryClient,
        hooks: &dyn Hooks,
        previous: Option<&Summary>,
    ) -> Result<Installed, InstallError> {
        let resolved;
        let req = match &req.source {
            ImageSource::Registry(repo) if is_untagged(repo) => {
                resolved = self.resolve_untagged(req, repo, client, hooks).await?;
                &resolved
            }
            _ => req,
        };
        let store = Store::open(self.layout.store())?;
        // The allow-list decides before anything is downloaded.
        let permit = match &req.source {
            ImageSource::Registry(reference) => Some(self.allow.check(reference)?),
            _ => None,
        };
        hooks.progress(&format!("fetching {}", req.source));
        // A permitted registry image is fetched as the allow-list pins it.
        let source = match &permit {
            Some(permit) => ImageSource::Registry(permit.pull.clone()),
            None => req.source.clone(),
        };
        let acquirer = Acquirer {
            store: &store,
            engine: &self.engine_host,
            registry: Some(client),
        };
        let AcquiredImage { name, top, image } = acquirer
            .acquire_for(&source, &req.platform, self.max_image_size)
            .await
            .map_err(|e| match (e, &permit) {
                (AcquireError::Pull(e), Some(permit)) => self.pin_refusal(permit, *e),
                (e, _) => e.into(),
            })?;
        // The reference is typed from here on: a registry's as pulled, a local
        // source's name parsed once.
        let reference = match source {
            ImageSource::Registry(reference) => reference,
            _ => {
                Reference::parse(&name).map_err(|_| InstallError::NoName(req.source.to_string()))?
            }
        };
        let manifest_digest = &image.manifest_descriptor.digest;
        match &permit {
            Some(permit) => self.allow.verify(permit, &top.digest, manifest_digest)?,
            None => self
                .allow
                .check_local(&reference, &top.digest, manifest_digest)?,
        }
        let id = reference.extension_id();
        let _lock = ExtensionLock::acquire(&self.layout.home, &id)?;
        self.repair_one(&id, hooks).await?;
        let digest = image.manifest_descriptor.digest.to_string();
        if let Some(existing) = self.state.get(&id)?
            && existing.digest == digest
            && !req.force
        {
            return Ok(Installed::Unchanged(Box::new(existing)));
        }
        let labels = Labels(image.config.labels());
        check_api(&id, &labels, req.ignore_api_version)?;
        let version = reference
            .tag()
            .map(str::to_owned)
            .unwrap_or_else(|| image.manifest_descriptor.digest.short().to_owned());
        hooks.progress("unpacking");
        // What is consented to is this exact image: the summary names it by
        // digest, and the dashboard installs that reference and nothing else.
        let pinned = matches!(req.source, ImageSource::Registry(_))
            .then(|| reference.with_digest(top.digest.clone()).familiar());
        let candidate = Candidate {
            id,
            reference,
            name,
            version,
            digest,
            image,
            labels,
        };
        let prepared = self.prepare(&store, &req.source, candidate).await?;
        let mut summary = self
            .summary_for_install(&prepared.metadata, prepared.facts.as_ref())
            .await;
        summary.image = pinned;
        let mut prepared = prepared;
        prepared.summary = summary.clone();
        let widens = previous.is_none_or(|before| summary.widens(before));
        if hooks.preview() {
            let _ = hooks.confirm(&prepared.candidate.id, &summary, &prepared.warnings);
            let _ = fs_err::remove_dir_all(&prepared.staging);
            return Err(InstallError::NotConfirmed(NotConfirmed::Previewed {
                id: prepared.candidate.id,
            }));
        }
        if !(req.yes || req.force) && widens {
            match hooks.confirm(&prepared.candidate.id, &summary, &prepared.warnings) {
                Ok(true) => {}
                Ok(false) => {
                    let _ = fs_err::remove_dir_all(&prepared.staging);
                    return Err(InstallError::NotConfirmed(NotConfirmed::Declined {
                        id: prepared.candidate.id,
                    }));
                }
                Err(why) => {
                    let _ = fs_err::remove_dir_all(&prepared.staging);
                    return Err(InstallError::NotConfirmed(why.into()));
                }
            }
        }
        let record = self
            .commit_install(&store, &req.source, prepared, hooks)
            .await?;
        Ok(Installed::New(Box::new(record)))
    }

    /// `req` with its untagged registry reference `repo` resolved to a
    /// version ([`crate::update::untagged`]) among those the allow-list
    /// permits; says which on `hooks`.
    async fn resolve_untagged(
        &self,
        req: &InstallRequest,
        repo: &Reference,
        client: &RegistryClient,
        hooks: &dyn Hooks,
    ) -> Result<InstallRequest, InstallError> {
        // The allow-list decides about the repository before its versions are listed.
        self.allow.check_listed(repo)?;
        let options = ResolveOptions {
            check: CheckOptions {
                pre: req.pre,
                platform: req.platform.clone(),
                ..Default::default()
            },
            ignore_api_version: req.ignore_api_version,
        };
        let permitted = |r: &Reference| self.allow.check(r).is_ok();
        let resolved = match resolve_permitted(client, &self.state, repo, &options, permitted).await
        {
            Ok(r) => r,
            Err(ResolveError::NotPermitted(highest)) => {
                self.allow.check(&highest)?;
                return Err(ResolveError::NotPermitted(highest).into());
            }
            Err(e) => return Err(e.into()),
        };
        hooks.progress(&resolved.message(&options));
        Ok(InstallRequest {
            source: ImageSource::Registry(resolved.reference),
            ..req.clone()
        })
    }

    /// A pull of a digest-pinned reference that got other bytes is the
    /// allow-list's refusal; other failures stay as they are.
    fn pin_refusal(&self, permit: &Permit, e: PullError) -> InstallError {
        match e {
            PullError::Registry(RegistryError::DigestMismatch {
                expected, actual, ..
            }) if permit.pins.contains(&expected) => InstallError::NotAllowed {
                id: permit.pull.familiar(),
                policy: format!(
                    "the allow-list ([allow] in {})",
                    self.allow.policy().display()
                ),
                reason: format!(
                    "the registry served {actual} for the pinned {expected}: refusing an image that is not the one allowed"
                ),
            },
            PullError::TooLarge {
                reference,
                platform,
                size,
                limit,
            } => InstallError::ImageTooLarge {
                image: reference,
                platform,
                size,
                limit,
            },
            other => other.into(),
        }
    }
}

fn check_api(id: &ExtensionId, labels: &Labels, ignore: bool) -> Result<(), InstallError> {
    if ignore {
        return Ok(());
    }
    let raw = labels.non_empty(name::API_VERSION).unwrap_or(">= 0.0.0");
    let ok = ApiVersionReq::parse(raw)
        .map(|r| r.satisfied_by_implemented())
        .unwrap_or(false);
    if ok {
        Ok(())
    } else {
        Err(InstallError::ApiVersion {
            id: id.to_string(),
            constraint: raw.to_owned(),
            api: dockhand_spec::API_VERSION.to_owned(),
        })
    }
}
