//! Reading blobs: streamed through a sink while hashed, bounded by the
//! descriptor's size, verified at the end, restarted from zero on retry.

use std::io::{self, Seek, Write};

use reqwest::{Method, StatusCode};

use super::client::{Call, RegistryClient, Target, pull_scope};
use super::error::RegistryError;
use super::stats::RequestKind;
use crate::digest::{Digest, Hasher};
use crate::reference::Reference;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// Where a downloaded blob's bytes go. A retry starts the blob over: the
/// client calls [`BlobSink::reset`] and writes from the first byte again.
/// After an error the sink holds partial data; discard it.
pub trait BlobSink: Send {
    /// Forgets everything written so far.
    fn reset(&mut self) -> io::Result<()>;
    /// Takes the next bytes of the blob.
    fn write(&mut self, bytes: &[u8]) -> io::Result<()>;
}

impl BlobSink for Vec<u8> {
    fn reset(&mut self) -> io::Result<()> {
        self.clear();
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.extend_from_slice(bytes);
        Ok(())
    }
}

impl BlobSink for std::fs::File {
    fn reset(&mut self) -> io::Result<()> {
        self.set_len(0)?;
        self.rewind()
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_all(bytes)
    }
}

impl BlobSink for fs_err::File {
    fn reset(&mut self) -> io::Result<()> {
        self.file().set_len(0)?;
        self.rewind()
    }

    fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.write_all(bytes)
    }
}

impl RegistryClient {
    /// Downloads blob `digest` of `repo` (its tag or digest is ignored) into
    /// `sink`, following redirects to storage hosts (which never see our
    /// `Authorization` header). Fails as soon as more than `size` bytes
    /// arrive; at the end checks the size and the digest
    /// ([`RegistryError::DigestMismatch`]). A body that breaks off or goes
    /// silent is [`RegistryError::Truncated`] (retried). Returns the bytes
    /// written.
    pub async fn fetch_blob(
        &self,
        repo: &Reference,
        digest: &Digest,
        size: u64,
        sink: &mut dyn BlobSink,
    ) -> Result<u64> {
        let name = repo.name();
        let path = format!("/v2/{}/blobs/{digest}", repo.repository());
        // Status and transport errors name the blob too.
        let what = format!("get blob {digest}");
        let policy = self.inner.options.retry;
        let mut attempt = 1;
        loop {
            if attempt > 1 {
                sink.reset().map_err(|source| RegistryError::Sink {
                    name: name.clone(),
                    digest: digest.clone(),
                    source,
                })?;
            }
            let call = blob_call(repo, Method::GET, path.clone(), &name, &what);
            match self.fetch_blob_once(&call, digest, size, sink).await {
                Err(e) if e.is_retryable() && attempt < policy.max_attempts => {
                    tokio::time::sleep(policy.delay(attempt)).await;
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    async fn fetch_blob_once(
        &self,
        call: &Call<'_>,
        digest: &Digest,
        size: u64,
        sink: &mut dyn BlobSink,
    ) -> Result<u64> {
        let mut resp = self.send(call).await?;
        if resp.status() == StatusCode::NOT_FOUND {
            self.read_error_body(resp, call).await;
            return Err(RegistryError::BlobUnknown {
                name: call.name.to_owned(),
                digest: digest.clone(),
            });
        }
        if !resp.status().is_success() {
            return Err(self.status_error(resp, call).await);
        }
        let too_large = || RegistryError::TooLarge {
            name: call.name.to_owned(),
            what: format!("blob {digest}"),
            limit: size,
        };
        if resp.content_length().is_some_and(|n| n > size) {
            return Err(too_large());
        }
        let mut hasher = Hasher::new(digest.algorithm());
        loop {
            let chunk = match resp.chunk().await {
                Ok(Some(chunk)) => chunk,
                Ok(None) => break,
                // Cut off or silent past the read timeout mid-body: name
                // the blob and how far it got (the transport error says
                // only "error decoding response body").
                Err(_) => {
                    return Err(RegistryError::Truncated {
                        name: call.name.to_owned(),
                        digest: digest.clone(),
                        expected: size,
                        actual: hasher.len(),
                    });
                }
            };
            self.inner.stats.count_bytes(chunk.len());
            if hasher.len() + chunk.len() as u64 > size {
                return Err(too_large());
            }
            hasher.update(&chunk);
            sink.write(&chunk).map_err(|source| RegistryError::Sink {
                name: call.name.to_owned(),
                digest: digest.clone(),
                source,
            })?;
        }
        let got = hasher.len();
        if got < size {
            return Err(RegistryError::Truncated {
                name: call.name.to_owned(),
                digest: digest.clone(),
                expected: size,
                actual: got,
            });
        }
        let actual = hasher.finish();
        if actual != *digest {
            return Err(RegistryError::DigestMismatch {
                name: call.name.to_owned(),
                expected: digest.clone(),
                actual,
            });
        }
        Ok(got)
    }

    /// True when `repo` has blob `digest`.
    pub async fn head_blob(&self, repo: &Reference, digest: &Digest) -> Result<bool> {
        self.head_blob_scoped(repo, digest, pull_scope(repo.repository()))
            .await
    }

    /// HEAD on a blob with the given token scope (push asks with
    /// `pull,push` so one token serves the whole upload).
    pub(crate) async fn head_blob_scoped(
        &self,
        repo: &Reference,
        digest: &Digest,
        scope: String,
    ) -> Result<bool> {
        let name = &repo.name();
        let scope = &scope;
        let path = format!("/v2/{}/blobs/{digest}", repo.repository());
        self.retrying(|_| {
            let mut call = blob_call(repo, Method::HEAD, path.clone(), name, "head blob");
            call.scopes = vec![scope.clone()];
            async move {
                let resp = self.send(&call).await?;
                match resp.status() {
                    s if s.is_success() => Ok(true),
                    StatusCode::NOT_FOUND => Ok(false),
                    _ => Err(self.status_error(resp, &call).await),
                }
            }
        })
        .await
    }
}

fn blob_call<'a>(
    repo: &'a Reference,
    method: Method,
    path: String,
    name: &'a str,
    what: &'a str,
) -> Call<'a> {
    Call {
        kind: RequestKind::Blob,
        method,
        registry: repo.registry(),
        host: repo.api_host(),
        target: Target::Path(path),
        scopes: vec![pull_scope(repo.repository())],
        headers: Default::default(),
        body: None,
        name,
        what,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sinks_reset() {
        let mut v: Vec<u8> = Vec::new();
        BlobSink::write(&mut v, b"abc").unwrap();
        v.reset().unwrap();
        BlobSink::write(&mut v, b"d").unwrap();
        assert_eq!(v, b"d");

        let path = std::env::temp_dir().join(format!("dockhand-sink-{}", std::process::id()));
        let mut f = fs_err::File::create(&path).unwrap();
        BlobSink::write(&mut f, b"hello").unwrap();
        f.reset().unwrap();
        BlobSink::write(&mut f, b"hi").unwrap();
        drop(f);
        assert_eq!(fs_err::read(&path).unwrap(), b"hi");
        fs_err::remove_file(&path).unwrap();
    }
}
