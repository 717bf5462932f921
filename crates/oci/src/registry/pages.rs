//! What every paginated listing (tags, the catalog) shares: following
//! `Link: <…>; rel="next"` pages within bounds, and reading one page.

use std::collections::HashSet;
use std::future::Future;

use reqwest::header::LINK;
use reqwest::{Method, Response, StatusCode, Url};
use serde::de::DeserializeOwned;

use super::client::{Call, RegistryClient, Target};
use super::error::RegistryError;
use super::stats::RequestKind;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// The most pages one listing follows: 100,000 tags at the 100 a page
/// Docker Hub serves, while a `Link` loop or an endless registry still ends.
pub const MAX_TAG_PAGES: usize = 1000;
/// The most bytes of one page.
const MAX_PAGE_BYTES: u64 = 8 * 1024 * 1024;

/// One page read: its items, the next page's URL, and this page's URL.
pub(crate) type Page = (Vec<String>, Option<Url>, Url);

impl RegistryClient {
    /// The query asking for the configured page size (`?n=N`), or nothing.
    pub(crate) fn page_query(&self) -> String {
        match self.inner.options.tag_page_size {
            Some(n) => format!("?n={n}"),
            None => String::new(),
        }
    }

    /// Reads one successful page answer: the `rel="next"` link (relative to
    /// the answer's URL) and the body, at most [`MAX_PAGE_BYTES`], as JSON.
    /// `what` names the list in messages (`tag list`).
    pub(crate) async fn read_page<T: DeserializeOwned>(
        &self,
        resp: Response,
        call: &Call<'_>,
        what: &str,
    ) -> Result<(T, Option<Url>, Url)> {
        let base = resp.url().clone();
        let next = resp
            .headers()
            .get_all(LINK)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(next_link)
            .and_then(|l| base.join(&l).ok());
        let body = self
            .read_limited(resp, MAX_PAGE_BYTES, call, &format!("{what} page"))
            .await?;
        let page = serde_json::from_slice(&body).map_err(|e| RegistryError::Protocol {
            name: call.name.to_owned(),
            reason: format!("the {what} is not valid JSON: {e}"),
        })?;
        Ok((page, next, base))
    }

    /// Asks for one page of `listing` at `target` (a `GET` counted as
    /// [`RequestKind::Tags`], retried as any request) and reads it as `P`:
    /// its names, the next page's URL and this page's URL.
    pub(crate) async fn listing_page<P: ListingPage>(
        &self,
        listing: &Listing<'_>,
        target: Target,
    ) -> Result<Page> {
        self.retrying(|_| {
            let call = Call {
                kind: RequestKind::Tags,
                method: Method::GET,
                registry: listing.registry,
                host: listing.host,
                target: target.clone(),
                scopes: vec![listing.scope.clone()],
                headers: Default::default(),
                body: None,
                name: listing.name,
                what: listing.what,
            };
            async move {
                let resp = self.send(&call).await?;
                if listing.not_found_is_unknown_name && resp.status() == StatusCode::NOT_FOUND {
                    self.read_error_body(resp, &call).await;
                    return Err(RegistryError::NameUnknown {
                        name: listing.name.to_owned(),
                    });
                }
                if !resp.status().is_success() {
                    return Err(self.status_error(resp, &call).await);
                }
                let (page, next, url): (P, _, _) =
                    self.read_page(resp, &call, listing.list).await?;
                Ok((page.names(), next, url))
            }
        })
        .await
    }
}

/// What one paginated listing asks for: the parts of its requests that
/// differ between the catalog and tag listings.
pub(crate) struct Listing<'a> {
    /// The registry as named in references, for credentials.
    pub registry: &'a str,
    /// Where its API answers.
    pub host: &'a str,
    /// The token scope the listing needs.
    pub scope: String,
    /// The name in messages.
    pub name: &'a str,
    /// The operation, for messages (`list tags`).
    pub what: &'a str,
    /// The list, for messages about a page's body (`tag list`).
    pub list: &'a str,
    /// A 404 means the repository does not exist
    /// ([`RegistryError::NameUnknown`]) rather than a status error.
    pub not_found_is_unknown_name: bool,
}

/// The JSON of one listing page.
pub(crate) trait ListingPage: DeserializeOwned {
    /// The names on the page.
    fn names(self) -> Vec<String>;
}

/// Reads `first` and the pages it links to with `page` (which keeps only the
/// items wanted), until there is no next page, `max` items, [`MAX_TAG_PAGES`]
/// pages, or a link back to a page already read.
pub(crate) async fn follow_pages<F, Fut>(
    first: Target,
    max: usize,
    mut page: F,
) -> Result<Vec<String>>
where
    F: FnMut(Target) -> Fut,
    Fut: Future<Output = Result<Page>>,
{
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut target = first;
    for _ in 0..MAX_TAG_PAGES {
        if items.len() >= max {
            break;
        }
        let (found, next, url) = page(target).await?;
        items.extend(found);
        seen.insert(url.to_string());
        let Some(next) = next else { break };
        if seen.contains(next.as_str()) {
            break;
        }
        target = Target::Url(next);
    }
    items.truncate(max);
    Ok(items)
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
