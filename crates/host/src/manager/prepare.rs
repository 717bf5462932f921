//! An acquired image unpacked to staging and validated, before consent.

use std::path::PathBuf;

use dockhand_oci::Reference;
use dockhand_oci::extract::{Binaries, extract_extension};
use dockhand_oci::source::{ImageSource, ResolvedImage};
use dockhand_oci::store::Store;
use dockhand_oci::unpack::Limits;
use dockhand_spec::ExtensionId;
use dockhand_spec::{
    Code, ComposeFacts, Diagnostic, FileChecks, Labels, LabelsInput, Metadata, ValidateOptions,
};

use crate::Manager;
use crate::backend::{self};
use crate::consent::Summary;
use crate::error::InstallError;

/// An acquired image and its names: what [`Manager::prepare`] unpacks and
/// checks and the commit installs.
pub(super) struct Candidate {
    pub(super) id: ExtensionId,
    /// The image's reference, typed once after it was acquired.
    pub(super) reference: Reference,
    /// The name the source gives it, as written (the record's `image`).
    pub(super) name: String,
    pub(super) version: String,
    pub(super) digest: String,
    pub(super) image: ResolvedImage,
    pub(super) labels: Labels,
}

/// An image fetched, resolved and unpacked to staging, not yet installed.
pub(super) struct Prepared {
    pub(super) candidate: Candidate,
    pub(super) metadata: Metadata,
    pub(super) staging: PathBuf,
    pub(super) facts: Option<ComposeFacts>,
    pub(super) warnings: Vec<Diagnostic>,
    pub(super) summary: Summary,
}

impl Manager {
    /// Unpacks what the host needs of `candidate`, which comes from `source`,
    /// to a staging dir and validates it, its compose file as compose
    /// normalizes it.
    pub(super) async fn prepare(
        &self,
        store: &Store,
        source: &ImageSource,
        candidate: Candidate,
    ) -> Result<Prepared, InstallError> {
        let ext_dir = self.layout.extension(&candidate.id);
        let staging = crate::staging::dir(&ext_dir);
        let _ = fs_err::remove_dir_all(&staging);
        let root = staging.join("root");
        fs_err::create_dir_all(&root).map_err(InstallError::io(&root))?;
        let result: Result<Prepared, InstallError> = async {
            let (metadata, _) = extract_extension(
                store,
                &candidate.image,
                &root,
                Binaries::LinuxOnly,
                &Limits::default(),
            )?;
            let dir = dockhand_oci::build::ExtensionDir::open(&root)
                .map_err(InstallError::ExtensionDir)?;
            let bytes =
                fs_err::read(root.join("metadata.json")).map_err(InstallError::io(&root))?;
            let plugin_image = candidate.plugin_image_name(source);
            let compose = self
                .compose_input(
                    backend::project_of(&self.layout.home_id(), &candidate.id),
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
                &LabelsInput::from_labels(candidate.labels.clone()),
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
                return Err(InstallError::NotValid {
                    id: candidate.id.clone(),
                    name: candidate.name.clone(),
                    diagnostics: errors,
                });
            }
            let facts = match metadata.vm.as_ref() {
                Some(vm) if vm.composefile.is_none() && vm.image.is_some() => ComposeFacts::parse(
                    &serde_json::to_string(&dockhand_engine::vm_image_compose(
                        candidate.id.as_str(),
                        vm.image.as_deref().unwrap_or_default(),
                    ))
                    .unwrap_or_default(),
                )
                .ok(),
                Some(_) => report.compose.clone(),
                None => None,
            };
            Ok(Prepared {
                candidate,
                metadata,
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
}

impl Candidate {
    /// The name the engine knows the image by, `${DESKTOP_PLUGIN_IMAGE}` of
    /// its backend: an `engine:` image's own name (`source`), a tagged
    /// reference's short form, else `<id>:<version>`.
    pub(super) fn plugin_image_name(&self, source: &ImageSource) -> String {
        if let ImageSource::Engine(name) = source {
            return name.clone();
        }
        match self.reference.digest() {
            None => self.reference.familiar(),
            Some(_) => format!("{}:{}", self.id, self.version),
        }
    }
}
