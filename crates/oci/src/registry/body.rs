//! What a blob upload sends: bytes in memory or a file, streamed.

use std::path::{Path, PathBuf};

use bytes::Bytes;
use tokio::io::AsyncReadExt;

use super::error::RegistryError;

type Result<T, E = RegistryError> = std::result::Result<T, E>;

/// Read size for file uploads.
const FILE_CHUNK: usize = 256 * 1024;

/// The content of a blob to upload.
#[derive(Debug, Clone)]
pub enum BlobBody {
    /// Bytes in memory.
    Bytes(Bytes),
    /// A file, streamed (it is reopened if the upload is retried).
    File(PathBuf),
}

impl BlobBody {
    /// A request body (opening the file anew each time).
    pub(crate) async fn to_body(&self, name: &str) -> Result<reqwest::Body> {
        match self {
            BlobBody::Bytes(b) => Ok(reqwest::Body::from(b.clone())),
            BlobBody::File(path) => {
                let file = tokio::fs::File::open(path)
                    .await
                    .map_err(|e| file_error(name, path, e))?;
                let stream = futures_util::stream::unfold(Some(file), |state| async move {
                    let mut file = state?;
                    let mut buf = vec![0u8; FILE_CHUNK];
                    match file.read(&mut buf).await {
                        Ok(0) => None,
                        Ok(n) => {
                            buf.truncate(n);
                            Some((Ok(Bytes::from(buf)), Some(file)))
                        }
                        Err(e) => Some((Err(e), None)),
                    }
                });
                Ok(reqwest::Body::wrap_stream(stream))
            }
        }
    }
}

/// An I/O error on an upload's file, naming the path.
pub(super) fn file_error(name: &str, path: &Path, e: std::io::Error) -> RegistryError {
    RegistryError::File {
        name: name.to_owned(),
        source: std::io::Error::new(e.kind(), format!("{}: {e}", path.display())),
    }
}
