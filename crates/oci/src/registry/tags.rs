//! Listing tags, following `Link: <…>; rel="next"` pages within bounds.

use std::collections::HashSet;

use reqwest::header::LINK;
use reqwest::{Method, StatusCode, Url};
use serde::Deserialize;

use super::client::{Call, RegistryClient, Target, pull_scope};
use super::error::RegistryError;
use super::stats::RequestKind;
use crate::reference::Reference;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// The most pages one listing follows: 100,000 tags at the 100 a page
/// Docker Hub serves, while a `Link` loop or an endless registry still ends.
pub const MAX_TAG_PAGES: usize = 1000;
/// The most bytes of one page.
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;

#[derive(Deserialize)]
struct TagPage {
    #[serde(default)]
    tags: Option<Vec<String>>,
}

impl RegistryClient {
    /// The tags of `repo` (its tag or digest is ignored), in the registry's
    /// order, following `Link` pagination (relative or absolute). Stops at
    /// `max` tags, after [`MAX_TAG_PAGES`] pages, or when a `Link` points
    /// back to a page already read.
    pub async fn list_tags(&self, repo: &Reference, max: usize) -> Result<Vec<String>> {
        let name = repo.name();
        let mut tags = Vec::new();
        let mut seen = HashSet::new();
        let query = match self.inner.options.tag_page_size {
            Some(n) => format!("?n={n}"),
            None => String::new(),
        };
        let mut target = Target::Path(format!("/v2/{}/tags/list{query}", repo.repository()));
        for _ in 0..MAX_TAG_PAGES {
            if tags.len() >= max {
                break;
            }
            let (page, next, url) = self.tag_page(repo, &name, &target).await?;
            tags.extend(page);
            seen.insert(url.to_string());
            let Some(next) = next else { break };
            if seen.contains(next.as_str()) {
                break;
            }
            target = Target::Url(next);
        }
        tags.truncate(max);
        Ok(tags)
    }

    async fn tag_page(
        &self,
        repo: &Reference,
        name: &str,
        target: &Target,
    ) -> Result<(Vec<String>, Option<Url>, Url)> {
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
                let base = resp.url().clone();
                let next = resp
                    .headers()
                    .get_all(LINK)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .find_map(next_link)
                    .and_then(|l| base.join(&l).ok());
                let body = self
                    .read_limited(resp, MAX_PAGE_BYTES, &call, "tag list page")
                    .await?;
                let page: TagPage =
                    serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
                        name: name.to_owned(),
                        reason: format!("the tag list is not valid JSON: {e}"),
                    })?;
                Ok((page.tags.unwrap_or_default(), next, base))
            }
        })
        .await
    }
}

/// The target of the `rel="next"` link in a `Link` header value.
pub(crate) fn next_link(header: &str) -> Option<String> {
    let mut rest = header;
    loop {
        let start = rest.find('<')?;
        let end = start + rest[start..].find('>')?;
        let url = &rest[start + 1..end];
        let after = &rest[end + 1..];
        let params_end = after.find('<').unwrap_or(after.len());
        let params = &after[..params_end];
        let is_next = params.split(';').any(|p| {
            let p = p.trim().trim_end_matches(',').trim();
            p.split_once('=').is_some_and(|(k, v)| {
                k.trim().eq_ignore_ascii_case("rel")
                    && v.trim()
                        .trim_matches('"')
                        .split_ascii_whitespace()
                        .any(|r| r.eq_ignore_ascii_case("next"))
            })
        });
        if is_next {
            return Some(url.to_owned());
        }
        rest = &after[params_end..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_next_links() {
        assert_eq!(
            next_link(r#"</v2/a/tags/list?last=b&n=2>; rel="next""#).as_deref(),
            Some("/v2/a/tags/list?last=b&n=2")
        );
        assert_eq!(
            next_link(r#"<https://x/prev>; rel="prev", <https://x/next>; rel=next"#).as_deref(),
            Some("https://x/next")
        );
        assert_eq!(next_link(r#"<https://x/p>; rel="prev""#), None);
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link("<unterminated; rel=next"), None);
    }
}
