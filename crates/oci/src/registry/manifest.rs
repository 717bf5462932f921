//! Reading manifests: GET with digest verification and a size limit, HEAD
//! for existence and digest checks.

use reqwest::header::{ACCEPT, CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};

use super::client::{Call, RegistryClient, Target, pull_scope};
use super::error::{RegistryError, error_code};
use super::media::{MANIFEST_ACCEPT, Manifest, media_type_of};
use super::stats::RequestKind;
use crate::digest::{Digest, Hasher};
use crate::reference::Reference;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// What a HEAD on a manifest tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestHead {
    /// The media type, when the registry says.
    pub media_type: Option<String>,
    /// The digest (`Docker-Content-Digest`), when the registry says.
    pub digest: Option<Digest>,
    /// The size, when the registry says.
    pub size: Option<u64>,
}

/// The `Docker-Content-Digest` header.
pub(crate) const CONTENT_DIGEST: &str = "docker-content-digest";

impl RegistryClient {
    /// Fetches the manifest `reference` names (by tag or digest), with the
    /// `Accept` header for OCI and Docker v2 indexes and manifests.
    ///
    /// Verifies the bytes against the digest when the reference is pinned,
    /// and against `Docker-Content-Digest` when the registry sends one;
    /// refuses bodies over `max_manifest_bytes` without reading further.
    pub async fn get_manifest(&self, reference: &Reference) -> Result<Manifest> {
        let name = &reference.to_string();
        let path = manifest_path(reference);
        let limit = self.inner.options.max_manifest_bytes;
        self.retrying(|_| {
            let call = manifest_call(reference, Method::GET, path.clone(), name, "get manifest");
            async move {
                let resp = self.send(&call).await?;
                let resp = self.manifest_status(resp, &call, reference).await?;
                let header_digest = digest_header(&resp, &call)?;
                let content_type = media_type_header(&resp);
                let what = format!("manifest {}", reference.manifest_ref());
                let bytes = self.read_limited(resp, limit, &call, &what).await?;
                let digest = verify(&bytes, reference.digest(), header_digest.as_ref(), name)?;
                let media_type = content_type
                    .filter(|m| m != "application/json" && m != "text/plain")
                    .or_else(|| media_type_of(&bytes))
                    .ok_or_else(|| RegistryError::InvalidManifest {
                        name: name.to_owned(),
                        reason: "the registry sent no media type and the document names none"
                            .to_owned(),
                    })?;
                Ok(Manifest {
                    media_type,
                    bytes,
                    digest,
                })
            }
        })
        .await
    }

    /// Asks whether the manifest exists without downloading it: `None` when
    /// the registry answers 404.
    pub async fn head_manifest(&self, reference: &Reference) -> Result<Option<ManifestHead>> {
        let name = &reference.to_string();
        let path = manifest_path(reference);
        self.retrying(|_| {
            let call = manifest_call(reference, Method::HEAD, path.clone(), name, "head manifest");
            async move {
                let resp = self.send(&call).await?;
                if resp.status() == StatusCode::NOT_FOUND {
                    return Ok(None);
                }
                if !resp.status().is_success() {
                    return Err(self.status_error(resp, &call).await);
                }
                let digest = digest_header(&resp, &call)?.or_else(|| reference.digest().cloned());
                Ok(Some(ManifestHead {
                    media_type: media_type_header(&resp),
                    digest,
                    // Not `content_length()`: a HEAD response has an empty body.
                    size: resp
                        .headers()
                        .get(CONTENT_LENGTH)
                        .and_then(|v| v.to_str().ok())
                        .and_then(|v| v.parse().ok()),
                }))
            }
        })
        .await
    }

    /// Maps 404 to `ManifestUnknown` (or `NameUnknown`) and other failures
    /// to errors; passes a success through.
    async fn manifest_status(
        &self,
        resp: Response,
        call: &Call<'_>,
        reference: &Reference,
    ) -> Result<Response> {
        if resp.status().is_success() {
            return Ok(resp);
        }
        if resp.status() == StatusCode::NOT_FOUND {
            let body = self.read_error_body(resp, call).await;
            return Err(match error_code(&body).as_deref() {
                Some("NAME_UNKNOWN") => RegistryError::NameUnknown {
                    name: reference.name(),
                },
                _ => RegistryError::ManifestUnknown {
                    name: call.name.to_owned(),
                },
            });
        }
        Err(self.status_error(resp, call).await)
    }
}

fn manifest_path(reference: &Reference) -> String {
    format!(
        "/v2/{}/manifests/{}",
        reference.repository(),
        reference.manifest_ref()
    )
}

fn manifest_call<'a>(
    reference: &'a Reference,
    method: Method,
    path: String,
    name: &'a str,
    what: &'a str,
) -> Call<'a> {
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static(MANIFEST_ACCEPT));
    Call {
        kind: RequestKind::Manifest,
        method,
        registry: reference.registry(),
        host: reference.api_host(),
        target: Target::Path(path),
        scopes: vec![pull_scope(reference.repository())],
        headers,
        body: None,
        name,
        what,
    }
}

/// The media type from `Content-Type`, without parameters.
fn media_type_header(resp: &Response) -> Option<String> {
    let v = resp.headers().get(CONTENT_TYPE)?.to_str().ok()?;
    let v = v.split(';').next().unwrap_or(v).trim();
    (!v.is_empty()).then(|| v.to_owned())
}

/// `Docker-Content-Digest`, when present; a malformed one is an error.
pub(crate) fn digest_header(resp: &Response, call: &Call<'_>) -> Result<Option<Digest>> {
    let Some(v) = resp.headers().get(CONTENT_DIGEST) else {
        return Ok(None);
    };
    let text = v.to_str().unwrap_or_default().trim();
    Digest::parse(text)
        .map(Some)
        .map_err(|e| RegistryError::Protocol {
            name: call.name.to_owned(),
            reason: format!("the registry sent a malformed Docker-Content-Digest: {e}"),
        })
}

/// Hashes `bytes` and checks them against the pinned digest and the header
/// digest; returns the digest (the pinned one's algorithm, else sha256).
fn verify(
    bytes: &[u8],
    pinned: Option<&Digest>,
    header: Option<&Digest>,
    name: &str,
) -> Result<Digest> {
    let hash = |d: Option<&Digest>| {
        let mut h = Hasher::new(d.map_or(crate::digest::Algorithm::Sha256, Digest::algorithm));
        h.update(bytes);
        h.finish()
    };
    let actual = hash(pinned);
    if let Some(expected) = pinned
        && *expected != actual
    {
        return Err(RegistryError::DigestMismatch {
            name: name.to_owned(),
            expected: expected.clone(),
            actual,
        });
    }
    if let Some(expected) = header {
        let got = if expected.algorithm() == actual.algorithm() {
            actual.clone()
        } else {
            hash(Some(expected))
        };
        if *expected != got {
            return Err(RegistryError::DigestMismatch {
                name: name.to_owned(),
                expected: expected.clone(),
                actual: got,
            });
        }
    }
    Ok(actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_checks_pinned_and_header() {
        let d = Digest::sha256_of(b"abc");
        assert_eq!(verify(b"abc", None, None, "n").unwrap(), d);
        assert_eq!(verify(b"abc", Some(&d), Some(&d), "n").unwrap(), d);
        let other = Digest::sha256_of(b"x");
        assert!(matches!(
            verify(b"abc", Some(&other), None, "n"),
            Err(RegistryError::DigestMismatch { .. })
        ));
        assert!(matches!(
            verify(b"abc", None, Some(&other), "n"),
            Err(RegistryError::DigestMismatch { .. })
        ));
    }
}
