//! One module per command, and what several commands share: building the
//! registry client from the settings and the host's image acquisition with
//! it.

mod build;
mod catalog;
mod completion;
mod dev;
mod doctor;
mod enable;
mod image_tree;
pub mod init;
mod inspect;
mod install;
mod lifecycle;
mod logs;
mod ls;
mod man;
mod plugin;
pub mod push;
mod rm;
mod serve;
mod store;
mod update;
mod validate;
mod version;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use dockhand_host::acquire::{Acquired, Acquirer};
use dockhand_oci::pull::PullOptions;
use dockhand_oci::registry::{DockerConfig, RegistryClient, RegistryOptions};
use dockhand_oci::source::ImageSource;
use dockhand_oci::store::Store;

use crate::args::{Cli, Command};
use crate::settings::Settings;

/// Runs the parsed command line.
pub fn dispatch(cli: Cli) -> Result<ExitCode> {
    // Commands that need neither the engine nor dockhand's state: they run even where
    // those settings cannot be resolved.
    match &cli.command {
        Command::Init(args) => return init::run(args),
        Command::Plugin(cmd) => return plugin::run(cmd, &cli),
        Command::Completion(args) => return completion::run(args),
        Command::Man(args) => return man::run(args),
        // The engine's part of its report says when the settings do not resolve.
        Command::Version(args) => return version::run(args, &cli),
        _ => {}
    }
    let settings = Settings::resolve(&cli)?;
    match &cli.command {
        Command::Validate(args) => validate::run(args, &settings),
        Command::Inspect(args) => inspect::run(args, &settings),
        Command::Build(args) => build::run(args, &settings),
        Command::Push(args) => push::run(args, &settings),
        Command::Store(cmd) => store::run(cmd, &settings),
        Command::Install(args) => install::run(args, &settings),
        Command::Ls(args) => ls::run(args, &settings),
        Command::Rm(args) => rm::run(args, &settings),
        Command::Enable(args) => enable::run(args, &settings, true),
        Command::Disable(args) => enable::run(args, &settings, false),
        Command::Logs(args) => logs::run(args, &settings),
        Command::Doctor(args) => doctor::run(args, &settings),
        Command::Update(args) => update::run(args, &settings),
        Command::Up(args) => doctor::up(args, &settings),
        Command::Serve(args) => serve::run(args, &settings),
        Command::Dev(cmd) => dev::run(cmd, &settings),
        // Run above.
        Command::Init(_)
        | Command::Plugin(_)
        | Command::Completion(_)
        | Command::Man(_)
        | Command::Version(_) => Ok(ExitCode::SUCCESS),
        Command::Catalog(args) => catalog::run(args, &settings),
    }
}

/// The configuration files (`docs/config.md`), read once; their warnings
/// (a locked setting in the user file) are printed.
pub fn config(settings: &Settings) -> Result<dockhand_host::config::Config> {
    let config = load_config(settings)?;
    for w in &config.warnings {
        crate::output::warning(w);
    }
    Ok(config)
}

/// The configuration files, read without printing their warnings.
pub fn load_config(settings: &Settings) -> Result<dockhand_host::config::Config> {
    Ok(dockhand_host::config::Config::load(
        &settings.config_paths(),
    )?)
}

/// A registry client with the user's docker credentials.
pub fn registry_client(settings: &Settings, insecure: &[String]) -> Result<RegistryClient> {
    let config_path = settings.docker_config.join("config.json");
    let helper_dirs: Vec<std::path::PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    let credentials = DockerConfig::load(&config_path, helper_dirs).with_context(|| {
        format!(
            "reading registry credentials from {}",
            config_path.display()
        )
    })?;
    let options = RegistryOptions {
        insecure_registries: insecure.to_vec(),
        credentials: Arc::new(credentials),
        ..RegistryOptions::default()
    };
    Ok(RegistryClient::new(options)?)
}

/// Where [`dockhand_host::acquire`] takes images from: the settings' engine,
/// and a registry client made only for a registry source (so a local source
/// works whatever the docker credentials file holds).
pub fn acquirer_for<'a>(
    source: &ImageSource,
    store: &'a Store,
    settings: &'a Settings,
    client: &'a mut Option<RegistryClient>,
    insecure: &[String],
) -> Result<Acquirer<'a>> {
    if let ImageSource::Registry(_) = source {
        *client = Some(registry_client(settings, insecure)?);
    }
    Ok(Acquirer {
        store,
        engine: &settings.engine,
        registry: client.as_ref(),
    })
}

/// Gets `source` into `store` (every platform from a registry).
pub async fn fetch(
    source: &ImageSource,
    store: &Store,
    settings: &Settings,
    insecure: &[String],
) -> Result<Acquired> {
    let mut client = None;
    let acquirer = acquirer_for(source, store, settings, &mut client, insecure)?;
    Ok(acquirer.acquire(source, &PullOptions::default()).await?)
}
