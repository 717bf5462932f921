//! Volumes found by label, and their removal.

use std::collections::BTreeMap;

use bollard::query_parameters::{ListVolumesOptionsBuilder, RemoveVolumeOptionsBuilder};

use crate::containers::label_filter;
use crate::{ApiObject, Engine, EngineError};

/// A volume, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeInfo {
    /// Name.
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
}

impl Engine {
    /// Volumes labelled `label`.
    pub async fn volumes_by_label(&self, label: &str) -> Result<Vec<VolumeInfo>, EngineError> {
        let options = ListVolumesOptionsBuilder::default()
            .filters(&label_filter(label))
            .build();
        let list = self
            .list_labelled("volumes", label, self.docker.list_volumes(Some(options)))
            .await?;
        Ok(list
            .volumes
            .unwrap_or_default()
            .into_iter()
            .map(|v| VolumeInfo {
                name: v.name,
                labels: v.labels.into_iter().collect(),
            })
            .collect())
    }

    /// Removes the volumes labelled `label` (remove their containers first);
    /// returns how many were removed.
    pub async fn remove_volumes_by_label(&self, label: &str) -> Result<usize, EngineError> {
        let mut removed = 0;
        for v in self.volumes_by_label(label).await? {
            let options = RemoveVolumeOptionsBuilder::default().force(false).build();
            let request = self.docker.remove_volume(&v.name, Some(options));
            removed += self
                .removal(request, &[404], || format!("removing volume {}", v.name))
                .await?;
        }
        Ok(removed)
    }

    /// Every volume as the engine lists it (`docker volume ls`), each in the
    /// Engine API's JSON.
    pub async fn list_volumes(&self) -> Result<Vec<ApiObject>, EngineError> {
        let all = self
            .docker
            .list_volumes(None::<bollard::query_parameters::ListVolumesOptions>);
        let list = self.request("listing volumes", all).await?;
        self.objects("listing volumes", list.volumes.unwrap_or_default())
    }

    /// A volume's description (`docker volume inspect`); a missing one is
    /// [`EngineError::Rejected`] with status 404.
    pub async fn inspect_volume(&self, name: &str) -> Result<ApiObject, EngineError> {
        let action = format!("inspecting volume {name}");
        self.request_object(&action, self.docker.inspect_volume(name))
            .await
    }
}
