//! Authoring an extension: `init` and `dev`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::{Format, IdArgs};

pub(super) const INIT_ABOUT: &str = "\
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

pub(super) const DEV_ABOUT: &str = "\
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
