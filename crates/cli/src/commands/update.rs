//! `dockhand update ID[:TAG]` and `dockhand update --check [ID…]`.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dockhand_host::update::{CheckOptions, CheckReport, Checked, UpdateRequest, Updated};
use dockhand_oci::Platform;
use dockhand_spec::ExtensionId;

use super::lifecycle::{CliHooks, id, manager};
use crate::args::{Format, UpdateArgs};
use crate::settings::{Settings, runtime};

/// Checks running at once.
const CONCURRENCY: usize = 8;

pub fn run(args: &UpdateArgs, settings: &Settings) -> Result<ExitCode> {
    let platform = match &args.platform {
        Some(p) => p.parse::<Platform>()?,
        None => Platform::host(),
    };
    let options = CheckOptions {
        pre: args.pre,
        platform,
        ..Default::default()
    };
    if args.check {
        check(args, settings, &options)
    } else {
        update(args, settings, options)
    }
}

fn check(args: &UpdateArgs, settings: &Settings, options: &CheckOptions) -> Result<ExitCode> {
    let ids = args
        .ids
        .iter()
        .map(|raw| id(raw))
        .collect::<Result<Vec<ExtensionId>>>()?;
    let manager = manager(settings)?;
    let client = super::registry_client(settings, &args.insecure_registries)?;
    let results =
        runtime()?.block_on(manager.check_updates(&ids, &client, options, CONCURRENCY))?;
    let mut failed = false;
    let mut rows = Vec::new();
    for (id, result) in results {
        let row = match result {
            Ok(checked) => {
                if let Checked::Skipped { reason, .. } = &checked {
                    settings.say(format!("{id}: skipped: {reason}"));
                }
                CheckReport::of(checked)
            }
            Err(e) => {
                failed = true;
                crate::output::error(&anyhow::Error::new(e).context(format!("checking {id}")));
                let installed = manager
                    .state
                    .get(&id)
                    .ok()
                    .flatten()
                    .and_then(|r| r.version)
                    .unwrap_or_default();
                CheckReport::failed(
                    &id,
                    installed,
                    "the check failed (see the message on stderr)".into(),
                )
            }
        };
        rows.push(row);
    }
    match args.format {
        Format::Json => crate::output::json(&rows)?,
        Format::Text if rows.is_empty() => settings.say(
            "no extension is installed, so there is nothing to check: install one with `dockhand install IMAGE`",
        ),
        Format::Text => crate::output::data(&check_table(&rows)),
    }
    Ok(if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The `update --check` table.
fn check_table(rows: &[CheckReport]) -> String {
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<[String; 5]> = rows
        .iter()
        .map(|r| {
            let update = if r.skipped.is_some() {
                "skipped".to_owned()
            } else if r.error.is_some() {
                "failed".to_owned()
            } else if r.update_available {
                "yes".to_owned()
            } else {
                "-".to_owned()
            };
            [
                r.id.clone(),
                r.installed.clone(),
                dash(&r.latest),
                update,
                dash(&r.blocked_by_api),
            ]
        })
        .collect();
    crate::output::table(
        &[
            "EXTENSION",
            "INSTALLED",
            "LATEST",
            "UPDATE",
            "BLOCKED BY API",
        ],
        &cells,
    )
}

/// `ID` and `TAG` of `ID[:TAG]`: a `:` after the last `/` starts the tag
/// (a registry's port comes before it).
fn split_tag(raw: &str) -> (&str, Option<&str>) {
    match raw.rfind(':') {
        Some(i) if !raw[i..].contains('/') => (&raw[..i], Some(&raw[i + 1..])),
        _ => (raw, None),
    }
}

fn update(args: &UpdateArgs, settings: &Settings, options: CheckOptions) -> Result<ExitCode> {
    let [raw] = args.ids.as_slice() else {
        bail!("name one extension to update (ID or ID:TAG), or pass --check to list updates");
    };
    let (raw_id, tag) = split_tag(raw);
    let request = UpdateRequest {
        id: id(raw_id)?,
        tag: tag.map(str::to_owned),
        check: options,
        yes: args.yes || args.force,
        force: args.force,
        pin: None,
    };
    let manager = manager(settings)?;
    // Said plainly, not as an update that failed.
    manager.get(&request.id)?;
    let client = super::registry_client(settings, &args.insecure_registries)?;
    let hooks = CliHooks {
        settings,
        yes: request.yes,
    };
    let outcome = runtime()?
        .block_on(manager.update(&request, &client, &hooks))
        .with_context(|| format!("{} was not updated", request.id))?;
    let record = match &outcome {
        Updated::Updated { record, .. } | Updated::Unchanged(record) => (**record).clone(),
        Updated::UpToDate(_) => manager.get(&request.id)?,
    };
    match args.format {
        Format::Json => crate::output::json(&super::ls::ls_json(&record, 0, 0))?,
        Format::Text => crate::output::data(&match &outcome {
            Updated::Updated { from, record } => format!(
                "updated {} from {from} to {} ({})",
                record.id,
                record.version.clone().unwrap_or_default(),
                record.digest
            ),
            Updated::Unchanged(r) => format!(
                "{} {} is installed already (same image): nothing to do; pass --force to reinstall",
                r.id,
                r.version.clone().unwrap_or_default()
            ),
            Updated::UpToDate(c) => {
                let mut text = format!(
                    "{} {} is up to date: no newer version for extension API {}",
                    c.id,
                    c.installed,
                    dockhand_spec::API_VERSION
                );
                if let Some(blocked) = &c.blocked_by_api {
                    text.push_str(&format!(" ({blocked} needs a newer extension API)"));
                }
                text
            }
        }),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_a_tag_after_the_last_slash() {
        assert_eq!(split_tag("acme/ext"), ("acme/ext", None));
        assert_eq!(split_tag("acme/ext:1.0.0"), ("acme/ext", Some("1.0.0")));
        assert_eq!(
            split_tag("127.0.0.1:5000/acme/ext"),
            ("127.0.0.1:5000/acme/ext", None)
        );
        assert_eq!(
            split_tag("127.0.0.1:5000/acme/ext:v2"),
            ("127.0.0.1:5000/acme/ext", Some("v2"))
        );
    }

    #[test]
    fn check_intervals_parse() {
        use crate::args::{CheckInterval, parse_interval};
        use std::time::Duration;
        // (text, seconds; None: no checks)
        let cases = [
            ("12h", Some(43_200)),
            ("30m", Some(1800)),
            ("90", Some(90)),
            ("2d", Some(172_800)),
            ("0", None),
            ("off", None),
        ];
        for (text, secs) in cases {
            assert_eq!(
                parse_interval(text),
                Ok(CheckInterval(secs.map(Duration::from_secs))),
                "{text}"
            );
        }
        assert!(
            parse_interval("12x")
                .unwrap_err()
                .to_string()
                .contains("unit")
        );
        assert!(parse_interval("soon").is_err());
    }

    #[test]
    fn check_table_shows_each_case() {
        let row =
            |id: &str, latest: Option<&str>, update: bool, blocked: Option<&str>| CheckReport {
                id: id.into(),
                installed: "1.0.0".into(),
                latest: latest.map(Into::into),
                update_available: update,
                blocked_by_api: blocked.map(Into::into),
                skipped: None,
                error: None,
            };
        let mut skipped = row("local/ext", None, false, None);
        skipped.skipped = Some("no registry".into());
        let rows = [
            row("r/acme/a", Some("1.1.0"), true, Some("2.0.0")),
            row("r/acme/b", Some("1.0.0"), false, None),
            skipped,
        ];
        insta::assert_snapshot!(check_table(&rows));
    }
}
