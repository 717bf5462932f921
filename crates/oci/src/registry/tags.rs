//! Listing tags (`GET /v2/<name>/tags/list`), page by page ([`super::pages`]).

use reqwest::{Method, StatusCode};
use serde::Deserialize;

use super::client::{Call, RegistryClient, Target, pull_scope};
use super::error::RegistryError;
use super::pages::{Page, follow_pages};
use super::stats::RequestKind;
use crate::reference::Reference;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

#[derive(Deserialize)]
struct TagPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
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
        self.retrying(|_| {
            let call = Call {
                kind: RequestKind::Tags,
                method: Method::GET,
                registry: repo.registry(),
                host: repo.api_host(),
                target: target.clone(),
                scopes: vec![pull_scope(repo.repository())],
                headers: Default::default(),
                body: None,
                name,
                what: "list tags",
            };
            async move {
                let resp = self.send(&call).await?;
                if resp.status() == StatusCode::NOT_FOUND {
                    self.read_error_body(resp, &call).await;
                    return Err(RegistryError::NameUnknown {
                        name: name.to_owned(),
                    });
                }
                if !resp.status().is_success() {
                    return Err(self.status_error(resp, &call).await);
                }
                let (page, next, url): (TagPage, _, _) =
                    self.read_page(resp, &call, "tag list").await?;
                Ok((page.tags.unwrap_or_default(), next, url))
            }
        })
        .await
    }
}
