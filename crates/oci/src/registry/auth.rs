//! Authentication: a request sent answering its challenge once, the
//! `Authorization` header from the caches ([`super::auth_cache`]), and the
//! token endpoint.

use std::time::{Duration, Instant};

use base64::Engine as _;
use bytes::Bytes;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, WWW_AUTHENTICATE};
use reqwest::{Method, Response, StatusCode, Url};
use serde::Deserialize;

use super::auth_cache::{CachedToken, lock};
use super::body::BlobBody;
use super::challenge::Challenge;
use super::client::{Call, RegistryClient, Target};
use super::credentials::Credential;
use super::error::{RegistryError, error_detail};
use super::stats::RequestKind;

/// The most we read of a token response.
const MAX_TOKEN_BYTES: u64 = 1024 * 1024;
/// Tokens without `expires_in` live this long (the distribution spec's default).
const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(60);
/// Renew a token this long before it expires.
const TOKEN_MARGIN: Duration = Duration::from_secs(5);
/// The OAuth2 client id sent with refresh tokens.
const CLIENT_ID: &str = "dockhand";

type Result<T, E = RegistryError> = std::result::Result<T, E>;

#[derive(Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    expires_in: Option<u64>,
}

impl RegistryClient {
    /// Sends a request, answering an authentication challenge once. A 401
    /// after authenticating, or any 403, becomes [`RegistryError::Denied`].
    pub(crate) async fn send(&self, call: &Call<'_>) -> Result<Response> {
        let auth = self
            .authorization(call.registry, call.name, &call.scopes, None)
            .await?;
        let resp = self.send_resolving(call, auth.as_ref()).await?;
        match resp.status() {
            StatusCode::UNAUTHORIZED => {
                let challenges: Vec<Challenge> = resp
                    .headers()
                    .get_all(WWW_AUTHENTICATE)
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .flat_map(Challenge::parse_all)
                    .collect();
                let body = self.read_error_body(resp, call).await;
                let Some(challenge) = Challenge::preferred(challenges) else {
                    return Err(self.denied(call, &body));
                };
                let Some(auth) = self
                    .authorization(call.registry, call.name, &call.scopes, Some(challenge))
                    .await?
                else {
                    return Err(self.denied(call, &body));
                };
                let resp = self.send_resolving(call, Some(&auth)).await?;
                if matches!(
                    resp.status(),
                    StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN
                ) {
                    let body = self.read_error_body(resp, call).await;
                    return Err(self.denied(call, &body));
                }
                Ok(resp)
            }
            StatusCode::FORBIDDEN => {
                let body = self.read_error_body(resp, call).await;
                Err(self.denied(call, &body))
            }
            _ => Ok(resp),
        }
    }

    pub(crate) fn denied(&self, call: &Call<'_>, body: &[u8]) -> RegistryError {
        RegistryError::Denied {
            name: call.name.to_owned(),
            registry: call.registry.to_owned(),
            detail: error_detail(body),
        }
    }

    /// The `Authorization` header for a request to `registry` needing
    /// `scopes`. With a fresh `challenge` (after a 401) a new token is
    /// fetched; without, the registry's known challenge and cached tokens are
    /// used, so most requests need no 401 round trip. `None`: send none.
    pub(crate) async fn authorization(
        &self,
        registry: &str,
        name: &str,
        scopes: &[String],
        challenge: Option<Challenge>,
    ) -> Result<Option<HeaderValue>> {
        let fresh = challenge.is_some();
        let challenge = match challenge {
            Some(c) => {
                lock(&self.inner.auth.challenges).insert(registry.to_owned(), c.clone());
                c
            }
            None => match lock(&self.inner.auth.challenges).get(registry) {
                Some(c) => c.clone(),
                None => return Ok(None),
            },
        };
        match challenge {
            Challenge::Basic => Ok(match self.credential(registry).await? {
                Credential::Basic { username, password } => Some(basic(&username, &password)),
                _ => None,
            }),
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => {
                let mut scopes = scopes.to_vec();
                if scopes.is_empty()
                    && let Some(s) = scope.filter(|_| fresh)
                {
                    scopes.extend(s.split(' ').map(str::to_owned));
                }
                scopes.sort();
                scopes.dedup();
                let key = (registry.to_owned(), scopes.join(" "));
                if !fresh
                    && let Some(t) = lock(&self.inner.auth.tokens).get(&key)
                    && Instant::now() < t.renew_at
                {
                    return Ok(Some(t.value.clone()));
                }
                let (token, lifetime) = self
                    .fetch_token(registry, name, &realm, service.as_deref(), &scopes)
                    .await?;
                let value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
                    RegistryError::Protocol {
                        name: name.to_owned(),
                        reason: format!("the token endpoint {realm} sent an unusable token"),
                    }
                })?;
                lock(&self.inner.auth.tokens).insert(
                    key,
                    CachedToken {
                        value: value.clone(),
                        renew_at: Instant::now() + lifetime.saturating_sub(TOKEN_MARGIN),
                    },
                );
                Ok(Some(value))
            }
        }
    }

    /// The credentials for `registry`, asked of the source once per client.
    async fn credential(&self, registry: &str) -> Result<Credential> {
        if let Some(c) = lock(&self.inner.auth.credentials).get(registry) {
            return Ok(c.clone());
        }
        let c = self.inner.options.credentials.credential(registry).await?;
        lock(&self.inner.auth.credentials).insert(registry.to_owned(), c.clone());
        Ok(c)
    }

    /// Gets a token from the endpoint `realm`: GET with basic credentials
    /// (or anonymously), or an OAuth2 POST with an identity token.
    async fn fetch_token(
        &self,
        registry: &str,
        name: &str,
        realm: &str,
        service: Option<&str>,
        scopes: &[String],
    ) -> Result<(String, Duration)> {
        let protocol = |reason: String| RegistryError::Protocol {
            name: name.to_owned(),
            reason,
        };
        let mut url = Url::parse(realm)
            .map_err(|e| protocol(format!("the token realm `{realm}` is not a URL: {e}")))?;
        let realm_host = url.host_str().unwrap_or_default().to_owned();
        if url.scheme() == "http"
            && !self.allows_plain_http(registry)
            && !crate::reference::is_loopback_host(&realm_host)
        {
            return Err(protocol(format!(
                "the token realm {realm} is plain HTTP: refusing to send credentials; \
                 add {registry} to the insecure registries if this is intended"
            )));
        }
        if url.scheme() != "http" && url.scheme() != "https" {
            return Err(protocol(format!("the token realm {realm} is not HTTP(S)")));
        }
        let credential = self.credential(registry).await?;
        let mut headers = HeaderMap::new();
        let mut auth = None;
        let (method, body) = match &credential {
            Credential::IdentityToken(refresh) => {
                let mut form = Url::parse("http://form.invalid/")
                    .map_err(|e| protocol(format!("cannot build the token request: {e}")))?;
                {
                    let mut q = form.query_pairs_mut();
                    q.append_pair("grant_type", "refresh_token");
                    q.append_pair("refresh_token", refresh);
                    q.append_pair("client_id", CLIENT_ID);
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    if !scopes.is_empty() {
                        q.append_pair("scope", &scopes.join(" "));
                    }
                }
                headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/x-www-form-urlencoded"),
                );
                let text = form.query().unwrap_or_default().to_owned();
                (Method::POST, Some(BlobBody::Bytes(Bytes::from(text))))
            }
            other => {
                {
                    let mut q = url.query_pairs_mut();
                    if let Some(s) = service {
                        q.append_pair("service", s);
                    }
                    for s in scopes {
                        q.append_pair("scope", s);
                    }
                }
                if let Credential::Basic { username, password } = other {
                    auth = Some(basic(username, password));
                }
                (Method::GET, None)
            }
        };
        // No retry loop here: a transient failure fails the operation's
        // attempt, and the operation's own retries come back here.
        let call = Call {
            kind: RequestKind::Token,
            method,
            registry,
            host: &realm_host,
            target: Target::Url(url),
            scopes: Vec::new(),
            headers,
            body: body.as_ref(),
            name,
            what: "get a token",
        };
        let resp = self.send_resolving(&call, auth.as_ref()).await?;
        let answer = match resp.status() {
            s if s.is_success() => {
                self.read_limited(resp, MAX_TOKEN_BYTES, &call, "token response")
                    .await?
            }
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                let body = self.read_error_body(resp, &call).await;
                return Err(RegistryError::Denied {
                    name: name.to_owned(),
                    registry: registry.to_owned(),
                    detail: error_detail(&body),
                });
            }
            _ => return Err(self.status_error(resp, &call).await),
        };
        let parsed: TokenAnswer = serde_json::from_slice(&answer)
            .map_err(|e| protocol(format!("the token endpoint {realm} sent invalid JSON: {e}")))?;
        let token = parsed
            .token
            .filter(|t| !t.is_empty())
            .or(parsed.access_token.filter(|t| !t.is_empty()))
            .ok_or_else(|| protocol(format!("the token endpoint {realm} sent no token")))?;
        let lifetime = parsed
            .expires_in
            .map(Duration::from_secs)
            .filter(|d| *d >= DEFAULT_TOKEN_LIFETIME)
            .unwrap_or(DEFAULT_TOKEN_LIFETIME);
        Ok((token, lifetime))
    }
}

/// `Basic base64(user:password)`.
fn basic(username: &str, password: &str) -> HeaderValue {
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    // Base64 is always a valid header value.
    HeaderValue::from_str(&format!("Basic {encoded}"))
        .unwrap_or_else(|_| HeaderValue::from_static("Basic"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_header() {
        assert_eq!(
            basic("user", "pass").to_str().unwrap(),
            "Basic dXNlcjpwYXNz"
        );
    }
}
