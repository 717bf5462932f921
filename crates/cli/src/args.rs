//! The command line, as clap types. `CLI.md` at the project root of the
//! design is the contract these names follow.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Run Docker Desktop extensions without Docker Desktop.
///
/// dockhand installs extension images from any OCI registry onto any Docker-API
/// engine, serves each extension's UI with a complete window.ddClient, runs its
/// backend and host binaries, and gives extension authors validate, build and
/// push.
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

    /// Docker engine to use, e.g. unix:///var/run/docker.sock
    #[arg(
        short = 'H',
        long = "host",
        global = true,
        env = "DOCKER_HOST",
        value_name = "DOCKER_HOST"
    )]
    pub docker_host: Option<String>,

    /// Print only data and errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Print more about what is being done
    #[arg(short, long, global = true)]
    pub verbose: bool,

    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check an extension against the format: metadata.json, labels, compose file and files
    #[command(long_about = VALIDATE_ABOUT)]
    Validate(ValidateArgs),
    /// Print dockhand's version and the extension API version it implements
    Version(VersionArgs),
}

const VALIDATE_ABOUT: &str = "\
Check an extension against the format: metadata.json, labels, compose file and the files metadata.json names.

TARGET is one of:
  - a metadata.json file: its fields are checked; labels are read from a labels.json or
    Dockerfile beside it, and named files are looked up beside it too;
  - a directory laid out like the image root: metadata.json and the files it names, with
    labels from labels.json or from the LABEL lines of the directory's Dockerfile (final stage,
    ARG and ENV expanded; --build-arg supplies values);
  - a folder holding only metadata.json, labels.json and the compose file (as in a catalog or
    the conformance corpus): named files are then skipped, with a warning saying so.

Validating an image (a registry reference, an engine image, an OCI layout or an image tar) is
not available yet: it arrives with dockhand's OCI support.

Exit status: 0 when valid (warnings allowed), 1 when not or when TARGET cannot be read, 2 on a
usage error. Diagnostic codes are listed in docs/diagnostics.md.";

/// Output format of a command that prints data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum Format {
    /// For people
    #[default]
    Text,
    /// One JSON document on stdout
    Json,
}

/// `dockhand validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// metadata.json or an image-root directory
    #[arg(value_name = "TARGET")]
    pub target: PathBuf,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,

    /// Show errors only, not warnings
    #[arg(short = 'e', long)]
    pub errors_only: bool,

    /// Check api.version against this API version instead of the one dockhand implements
    #[arg(short = 's', long, value_name = "VERSION")]
    pub api_version: Option<String>,

    /// Value for a Dockerfile ARG used by LABEL lines (repeatable)
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,

    /// Check metadata.json, labels and the compose file only, not the other files it names
    #[arg(long)]
    pub metadata_only: bool,
}

/// `dockhand version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
