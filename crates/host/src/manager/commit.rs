//! Install, as a transaction (DESIGN.md): fetch → check → unpack to staging
//! → validate → consent → [journal] unpacked → backend → host binaries →
//! switch → commit. Every step after the journal opens is recorded before it
//! happens; a failure undoes what was done, and a crash is undone by
//! [`Manager::repair`](crate::Manager::repair).

use std::path::{Path, PathBuf};

use dockhand_oci::extract::{Binaries, extract_extension};
use dockhand_oci::pull::PullError;
use dockhand_oci::registry::{RegistryClient, RegistryError};
use dockhand_oci::source::{ImageSource, ResolvedImage, export_docker_archive};
use dockhand_oci::store::Store;
use dockhand_oci::unpack::Limits;
use dockhand_oci::{Platform, Reference};
use dockhand_spec::ExtensionId;
use dockhand_spec::labels::name;
use dockhand_spec::{
    ApiVersionReq, Code, ComposeFacts, Diagnostic, FileChecks, Labels, LabelsInput, Metadata, Os,
    ValidateOptions,
};
use serde::{Deserialize, Serialize};

use crate::acquire::{AcquireError, AcquiredImage, Acquirer};
use crate::allow::Permit;
use crate::backend::{self, Backend};
use crate::consent::Summary;
use crate::error::InstallError;
use crate::layout::switch_symlink;
use crate::state::{BackendRecord, ExtensionLock, ExtensionRecord, OpKind};
use crate::update::CheckOptions;
use crate::update::untagged::{ResolveError, ResolveOptions, is_untagged, resolve_permitted};
use crate::{Hooks, Manager};

/// What to install.
#[derive(Debug, Clone)]
pub struct InstallRequest {
    /// Where the image is.
    pub source: ImageSource,
    /// The platform to install.
    pub platform: Platform,
    /// Do not ask.
    pub yes: bool,
    /// Reinstall the same digest too.
    pub force: bool,
    /// Install even when api.version excludes 0.4.2 (an untagged reference
    /// then takes the highest version).
    pub ignore_api_version: bool,
    /// An untagged reference may resolve to a pre-release (`--pre`).
    pub pre: bool,
}

/// How an install ended.
#[derive(Debug, Clone)]
pub enum Installed {
    /// Installed (or replaced the previous version).
    New(Box<ExtensionRecord>),
    /// This exact image was installed already; nothing was done.
    Unchanged(Box<ExtensionRecord>),
}

/// What the journal keeps about an install, so that a repairer can undo it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InstallData {
    /// The new version's directory.
    pub version_dir: PathBuf,
    /// Where an identical version dir was moved while reinstalling it.
    pub aside: Option<PathBuf>,
    /// The version installed before, when there was one.
    pub previous: Option<PreviousVersion>,
    /// The compose project.
    pub project: String,
}

/// The version an install or update replaces.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PreviousVersion {
    /// Its directory.
    pub dir: PathBuf,
    /// Whether its backend was running.
    pub enabled: bool,
    /// Whether it has a backend.
    pub has_backend: bool,
    /// The image `${DESKTOP_PLUGIN_IMAGE}` named.
    pub plugin_image: String,
    /// Its socket, when exposed.
    pub socket: Option<String>,
}

/// An image fetched, resolved and unpacked to staging, not yet installed.
struct Prepared {
    id: ExtensionId,
    reference: Reference,
    name: String,
    version: String,
    digest: String,
    image: ResolvedImage,
    metadata: Metadata,
    labels: Labels,
    staging: PathBuf,
    facts: Option<ComposeFacts>,
    warnings: Vec<Diagnostic>,
    summary: Summary,
}

/// What [`Manager::prepare`] unpacks and checks: an acquired image, where
/// it comes from and what it is called.
struct PrepareOptions<'a> {
    id: ExtensionId,
    source: &'a ImageSource,
    /// The image's reference, typed once after it was acquired.
    reference: Reference,
    /// The name the source gives it, as written (the record's `image`).
    name: String,
    version: String,
    digest: String,
    image: ResolvedImage,
    labels: Labels,
}

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
        let options = PrepareOptions {
            id,
            source: &req.source,
            reference,
            name,
            version,
            digest,
            image,
            labels,
        };
        let prepared = self.prepare(&store, options).await?;
        let mut summary = Summary::of(&prepared.metadata, prepared.facts.as_ref());
        summary.image = pinned;
        let mut prepared = prepared;
        prepared.summary = summary.clone();
        let widens = previous.is_none_or(|before| summary.widens(before));
        if hooks.preview() {
            let _ = hooks.confirm(&prepared.id, &summary, &prepared.warnings);
            let _ = fs_err::remove_dir_all(&prepared.staging);
            return Err(InstallError::NotConfirmed(format!(
                "{} was previewed, not installed",
                prepared.id
            )));
        }
        if !(req.yes || req.force) && widens {
            match hooks.confirm(&prepared.id, &summary, &prepared.warnings) {
                Ok(true) => {}
                Ok(false) => {
                    let _ = fs_err::remove_dir_all(&prepared.staging);
                    return Err(InstallError::NotConfirmed(format!(
                        "{} was not installed: you declined",
                        prepared.id
                    )));
                }
                Err(why) => {
                    let _ = fs_err::remove_dir_all(&prepared.staging);
                    return Err(InstallError::NotConfirmed(why));
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

    /// Unpacks what the host needs to a staging dir and validates it, its
    /// compose file as compose normalizes it.
    async fn prepare(
        &self,
        store: &Store,
        options: PrepareOptions<'_>,
    ) -> Result<Prepared, InstallError> {
        let PrepareOptions {
            id,
            source,
            reference,
            name,
            version,
            digest,
            image,
            labels,
        } = options;
        let ext_dir = self.layout.extension(&id);
        let staging = crate::staging::dir(&ext_dir);
        let _ = fs_err::remove_dir_all(&staging);
        let root = staging.join("root");
        fs_err::create_dir_all(&root).map_err(InstallError::io(&root))?;
        let result: Result<Prepared, InstallError> = async {
            let (metadata, _) = extract_extension(
                store,
                &image,
                &root,
                Binaries::LinuxOnly,
                &Limits::default(),
            )?;
            let dir = dockhand_oci::build::ExtensionDir::open(&root)
                .map_err(|e| InstallError::Invalid(e.to_string()))?;
            let bytes =
                fs_err::read(root.join("metadata.json")).map_err(InstallError::io(&root))?;
            let plugin_image = plugin_image_name(source, &reference, &id, &version);
            let compose = self
                .compose_input(
                    backend::project_of(&self.layout.home_id(), &id),
                    &plugin_image,
                    &metadata,
                    &dir,
                    &staging.join("compose-check"),
                )
                .await;
            let options = ValidateOptions {
                file_checks: FileChecks::All,
                compose,
                ..Default::default()
            };
            let report = dockhand_spec::validate(
                &bytes,
                &LabelsInput::from_labels(labels.clone()),
                &dir,
                &options,
            );
            // What stops an install is the spec's rule (`blocks_install`): format
            // errors, not marketplace findings. Only the linux host binaries were
            // unpacked, so the others being absent is expected.
            let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = report
                .diagnostics
                .iter()
                .filter(|d| d.code != Code::MissingOtherOsBinary)
                .cloned()
                .partition(Diagnostic::blocks_install);
            if !errors.is_empty() {
                let text: Vec<String> = errors
                    .iter()
                    .map(|d| format!("{} {}: {}", d.code, d.location, d.message))
                    .collect();
                return Err(InstallError::Invalid(format!(
                    "{id} is not a valid extension:\n  {}\nrun dockhand validate {name} for details",
                    text.join("\n  ")
                )));
            }
            let facts = match metadata.vm.as_ref() {
                Some(vm) if vm.composefile.is_none() && vm.image.is_some() => ComposeFacts::parse(
                    &serde_json::to_string(&dockhand_engine::vm_image_compose(
                        id.as_str(),
                        vm.image.as_deref().unwrap_or_default(),
                    ))
                    .unwrap_or_default(),
                )
                .ok(),
                Some(_) => report.compose.clone(),
                None => None,
            };
            Ok(Prepared {
                id: id.clone(),
                reference: reference.clone(),
                name: name.clone(),
                version,
                digest,
                image,
                metadata,
                labels: labels.clone(),
                staging: staging.clone(),
                summary: Summary::default(),
                facts,
                warnings,
            })
        }
        .await;
        if result.is_err() {
            let _ = fs_err::remove_dir_all(&staging);
        }
        result
    }

    /// The journalled part: from staging to a committed install.
    async fn commit_install(
        &self,
        store: &Store,
        source: &ImageSource,
        p: Prepared,
        hooks: &dyn Hooks,
    ) -> Result<ExtensionRecord, InstallError> {
        let version_dir = self
            .layout
            .version(&p.id, &p.image.manifest_descriptor.digest);
        let existing = self.state.get(&p.id)?;
        // An update keeps the project its record names (its containers are
        // recreated in place, its volumes kept); a new install gets this
        // home's project.
        let project = existing
            .as_ref()
            .and_then(|r| r.compose_project.clone())
            .unwrap_or_else(|| backend::project_of(&self.layout.home_id(), &p.id));
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
        let op = self
            .state
            .begin(&p.id, kind, serde_json::to_value(&data).unwrap_or_default())?;
        let result = self
            .install_steps(store, source, &p, &data, op, hooks)
            .await;
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
                match self.undo_install(&p.id, &data).await {
                    Ok(()) => {
                        let _ = self.state.finish(op, crate::state::Outcome::RolledBack);
                        Err(e)
                    }
                    // The journal stays open: the next command or doctor finishes the undo.
                    Err(undo) => Err(InstallError::Invalid(format!(
                        "{e}\nundoing the install failed too ({undo}): run dockhand doctor once the engine answers"
                    ))),
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
        op: crate::state::OpId,
        hooks: &dyn Hooks,
    ) -> Result<ExtensionRecord, InstallError> {
        let version_dir = &data.version_dir;
        self.step(op, "unpacked", hooks)?;
        if let Some(aside) = &data.aside {
            fs_err::rename(version_dir, aside).map_err(InstallError::io(version_dir))?;
        } else if version_dir.exists() {
            fs_err::remove_dir_all(version_dir).map_err(InstallError::io(version_dir))?;
        }
        fs_err::rename(&p.staging, version_dir).map_err(InstallError::io(&p.staging))?;
        crate::compose_model::write_summary(version_dir, &p.summary)?;
        let labels_path = version_dir.join("labels.json");
        fs_err::write(
            &labels_path,
            serde_json::to_vec_pretty(&p.labels.0).unwrap_or_default(),
        )
        .map_err(InstallError::io(&labels_path))?;
        let root = version_dir.join("root");
        let mut backend_record = None;
        if p.metadata.vm.is_some() {
            let engine = self.engine().await?;
            self.require_local_mode(&engine, &p.id).await?;
            self.step(op, "backend", hooks)?;
            if hooks.start_backend() {
                hooks.progress("starting the backend");
            }
            let plugin_image = self
                .plugin_image_into_engine(&engine, store, source, p)
                .await?;
            let socket_dir = self.layout.socket_dir(&p.id);
            let vm_dir = version_dir.join("vm");
            let facts = backend::write_compose_files(
                &p.id,
                &p.version,
                &p.metadata,
                &root,
                &vm_dir,
                backend::Placement {
                    socket_dir: &socket_dir,
                    engine: &self.engine_host,
                    home_id: &self.layout.home_id(),
                },
            )?;
            let backend = Backend {
                home_id: self.layout.home_id(),
                id: p.id.clone(),
                project: data.project.clone(),
                vm_dir,
                socket_dir,
                socket: p.metadata.backend_socket().map(str::to_owned),
                plugin_image,
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
        self.step(op, "host-binaries", hooks)?;
        let host_binaries = install_host_binaries(&p.metadata, &root, &version_dir.join("host"))?;
        self.step(op, "switch", hooks)?;
        switch_symlink(&self.layout.current(&p.id), version_dir)
            .map_err(InstallError::io(version_dir))?;
        let record = ExtensionRecord {
            id: p.id.clone(),
            image: p.name.clone(),
            source: source.to_string(),
            digest: p.digest.clone(),
            version: Some(p.version.clone()),
            title: p
                .labels
                .get(name::TITLE)
                .unwrap_or(p.id.as_str())
                .to_owned(),
            vendor: p.labels.get(name::VENDOR).unwrap_or_default().to_owned(),
            enabled: true,
            installed_at: now(),
            dir: version_dir.clone(),
            compose_project: backend_record.as_ref().map(|_| data.project.clone()),
            backend: backend_record,
            host_binaries,
            ui_title: p.metadata.dashboard_tab().map(|t| t.title.clone()),
            metadata: serde_json::to_value(&p.metadata).unwrap_or_default(),
            labels: p.labels.0.clone(),
            update_available: None,
        };
        self.step(op, "commit", hooks)?;
        self.state.commit_put(op, &record)?;
        Ok(record)
    }

    /// Records a step, then lets the hooks act on it (progress, failpoints).
    pub(crate) fn step(
        &self,
        op: crate::state::OpId,
        step: &str,
        hooks: &dyn Hooks,
    ) -> Result<(), InstallError> {
        self.state.step(op, step, serde_json::Value::Null)?;
        hooks.step(step)
    }

    /// Makes sure the engine has the extension's image and returns the name
    /// `${DESKTOP_PLUGIN_IMAGE}` should have.
    async fn plugin_image_into_engine(
        &self,
        engine: &dockhand_engine::Engine,
        store: &Store,
        source: &ImageSource,
        p: &Prepared,
    ) -> Result<String, InstallError> {
        let tag = plugin_image_name(source, &p.reference, &p.id, &p.version);
        if let ImageSource::Engine(_) = source {
            return Ok(tag);
        }
        let config = p.image.manifest.config.digest.to_string();
        if engine.image(&tag).await?.is_some_and(|i| i.id == config) {
            return Ok(tag);
        }
        let tmp = store
            .root()
            .join("ingest")
            .join(format!("engine-load-{}.tar", std::process::id()));
        export_docker_archive(store, &p.image, &tag, &tmp)?;
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
        let new_backend = Backend {
            home_id: self.layout.home_id(),
            id: id.clone(),
            project: data.project.clone(),
            vm_dir: data.version_dir.join("vm"),
            socket_dir: self.layout.socket_dir(id),
            socket: None,
            plugin_image: String::new(),
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
            return Err(InstallError::Invalid(format!(
                "host binary {} is not in the image",
                bin.path
            )));
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

/// The name the engine knows an image by, `${DESKTOP_PLUGIN_IMAGE}` of its
/// backend: an `engine:` image's own name, a tagged reference's short form,
/// else `<id>:<version>`.
pub(crate) fn plugin_image_name(
    source: &ImageSource,
    reference: &Reference,
    id: &ExtensionId,
    version: &str,
) -> String {
    if let ImageSource::Engine(name) = source {
        return name.clone();
    }
    match reference.digest() {
        None => reference.familiar(),
        Some(_) => format!("{id}:{version}"),
    }
}

/// The image a record's backend runs as `${DESKTOP_PLUGIN_IMAGE}`.
pub(crate) fn plugin_image_of(r: &ExtensionRecord) -> String {
    match r.source.strip_prefix("engine:") {
        Some(name) => name.to_owned(),
        None => match Reference::parse(&r.image) {
            Ok(reference) if reference.digest().is_none() => reference.familiar(),
            _ => format!("{}:{}", r.id, r.version.clone().unwrap_or_default()),
        },
    }
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}
