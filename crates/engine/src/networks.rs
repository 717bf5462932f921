//! Networks found by label, and their removal.

use std::collections::BTreeMap;

use bollard::query_parameters::ListNetworksOptionsBuilder;

use crate::containers::{label_filter, labels};
use crate::{Engine, EngineError};

/// A network, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkInfo {
    /// Full id.
    pub id: String,
    /// Name.
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
}

impl Engine {
    /// Networks labelled `label`.
    pub async fn networks_by_label(&self, label: &str) -> Result<Vec<NetworkInfo>, EngineError> {
        let options = ListNetworksOptionsBuilder::default()
            .filters(&label_filter(label))
            .build();
        let list = self
            .list_labelled("networks", label, self.docker.list_networks(Some(options)))
            .await?;
        Ok(list
            .into_iter()
            .map(|n| NetworkInfo {
                id: n.id.unwrap_or_default(),
                name: n.name.unwrap_or_default(),
                labels: labels(n.labels),
            })
            .collect())
    }

    /// Removes the networks labelled `label` (remove their containers first);
    /// returns how many were removed.
    pub async fn remove_networks_by_label(&self, label: &str) -> Result<usize, EngineError> {
        let mut removed = 0;
        for n in self.networks_by_label(label).await? {
            let request = self.docker.remove_network(&n.id);
            removed += self
                .removal(request, &[404], || format!("removing network {}", n.name))
                .await?;
        }
        Ok(removed)
    }
}
