//! Listing a registry's repositories (`GET /v2/_catalog`), following
//! `Link: <…>; rel="next"` pages within bounds, as tag listings do.

use std::collections::HashSet;

use reqwest::header::LINK;
use reqwest::{Method, Url};
use serde::Deserialize;

use super::client::{Call, RegistryClient, Target};
use super::error::RegistryError;
use super::stats::RequestKind;
use super::tags::{MAX_TAG_PAGES, next_link};

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// The most bytes of one page.
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Deserialize)]
struct CatalogPage {
    #[serde(default)]
    repositories: Option<Vec<String>>,
}

impl RegistryClient {
    /// The repositories of `registry` (`host[:port]`) whose name starts with
    /// `prefix/` (every one when `prefix` is empty), in the registry's
    /// order. Follows `Link` pagination; stops at `max` repositories, after
    /// [`MAX_TAG_PAGES`] pages, or at a page already read. Counted as
    /// [`RequestKind::Tags`] (listings). A registry without the catalog API
    /// answers 404 or 401/403: [`RegistryError::Status`] or
    /// [`RegistryError::Denied`].
    pub async fn list_repositories(
        &self,
        registry: &str,
        prefix: &str,
        max: usize,
    ) -> Result<Vec<String>> {
        let mut repos = Vec::new();
        let mut seen = HashSet::new();
        let query = match self.inner.options.tag_page_size {
            Some(n) => format!("?n={n}"),
            None => String::new(),
        };
        let mut target = Target::Path(format!("/v2/_catalog{query}"));
        let wanted = |r: &String| {
            prefix.is_empty()
                || r.strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('/'))
        };
        for _ in 0..MAX_TAG_PAGES {
            if repos.len() >= max {
                break;
            }
            let (page, next, url) = self.catalog_page(registry, &target).await?;
            repos.extend(page.into_iter().filter(wanted));
            seen.insert(url.to_string());
            let Some(next) = next else { break };
            if seen.contains(next.as_str()) {
                break;
            }
            target = Target::Url(next);
        }
        repos.truncate(max);
        Ok(repos)
    }

    async fn catalog_page(
        &self,
        registry: &str,
        target: &Target,
    ) -> Result<(Vec<String>, Option<Url>, Url)> {
        let host = if registry == crate::reference::DEFAULT_REGISTRY {
            crate::reference::DOCKER_HUB_API_HOST
        } else {
            registry
        };
        self.retrying(|_| {
            let call = Call {
                kind: RequestKind::Tags,
                method: Method::GET,
                registry,
                host,
                target: target.clone(),
                scopes: vec!["registry:catalog:*".to_owned()],
                headers: Default::default(),
                body: None,
                name: registry,
                what: "list repositories",
            };
            async move {
                let resp = self.send(&call).await?;
                if !resp.status().is_success() {
                    return Err(self.status_error(resp, &call).await);
                }
                let base = resp.url().clone();
                let next = resp
                    .headers()
                    .get_all(LINK)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(next_link)
                    .and_then(|l| base.join(&l).ok());
                let body = self
                    .read_limited(resp, MAX_PAGE_BYTES, &call, "repository list page")
                    .await?;
                let page: CatalogPage =
                    serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
                        name: registry.to_owned(),
                        reason: format!("the repository list is not valid JSON: {e}"),
                    })?;
                Ok((page.repositories.unwrap_or_default(), next, base))
            }
        })
        .await
    }
}
