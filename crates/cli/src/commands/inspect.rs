//! `dockhand inspect`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result};
use dockhand_host::state::State;
use dockhand_host::update::CheckOptions;
use dockhand_host::update::untagged::{ResolveOptions, is_untagged, parse_source, resolve};
use dockhand_oci::Platform;
use dockhand_oci::inspect::{InspectError, Inspected, inspect_remote_within, inspect_stored};
use dockhand_oci::pull::PullError;
use dockhand_oci::source::ImageSource;
use dockhand_oci::store::Store;
use dockhand_spec::labels::name;
use serde::Serialize;

use crate::args::InspectArgs;
use crate::settings::{Settings, runtime};

/// `inspect --format json`, as CLI.md fixes it (plus the platform read).
#[derive(Serialize)]
struct InspectJson<'a> {
    reference: String,
    digest: String,
    platforms: Vec<String>,
    labels: &'a BTreeMap<String, String>,
    metadata: &'a Option<serde_json::Value>,
    api_compatible: bool,
    platform: String,
    layers_read: usize,
    layers_total: usize,
    /// The tag an untagged reference resolved to (absent when REF named one).
    #[serde(skip_serializing_if = "Option::is_none")]
    chosen_tag: Option<String>,
}

pub fn run(args: &InspectArgs, settings: &Settings) -> Result<ExitCode> {
    let source = parse_source(&args.reference).context("check REF")?;
    let platform = match &args.platform {
        Some(p) => p.parse::<Platform>()?,
        None => Platform::host(),
    };
    let store = Store::open(settings.store_dir())?;
    let rt = runtime()?;
    let wanted = Untagged {
        pre: args.pre,
        api: None,
        platform: platform.clone(),
    };
    let (source, chosen_tag) = rt.block_on(resolve_untagged(
        source,
        &wanted,
        settings,
        &args.insecure_registries,
    ))?;
    let inspected = rt.block_on(inspect(
        &source,
        &store,
        &platform,
        settings,
        &args.insecure_registries,
    ))?;
    let json = InspectJson {
        reference: source.to_string(),
        digest: inspected.digest.to_string(),
        platforms: inspected
            .platforms
            .iter()
            .map(ToString::to_string)
            .collect(),
        labels: &inspected.labels,
        metadata: &inspected.metadata,
        api_compatible: inspected.api_compatible(),
        platform: inspected.platform.to_string(),
        layers_read: inspected.layers_read,
        layers_total: inspected.layers_total,
        chosen_tag,
    };
    crate::output::report(args.format, &json, text)?;
    Ok(ExitCode::SUCCESS)
}

/// How an untagged registry reference is resolved on the command line.
pub(super) struct Untagged {
    /// Pre-releases too (`--pre`).
    pub pre: bool,
    /// The extension API to suit (`validate --api-version`); `None`: 0.4.2.
    pub api: Option<semver::Version>,
    /// The platform whose manifests are read.
    pub platform: Platform,
}

/// A registry reference without tag or digest resolved to the highest
/// version whose api.version the API satisfies (`latest` when there is no
/// version tag), said on stderr; other sources as they are. Also returns
/// the chosen tag.
pub(super) async fn resolve_untagged(
    source: ImageSource,
    wanted: &Untagged,
    settings: &Settings,
    insecure: &[String],
) -> Result<(ImageSource, Option<String>)> {
    let ImageSource::Registry(repo) = &source else {
        return Ok((source, None));
    };
    if !is_untagged(repo) {
        return Ok((source, None));
    }
    let client = super::registry_client(settings, insecure)?;
    let state = State::open(&settings.home)?;
    let mut check = CheckOptions {
        pre: wanted.pre,
        platform: wanted.platform.clone(),
        ..Default::default()
    };
    if let Some(api) = &wanted.api {
        check.api = api.clone();
    }
    let options = ResolveOptions {
        check,
        ignore_api_version: false,
    };
    let resolved = resolve(&client, &state, repo, &options).await?;
    settings.say(resolved.message(&options));
    let tag = resolved.tag.clone();
    Ok((ImageSource::Registry(resolved.reference), Some(tag)))
}

/// Inspects any source: a registry reference without downloading the UI,
/// anything else after importing it into the store.
pub async fn inspect(
    source: &ImageSource,
    store: &Store,
    platform: &Platform,
    settings: &Settings,
    insecure: &[String],
) -> Result<Inspected> {
    Ok(match source {
        ImageSource::Registry(reference) => {
            let client = super::registry_client(settings, insecure)?;
            let limit = super::load_config(settings)?.image_size();
            match inspect_remote_within(&client, store, reference, platform, limit).await {
                Err(e @ InspectError::Pull(PullError::TooLarge { .. })) => anyhow::bail!(
                    "{e}; raise `[limits] image_size` in config.toml (0 or off: no limit) to inspect it"
                ),
                other => other?,
            }
        }
        other => {
            let acquired = super::fetch(other, store, settings, insecure).await?;
            inspect_stored(store, &acquired.top, platform).await?
        }
    })
}

fn text(j: &InspectJson<'_>) -> String {
    let get = |k: &str| j.labels.get(k).map(String::as_str).unwrap_or("-");
    let mut out = format!(
        "{}\n  title        {}\n  vendor       {}\n  description  {}\n  digest       {}\n  platforms    {}\n  api.version  {} ({})\n",
        j.reference,
        get(name::TITLE),
        get(name::VENDOR),
        get(name::DESCRIPTION),
        j.digest,
        j.platforms.join(", "),
        get(name::API_VERSION),
        if j.api_compatible {
            "compatible with 0.4.2"
        } else {
            "NOT compatible with 0.4.2"
        },
    );
    out.push_str(&format!(
        "  layers read  {} of {} ({})\n",
        j.layers_read, j.layers_total, j.platform
    ));
    match j.metadata {
        Some(m) => out.push_str(&format!(
            "  metadata.json\n{}",
            serde_json::to_string_pretty(m)
                .unwrap_or_default()
                .lines()
                .map(|l| format!("    {l}\n"))
                .collect::<String>()
        )),
        None => out.push_str("  metadata.json  (none)\n"),
    }
    out.trim_end().to_owned()
}
