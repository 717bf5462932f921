//! Installed extensions: `install`, `ls`, `rm`, `logs`, `doctor`, `up` and
//! `update` (`enable` and `disable` take [`IdArgs`]).

use clap::Args;

use super::Format;

pub(super) const INSTALL_ABOUT: &str = "\
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

pub(super) const LOGS_ABOUT: &str = "\
Show an extension's backend logs (every container of its compose project, prefixed with the
service name when there are several).

With --bridge, show its bridge call log instead: one line per ddClient call its UI made
(docker.cli.exec, vm.service, host.cli.exec, …) with the target, arguments, status, duration
and size, written while `dockhand dev debug ID` is on. --format json prints the log's JSON
lines as they are.";

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

pub(super) const UPDATE_ABOUT: &str = "\
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
