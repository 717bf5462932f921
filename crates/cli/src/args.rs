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
    /// Show an extension's backend logs
    Logs(LogsArgs),
    /// Check the engine, compose and dockhand's state; repair interrupted operations
    Doctor(DoctorArgs),
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
}

const INSTALL_ABOUT: &str = "\
Install an extension: fetch its image, check it, show what it will get (its UI tab, backend
services and images, access to the engine's socket, host binaries, privileges) and ask, then
start its backend, copy its host binaries and make its UI available.

REF is a registry reference (docker/volumes-backup-extension:1.4.0), engine:IMAGE (an image
already in the Docker engine), oci:DIR[:NAME] (an OCI layout directory) or archive:FILE (a
`docker save` or OCI layout tar).

Without a terminal, -y is required. The install is a transaction: any failure undoes what
was done, and a crash is repaired by the next dockhand command or `dockhand doctor`.
Installing the same image digest again does nothing unless --force.";

const INSPECT_ABOUT: &str = "\
Show an extension image's labels, metadata.json, platforms, digest and whether this host's
extension API (0.4.2) satisfies its api.version constraint.

Only the manifest, the config and the layers from the top down to the first one holding
metadata.json are read: the UI and backend layers below it are never downloaded.

REF is a registry reference (127.0.0.1:5000/acme/ext:1.0.0, docker/volumes-backup-extension),
engine:IMAGE (an image in the Docker engine), oci:DIR[:NAME] (an OCI layout directory) or
archive:FILE (a `docker save` tar or an OCI layout tar).";

const BUILD_ABOUT: &str = "\
Assemble an extension image from DIR, a directory laid out like the image root (metadata.json
and the files it names), without a Docker daemon.

Labels come from the LABEL lines of DIR/Dockerfile (final stage, ARG and ENV expanded, values
from --build-arg), or DIR/labels.json, and --label wins over both. The directory is validated
first; nothing is written when it is not valid.

The image is a multi-platform index. The UI, the host binaries, the icon and compose file, and
metadata.json go into their own layers, metadata.json last, so inspect reads one small blob.
Entries are sorted and owned by 0:0 with fixed modes and times (SOURCE_DATE_EPOCH, else 0):
the same input gives the same digest. A backend's runtime comes from --base, whose layers
and run config (entrypoint, command, environment) go underneath, per platform.

Output: dockhand's content store (tagged -t REF) unless --output oci:DIR; --push sends it to the
registry of REF; --load puts this host's platform into the Docker engine as REF.";

const SERVE_ABOUT: &str = "\
Serve the dashboard (http://localhost:PORT/) and each installed extension's UI on its own
origin (http://<slug>.localhost:PORT/), with window.ddClient bridged to the engine, the
extension's backend and its host binaries.

Prints one line on stdout: the dashboard URL with a one-time token (valid 10 minutes) that
logs the browser in. Everything else goes to stderr. Listens on 127.0.0.1:7411 unless told
otherwise; a fixed port keeps each extension's origin, and so its stored data, the same from
one run to the next. Ctrl-C or SIGTERM stops it and every process it started.";

const CATALOG_ABOUT: &str = "\
List the extensions of the catalogs configured in $DOCKHAND_HOME/config.toml and the system
file (/etc/dockhand/config.toml, or $DOCKHAND_SYSTEM_CONFIG): title, vendor, description,
categories, the latest version whose api.version dockhand's 0.4.2 satisfies, and whether it is
installed (and which version).

A catalog is a file (dockhand's JSON format, docs/catalog.schema.json, or Docker's
extensions.txt: org/repo[:tag] a line) or a registry namespace (url = \"127.0.0.1:5000/acme\"),
whose repositories are listed with /v2/_catalog. Only manifests and image configs are read,
never a layer; answers are cached in dockhand.db, so a second run only revalidates each entry
with one HEAD request (tag and repository listings are trusted for an hour, or re-read with
--refresh). See docs/catalog.md.

SEARCH keeps the entries whose id, title, vendor, description or categories contain it
(case-insensitive).";

/// `dockhand catalog`.
#[derive(Debug, Args)]
pub struct CatalogArgs {
    /// Keep entries containing this text (id, title, vendor, description, categories)
    #[arg(value_name = "SEARCH")]
    pub search: Option<String>,

    /// Keep entries of this category (e.g. utility-tools)
    #[arg(long, value_name = "C")]
    pub category: Option<String>,

    /// Ask registries for tag and repository lists again instead of trusting cached ones
    #[arg(long)]
    pub refresh: bool,

    /// Registry to reach over plain HTTP (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Port to listen on; 0 picks a free one
    #[arg(long, default_value_t = dockhand_server::serve::DEFAULT_PORT, value_name = "N")]
    pub port: u16,

    /// Address to listen on (loopback unless --allow-non-loopback)
    #[arg(long, default_value = "127.0.0.1", value_name = "ADDR")]
    pub bind: std::net::IpAddr,

    /// Allow --bind on an address other machines can reach
    #[arg(long)]
    pub allow_non_loopback: bool,

    /// Registry to reach over plain HTTP for the catalog and installs (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,

    /// Open the dashboard in the browser (xdg-open)
    #[arg(long)]
    pub open: bool,
}

/// `dockhand install`.
#[derive(Debug, Args)]
pub struct InstallArgs {
    /// The extension image: a reference, engine:IMAGE, oci:DIR[:NAME] or archive:FILE
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Do not ask; install even when the extension asks for privileges
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,

    /// Reinstall even when this exact image is installed (implies --yes)
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Platform to install (default: this host's)
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Install even when the extension needs a newer extension API than 0.4.2 (for authors)
    #[arg(long)]
    pub ignore_api_version: bool,

    /// Registry to reach over plain HTTP (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand ls`.
#[derive(Debug, Args)]
pub struct LsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand rm`.
#[derive(Debug, Args)]
pub struct RmArgs {
    /// The extension id (its image repository, e.g. docker/volumes-backup-extension)
    #[arg(value_name = "ID")]
    pub id: String,

    /// Remove the backend's volumes too (their data is lost)
    #[arg(long)]
    pub volumes: bool,
}

/// An extension id.
#[derive(Debug, Args)]
pub struct IdArgs {
    /// The extension id (its image repository, e.g. docker/volumes-backup-extension)
    #[arg(value_name = "ID")]
    pub id: String,
}

/// `dockhand logs`.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// The extension id
    #[arg(value_name = "ID")]
    pub id: String,

    /// Keep printing new lines
    #[arg(short, long)]
    pub follow: bool,

    /// Only the last N lines of each container
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,
}

/// `dockhand doctor`.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand up`.
#[derive(Debug, Args)]
pub struct UpArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image: a registry reference, engine:IMAGE, oci:DIR[:NAME] or archive:FILE
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,

    /// Platform whose config and layers to read (default: this host's)
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Registry to reach over plain HTTP (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
}

/// `dockhand build`.
#[derive(Debug, Args)]
pub struct BuildArgs {
    /// The extension directory (image-root layout)
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: std::path::PathBuf,

    /// Name of the image, e.g. 127.0.0.1:5000/acme/my-ext:1.0.0
    #[arg(short = 't', long = "tag", value_name = "REF")]
    pub tag: String,

    /// Platforms, comma-separated (default: linux/amd64,linux/arm64, or the base image's)
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub platform: Vec<String>,

    /// Base image for the backend's runtime: a reference, engine:IMAGE, oci:DIR[:NAME] or archive:FILE
    #[arg(long, value_name = "IMAGE")]
    pub base: Option<String>,

    /// Label to set (repeatable); wins over the Dockerfile and labels.json
    #[arg(long = "label", value_name = "KEY=VALUE")]
    pub labels: Vec<String>,

    /// Value for a Dockerfile ARG used by LABEL lines (repeatable)
    #[arg(long = "build-arg", value_name = "NAME=VALUE")]
    pub build_args: Vec<String>,

    /// Write the image to an OCI layout directory instead of dockhand's store
    #[arg(long, value_name = "oci:DIR", conflicts_with_all = ["push", "load"])]
    pub output: Option<String>,

    /// Push the image to the registry of REF
    #[arg(long, conflicts_with = "load")]
    pub push: bool,

    /// Load this host's platform into the Docker engine as REF
    #[arg(long)]
    pub load: bool,

    /// Registry to reach over plain HTTP (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand push`.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// What to push: oci:DIR[:NAME], archive:FILE, or a name in dockhand's store
    #[arg(value_name = "SRC")]
    pub source: String,

    /// Where to push it, e.g. 127.0.0.1:5000/acme/my-ext:1.0.0
    #[arg(value_name = "REF")]
    pub reference: String,

    /// Registry to reach over plain HTTP (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Remove blobs that no stored image references
    Gc(StoreGcArgs),
    /// List the images in the store
    Ls(StoreLsArgs),
}

/// `dockhand store gc`.
#[derive(Debug, Args)]
pub struct StoreGcArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand store ls`.
#[derive(Debug, Args)]
pub struct StoreLsArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
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

  - an image: a registry reference, engine:IMAGE (in the Docker engine), oci:DIR[:NAME] (an OCI
    layout) or archive:FILE (a `docker save` or OCI layout tar). Its labels come from the image
    config; the files metadata.json names are unpacked safely (this host's platform) and checked.

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
    /// metadata.json, an image-root directory, or an image: a reference, engine:IMAGE, oci:DIR[:NAME] or archive:FILE
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

    /// Registry to reach over plain HTTP (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,
}

/// `dockhand version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
