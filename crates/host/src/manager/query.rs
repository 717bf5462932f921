//! What is installed: one record, and every record with its backend's live
//! state (containers, socket).

use std::collections::BTreeMap;

use dockhand_spec::ExtensionId;

use crate::Manager;
use crate::backend;
use crate::error::InstallError;
use crate::state::ExtensionRecord;

/// An installed extension with its backend's live state.
#[derive(Debug, Clone)]
pub struct Listed {
    /// The record.
    pub record: ExtensionRecord,
    /// Running containers of its backend.
    pub running: usize,
    /// All containers of its backend.
    pub containers: usize,
    /// What connecting to its backend's socket says, when it exposes one.
    pub socket: Option<dockhand_engine::SocketState>,
}

/// The installed extensions, and whether the engine told their backends'
/// states.
#[derive(Debug)]
pub struct Listing {
    /// Every installed extension.
    pub extensions: Vec<Listed>,
    /// Why the engine could not be asked, when some extension has a backend
    /// and it could not: the counts are then zero, not known.
    pub engine_error: Option<String>,
}

impl Manager {
    /// The installed extension `id`.
    pub fn get(&self, id: &ExtensionId) -> Result<ExtensionRecord, InstallError> {
        self.state
            .get(id)?
            .ok_or_else(|| InstallError::NotInstalled(id.clone()))
    }

    /// Every installed extension with its containers' state (one engine
    /// call); without an engine, the list with why its states are unknown.
    pub async fn list(&self) -> Result<Listing, InstallError> {
        let records = self.state.list()?;
        let mut counts: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        let mut engine_error = None;
        let mut reached = None;
        if records.iter().any(|r| r.backend.is_some()) {
            match self.engine().await {
                Ok(engine) => {
                    // This home's containers only: another home (user) may
                    // run the same extension on this engine.
                    let mine = format!(
                        "{},{}={}",
                        dockhand_engine::EXTENSION_LABEL,
                        crate::layout::HOME_LABEL,
                        self.layout.home_id()
                    );
                    for c in engine.containers_by_label(&mine).await? {
                        if let Some(id) = c.labels.get(dockhand_engine::EXTENSION_LABEL) {
                            let e = counts.entry(id.clone()).or_default();
                            e.1 += 1;
                            if c.is_running() {
                                e.0 += 1;
                            }
                        }
                    }
                    reached = Some(engine);
                }
                Err(e) => engine_error = Some(e.to_string()),
            }
        }
        let mut extensions = Vec::with_capacity(records.len());
        for record in records {
            let (running, containers) = counts.get(record.id.as_str()).copied().unwrap_or_default();
            let socket = match &reached {
                Some(engine) => match self.backend_on(engine, &record).await {
                    Ok(Some(b)) => backend::socket_state(engine, &b).await,
                    _ => None,
                },
                None => None,
            };
            extensions.push(Listed {
                record,
                running,
                containers,
                socket,
            });
        }
        Ok(Listing {
            extensions,
            engine_error,
        })
    }

    /// A note for the user when the enabled backend of `record` runs without
    /// its socket (not created yet, or nobody listens on it).
    pub async fn socket_note(&self, record: &ExtensionRecord) -> Option<String> {
        if !record.enabled {
            return None;
        }
        record.backend.as_ref()?;
        let engine = self.engine().await.ok()?;
        let backend = self.backend_on(&engine, record).await.ok()??;
        let state = backend::socket_state(&engine, &backend).await?;
        match state {
            dockhand_engine::SocketState::Missing | dockhand_engine::SocketState::NotListening => {
                // Only about a backend that runs (not one left stopped).
                let containers = engine.containers_by_label(&backend.label()).await.ok()?;
                if !containers.iter().any(|c| c.is_running()) {
                    return None;
                }
                Some(backend::socket_pending_message(
                    &record.id,
                    backend.socket.as_deref().unwrap_or_default(),
                    state,
                ))
            }
            _ => None,
        }
    }
}
