//! `dockhand catalog`.

use std::process::ExitCode;

use anyhow::Result;
use dockhand_host::catalog::{self, CatalogItem, CatalogOptions};
use dockhand_host::state::State;

use crate::args::CatalogArgs;
use crate::settings::{Settings, runtime};

pub fn run(args: &CatalogArgs, settings: &Settings) -> Result<ExitCode> {
    let config = super::config(settings)?;
    let state = State::open(&settings.home)?;
    let client = super::registry_client(settings, &args.insecure_registries)?;
    let options = CatalogOptions {
        refresh: args.refresh,
        ..CatalogOptions::default()
    };
    let listing = runtime()?.block_on(catalog::list(&config, &state, &client, &options))?;
    for p in &listing.problems {
        crate::output::warning(p);
    }
    let items: Vec<&CatalogItem> = listing
        .items
        .iter()
        .filter(|i| args.search.as_deref().is_none_or(|q| i.matches(q)))
        .filter(|i| args.category.as_deref().is_none_or(|c| i.in_category(c)))
        .collect();
    for i in items.iter().filter(|i| i.error.is_some()) {
        crate::output::warning(&format!(
            "{}: {}",
            i.reference,
            i.error.as_deref().unwrap_or_default()
        ));
    }
    crate::output::report(args.format, &items, |items| text(items))?;
    Ok(ExitCode::SUCCESS)
}

/// At most `n` characters, with `…` when cut.
fn short(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(n.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

fn text(items: &[&CatalogItem]) -> String {
    let rows: Vec<[String; 7]> = items
        .iter()
        .map(|i| {
            let latest = match (&i.latest, i.compatible) {
                (Some(v), true) => v.clone(),
                (Some(v), false) => format!(
                    "{v} (needs API {})",
                    i.api_version.as_deref().unwrap_or("?")
                ),
                (None, _) => "-".to_owned(),
            };
            let installed = match &i.installed {
                Some(v) if Some(v) == i.latest.as_ref() => format!("yes ({v})"),
                Some(v) => format!("{v} (update: {})", i.latest.as_deref().unwrap_or("-")),
                None => "-".to_owned(),
            };
            [
                i.id.clone(),
                short(&i.title, 28),
                short(&i.vendor, 20),
                short(&i.description, 48),
                if i.categories.is_empty() {
                    "-".to_owned()
                } else {
                    i.categories.join(",")
                },
                latest,
                installed,
            ]
        })
        .collect();
    crate::output::table(
        &[
            "EXTENSION",
            "TITLE",
            "VENDOR",
            "DESCRIPTION",
            "CATEGORIES",
            "LATEST",
            "INSTALLED",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_cuts_with_an_ellipsis() {
        assert_eq!(short("abc", 5), "abc");
        assert_eq!(short("abcdefgh", 5), "abcd…");
    }
}
