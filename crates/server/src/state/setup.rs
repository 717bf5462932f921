//! The parts of [`AppState`](super::AppState) its owner configures: the
//! catalog and install routes' registry client ([`CatalogSetup`]), the
//! update checks ([`UpdateService`]), and dev mode's HTTP clients
//! ([`DevState`]).

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use dockhand_host::catalog::CatalogOptions;
use dockhand_host::config::Config;
use dockhand_host::update::CheckOptions;
use dockhand_oci::registry::RegistryClient;

/// What the catalog and install routes need: a registry client and the
/// configuration (catalogs; the allow-list is on the manager).
#[derive(Debug, Clone, Default)]
pub struct CatalogSetup {
    /// The registry client (`None`: the routes answer 503).
    pub registry: Option<RegistryClient>,
    /// The configuration files, read.
    pub config: Config,
    /// How catalogs are read.
    pub options: CatalogOptions,
}

/// How the dashboard checks for updates.
#[derive(Debug, Clone)]
pub struct UpdateService {
    /// The registry client (the user's credentials).
    pub client: RegistryClient,
    /// How often [`run_periodic`](crate::updates::run_periodic) checks; `None`: never by itself.
    pub interval: Option<Duration>,
    /// Check options.
    pub options: CheckOptions,
}

/// How long connecting to a dev server may take.
pub const DEV_SERVER_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Dev mode's HTTP client could not be made.
#[derive(Debug, Clone, thiserror::Error)]
#[error("cannot make an HTTP client: {0}")]
pub struct DevClientError(Arc<reqwest::Error>);

/// What dev mode keeps for the server's life: the HTTP clients that reach
/// dev servers (built on first use, one for loopback targets, which may use
/// self-signed certificates, one for `--allow-remote` ones).
#[derive(Debug, Default)]
pub struct DevState {
    clients: OnceLock<Result<Clients, DevClientError>>,
}

#[derive(Debug)]
struct Clients {
    loopback: reqwest::Client,
    remote: reqwest::Client,
}

impl DevState {
    /// The client for a dev server on loopback or elsewhere.
    pub fn client(&self, loopback: bool) -> Result<&reqwest::Client, DevClientError> {
        let clients = self
            .clients
            .get_or_init(|| {
                let build = |lenient: bool| {
                    reqwest::Client::builder()
                        .redirect(reqwest::redirect::Policy::none())
                        .no_proxy()
                        .connect_timeout(DEV_SERVER_CONNECT_TIMEOUT)
                        .danger_accept_invalid_certs(lenient)
                        .build()
                        .map_err(|e| DevClientError(Arc::new(e)))
                };
                Ok(Clients {
                    loopback: build(true)?,
                    remote: build(false)?,
                })
            })
            .as_ref()
            .map_err(Clone::clone)?;
        Ok(if loopback {
            &clients.loopback
        } else {
            &clients.remote
        })
    }
}
