//! An extension's compose file as compose itself reads it: the normalized
//! model (`compose config`) that the consent summary, validation and an
//! update's widening check are computed from, run with the environment
//! dockhand gives compose ([`crate::Manager::compose_env`]) in a directory that
//! holds the file alone (no `.env`, nothing an `env_file` could name); and
//! the summary kept beside each installed version.

use std::path::{Path, PathBuf};

use dockhand_engine::{
    ComposeEnv, ComposeError, ComposeProject, ComposeRunner, EngineHost, plugin_image_env,
};
use dockhand_spec::{
    ComposeFacts, ComposeInput, ImageFiles, Metadata, ModelContext, compose_file_path,
};

use crate::consent::Summary;
use crate::error::InstallError;

/// The file beside an installed version that keeps what was consented to.
pub const SUMMARY_FILE: &str = "summary.json";

/// What a compose file is read with.
#[derive(Debug, Clone)]
pub struct ComposeCheck<'a> {
    /// The environment compose gets.
    pub env: &'a ComposeEnv,
    /// The engine (`DOCKER_HOST` is part of compose's environment).
    pub engine: &'a EngineHost,
    /// The compose project name.
    pub project: String,
    /// What `DESKTOP_PLUGIN_IMAGE` is set to.
    pub plugin_image: String,
    /// An empty directory to run compose in (made and removed here).
    pub scratch: PathBuf,
}

/// A compose file that compose should normalize.
#[derive(Debug, Clone)]
pub struct Pending {
    text: String,
    project: ComposeProject,
}

impl ComposeCheck<'_> {
    /// The input for validation without compose's answer yet, and the file
    /// to give compose when there is one it may run: not for a file dockhand
    /// refuses (`build`, other files), which compose would act on.
    pub fn plan(
        &self,
        metadata: &Metadata,
        files: &dyn ImageFiles,
    ) -> (ComposeInput, Option<Pending>) {
        let project_env = vec![plugin_image_env(&self.plugin_image)];
        let input = ComposeInput {
            env: self.env.variables(self.engine, &project_env),
            context: ModelContext {
                project: self.project.clone(),
                plugin_image: self.plugin_image.clone(),
                project_dir: self.scratch.display().to_string(),
                home: self.env.home.clone().unwrap_or_default(),
            },
            normalized: None,
        };
        let Some(path) = compose_file_path(metadata) else {
            return (input, None);
        };
        // Validation reports a file that cannot be read.
        let Some(text) = files
            .read(&path)
            .ok()
            .flatten()
            .and_then(|b| String::from_utf8(b).ok())
        else {
            return (input, None);
        };
        match ComposeFacts::local(&text, &input.env, &input.context) {
            Ok(f) if f.refused.is_empty() => {}
            _ => return (input, None),
        }
        let project = ComposeProject {
            name: self.project.clone(),
            files: vec![self.scratch.join("compose.yaml")],
            env: project_env,
            dir: self.scratch.clone(),
        };
        (input, Some(Pending { text, project }))
    }
}

impl Pending {
    /// Runs `compose config` on the file and puts its answer in `input`.
    pub async fn normalize(self, runner: &ComposeRunner, input: &mut ComposeInput) {
        let dir = &self.project.dir;
        let _ = fs_err::remove_dir_all(dir);
        if fs_err::create_dir_all(dir).is_err()
            || fs_err::write(&self.project.files[0], &self.text).is_err()
        {
            return;
        }
        input.normalized = Some(
            runner
                .normalized(&self.project)
                .await
                .map(String::into_bytes)
                .map_err(|e| match e {
                    ComposeError::Failed { stderr_tail, .. } => stderr_tail,
                    other => other.to_string(),
                }),
        );
        let _ = fs_err::remove_dir_all(dir);
    }
}

/// Keeps `summary` beside an installed version: an update's widening check
/// compares the new version's summary with it.
pub(crate) fn write_summary(version_dir: &Path, summary: &Summary) -> Result<(), InstallError> {
    let path = version_dir.join(SUMMARY_FILE);
    let mut kept = summary.clone();
    kept.image = None;
    let text = serde_json::to_vec_pretty(&kept).map_err(InstallError::serialize(path.display()))?;
    fs_err::write(&path, text).map_err(InstallError::io(&path))
}

/// The summary kept beside an installed version, when there is one.
pub(crate) fn read_summary(version_dir: &Path) -> Option<Summary> {
    let bytes = fs_err::read(version_dir.join(SUMMARY_FILE)).ok()?;
    serde_json::from_slice(&bytes).ok()
}
