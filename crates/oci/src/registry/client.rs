//! The client: options, the HTTP transport with scheme choice, retries and
//! limited body reads (authentication is [`super::auth`]).

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response, Url};

use super::auth_cache::AuthState;
use super::body::BlobBody;
use super::credentials::{CredentialSource, NoCredentials};
use super::error::{RegistryError, error_detail};
use super::retry::RetryPolicy;
use super::stats::{RequestKind, Stats};
use crate::reference::is_loopback_host;

/// The manifest size limit when none is given: 4 MiB, as containerd uses.
pub const DEFAULT_MAX_MANIFEST_BYTES: u64 = 4 * 1024 * 1024;

/// How much of an error body we read to explain a failure.
const MAX_ERROR_BODY: u64 = 64 * 1024;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// How the client talks to registries.
#[derive(Clone)]
pub struct RegistryOptions {
    /// Registries (`host[:port]`) that may be reached over plain HTTP (and
    /// over HTTPS without certificate checks), as dockerd's
    /// `insecure-registries`. Loopback registries (`localhost`, `127.0.0.0/8`,
    /// `[::1]`) are always treated so; every other registry is HTTPS only.
    pub insecure_registries: Vec<String>,
    /// Where credentials come from when a registry asks for them.
    pub credentials: Arc<dyn CredentialSource>,
    /// Retries of transient failures.
    pub retry: RetryPolicy,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// How long a response may stay silent (per read, not in total).
    pub read_timeout: Duration,
    /// The `User-Agent` header.
    pub user_agent: String,
    /// The largest manifest accepted; reading stops past it.
    pub max_manifest_bytes: u64,
    /// Tags per page asked of the registry (`?n=`); `None` lets it choose.
    pub tag_page_size: Option<usize>,
}

impl Default for RegistryOptions {
    fn default() -> Self {
        Self {
            insecure_registries: Vec::new(),
            credentials: Arc::new(NoCredentials),
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            user_agent: format!("dockhand/{}", env!("CARGO_PKG_VERSION")),
            max_manifest_bytes: DEFAULT_MAX_MANIFEST_BYTES,
            tag_page_size: None,
        }
    }
}

impl fmt::Debug for RegistryOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistryOptions")
            .field("insecure_registries", &self.insecure_registries)
            .field("credentials", &self.credentials)
            .field("retry", &self.retry)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("user_agent", &self.user_agent)
            .field("max_manifest_bytes", &self.max_manifest_bytes)
            .field("tag_page_size", &self.tag_page_size)
            .finish()
    }
}

/// What we know about how to reach a registry that may use plain HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scheme {
    Https,
    Http,
}

impl Scheme {
    fn as_str(self) -> &'static str {
        match self {
            Scheme::Https => "https",
            Scheme::Http => "http",
        }
    }
}

/// A client for the OCI distribution API. Cheap to clone; clones share
/// connections, tokens and [`Stats`].
#[derive(Debug, Clone)]
pub struct RegistryClient {
    pub(crate) inner: Arc<Inner>,
}

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) options: RegistryOptions,
    /// Verifies certificates: every registry not allowed plain HTTP.
    http: reqwest::Client,
    /// Skips certificate checks: insecure and loopback registries only.
    http_insecure: reqwest::Client,
    pub(crate) stats: Arc<Stats>,
    pub(crate) auth: AuthState,
    schemes: Mutex<HashMap<String, Scheme>>,
}

/// Where a request goes: a path on the registry's API host, or a URL the
/// registry handed us (`Location`, `Link`).
#[derive(Debug, Clone)]
pub(crate) enum Target {
    Path(String),
    Url(Url),
}

/// One request, described so it can be sent again (after a 401, or on retry).
#[derive(Debug)]
pub(crate) struct Call<'a> {
    pub kind: RequestKind,
    pub method: Method,
    /// The registry as named in references (`docker.io`), for credentials.
    pub registry: &'a str,
    /// Where its API answers (`registry-1.docker.io`).
    pub host: &'a str,
    pub target: Target,
    /// Token scopes (`repository:acme/ext:pull`).
    pub scopes: Vec<String>,
    pub headers: HeaderMap,
    pub body: Option<&'a BlobBody>,
    /// `registry/repository`, for messages.
    pub name: &'a str,
    /// The operation, for messages (`get manifest`).
    pub what: &'a str,
}

impl RegistryClient {
    /// A client with these options.
    pub fn new(options: RegistryOptions) -> Result<Self> {
        let build = |insecure: bool| {
            reqwest::Client::builder()
                .user_agent(options.user_agent.clone())
                .connect_timeout(options.connect_timeout)
                .read_timeout(options.read_timeout)
                .redirect(reqwest::redirect::Policy::limited(10))
                // Proxy settings come from the caller, never from the environment.
                .no_proxy()
                .danger_accept_invalid_certs(insecure)
                .build()
                .map_err(RegistryError::Client)
        };
        Ok(Self {
            inner: Arc::new(Inner {
                http: build(false)?,
                http_insecure: build(true)?,
                options,
                stats: Arc::new(Stats::default()),
                auth: AuthState::default(),
                schemes: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The request and byte counters, shared and live.
    pub fn stats(&self) -> Arc<Stats> {
        Arc::clone(&self.inner.stats)
    }

    /// The options the client was made with.
    pub fn options(&self) -> &RegistryOptions {
        &self.inner.options
    }

    /// True when `registry` may be reached over plain HTTP.
    pub fn allows_plain_http(&self, registry: &str) -> bool {
        is_loopback_host(registry)
            || self
                .inner
                .options
                .insecure_registries
                .iter()
                .any(|r| r == registry)
    }

    /// Runs `attempt` until it succeeds, fails for good, or the policy's
    /// attempts are used up; `attempt` gets the 1-based attempt number.
    pub(crate) async fn retrying<T, F, Fut>(&self, mut attempt: F) -> Result<T>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<T>>,
    {
        let policy = self.inner.options.retry;
        let mut n = 1;
        loop {
            match attempt(n).await {
                Err(e) if e.is_retryable() && n < policy.max_attempts.max(1) => {
                    tokio::time::sleep(policy.delay(n)).await;
                    n += 1;
                }
                other => return other,
            }
        }
    }

    /// Picks the scheme for a path target (probing HTTPS, then plain HTTP,
    /// for registries allowed plain HTTP) and sends.
    pub(crate) async fn send_resolving(
        &self,
        call: &Call<'_>,
        auth: Option<&HeaderValue>,
    ) -> Result<Response> {
        let path = match &call.target {
            Target::Url(url) => {
                let insecure = url
                    .host_str()
                    .is_some_and(|_| self.allows_plain_http(&host_port(url)));
                return self
                    .send_once(call, url.clone(), auth, insecure, false)
                    .await;
            }
            Target::Path(p) => p,
        };
        let url_for = |scheme: Scheme| {
            Url::parse(&format!("{}://{}{path}", scheme.as_str(), call.host)).map_err(|e| {
                RegistryError::Protocol {
                    name: call.name.to_owned(),
                    reason: format!("cannot form a URL for {}{path}: {e}", call.host),
                }
            })
        };
        if !self.allows_plain_http(call.registry) {
            return self
                .send_once(call, url_for(Scheme::Https)?, auth, false, false)
                .await;
        }
        let known = self
            .inner
            .schemes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(call.host)
            .copied();
        if let Some(scheme) = known {
            return self
                .send_once(call, url_for(scheme)?, auth, true, false)
                .await;
        }
        // As dockerd: HTTPS (unverified) first, then plain HTTP.
        let scheme = match self
            .send_once(call, url_for(Scheme::Https)?, auth, true, true)
            .await
        {
            Ok(resp) => {
                self.remember_scheme(call.host, Scheme::Https);
                return Ok(resp);
            }
            Err(RegistryError::Transport { .. }) => Scheme::Http,
            Err(e) => return Err(e),
        };
        let resp = self
            .send_once(call, url_for(scheme)?, auth, true, false)
            .await?;
        self.remember_scheme(call.host, scheme);
        Ok(resp)
    }

    fn remember_scheme(&self, host: &str, scheme: Scheme) {
        self.inner
            .schemes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(host.to_owned(), scheme);
    }

    async fn send_once(
        &self,
        call: &Call<'_>,
        url: Url,
        auth: Option<&HeaderValue>,
        insecure: bool,
        probe: bool,
    ) -> Result<Response> {
        let http = if insecure {
            &self.inner.http_insecure
        } else {
            &self.inner.http
        };
        let mut req = http
            .request(call.method.clone(), url)
            .headers(call.headers.clone());
        if let Some(auth) = auth {
            req = req.header(AUTHORIZATION, auth.clone());
        }
        if let Some(body) = call.body {
            req = req.body(body.to_body(call.name).await?);
        }
        let result = req.send().await;
        // A failed HTTPS probe of a plain-HTTP registry is not a request.
        if !(probe && result.is_err()) {
            self.inner.stats.count_request(call.kind);
        }
        result.map_err(|source| RegistryError::Transport {
            registry: call.registry.to_owned(),
            what: call.what.to_owned(),
            source,
        })
    }

    /// Reads a whole body, refusing more than `limit` bytes (checked against
    /// `Content-Length` first, then while reading).
    pub(crate) async fn read_limited(
        &self,
        mut resp: Response,
        limit: u64,
        call: &Call<'_>,
        what: &str,
    ) -> Result<Bytes> {
        let too_large = || RegistryError::TooLarge {
            name: call.name.to_owned(),
            what: what.to_owned(),
            limit,
        };
        if resp.content_length().is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut buf = BytesMut::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| self.transport(call, e))? {
            self.inner.stats.count_bytes(chunk.len());
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(too_large());
            }
            buf.extend_from_slice(&chunk);
        }
        Ok(buf.freeze())
    }

    /// Reads the start of an error body, for messages; never fails.
    pub(crate) async fn read_error_body(&self, mut resp: Response, _call: &Call<'_>) -> Vec<u8> {
        let mut buf = Vec::new();
        while let Ok(Some(chunk)) = resp.chunk().await {
            self.inner.stats.count_bytes(chunk.len());
            buf.extend_from_slice(&chunk);
            if buf.len() as u64 >= MAX_ERROR_BODY {
                buf.truncate(MAX_ERROR_BODY as usize);
                break;
            }
        }
        buf
    }

    /// The error for an unexpected status, with the registry's explanation.
    pub(crate) async fn status_error(&self, resp: Response, call: &Call<'_>) -> RegistryError {
        let status = resp.status().as_u16();
        let body = self.read_error_body(resp, call).await;
        RegistryError::Status {
            name: call.name.to_owned(),
            what: call.what.to_owned(),
            status,
            detail: error_detail(&body),
        }
    }

    pub(crate) fn transport(&self, call: &Call<'_>, source: reqwest::Error) -> RegistryError {
        RegistryError::Transport {
            registry: call.registry.to_owned(),
            what: call.what.to_owned(),
            source,
        }
    }
}

/// `host[:port]` of a URL, as registries are named.
fn host_port(url: &Url) -> String {
    // `host_str` keeps the brackets of an IPv6 address.
    let host = url.host_str().unwrap_or_default().to_owned();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// `repository:<repo>:pull`.
pub(crate) fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

/// `repository:<repo>:pull,push`.
pub(crate) fn push_scope(repository: &str) -> String {
    format!("repository:{repository}:pull,push")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_only_for_loopback_and_listed() {
        let c = RegistryClient::new(RegistryOptions {
            insecure_registries: vec!["10.0.0.5:5000".into()],
            ..RegistryOptions::default()
        })
        .unwrap();
        assert!(c.allows_plain_http("localhost:5000"));
        assert!(c.allows_plain_http("127.0.0.1:5000"));
        assert!(c.allows_plain_http("[::1]:5000"));
        assert!(c.allows_plain_http("10.0.0.5:5000"));
        assert!(!c.allows_plain_http("10.0.0.5:5001"));
        assert!(!c.allows_plain_http("docker.io"));
        assert!(!c.allows_plain_http("localhost.example.com"));
    }

    #[test]
    fn host_port_forms() {
        let u = Url::parse("http://[::1]:5000/v2/").unwrap();
        assert_eq!(host_port(&u), "[::1]:5000");
        let u = Url::parse("https://example.com/v2/").unwrap();
        assert_eq!(host_port(&u), "example.com");
    }
}
