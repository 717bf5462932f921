//! Images in the engine: inspect, export (`docker save`) and load (`docker load`).

use std::collections::HashMap;
use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

use crate::{ApiObject, Engine, EngineError};

/// What dockhand needs to know about an image in the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageSummary {
    /// The image id (`sha256:…`, the config digest).
    pub id: String,
    /// Tags.
    pub repo_tags: Vec<String>,
    /// `os/arch`.
    pub platform: String,
}

/// What `GET /images/json` lists: the Engine API's query parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListImagesOptions {
    /// Intermediate images too.
    pub all: bool,
    /// Engine API filters (`{"reference": ["busybox"], "dangling": ["true"]}`).
    pub filters: Option<HashMap<String, Vec<String>>>,
    /// With `SharedSize`.
    pub shared_size: bool,
    /// With `RepoDigests`.
    pub digests: bool,
    /// With the `Manifests` of a multi-platform image.
    pub manifests: bool,
}

impl Engine {
    /// Inspects an image; `None` when the engine does not have it.
    pub async fn image(&self, name: &str) -> Result<Option<ImageSummary>, EngineError> {
        match self.docker.inspect_image(name).await {
            Ok(img) => Ok(Some(ImageSummary {
                id: img.id.unwrap_or_default(),
                repo_tags: img.repo_tags.unwrap_or_default(),
                platform: format!(
                    "{}/{}",
                    img.os.unwrap_or_default(),
                    img.architecture.unwrap_or_default()
                ),
            })),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => Ok(None),
            Err(e) => Err(self.api_error(&format!("inspecting {name}"), e)),
        }
    }

    /// Images as the engine lists them (`docker images`), each in the
    /// Engine API's JSON.
    pub async fn list_images(
        &self,
        options: &ListImagesOptions,
    ) -> Result<Vec<ApiObject>, EngineError> {
        let query = bollard::query_parameters::ListImagesOptions {
            all: options.all,
            filters: options.filters.clone(),
            shared_size: options.shared_size,
            digests: options.digests,
            manifests: options.manifests,
        };
        self.request_objects("listing images", self.docker.list_images(Some(query)))
            .await
    }

    /// An image's whole description (`docker image inspect`); a missing one
    /// is [`EngineError::Rejected`] with status 404 (what dockhand itself
    /// needs to know: [`Engine::image`]).
    pub async fn inspect_image(&self, name: &str) -> Result<ApiObject, EngineError> {
        let action = format!("inspecting image {name}");
        self.request_object(&action, self.docker.inspect_image(name))
            .await
    }

    /// Writes `docker save NAME` to `dest` (a tar in Docker's save format,
    /// or an OCI layout on newer engines).
    pub async fn export_image(&self, name: &str, dest: &Path) -> Result<u64, EngineError> {
        if self.image(name).await?.is_none() {
            return Err(EngineError::NoSuchImage(name.to_owned()));
        }
        let mut file = tokio::fs::File::create(dest).await?;
        let mut stream = self.docker.export_image(name);
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| self.api_error(&format!("exporting {name}"), e))?;
            written += chunk.len() as u64;
            file.write_all(&chunk).await?;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(written)
    }

    /// Loads a `docker save`-format or OCI-layout tar into the engine.
    pub async fn load_image(&self, tar: &Path) -> Result<String, EngineError> {
        let body = Bytes::from(tokio::fs::read(tar).await?);
        self.load_image_bytes(body).await
    }

    /// Loads a tar held in memory (see [`Engine::load_image`]).
    pub async fn load_image_bytes(&self, body: Bytes) -> Result<String, EngineError> {
        let options = bollard::query_parameters::ImportImageOptionsBuilder::default()
            .quiet(true)
            .build();
        let mut stream = self
            .docker
            .import_image(options, bollard::body_full(body), None);
        let mut out = String::new();
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| self.api_error("loading an image", e))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(EngineError::Api {
                    host: self.host.describe(),
                    action: "loading an image".into(),
                    message: err,
                });
            }
            if let Some(s) = info.stream {
                out.push_str(&s);
            }
        }
        Ok(out.trim().to_owned())
    }
}
