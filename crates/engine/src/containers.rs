//! Containers found by label; start and stop.
//!
//! Everything dockhand creates carries its labels ([`crate::EXTENSION_LABEL`]),
//! and compose adds `com.docker.compose.project`; listing and removing by
//! label is how the host finds what an extension left behind, even when its
//! compose files are gone (networks and volumes: `networks.rs`, `volumes.rs`).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::query_parameters::{
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};
use futures_util::{Stream, StreamExt};

use crate::{ApiObject, Engine, EngineError};

/// The label compose puts on a container with its service name.
pub const COMPOSE_SERVICE_LABEL: &str = "com.docker.compose.service";
/// The label compose puts on containers, networks and volumes with the project name.
pub const COMPOSE_PROJECT_LABEL: &str = "com.docker.compose.project";

/// A container, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Full id.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// The image as the container was created from it (in the docker CLI's
    /// short form: Podman's fully qualified names are shortened, see
    /// [`crate::EngineFlavor::container_image`]).
    pub image: String,
    /// `created`, `running`, `paused`, `restarting`, `exited`, `removing` or `dead`.
    pub state: String,
    /// Human status (`Up 3 minutes`, `Exited (0) 2 seconds ago`).
    pub status: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
    /// The compose service, when compose created it.
    pub service: Option<String>,
    /// The compose project, when compose created it.
    pub project: Option<String>,
}

impl ContainerInfo {
    /// True when the container is running.
    pub fn is_running(&self) -> bool {
        self.state == "running"
    }
}

/// A Docker `label` filter: `label` is one `key=value`, or several joined
/// by `,` that must all match (label values dockhand selects by — ids,
/// project names, hashes — never hold a comma).
pub(crate) fn label_filter(label: &str) -> HashMap<&'static str, Vec<String>> {
    HashMap::from([("label", label.split(',').map(str::to_owned).collect())])
}

pub(crate) fn labels(map: Option<HashMap<String, String>>) -> BTreeMap<String, String> {
    map.unwrap_or_default().into_iter().collect()
}

pub(crate) fn status_code(e: &bollard::errors::Error) -> Option<u16> {
    match e {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

impl Engine {
    /// One removal request counted: 1 when done, 0 when the engine answered
    /// one of `gone` (removed already: 404), else the error of `action`.
    pub(crate) async fn removal(
        &self,
        request: impl Future<Output = Result<(), bollard::errors::Error>>,
        gone: &[u16],
        action: impl FnOnce() -> String,
    ) -> Result<usize, EngineError> {
        match request.await {
            Ok(()) => Ok(1),
            Err(e) if status_code(&e).is_some_and(|s| gone.contains(&s)) => Ok(0),
            Err(e) => Err(self.api_error(&action(), e)),
        }
    }

    /// Containers in any state that carry `label` (`key` or `key=value`).
    pub async fn containers_by_label(
        &self,
        label: &str,
    ) -> Result<Vec<ContainerInfo>, EngineError> {
        let options = ListContainersOptionsBuilder::default()
            .all(true)
            .filters(&label_filter(label))
            .build();
        let list = self
            .list_labelled(
                "containers",
                label,
                self.docker.list_containers(Some(options)),
            )
            .await?;
        Ok(list
            .into_iter()
            .map(|c| {
                let labels = labels(c.labels);
                ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .map(|n| n.trim_start_matches('/').to_owned())
                        .unwrap_or_default(),
                    image: self
                        .version
                        .flavor
                        .container_image(&c.image.unwrap_or_default()),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    status: c.status.unwrap_or_default(),
                    service: labels.get(COMPOSE_SERVICE_LABEL).cloned(),
                    project: labels.get(COMPOSE_PROJECT_LABEL).cloned(),
                    labels,
                }
            })
            .collect())
    }

    /// Removes (forcibly, running or not) every container labelled `label`;
    /// returns how many were removed. Their anonymous volumes stay.
    pub async fn remove_containers_by_label(&self, label: &str) -> Result<usize, EngineError> {
        let mut removed = 0;
        for c in self.containers_by_label(label).await? {
            let options = RemoveContainerOptionsBuilder::default().force(true).build();
            let request = self.docker.remove_container(&c.id, Some(options));
            // 409: being removed by someone else.
            removed += self
                .removal(request, &[404, 409], || {
                    format!("removing container {}", c.name)
                })
                .await?;
        }
        Ok(removed)
    }

    /// Starts a container (a no-op when it runs already).
    pub async fn start_container(&self, id: &str) -> Result<(), EngineError> {
        self.docker
            .start_container(id, None)
            .await
            .map_err(|e| self.container_error(id, "starting", e))
    }

    /// Stops a container, killing it after `timeout` (the engine's default, 10 s, when `None`).
    pub async fn stop_container(
        &self,
        id: &str,
        timeout: Option<Duration>,
    ) -> Result<(), EngineError> {
        let mut options = StopContainerOptionsBuilder::default();
        if let Some(t) = timeout {
            options = options.t(i32::try_from(t.as_secs()).unwrap_or(i32::MAX));
        }
        self.docker
            .stop_container(id, Some(options.build()))
            .await
            .map_err(|e| self.container_error(id, "stopping", e))
    }

    pub(crate) fn container_error(
        &self,
        id: &str,
        doing: &str,
        e: bollard::errors::Error,
    ) -> EngineError {
        match &e {
            bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            } => EngineError::NoSuchContainer(id.to_owned()),
            bollard::errors::Error::DockerResponseServerError {
                status_code,
                message,
            } if self.version.flavor.is_not_running(*status_code, message) => {
                EngineError::NotRunning(id.to_owned())
            }
            _ => self.api_error(&format!("{doing} container {id}"), e),
        }
    }
}

/// What `GET /containers/json` lists: the Engine API's query parameters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListContainersOptions {
    /// Stopped containers too (the engine lists running ones only otherwise).
    pub all: bool,
    /// At most this many, the most recently created first.
    pub limit: Option<i32>,
    /// With `SizeRw` and `SizeRootFs`.
    pub size: bool,
    /// Engine API filters (`{"label": ["a=b"], "status": ["exited"]}`).
    pub filters: Option<HashMap<String, Vec<String>>>,
}

/// A container as `GET /containers/{id}/json` describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerDetails {
    /// Full id.
    pub id: String,
    /// True when it runs (a paused container runs too).
    pub running: bool,
    /// The whole description, as the engine gave it.
    pub object: ApiObject,
}

/// What `GET /containers/{id}/stats` sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsOptions {
    /// A sample every second until the stream is dropped; otherwise one.
    pub stream: bool,
    /// Without `stream`: answer at once, without the second sample that
    /// CPU percentages need (`precpu_stats` stays empty).
    pub one_shot: bool,
}

impl Engine {
    /// Containers as the engine lists them (`docker ps`), each in the
    /// Engine API's JSON.
    pub async fn list_containers(
        &self,
        options: &ListContainersOptions,
    ) -> Result<Vec<ApiObject>, EngineError> {
        let query = bollard::query_parameters::ListContainersOptions {
            all: options.all,
            limit: options.limit,
            size: options.size,
            filters: options.filters.clone(),
        };
        let list = self.docker.list_containers(Some(query));
        self.request_objects("listing containers", list).await
    }

    /// A container's description (`docker inspect`); a missing one is
    /// [`EngineError::Rejected`] with status 404.
    pub async fn inspect_container(&self, id: &str) -> Result<ContainerDetails, EngineError> {
        let action = format!("inspecting container {id}");
        let info = self
            .request(&action, self.docker.inspect_container(id, None))
            .await?;
        Ok(ContainerDetails {
            id: info.id.clone().unwrap_or_default(),
            running: info.state.as_ref().and_then(|s| s.running).unwrap_or(false),
            object: self.object(&action, info)?,
        })
    }

    /// A container's resource usage, as the engine samples it.
    pub fn container_stats(
        &self,
        id: &str,
        options: StatsOptions,
    ) -> impl Stream<Item = Result<ApiObject, EngineError>> + Send + 'static {
        let query = bollard::query_parameters::StatsOptions {
            stream: options.stream,
            one_shot: options.one_shot,
        };
        let engine = self.clone();
        let action = format!("reading the stats of container {id}");
        self.docker.stats(id, Some(query)).map(move |sample| {
            sample
                .map_err(|e| engine.request_error(&action, e))
                .and_then(|s| engine.object(&action, s))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_filters_are_docker_filters() {
        let f = label_filter("dev.dockhand.extension=a/b");
        assert_eq!(f["label"], vec!["dev.dockhand.extension=a/b".to_owned()]);
        let f = label_filter("dev.dockhand.extension=a/b,dev.dockhand.home=1f");
        assert_eq!(
            f["label"],
            vec![
                "dev.dockhand.extension=a/b".to_owned(),
                "dev.dockhand.home=1f".to_owned()
            ]
        );
    }
}
