//! What several of these tests set up the same way: a manager in a temp dir
//! with no engine (optionally under an allow-list policy), and a registry
//! install of one source for linux/amd64.

use std::path::Path;

use dockhand_engine::EngineHost;
use dockhand_host::config::Config;
use dockhand_host::install::InstallRequest;
use dockhand_host::layout::Layout;
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

/// Installs `source` from its registry with a default client.
pub async fn install(m: &Manager, source: ImageSource) -> Result<(), InstallError> {
    let client = RegistryClient::new(RegistryOptions::default()).expect("a registry client");
    m.install(&request(source), &client, &Quiet)
        .await
        .map(|_| ())
}
