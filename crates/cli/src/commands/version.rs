//! `dockhand version`.

use std::process::ExitCode;

use anyhow::Result;
use serde::Serialize;

use crate::args::{Format, VersionArgs};

#[derive(Serialize)]
struct VersionInfo {
    version: &'static str,
    api_version: &'static str,
}

pub fn run(args: &VersionArgs) -> Result<ExitCode> {
    let info = VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        api_version: dockhand_spec::API_VERSION,
    };
    match args.format {
        Format::Json => crate::output::json(&info)?,
        Format::Text => crate::output::data(&format!(
            "dockhand {}\nExtension API {}",
            info.version, info.api_version
        )),
    }
    Ok(ExitCode::SUCCESS)
}
