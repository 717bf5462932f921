//! Extension images: `validate`, `inspect`, `build`, `push` and `store`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::Format;

pub(super) const VALIDATE_ABOUT: &str = "\
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

pub(super) const INSPECT_ABOUT: &str = "\
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

pub(super) const BUILD_ABOUT: &str = "\
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
