//! What an extension asks for, as the manager reads it: the compose file of
//! an image being installed through compose's model
//! ([`crate::compose_model`]), and the consent summary of an installed
//! version (an update's widening check compares with it).

use std::path::Path;

use dockhand_spec::{ComposeFacts, ComposeInput, ImageFiles, Metadata};

use crate::Manager;
use crate::compose_model::ComposeCheck;
use crate::consent::Summary;
use crate::state::ExtensionRecord;

impl Manager {
    /// How validation reads the compose file of an image being installed
    /// (see [`ComposeCheck`]); without a compose CLI, the local reading.
    pub async fn compose_input(
        &self,
        project: String,
        plugin_image: &str,
        metadata: &Metadata,
        files: &dyn ImageFiles,
        scratch: &Path,
    ) -> ComposeInput {
        let check = ComposeCheck {
            env: &self.compose_env,
            engine: &self.engine_host,
            project,
            plugin_image: plugin_image.to_owned(),
            scratch: scratch.to_owned(),
        };
        let (mut input, pending) = check.plan(metadata, files);
        if let Some(pending) = pending
            && let Ok(runner) = self.compose().await
        {
            pending.normalize(&runner, &mut input).await;
        }
        input
    }

    /// The consent summary of an image being installed. When its compose
    /// file binds host paths, the engine is asked for its mode: in remote
    /// mode (relay mode) those paths are on the engine's host, and the
    /// summary says so ([`Summary::on_remote_engine`]). An engine that
    /// cannot be reached or probed gets the summary of local mode: the
    /// backend cannot start on it either, so the install stops at its
    /// backend step with the engine's error.
    pub(crate) async fn summary_for_install(
        &self,
        metadata: &Metadata,
        facts: Option<&ComposeFacts>,
    ) -> Summary {
        if Summary::binds_host_paths(facts)
            && let Ok(engine) = self.engine().await
            && let Ok(true) = self.uses_relay(&engine).await
        {
            return Summary::on_remote_engine(metadata, facts, &engine.host().describe());
        }
        Summary::of(metadata, facts)
    }

    /// The consent summary of the installed version: the one kept beside it
    /// at install; for a version installed before summaries were kept, its
    /// metadata and the local reading of its compose file, interpolated with
    /// the environment compose gets. `None` when neither can be read (then
    /// an update asks).
    pub fn summary_of_installed(&self, r: &ExtensionRecord) -> Option<Summary> {
        let dir = self.layout.home.join(&r.dir);
        if let Some(kept) = crate::compose_model::read_summary(&dir) {
            return Some(kept);
        }
        let metadata: Metadata = serde_json::from_value(r.metadata.clone()).ok()?;
        let facts = match metadata.vm.as_ref() {
            None => None,
            Some(vm) => match (&vm.image, &vm.composefile) {
                (image, Some(file)) => {
                    let path = dir.join("root").join(file.trim_start_matches('/'));
                    match fs_err::read_to_string(path) {
                        Ok(text) => Some(self.local_facts(r, &text)?),
                        Err(_) if image.is_some() => None,
                        Err(_) => return None,
                    }
                }
                (Some(image), None) => Some(
                    ComposeFacts::parse(
                        &serde_json::to_string(&dockhand_engine::vm_image_compose(
                            r.id.as_str(),
                            image,
                        ))
                        .ok()?,
                    )
                    .ok()?,
                ),
                (None, None) => None,
            },
        };
        Some(Summary::of(&metadata, facts.as_ref()))
    }

    /// The local reading of an installed compose file with compose's
    /// environment.
    fn local_facts(&self, r: &ExtensionRecord, text: &str) -> Option<ComposeFacts> {
        let image = crate::install::plugin_image_of(r);
        let env = self.compose_env.variables(
            &self.engine_host,
            &[dockhand_engine::plugin_image_env(&image)],
        );
        let context = dockhand_spec::ModelContext {
            project: r
                .compose_project
                .clone()
                .unwrap_or_else(|| crate::backend::project_of(&self.layout.home_id(), &r.id)),
            plugin_image: image,
            project_dir: String::new(),
            home: self.compose_env.home.clone().unwrap_or_default(),
        };
        ComposeFacts::local(text, &env, &context).ok()
    }
}
