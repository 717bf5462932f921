//! The command line, as clap types. `CLI.md` at the project root of the
//! design is the contract these names follow.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

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

const LOGS_ABOUT: &str = "\
Show an extension's backend logs (every container of its compose project, prefixed with the
service name when there are several).

With --bridge, show its bridge call log instead: one line per ddClient call its UI made
(docker.cli.exec, vm.service, host.cli.exec, …) with the target, arguments, status, duration
and size, written while `dockhand dev debug ID` is on. --format json prints the log's JSON
lines as they are.";

const DEV_ABOUT: &str = "\
Development mode for extension authors, per installed extension, kept in dockhand's state until
`dockhand dev reset ID` (a running `dockhand serve` picks changes up within a second):

  dockhand dev ui-source ID URL   the extension's tab loads from the dev server at URL (Vite,
                                  webpack, …) through the extension's own origin, with
                                  window.ddClient injected and WebSockets passed on, so hot
                                  reload works; the bridge and the backend stay the installed ones
  dockhand dev debug ID           every ddClient bridge call is logged (no secrets: environment
                                  names only, bodies cut): `dockhand logs ID --bridge -f`, or the
                                  extension's page in the dashboard
  dockhand dev reset ID           both off: the installed UI again, no log

URL must be http(s) on this machine (localhost, 127.0.0.1, [::1]) unless --allow-remote: the dev
server gets every request of the tab, and its pages get the extension's whole ddClient.";

/// `dockhand dev`.
#[derive(Debug, Subcommand)]
pub enum DevCommand {
    /// Load an extension's tab from a dev server (hot reload works)
    #[command(name = "ui-source")]
    UiSource(DevUiSourceArgs),
    /// Log every ddClient bridge call of an extension (`dockhand logs ID --bridge`)
    Debug(IdArgs),
    /// Take an extension out of dev mode: its installed UI again, no call log
    Reset(IdArgs),
}

/// `dockhand dev ui-source`.
#[derive(Debug, Args)]
pub struct DevUiSourceArgs {
    /// The extension id (its image repository, e.g. acme/my-extension)
    #[arg(value_name = "ID")]
    pub id: String,

    /// The dev server's URL, e.g. http://localhost:5173 (the tab opens at its path)
    #[arg(value_name = "URL")]
    pub url: String,

    /// Allow a dev server on another machine (it gets the extension's whole ddClient)
    #[arg(long)]
    pub allow_remote: bool,
}

const INIT_ABOUT: &str = "\
Create a new extension in DIR: metadata.json, a Dockerfile with every label the format
expects, an icon, and a tab in plain HTML and JavaScript (no build step) that uses
window.ddClient. It validates with no errors or warnings, builds offline with `dockhand build`
and installs with `dockhand install`; DIR/README.md lists the exact commands.

--backend image adds a backend run from the extension's own image (vm.image); --backend
compose the same backend as a compose file (vm.composefile). The backend is a Rust program
using the standard library only (DIR/backend), linked statically into the image, listening on
the socket metadata.json names. --host-binaries adds a small program for Linux, macOS and
Windows that the tab runs on the user's machine.

The image name (--name) defaults to my-org/<DIR's name>; the title to the name's last part.
DIR must be empty or new unless --force.";

const COMPLETION_ABOUT: &str = "\
Print a completion script for SHELL on stdout. Load it for the current shell, or install it:

  bash:  dockhand completion bash > ~/.local/share/bash-completion/completions/dockhand
  zsh:   dockhand completion zsh > ~/.zfunc/_dockhand   (with fpath+=(~/.zfunc) before compinit)
  fish:  dockhand completion fish > ~/.config/fish/completions/dockhand.fish";

/// The kind of backend `init` generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum InitBackend {
    /// A UI only
    #[default]
    None,
    /// vm.image: the backend runs from the extension's own image
    Image,
    /// vm.composefile: a compose file whose service runs the extension's own image
    Compose,
}

/// `dockhand init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The directory to create (or an empty one)
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,

    /// Image name, ORG/REPO (default: my-org/<DIR's name>)
    #[arg(long, value_name = "ORG/REPO")]
    pub name: Option<String>,

    /// Backend: none, image (vm.image) or compose (vm.composefile)
    #[arg(long, value_enum, default_value_t)]
    pub backend: InitBackend,

    /// Add a host binary for Linux, macOS and Windows that the tab runs
    #[arg(long)]
    pub host_binaries: bool,

    /// Title of the tab and the image (default: from the name)
    #[arg(long, value_name = "TITLE")]
    pub title: Option<String>,

    /// Write into DIR even when it is not empty (files of the same name are replaced)
    #[arg(long)]
    pub force: bool,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `dockhand plugin …`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install docker-extension into Docker's cli-plugins directory
    #[command(long_about = PLUGIN_INSTALL_ABOUT)]
    Install(PluginInstallArgs),
    /// Remove docker-extension from Docker's cli-plugins directory
    Uninstall(PluginUninstallArgs),
}

const PLUGIN_INSTALL_ABOUT: &str = "\
Install dockhand as the Docker CLI plugin docker-extension, in $DOCKER_CONFIG/cli-plugins
(default ~/.docker/cli-plugins), so that `docker extension ls|install|rm|update|validate|init|
dev|enable|disable|version …` run dockhand with Docker's flags (install -f, validate -a -e -s -i).

The plugin is a symlink to this dockhand binary: upgrading dockhand upgrades the plugin, where a
copy would go stale. --copy makes a copy instead, for a binary that will move or be deleted
(a cargo target directory). An existing docker-extension that is not dockhand's (Docker
Desktop's own) is left alone unless --force.";

/// `dockhand plugin install`.
#[derive(Debug, Args)]
pub struct PluginInstallArgs {
    /// Directory of Docker CLI plugins (default: $DOCKER_CONFIG/cli-plugins or ~/.docker/cli-plugins)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Copy the binary instead of linking to it
    #[arg(long)]
    pub copy: bool,

    /// Replace a docker-extension that is not dockhand's
    #[arg(long)]
    pub force: bool,
}

/// `dockhand plugin uninstall`.
#[derive(Debug, Args)]
pub struct PluginUninstallArgs {
    /// Directory of Docker CLI plugins (default: $DOCKER_CONFIG/cli-plugins or ~/.docker/cli-plugins)
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Remove docker-extension even when it is not dockhand's
    #[arg(long)]
    pub force: bool,
}

/// A shell `completion` knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// GNU bash
    Bash,
    /// Z shell
    Zsh,
    /// fish
    Fish,
}

/// `dockhand completion`.
#[derive(Debug, Args)]
pub struct CompletionArgs {
    /// The shell
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: Shell,
}

/// `dockhand man`.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write dockhand.1 and one dockhand-COMMAND.1 per command into DIR instead of printing
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

const INSTALL_ABOUT: &str = "\
Install an extension: fetch its image, check it, show what it will get (its UI tab, backend
services and images, access to the engine's socket, host binaries, privileges) and ask, then
start its backend, copy its host binaries and make its UI available.

REF is a registry reference (docker/volumes-backup-extension:1.4.0), engine:IMAGE (an image
already in the Docker engine), oci:DIR[:NAME] (an OCI layout directory) or archive:FILE (a
`docker save` or OCI layout tar).

A registry reference without a tag or digest (acme/ext) installs the highest version tag
(semver, a leading v accepted: 1.2.0, v1.2.0) whose api.version constraint this host's extension
API (0.4.2) satisfies; pre-releases (2.0.0-rc.1) only with --pre, and `latest` only when the
repository has no version tag at all. The tag chosen is printed on stderr. When no version
suits, the install is refused naming the versions and what they need: name a tag, or pass
--ignore-api-version to take the highest. A tag or digest given is installed as it is.

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
archive:FILE (a `docker save` tar or an OCI layout tar). A registry reference without a tag is
the version `dockhand install` would take (the highest whose api.version 0.4.2 satisfies, --pre
for pre-releases, `latest` without version tags): stderr names it, and so does `chosen_tag` in
--format json.";

const BUILD_ABOUT: &str = "\
Assemble an extension image from DIR, a directory laid out like the image root (metadata.json
and the files it names), without a Docker daemon.

Labels come from the LABEL lines of DIR/Dockerfile (final stage, ARG and ENV expanded, values
from --build-arg), or DIR/labels.json, and --label wins over both. The directory is validated
first, and the build stops, writing nothing, on exactly what would stop `dockhand install` of the
image: errors in metadata.json, the compose file or the files it names (and an api.version that
does not parse). Marketplace findings (a missing or empty title, vendor or changelog label, a
malformed screenshots or links label…) are printed as warnings; --strict makes them errors, as
`dockhand validate` reports them.

The image is a multi-platform index. The UI, the host binaries, the icon and compose file, and
metadata.json go into their own layers, metadata.json last, so inspect reads one small blob.
Entries are sorted and owned by 0:0 with fixed modes and times (SOURCE_DATE_EPOCH, else 0):
the same input gives the same digest. A backend's runtime comes from --base, whose layers
and run config (entrypoint, command, environment) go underneath, per platform, or from the
directory itself: --add puts a file metadata.json does not name (a static backend binary) into
the image, --cmd and --stop-signal set how its containers run (a FROM scratch backend).

--add SRC:DEST puts SRC (a path inside DIR) into every platform's image; --add
linux/arm64=SRC:DEST into that platform's only, so each platform gets its own backend binary:

  dockhand build . -t acme/ext:1 --add linux/amd64=out/amd64/backend:/backend \\
      --add linux/arm64=out/arm64/backend:/backend --cmd /backend

An added file that is an executable (ELF, Mach-O or PE, whatever its mode) must run on the
platform whose image it goes into, OS and architecture: an amd64 binary in the linux/arm64 image
is refused, naming the file, its architecture and the platform. Scripts and other files are not
checked, nor metadata.json's host binaries (they run on the user's machine, listed per OS).

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

    /// How often to check installed extensions for updates (12h, 30m, 90s); 0 or off: never
    /// [default: `[updates] check_interval` of config.toml, else 12h]
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub check_interval: Option<CheckInterval>,

    /// How long a vm.service call waits for the backend's answer before a 504 (60s, 5m); 0 or off: no limit
    /// [default: `[limits] service_timeout` of config.toml, else 60s]
    #[arg(long, value_name = "DURATION", value_parser = parse_interval)]
    pub service_timeout: Option<CheckInterval>,
}

/// `serve --check-interval`: a duration, or never.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckInterval(pub Option<std::time::Duration>);

/// Parses `12h`, `30m`, `90s`, `2d`, `1h30m`, a bare number of seconds, or
/// `0`/`off` (never), as `[updates] check_interval` in config.toml.
pub fn parse_interval(raw: &str) -> Result<CheckInterval, String> {
    dockhand_host::config::parse_duration(raw).map(|d| CheckInterval((!d.is_zero()).then_some(d)))
}

const UPDATE_ABOUT: &str = "\
Install another version of an installed extension, or (--check) list the available updates.

`update --check [ID...]` lists each extension's registry tags, keeps semver tags (a leading v
is accepted; pre-releases only with --pre; other tags such as latest are ignored) and reads
each candidate's com.docker.desktop.extension.api.version from its manifest and config only,
never a layer: LATEST is the highest tag whose api.version this host's extension API (0.4.2)
satisfies, and BLOCKED BY API names a higher tag that needs a newer API. Answers are cached in
the state, so `ls` shows them in its UPDATE column. Extensions installed from engine:, oci: or
archive: have no registry and are skipped with that reason.

`update ID` installs the latest compatible version; `update ID:TAG` installs that tag, older
ones too (a rollback). The new version is installed beside the old one, then switched to; the
backend's volumes are kept, and any failure leaves the old version installed and running. The
summary of what the extension gets is asked about again only when the new version wants more;
-y skips the question, and without a terminal and without -y such an update is refused.";

/// `dockhand update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// The extension (ID or ID:TAG); with --check, any number of ids (none: all)
    #[arg(value_name = "ID[:TAG]")]
    pub ids: Vec<String>,

    /// List available updates instead of installing one
    #[arg(long)]
    pub check: bool,

    /// Consider pre-release versions (1.2.0-rc.1) too
    #[arg(long)]
    pub pre: bool,

    /// Do not ask, even when the new version wants more than the installed one
    #[arg(short = 'y', long = "yes")]
    pub yes: bool,

    /// Reinstall even when the tag names the installed image (implies --yes)
    #[arg(short = 'f', long)]
    pub force: bool,

    /// Platform to read and install (default: this host's)
    #[arg(long, value_name = "OS/ARCH")]
    pub platform: Option<String>,

    /// Registry to reach over plain HTTP (loopback registries always are); repeatable
    #[arg(long = "insecure-registry", value_name = "HOST[:PORT]")]
    pub insecure_registries: Vec<String>,

    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
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

    /// Install even when the extension needs a newer extension API than 0.4.2 (for authors); without a tag, take the highest version
    #[arg(long)]
    pub ignore_api_version: bool,

    /// Without a tag, consider pre-release versions (2.0.0-rc.1) too
    #[arg(long)]
    pub pre: bool,

    /// Install without starting the backend (when its images cannot be pulled here, say): its
    /// tab works, its vm.service calls answer 503 until `dockhand up` or `enable` starts it
    #[arg(long)]
    pub no_start: bool,

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

    /// Only the last N lines of each container (with --bridge: of the call log)
    #[arg(long, value_name = "N")]
    pub tail: Option<usize>,

    /// Show the bridge call log (`dockhand dev debug ID`) instead of the backend's
    #[arg(long)]
    pub bridge: bool,

    /// Output format of --bridge (json: the log's JSON lines)
    #[arg(long, value_enum, default_value_t, requires = "bridge")]
    pub format: Format,
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

    /// Without a tag, consider pre-release versions (2.0.0-rc.1) too
    #[arg(long)]
    pub pre: bool,

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

    /// Also put the file SRC (in DIR) into the image at DEST, e.g. a backend binary:
    /// --add backend/dist/backend:/backend; PLATFORM= puts it into that platform's image only:
    /// --add linux/arm64=out/arm64/backend:/backend (repeatable)
    #[arg(long = "add", value_name = "[PLATFORM=]SRC:DEST")]
    pub add: Vec<String>,

    /// Command of the image's containers (repeat for each argument), e.g. --cmd /backend
    #[arg(long = "cmd", value_name = "ARG", allow_hyphen_values = true)]
    pub cmd: Vec<String>,

    /// Signal that stops the image's containers, e.g. SIGKILL for a PID 1 without handlers
    #[arg(long = "stop-signal", value_name = "SIGNAL")]
    pub stop_signal: Option<String>,

    /// Also refuse marketplace findings (empty or missing listing labels…), as `validate` does;
    /// without it they are warnings, since they do not stop an install
    #[arg(long)]
    pub strict: bool,

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
    A registry reference without a tag is the version `dockhand install` would take, for the
    API version checked against (--api-version): stderr names it, and so does `chosen_tag` in
    --format json.

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

    /// For an image reference without a tag, consider pre-release versions (2.0.0-rc.1) too
    #[arg(long)]
    pub pre: bool,

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
