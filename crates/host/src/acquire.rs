//! Any image source into the content store: after this, every command works
//! on the store alone.

use std::path::PathBuf;

use dockhand_engine::{Engine, EngineError, EngineHost};
use dockhand_oci::image::Descriptor;
use dockhand_oci::source::{ImageSource, SourceError, import_archive, import_layout};
use dockhand_oci::store::Store;

/// Why an image could not be fetched.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Reading the source or writing the store failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// Registry sources go through the registry client.
    #[error("{0} is a registry reference: fetch it with the registry client")]
    NeedsRegistry(String),
    /// A temporary file could not be made.
    #[error("cannot create a temporary file in {path}: {source}")]
    Temp {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Copies a local source (`engine:`, `oci:`, `archive:`) into `store` and
/// returns the name it is stored under and its top descriptor.
pub async fn fetch_local(
    source: &ImageSource,
    store: &Store,
    engine: &EngineHost,
) -> Result<(String, Descriptor), FetchError> {
    // Each source names the image as its user wrote it (the engine's tag, the
    // layout's name, the archive's RepoTags): that name is the extension id.
    let found = match source {
        ImageSource::Registry(r) => return Err(FetchError::NeedsRegistry(r.to_string())),
        ImageSource::Layout { dir, tag } => import_layout(store, dir, tag.as_deref(), None)?,
        ImageSource::Archive(path) => import_archive(store, path, None)?,
        ImageSource::Engine(name) => {
            let engine = Engine::connect(engine).await?;
            let tmp_dir = store.root().join("ingest");
            let tmp = tmp_dir.join(format!("engine-export-{}.tar", std::process::id()));
            let _ = std::fs::create_dir_all(&tmp_dir);
            let exported = engine.export_image(name, &tmp).await;
            let result = exported
                .map_err(FetchError::from)
                .and_then(|_| import_archive(store, &tmp, Some(name)).map_err(FetchError::from));
            let _ = std::fs::remove_file(&tmp);
            result?
        }
    };
    found.into_iter().next().ok_or_else(|| {
        FetchError::Source(SourceError::NoSuchName {
            source_name: source.to_string(),
            name: source.to_string(),
            hint: "it holds no image".to_owned(),
        })
    })
}
