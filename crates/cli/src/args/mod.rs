//! The command line, as clap types. `CLI.md` at the project root of the
//! design is the contract these names follow.
//!
//! Doc comments here are clap's `--help` text, written for a terminal: their
//! brackets (`oci:DIR[:NAME]`) are usage syntax, not rustdoc links.
#![allow(rustdoc::broken_intra_doc_links)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

mod authoring;
mod extensions;
mod images;
mod serve;
mod setup;

pub use authoring::{DevCommand, DevUiSourceArgs, InitArgs, InitBackend};
pub use extensions::{DoctorArgs, InstallArgs, LogsArgs, LsArgs, RmArgs, UpArgs, UpdateArgs};
pub use images::{
    BuildArgs, InspectArgs, PushArgs, StoreCommand, StoreGcArgs, StoreLsArgs, ValidateArgs,
};
pub use serve::{CatalogArgs, CheckInterval, ServeArgs, parse_interval};
pub use setup::{
    CompletionArgs, ManArgs, PluginCommand, PluginInstallArgs, PluginUninstallArgs, Shell,
    VersionArgs,
};

use authoring::{DEV_ABOUT, INIT_ABOUT};
use extensions::{INSTALL_ABOUT, LOGS_ABOUT, UPDATE_ABOUT};
use images::{BUILD_ABOUT, INSPECT_ABOUT, VALIDATE_ABOUT};
use serve::{CATALOG_ABOUT, SERVE_ABOUT};
use setup::COMPLETION_ABOUT;

/// Run Docker Desktop extensions without Docker Desktop.
///
/// dockhand installs extension images from any OCI registry onto any Docker-API
/// engine, serves each extension's UI with a complete window.ddClient, runs its
/// backend and host binaries and keeps it updated; teams get catalogs and an
/// allow-list, extension authors init, validate, multi-platform build, push and
/// dev mode. As the Docker CLI plugin (`dockhand plugin install`) it answers
/// `docker extension …` too.
#[derive(Debug, Parser)]
#[command(
    name = "dockhand",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    /// State directory (default: ${XDG_DATA_HOME:-~/.local/share}/dockhand)
    #[arg(long, global = true, env = "DOCKHAND_HOME", value_name = "DIR")]
    pub home: Option<PathBuf>,

    /// Docker engine to use: unix:///PATH, tcp://HOST:PORT, https://HOST:PORT or
    /// ssh://[USER@]HOST[:PORT] (default: $DOCKER_HOST, else the docker context)
    #[arg(short = 'H', long = "host", global = true, value_name = "DOCKER_HOST")]
    pub docker_host: Option<String>,

    /// Docker context to use, as docker --context (default: $DOCKER_CONTEXT, else
    /// currentContext)
    #[arg(
        long = "context",
        alias = "docker-context",
        global = true,
        value_name = "NAME",
        conflicts_with = "docker_host"
    )]
    pub docker_context: Option<String>,

    /// Use TLS without verifying the engine's certificate (docker --tls; $DOCKER_TLS)
    #[arg(long = "tls", global = true)]
    pub tls: bool,

    /// Use TLS and verify the engine (docker --tlsverify; $DOCKER_TLS_VERIFY)
    #[arg(long = "tlsverify", global = true)]
    pub tls_verify: bool,

    /// CA certificate of the engine (default: $DOCKER_CERT_PATH/ca.pem)
    #[arg(long = "tlscacert", global = true, value_name = "FILE")]
    pub tls_ca_cert: Option<PathBuf>,

    /// TLS client certificate (default: $DOCKER_CERT_PATH/cert.pem)
    #[arg(long = "tlscert", global = true, value_name = "FILE")]
    pub tls_cert: Option<PathBuf>,

    /// TLS client key (default: $DOCKER_CERT_PATH/key.pem)
    #[arg(long = "tlskey", global = true, value_name = "FILE")]
    pub tls_key: Option<PathBuf>,

    /// Print only data and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more about what is being done
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Docker's config directory (docker --config; the plugin mode passes it)
    #[arg(long = "docker-config", global = true, hide = true, value_name = "DIR")]
    pub docker_config: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an extension against the format: metadata.json, labels, compose file and files
    #[command(long_about = VALIDATE_ABOUT)]
    Validate(ValidateArgs),
    /// Install an extension: its backend, its host binaries and its UI
    #[command(long_about = INSTALL_ABOUT)]
    Install(InstallArgs),
    /// List installed extensions
    Ls(LsArgs),
    /// Remove an extension: its containers, networks, files and host binaries
    #[command(alias = "uninstall")]
    Rm(RmArgs),
    /// Start an extension's backend and show its tab
    Enable(IdArgs),
    /// Stop an extension's backend and hide its tab
    Disable(IdArgs),
    /// Show an extension's backend logs, or with --bridge its bridge call log
    #[command(long_about = LOGS_ABOUT)]
    Logs(LogsArgs),
    /// Check the engine, compose and dockhand's state; repair interrupted operations
    Doctor(DoctorArgs),
    /// Install a newer compatible version (or a named one), or list available updates
    #[command(long_about = UPDATE_ABOUT)]
    Update(UpdateArgs),
    /// Start the backends of every enabled extension (after an engine or machine restart)
    Up(UpArgs),
    /// Serve the dashboard and every extension's UI on this machine
    #[command(long_about = SERVE_ABOUT)]
    Serve(ServeArgs),
    /// List the extensions of the configured catalogs
    #[command(long_about = CATALOG_ABOUT)]
    Catalog(CatalogArgs),
    /// Show an extension image's labels, metadata.json and platforms, without downloading its UI
    #[command(long_about = INSPECT_ABOUT)]
    Inspect(InspectArgs),
    /// Assemble a multi-platform extension image from a directory, without a Docker daemon
    #[command(long_about = BUILD_ABOUT)]
    Build(BuildArgs),
    /// Push an image from an OCI layout directory or an image tar to a registry
    Push(PushArgs),
    /// Manage dockhand's content store (an OCI image layout under $DOCKHAND_HOME/store)
    #[command(subcommand)]
    Store(StoreCommand),
    /// Print dockhand's version and the extension API version it implements
    Version(VersionArgs),
    /// Development mode: an extension's tab from a dev server, its bridge calls logged
    #[command(subcommand, long_about = DEV_ABOUT)]
    Dev(DevCommand),
    /// Create a new extension: metadata, labels, icon, UI, and optionally a backend and host binaries
    #[command(long_about = INIT_ABOUT)]
    Init(InitArgs),
    /// Install or remove the Docker CLI plugin, so that `docker extension …` runs dockhand
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Print a shell completion script (bash, zsh or fish)
    #[command(long_about = COMPLETION_ABOUT)]
    Completion(CompletionArgs),
    /// Print dockhand's man page (roff), or write one page per command into a directory
    Man(ManArgs),
}

/// Output format of a command that prints data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// For people
    #[default]
    Text,
    /// One JSON document on stdout
    Json,
}

/// An extension id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The extension id (its image repository, e.g. docker/volumes-backup-extension)
    #[arg(value_name = "ID")]
    pub id: String,
}
