//! Listing tags (`GET /v2/<name>/tags/list`), page by page ([`super::pages`]).

use serde::Deserialize;

use super::client::{RegistryClient, Target, pull_scope};
use super::error::RegistryError;
use super::pages::{Listing, ListingPage, Page, follow_pages};
use crate::reference::Reference;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

#[derive(Deserialize)]
struct TagPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl ListingPage for TagPage {
    fn names(self) -> Vec<String> {
        self.tags.unwrap_or_default()
    }
}

impl RegistryClient {
    /// The tags of `repo` (its tag or digest is ignored), in the registry's
    /// order, following `Link` pagination (relative or absolute). Stops at
    /// `max` tags, after [`MAX_TAG_PAGES`](super::MAX_TAG_PAGES) pages, or when a `Link` points
    /// back to a page already read.
    pub async fn list_tags(&self, repo: &Reference, max: usize) -> Result<Vec<String>> {
        let name = repo.name();
        let first = Target::Path(format!(
            "/v2/{}/tags/list{}",
            repo.repository(),
            self.page_query()
        ));
        follow_pages(first, max, |target| self.tag_page(repo, &name, target)).await
    }

    async fn tag_page(&self, repo: &Reference, name: &str, target: Target) -> Result<Page> {
        let listing = Listing {
            registry: repo.registry(),
            host: repo.api_host(),
            scope: pull_scope(repo.repository()),
            name,
            what: "list tags",
            list: "tag list",
            not_found_is_unknown_name: true,
        };
        self.listing_page::<TagPage>(&listing, target).await
    }
}
