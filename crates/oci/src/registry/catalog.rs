//! Listing a registry's repositories (`GET /v2/_catalog`), page by page
//! ([`super::pages`]), as tag listings do.

use serde::Deserialize;

use super::client::{RegistryClient, Target};
use super::error::RegistryError;
use super::pages::{Listing, ListingPage, Page, follow_pages};

type Result<T, E = RegistryError> = std::result::Result<T, E>;

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

impl ListingPage for CatalogPage {
    fn names(self) -> Vec<String> {
        self.repositories.unwrap_or_default()
    }
}

impl RegistryClient {
    /// The repositories of `registry` (`host[:port]`) whose name starts with
    /// `prefix/` (every one when `prefix` is empty), in the registry's
    /// order. Follows `Link` pagination; stops at `max` repositories, after
    /// [`MAX_TAG_PAGES`](super::MAX_TAG_PAGES) pages, or at a page already read. Counted as
    /// [`RequestKind::Tags`](super::RequestKind::Tags) (listings). A registry without the catalog API
    /// answers 404 or 401/403: [`RegistryError::Status`] or
    /// [`RegistryError::Denied`].
    pub async fn list_repositories(
        &self,
        registry: &str,
        prefix: &str,
        max: usize,
    ) -> Result<Vec<String>> {
        let first = Target::Path(format!("/v2/_catalog{}", self.page_query()));
        let wanted = |r: &String| {
            prefix.is_empty()
                || r.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        follow_pages(first, max, |target| async move {
            let (repos, next, url) = self.catalog_page(registry, target).await?;
            Ok((repos.into_iter().filter(wanted).collect(), next, url))
        })
        .await
    }

    async fn catalog_page(&self, registry: &str, target: Target) -> Result<Page> {
        let host = if registry == crate::reference::DEFAULT_REGISTRY {
            crate::reference::DOCKER_HUB_API_HOST
        } else {
            registry
        };
        let listing = Listing {
            registry,
            host,
            scope: "registry:catalog:*".to_owned(),
            name: registry,
            what: "list repositories",
            list: "repository list",
            not_found_is_unknown_name: false,
        };
        self.listing_page::<CatalogPage>(&listing, target).await
    }
}
