//! `dockhand push`.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dockhand_oci::Reference;
use dockhand_oci::image::Descriptor;
use dockhand_oci::source::ImageSource;
use dockhand_oci::store::Store;
use serde::Serialize;

use crate::args::PushArgs;
use crate::settings::{Settings, runtime};

#[derive(Serialize)]
struct PushJson {
    reference: String,
    digest: String,
    uploaded: usize,
    skipped: usize,
    mounted: usize,
}

pub fn run(args: &PushArgs, settings: &Settings) -> Result<ExitCode> {
    let target = Reference::parse(&args.reference).context("check REF")?;
    let store = Store::open(settings.store_dir())?;
    let rt = runtime()?;
    let top = match ImageSource::parse(&args.source) {
        Ok(ImageSource::Registry(_)) | Err(_) => match store.resolve(&args.source)? {
            Some(d) => d,
            None => bail!(
                "{} is not in dockhand's store: pass oci:DIR[:NAME], archive:FILE or engine:IMAGE, or a name from `dockhand store ls`",
                args.source
            ),
        },
        Ok(source) => {
            rt.block_on(super::fetch(
                &source,
                &store,
                settings,
                &args.insecure_registries,
            ))?
            .top
        }
    };
    settings.say(format!("pushing {} to {target}", top.digest));
    let report = rt.block_on(push_from_store(
        &store,
        &top,
        &target,
        settings,
        &args.insecure_registries,
    ))?;
    let json = PushJson {
        reference: target.to_string(),
        digest: report.digest.map(|d| d.to_string()).unwrap_or_default(),
        uploaded: report.uploaded,
        skipped: report.skipped,
        mounted: report.mounted,
    };
    crate::output::report(args.format, &json, |json| {
        format!(
            "{}@{}\n  uploaded {}, already there {}, mounted {}",
            json.reference, json.digest, json.uploaded, json.skipped, json.mounted
        )
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Pushes a stored image to `target`.
pub async fn push_from_store(
    store: &Store,
    top: &Descriptor,
    target: &Reference,
    settings: &Settings,
    insecure: &[String],
) -> Result<dockhand_oci::push::PushReport> {
    let client = super::registry_client(settings, insecure)?;
    Ok(dockhand_oci::push::push(&client, store, top, target).await?)
}
