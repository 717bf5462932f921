//! Catalogs: the configured lists of extensions ([`crate::config`]), each a
//! file ([`mod@file`]) or a registry namespace, resolved to what people choose
//! from — title, vendor, description, categories, the latest compatible
//! version and whether it is installed — from manifests and configs only
//! (never a layer), cached in `dockhand.db`.
//!
//! # Cache strategy
//!
//! Every registry answer is kept in the `catalog_cache` table:
//!
//! - `manifest:<reference>`: the top manifest digest and the image config's
//!   labels. A reference pinned by digest is immutable and is never asked
//!   again; a tag is revalidated with one `HEAD` of its manifest — same
//!   digest, the cached labels stand, no `GET`.
//! - `tags:<repository>` and `repos:<namespace>`: tag and repository
//!   listings, trusted for [`CatalogOptions::list_ttl`] (1 h) unless
//!   `refresh` is set.
//!
//! So a cold run costs, per entry, a tag listing, the index, the platform
//! manifest and the config blob; a cached run one `HEAD` per entry. When a
//! registry cannot be reached, cached answers are used as they are.

pub mod file;
mod problem;
mod remote;

use std::collections::BTreeMap;
use std::time::Duration;

use dockhand_oci::registry::{RegistryClient, RegistryError};
use dockhand_oci::{Platform, Reference};
use dockhand_spec::labels::name;
use dockhand_spec::{AdditionalUrl, Labels, Screenshot};
use futures_util::StreamExt as _;
use serde::Serialize;

use crate::config::{CatalogSource, Config};
use crate::state::{State, StateError};
pub use file::{CatalogFile, CatalogFileError, FileEntry, Overrides};
pub use problem::CatalogProblem;

/// How catalogs are read.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    /// Ask registries for tag and repository listings even when the cached
    /// ones are fresh.
    pub refresh: bool,
    /// How long a cached listing is trusted.
    pub list_ttl: Duration,
    /// Entries resolved at once.
    pub concurrency: usize,
    /// The platform whose config is read from an index.
    pub platform: Platform,
}

impl Default for CatalogOptions {
    fn default() -> Self {
        Self {
            refresh: false,
            list_ttl: Duration::from_secs(3600),
            concurrency: 8,
            platform: Platform::host(),
        }
    }
}

/// Why the catalogs could not be listed.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    /// A catalog file is wrong.
    #[error(transparent)]
    File(#[from] CatalogFileError),
    /// A registry namespace could not be listed (and nothing is cached).
    #[error("catalog `{catalog}`: cannot list the repositories of {namespace}: {source}")]
    Namespace {
        /// The catalog.
        catalog: String,
        /// The namespace.
        namespace: String,
        /// Why.
        source: Box<RegistryError>,
    },
    /// The state database failed.
    #[error(transparent)]
    State(#[from] StateError),
    /// No catalog is configured.
    #[error(
        "no catalog is configured: add a [[catalog]] with `file = PATH` or `url = \"registry/namespace\"` to {0} (docs/config.md)"
    )]
    NoCatalogs(String),
    /// The extension is in no catalog.
    #[error("{0} is in none of the configured catalogs: `dockhand catalog` lists them")]
    NotListed(String),
}

/// One extension of a catalog: `dockhand catalog --format json` (fields
/// documented in docs/catalog.md).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct CatalogItem {
    /// The extension id (`127.0.0.1:5000/acme/ext`).
    pub id: String,
    /// What to install: the latest compatible version, or the pinned one.
    pub reference: String,
    /// The catalog that lists it.
    pub catalog: String,
    /// Display title.
    pub title: String,
    /// Publisher.
    pub vendor: String,
    /// One-line description.
    pub description: String,
    /// Categories.
    pub categories: Vec<String>,
    /// The version (tag) `reference` names, when one was found.
    pub latest: Option<String>,
    /// Its manifest digest.
    pub digest: Option<String>,
    /// True when the catalog pins a tag or digest.
    pub pinned: bool,
    /// Its `com.docker.desktop.extension.api.version` constraint.
    pub api_version: Option<String>,
    /// True when dockhand's API version satisfies it.
    pub compatible: bool,
    /// The installed version, when installed.
    pub installed: Option<String>,
    /// Icon URL (label).
    pub icon: Option<String>,
    /// Why the entry could not be read, when it could not.
    pub error: Option<String>,
    /// The labels of `reference` (for details).
    #[serde(skip)]
    pub labels: BTreeMap<String, String>,
}

/// The details view of one extension (`GET /api/catalog/{ref}`).
#[derive(Debug, Clone, Serialize)]
pub struct CatalogDetails {
    /// The list entry.
    #[serde(flatten)]
    pub item: CatalogItem,
    /// Screenshots (label, parsed; unparseable is empty).
    pub screenshots: Vec<Screenshot>,
    /// Links: the publisher's URL first, then the additional URLs.
    pub links: Vec<AdditionalUrl>,
    /// Detailed description (untrusted HTML: sanitize before showing).
    pub detailed_description: Option<String>,
    /// Changelog of this version (untrusted HTML).
    pub changelog: Option<String>,
    /// Every label.
    pub labels: BTreeMap<String, String>,
}

impl CatalogItem {
    /// True when `query` (case-insensitive) is in the id, title, vendor,
    /// description or categories.
    pub fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_lowercase();
        q.is_empty()
            || [&self.id, &self.title, &self.vendor, &self.description]
                .iter()
                .any(|f| f.to_lowercase().contains(&q))
            || self
                .categories
                .iter()
                .any(|c| c.to_lowercase().contains(&q))
    }

    /// True when the entry has `category`.
    pub fn in_category(&self, category: &str) -> bool {
        self.categories.iter().any(|c| c == category)
    }

    /// The details view.
    pub fn details(&self) -> CatalogDetails {
        let labels = Labels(self.labels.clone());
        let screenshots = labels
            .non_empty(name::SCREENSHOTS)
            .and_then(|v| serde_json::from_str(v).ok())
            .unwrap_or_default();
        let mut links: Vec<AdditionalUrl> = Vec::new();
        if let Some(url) = labels.non_empty(name::PUBLISHER_URL) {
            links.push(AdditionalUrl {
                title: "Publisher".to_owned(),
                url: url.to_owned(),
            });
        }
        if let Some(more) = labels
            .non_empty(name::ADDITIONAL_URLS)
            .and_then(|v| serde_json::from_str::<Vec<AdditionalUrl>>(v).ok())
        {
            links.extend(more);
        }
        CatalogDetails {
            item: self.clone(),
            screenshots,
            links,
            detailed_description: labels
                .non_empty(name::DETAILED_DESCRIPTION)
                .map(str::to_owned),
            changelog: labels.non_empty(name::CHANGELOG).map(str::to_owned),
            labels: self.labels.clone(),
        }
    }
}

/// One entry to resolve: where it is listed and what it says.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    catalog: String,
    reference: Reference,
    overrides: Overrides,
}

/// What [`list`] found.
#[derive(Debug, Clone, Default)]
pub struct Listing {
    /// Every entry of every catalog, in catalog order.
    pub items: Vec<CatalogItem>,
    /// Catalogs that could not be read at all (the others are listed).
    pub problems: Vec<String>,
}

/// Reads every configured catalog and resolves its entries (concurrently,
/// at most `options.concurrency` at once), marking installed ones.
pub async fn list(
    config: &Config,
    state: &State,
    client: &RegistryClient,
    options: &CatalogOptions,
) -> Result<Listing, CatalogError> {
    let remote = remote::Remote {
        state,
        client,
        options,
    };
    let (sources, problems) = sources(config, &remote).await?;
    let mut resolved: Vec<(usize, CatalogItem)> =
        futures_util::stream::iter(sources.iter().enumerate())
            .map(|(i, s)| {
                let remote = &remote;
                async move { (i, remote.resolve(s).await) }
            })
            .buffer_unordered(options.concurrency.max(1))
            .collect()
            .await;
    resolved.sort_by_key(|(i, _)| *i);
    let mut items: Vec<CatalogItem> = resolved.into_iter().map(|(_, item)| item).collect();
    mark_installed(state, &mut items)?;
    Ok(Listing { items, problems })
}

/// Sets `installed` (the version, or empty) on each of `items` that `state`
/// has installed.
fn mark_installed(state: &State, items: &mut [CatalogItem]) -> Result<(), CatalogError> {
    let installed: BTreeMap<String, Option<String>> = state
        .list()?
        .into_iter()
        .map(|r| (r.id.to_string(), r.version))
        .collect();
    for item in items {
        if let Some(v) = installed.get(&item.id) {
            item.installed = Some(v.clone().unwrap_or_default());
        }
    }
    Ok(())
}

/// Every entry of every configured catalog, and the catalogs that could not
/// be read.
async fn sources(
    config: &Config,
    remote: &remote::Remote<'_>,
) -> Result<(Vec<Source>, Vec<String>), CatalogError> {
    if config.catalogs.is_empty() {
        return Err(CatalogError::NoCatalogs(
            remote
                .state
                .home()
                .join("config.toml")
                .display()
                .to_string(),
        ));
    }
    let mut sources = Vec::new();
    let mut problems = Vec::new();
    for c in &config.catalogs {
        match &c.source {
            CatalogSource::File(path) => {
                let file = CatalogFile::read(path)?;
                sources.extend(file.entries.into_iter().map(|e| Source {
                    catalog: c.name.clone(),
                    reference: e.reference,
                    overrides: e.overrides,
                }));
            }
            CatalogSource::Namespace(ns) => match remote.repositories(ns).await {
                Ok(repos) => {
                    for repo in repos {
                        match Reference::parse_loose(&format!("{}/{repo}", ns.registry)) {
                            Ok(reference) => sources.push(Source {
                                catalog: c.name.clone(),
                                reference,
                                overrides: Overrides::default(),
                            }),
                            Err(e) => problems.push(format!(
                                "catalog `{}`: skipped repository `{repo}`: {e}",
                                c.name
                            )),
                        }
                    }
                }
                Err(source) => problems.push(
                    CatalogError::Namespace {
                        catalog: c.name.clone(),
                        namespace: ns.to_string(),
                        source: Box::new(source),
                    }
                    .to_string(),
                ),
            },
        }
    }
    Ok((sources, problems))
}

/// One extension of the catalogs, by id (or reference), resolved alone.
pub async fn entry(
    config: &Config,
    state: &State,
    client: &RegistryClient,
    options: &CatalogOptions,
    wanted: &str,
) -> Result<CatalogItem, CatalogError> {
    let remote = remote::Remote {
        state,
        client,
        options,
    };
    let (sources, _) = sources(config, &remote).await?;
    let id = id_of(wanted);
    let source = sources
        .iter()
        .find(|s| s.reference.extension_id().to_string() == id)
        .ok_or_else(|| CatalogError::NotListed(wanted.to_owned()))?;
    let mut item = remote.resolve(source).await;
    mark_installed(state, std::slice::from_mut(&mut item))?;
    Ok(item)
}

fn id_of(wanted: &str) -> String {
    Reference::parse_loose(wanted)
        .map(|r| r.extension_id().to_string())
        .unwrap_or_else(|_| wanted.to_owned())
}

/// The entry of `listing` whose id or reference is `wanted`.
pub fn find<'a>(listing: &'a Listing, wanted: &str) -> Result<&'a CatalogItem, CatalogError> {
    let id = id_of(wanted);
    listing
        .items
        .iter()
        .find(|i| i.reference == wanted || i.id == id)
        .ok_or_else(|| CatalogError::NotListed(wanted.to_owned()))
}
