//! Pushing: blob uploads (monolithic: POST, then PUT with `?digest=`),
//! cross-repository mounts and manifest PUTs.

use bytes::Bytes;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, LOCATION};
use reqwest::{Method, Response, StatusCode, Url};

use super::body::{BlobBody, file_error};
use super::client::{Call, RegistryClient, Target, pull_scope, push_scope};
use super::error::RegistryError;
use super::manifest::digest_header;
use super::stats::RequestKind;
use crate::digest::{Algorithm, Digest, Hasher};
use crate::reference::Reference;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

impl RegistryClient {
    /// Uploads blob `digest` (`size` bytes) to `repo` unless it is already
    /// there (checked with HEAD first). Returns true when it uploaded.
    pub async fn push_blob(
        &self,
        repo: &Reference,
        digest: &Digest,
        size: u64,
        body: BlobBody,
    ) -> Result<bool> {
        let name = &repo.name();
        let scope = &push_scope(repo.repository());
        if self
            .head_blob_scoped(repo, digest, scope.to_owned())
            .await?
        {
            return Ok(false);
        }
        match &body {
            BlobBody::Bytes(b) if b.len() as u64 != size => {
                return Err(size_mismatch(name, size, b.len() as u64));
            }
            BlobBody::File(path) => {
                let len = tokio::fs::metadata(path)
                    .await
                    .map_err(|e| file_error(name, path, e))?
                    .len();
                if len != size {
                    return Err(size_mismatch(name, size, len));
                }
            }
            BlobBody::Bytes(_) => {}
        }
        let start = format!("/v2/{}/blobs/uploads/", repo.repository());
        let body = &body;
        self.retrying(|_| {
            let post = push_call(repo, Method::POST, Target::Path(start.clone()), scope, name);
            async move {
                let resp = self.send(&post).await?;
                if resp.status() != StatusCode::ACCEPTED {
                    return Err(self.status_error(resp, &post).await);
                }
                let mut url = location(&resp, &post)?;
                self.read_error_body(resp, &post).await;
                url.query_pairs_mut()
                    .append_pair("digest", &digest.to_string());
                let mut put = push_call(repo, Method::PUT, Target::Url(url), scope, name);
                put.what = "upload blob";
                put.body = Some(body);
                put.headers.insert(
                    CONTENT_TYPE,
                    HeaderValue::from_static("application/octet-stream"),
                );
                put.headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
                let resp = self.send(&put).await?;
                if resp.status() != StatusCode::CREATED {
                    return Err(self.status_error(resp, &put).await);
                }
                self.read_error_body(resp, &put).await;
                Ok(true)
            }
        })
        .await
    }

    /// Asks the registry to mount blob `digest` from `from` into `repo`
    /// without uploading it. True when mounted (201); false when the
    /// registry declined (202, or another registry): upload it instead.
    pub async fn mount_blob(
        &self,
        repo: &Reference,
        from: &Reference,
        digest: &Digest,
    ) -> Result<bool> {
        if from.registry() != repo.registry() {
            return Ok(false);
        }
        let name = &repo.name();
        let scope = &push_scope(repo.repository());
        let path = format!(
            "/v2/{}/blobs/uploads/?mount={digest}&from={}",
            repo.repository(),
            from.repository()
        );
        self.retrying(|_| {
            let mut call = push_call(repo, Method::POST, Target::Path(path.clone()), scope, name);
            call.what = "mount blob";
            call.scopes.push(pull_scope(from.repository()));
            async move {
                let resp = self.send(&call).await?;
                match resp.status() {
                    StatusCode::CREATED => {
                        self.read_error_body(resp, &call).await;
                        Ok(true)
                    }
                    StatusCode::ACCEPTED => {
                        // The registry opened an upload instead; it expires unused.
                        self.read_error_body(resp, &call).await;
                        Ok(false)
                    }
                    _ => Err(self.status_error(resp, &call).await),
                }
            }
        })
        .await
    }

    /// Stores a manifest under `reference`'s tag (or digest) and returns its
    /// digest, checked against the reference's digest and the registry's
    /// `Docker-Content-Digest`.
    pub async fn put_manifest(
        &self,
        reference: &Reference,
        media_type: &str,
        bytes: Bytes,
    ) -> Result<Digest> {
        let name = reference.to_string();
        let algorithm = reference
            .digest()
            .map_or(Algorithm::Sha256, Digest::algorithm);
        let mut h = Hasher::new(algorithm);
        h.update(&bytes);
        let digest = h.finish();
        if let Some(pinned) = reference.digest()
            && *pinned != digest
        {
            return Err(RegistryError::DigestMismatch {
                name,
                expected: pinned.clone(),
                actual: digest,
            });
        }
        let content_type =
            HeaderValue::from_str(media_type).map_err(|_| RegistryError::InvalidManifest {
                name: name.clone(),
                reason: format!("media type `{media_type}` is not a valid header value"),
            })?;
        let scope = &push_scope(reference.repository());
        let name = &name;
        let path = format!(
            "/v2/{}/manifests/{}",
            reference.repository(),
            reference.manifest_ref()
        );
        let body = &BlobBody::Bytes(bytes);
        let digest = &digest;
        let content_type = &content_type;
        self.retrying(|_| {
            let mut call = push_call(
                reference,
                Method::PUT,
                Target::Path(path.clone()),
                scope,
                name,
            );
            call.what = "put manifest";
            call.body = Some(body);
            call.headers.insert(CONTENT_TYPE, content_type.clone());
            async move {
                let resp = self.send(&call).await?;
                if !resp.status().is_success() {
                    return Err(self.status_error(resp, &call).await);
                }
                if let Some(theirs) = digest_header(&resp, &call)?
                    && theirs != *digest
                {
                    return Err(RegistryError::DigestMismatch {
                        name: call.name.to_owned(),
                        expected: digest.clone(),
                        actual: theirs,
                    });
                }
                self.read_error_body(resp, &call).await;
                Ok(digest.clone())
            }
        })
        .await
    }
}

fn push_call<'a>(
    repo: &'a Reference,
    method: Method,
    target: Target,
    scope: &str,
    name: &'a str,
) -> Call<'a> {
    Call {
        kind: RequestKind::Push,
        method,
        registry: repo.registry(),
        host: repo.api_host(),
        target,
        scopes: vec![scope.to_owned()],
        headers: HeaderMap::new(),
        body: None,
        name,
        what: "start upload",
    }
}

/// The upload URL from `Location`, relative to the request's URL.
fn location(resp: &Response, call: &Call<'_>) -> Result<Url> {
    let protocol = |reason: String| RegistryError::Protocol {
        name: call.name.to_owned(),
        reason,
    };
    let loc = resp
        .headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| protocol("the registry started an upload without a Location".to_owned()))?;
    resp.url()
        .join(loc)
        .map_err(|e| protocol(format!("the upload Location `{loc}` is not a URL: {e}")))
}

fn size_mismatch(name: &str, expected: u64, actual: u64) -> RegistryError {
    RegistryError::File {
        name: name.to_owned(),
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("the blob has {actual} bytes, its descriptor says {expected}"),
        ),
    }
}
