//! What several of these tests set up the same way: a manager in a temp dir
//! with no engine (optionally under an allow-list policy), a registry
//! install of one source for linux/amd64, and catalogs to list.

use std::path::Path;

use dockhand_engine::EngineHost;
use dockhand_host::catalog::{self, CatalogError, CatalogItem, CatalogOptions, Listing};
use dockhand_host::config::Config;
use dockhand_host::install::InstallRequest;
use dockhand_host::layout::Layout;
use dockhand_host::state::State;
use dockhand_host::{InstallError, Manager, Quiet};
use dockhand_oci::registry::{RegistryClient, RegistryOptions};
use dockhand_oci::source::ImageSource;

/// The home and runtime dir under `tmp`.
pub fn layout(tmp: &Path) -> Layout {
    Layout {
        home: tmp.join("home"),
        runtime: tmp.join("run"),
    }
}

/// A manager in [`layout`], on an engine that is not there.
pub fn open(tmp: &Path) -> Manager {
    Manager::open(
        layout(tmp),
        EngineHost::Unix(tmp.join("no-engine.sock")),
        "docker".into(),
        vec![],
    )
    .expect("the manager opens")
}

/// [`open`] with the allow-list of the system config `policy`.
pub fn with_policy(tmp: &Path, policy: &str) -> Manager {
    let mut m = open(tmp);
    let path = tmp.join("system.toml");
    fs_err::write(&path, policy).expect("write the policy");
    m.allow = Config::parse(&path, policy)
        .expect("the policy parses")
        .allow_list()
        .expect("an allow-list");
    m
}

/// `install SOURCE -y` for linux/amd64.
pub fn request(source: ImageSource) -> InstallRequest {
    InstallRequest {
        source,
        platform: "linux/amd64".parse().expect("a platform"),
        yes: true,
        force: false,
        ignore_api_version: false,
        pre: false,
    }
}

/// A registry client with the default options.
pub fn client() -> RegistryClient {
    RegistryClient::new(RegistryOptions::default()).expect("a registry client")
}

/// Installs `source` from its registry with a default client.
pub async fn install(m: &Manager, source: ImageSource) -> Result<(), InstallError> {
    let client = client();
    m.install(&request(source), &client, &Quiet)
        .await
        .map(|_| ())
}

/// Catalog options for linux/amd64.
pub fn platform_options() -> CatalogOptions {
    CatalogOptions {
        platform: "linux/amd64".parse().expect("a platform"),
        ..CatalogOptions::default()
    }
}

/// The catalogs of a `config.toml` in a temp dir, with the state in its
/// `home` and one client for every call, as the CLI lists them.
pub struct Catalogs {
    pub config: Config,
    pub state: State,
    pub client: RegistryClient,
}

impl Catalogs {
    /// Writes `config_text` to `dir/config.toml` and opens the state in `dir/home`.
    pub fn open(dir: &Path, config_text: &str) -> Self {
        let path = dir.join("config.toml");
        fs_err::write(&path, config_text).expect("write the config");
        Self {
            config: Config::parse(&path, config_text).expect("the config parses"),
            state: State::open(&dir.join("home")).expect("the state opens"),
            client: client(),
        }
    }

    /// Every entry of every catalog, read with `options`.
    pub async fn list(&self, options: &CatalogOptions) -> Listing {
        catalog::list(&self.config, &self.state, &self.client, options)
            .await
            .expect("the catalogs list")
    }

    /// The entry `wanted`, for linux/amd64.
    pub async fn entry(&self, wanted: &str) -> Result<CatalogItem, CatalogError> {
        let options = platform_options();
        catalog::entry(&self.config, &self.state, &self.client, &options, wanted).await
    }
}
