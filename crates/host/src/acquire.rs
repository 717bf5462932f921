//! The one way an image gets from wherever it is — a registry, the Docker
//! engine, an OCI layout or an archive ([`ImageSource`]) — into the content
//! store; after this, every command works on the store alone. Install,
//! update, validate, inspect, push and build all come through here.

use dockhand_engine::{Engine, EngineError, EngineHost};
use dockhand_oci::Platform;
use dockhand_oci::image::Descriptor;
use dockhand_oci::pull::{PullError, PullOptions, pull};
use dockhand_oci::registry::RegistryClient;
use dockhand_oci::source::{
    ImageSource, ResolvedImage, SourceError, import_archive, import_layout, resolve,
};
use dockhand_oci::store::Store;

/// Why an image could not be acquired.
#[derive(Debug, thiserror::Error)]
pub enum AcquireError {
    /// Reading the source or writing the store failed.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The registry failed (boxed: it is large).
    #[error(transparent)]
    Pull(Box<PullError>),
    /// The engine failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A registry source was given without a registry client.
    #[error("{0} is a registry reference: fetch it with the registry client")]
    NeedsRegistry(String),
}

impl From<PullError> for AcquireError {
    fn from(e: PullError) -> Self {
        Self::Pull(Box::new(e))
    }
}

/// Where images are acquired from and into.
#[derive(Debug, Clone, Copy)]
pub struct Acquirer<'a> {
    /// The content store.
    pub store: &'a Store,
    /// The engine `engine:` sources are exported from.
    pub engine: &'a EngineHost,
    /// The registry client; `None` when the caller has none (a registry
    /// source is then [`AcquireError::NeedsRegistry`]).
    pub registry: Option<&'a RegistryClient>,
}

/// An image in the store.
#[derive(Debug, Clone)]
pub struct Acquired {
    /// The name the source gives it: the registry reference pulled, the
    /// engine's tag, the layout's name, the archive's `RepoTags`, as written.
    pub name: String,
    /// Its top descriptor (an index or a manifest).
    pub top: Descriptor,
}

/// An image in the store, resolved to one platform.
#[derive(Debug, Clone)]
pub struct AcquiredImage {
    /// The name the source gives it (see [`Acquired::name`]).
    pub name: String,
    /// Its top descriptor.
    pub top: Descriptor,
    /// The platform's manifest and config.
    pub image: ResolvedImage,
}

impl Acquirer<'_> {
    /// Gets `source` into the store: from a registry with `pull` (the
    /// platform and size limit it says), else every image of the source.
    pub async fn acquire(
        &self,
        source: &ImageSource,
        pull_options: &PullOptions,
    ) -> Result<Acquired, AcquireError> {
        match source {
            ImageSource::Registry(reference) => {
                let client = self
                    .registry
                    .ok_or_else(|| AcquireError::NeedsRegistry(reference.to_string()))?;
                let pulled = pull(client, self.store, reference, pull_options).await?;
                Ok(Acquired {
                    name: reference.to_string(),
                    top: pulled.top,
                })
            }
            local => {
                let (name, top) = self.acquire_local(local).await?;
                Ok(Acquired { name, top })
            }
        }
    }

    /// [`Acquirer::acquire`] of `platform` alone (with `max_image_size`
    /// for a registry), resolved to that platform's manifest and config.
    pub async fn acquire_for(
        &self,
        source: &ImageSource,
        platform: &Platform,
        max_image_size: Option<u64>,
    ) -> Result<AcquiredImage, AcquireError> {
        let options = PullOptions {
            platform: Some(platform.clone()),
            max_image_size,
            ..Default::default()
        };
        let Acquired { name, top } = self.acquire(source, &options).await?;
        let image = resolve(self.store, &top, platform)?;
        Ok(AcquiredImage { name, top, image })
    }

    /// Copies a local source (`engine:`, `oci:`, `archive:`) into the store
    /// and returns the name it is stored under and its top descriptor.
    async fn acquire_local(
        &self,
        source: &ImageSource,
    ) -> Result<(String, Descriptor), AcquireError> {
        let store = self.store;
        // Each source names the image as its user wrote it (the engine's tag, the
        // layout's name, the archive's RepoTags): that name is the extension id.
        let found = match source {
            ImageSource::Registry(r) => return Err(AcquireError::NeedsRegistry(r.to_string())),
            ImageSource::Layout { dir, tag } => import_layout(store, dir, tag.as_deref(), None)?,
            ImageSource::Archive(path) => import_archive(store, path, None)?,
            ImageSource::Engine(name) => {
                let engine = Engine::connect(self.engine).await?;
                let tmp_dir = store.root().join("ingest");
                let tmp = tmp_dir.join(format!("engine-export-{}.tar", std::process::id()));
                let _ = fs_err::create_dir_all(&tmp_dir);
                let exported = engine.export_image(name, &tmp).await;
                let result = exported.map_err(AcquireError::from).and_then(|_| {
                    import_archive(store, &tmp, Some(name)).map_err(AcquireError::from)
                });
                let _ = fs_err::remove_file(&tmp);
                result?
            }
        };
        found.into_iter().next().ok_or_else(|| {
            AcquireError::Source(SourceError::NoSuchName {
                source_name: source.to_string(),
                name: source.to_string(),
                hint: "it holds no image".to_owned(),
            })
        })
    }
}
