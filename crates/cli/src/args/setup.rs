//! dockhand itself: `plugin`, `completion`, `man` and `version`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};

use super::Format;

pub(super) const PLUGIN_INSTALL_ABOUT: &str = "\
Install dockhand as the Docker CLI plugin docker-extension, in $DOCKER_CONFIG/cli-plugins
(default ~/.docker/cli-plugins), so that `docker extension ls|install|rm|update|validate|init|
dev|enable|disable|version …` run dockhand with Docker's flags (install -f, validate -a -e -s -i).

The plugin is a symlink to this dockhand binary: upgrading dockhand upgrades the plugin, where a
copy would go stale. --copy makes a copy instead, for a binary that will move or be deleted
(a cargo target directory). An existing docker-extension that is not dockhand's (Docker
Desktop's own) is left alone unless --force.";

/// `dockhand plugin …`.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Install docker-extension into Docker's cli-plugins directory
    #[command(long_about = PLUGIN_INSTALL_ABOUT)]
    Install(PluginInstallArgs),
    /// Remove docker-extension from Docker's cli-plugins directory
    Uninstall(PluginUninstallArgs),
}

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

pub(super) const COMPLETION_ABOUT: &str = "\
Print a completion script for SHELL on stdout. Load it for the current shell, or install it:

  bash:  dockhand completion bash > ~/.local/share/bash-completion/completions/dockhand
  zsh:   dockhand completion zsh > ~/.zfunc/_dockhand   (with fpath+=(~/.zfunc) before compinit)
  fish:  dockhand completion fish > ~/.config/fish/completions/dockhand.fish";

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

/// `dockhand version`.
#[derive(Debug, Args)]
pub struct VersionArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}
