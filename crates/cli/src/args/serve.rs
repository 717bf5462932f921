//! The dashboard and the catalogs: `serve` and `catalog`.

use clap::Args;
use dockhand_host::config::DurationError;

use super::Format;

pub(super) const SERVE_ABOUT: &str = "\
Serve the dashboard (http://localhost:PORT/) and each installed extension's UI on its own
origin (http://<slug>.localhost:PORT/), with window.ddClient bridged to the engine, the
extension's backend and its host binaries.

Prints one line on stdout: the dashboard URL with a one-time token (valid 10 minutes) that
logs the browser in. Everything else goes to stderr. Listens on 127.0.0.1:7411 unless told
otherwise; a fixed port keeps each extension's origin, and so its stored data, the same from
one run to the next. Ctrl-C or SIGTERM stops it and every process it started.";

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
pub fn parse_interval(raw: &str) -> Result<CheckInterval, DurationError> {
    dockhand_host::config::parse_duration(raw).map(|d| CheckInterval((!d.is_zero()).then_some(d)))
}

pub(super) const CATALOG_ABOUT: &str = "\
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
