//! `dockhand store gc` and `dockhand store ls`.

use std::process::ExitCode;

use anyhow::Result;
use dockhand_oci::store::Store;
use serde::Serialize;

use crate::args::{Format, StoreCommand};
use crate::settings::Settings;

#[derive(Serialize)]
struct GcJson {
    blobs_removed: usize,
    bytes_freed: u64,
    blobs_kept: usize,
}

#[derive(Serialize)]
struct EntryJson {
    name: String,
    digest: String,
    media_type: String,
}

pub fn run(cmd: &StoreCommand, settings: &Settings) -> Result<ExitCode> {
    let store = Store::open(settings.store_dir())?;
    match cmd {
        StoreCommand::Gc(args) => {
            let report = store.gc(&[])?;
            let json = GcJson {
                blobs_removed: report.blobs_removed,
                bytes_freed: report.bytes_freed,
                blobs_kept: report.blobs_kept,
            };
            crate::output::report(args.format, &json, |json| {
                format!(
                    "removed {} blobs ({} bytes), kept {}",
                    json.blobs_removed, json.bytes_freed, json.blobs_kept
                )
            })?;
        }
        StoreCommand::Ls(args) => {
            let entries: Vec<EntryJson> = store
                .names()?
                .into_iter()
                .map(|(name, d)| EntryJson {
                    name,
                    digest: d.digest.to_string(),
                    media_type: d.media_type,
                })
                .collect();
            match args.format {
                Format::Json => crate::output::json(&entries)?,
                Format::Text => {
                    let mut text = format!("{:<60} {}", "NAME", "DIGEST");
                    for e in &entries {
                        text.push_str(&format!("\n{:<60} {}", e.name, e.digest));
                    }
                    crate::output::data(&text);
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
