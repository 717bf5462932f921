//! What can go wrong talking to a registry, with messages that name the
//! registry and repository and say what to do.

use crate::digest::Digest;

use super::credentials::CredentialError;

/// A registry operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// The registry refused our credentials (401/403 after authenticating).
    #[error("{name}: denied{detail}: run docker login {registry}")]
    Denied {
        /// `registry/repository`, or the registry alone.
        name: String,
        /// The registry `host[:port]` to log in to.
        registry: String,
        /// What the registry said, prefixed by `: ` when it said anything.
        detail: String,
    },
    /// No manifest under that tag or digest.
    #[error("{name}: manifest unknown: check the tag or digest")]
    ManifestUnknown {
        /// The reference asked for.
        name: String,
    },
    /// No blob with that digest in the repository.
    #[error(
        "{name}: blob {digest} unknown: the image is incomplete in the registry, push it again"
    )]
    BlobUnknown {
        /// `registry/repository`.
        name: String,
        /// The blob asked for.
        digest: Digest,
    },
    /// The repository does not exist.
    #[error("{name}: repository unknown: check the name")]
    NameUnknown {
        /// `registry/repository`.
        name: String,
    },
    /// Content did not hash to the digest it was asked for by.
    #[error(
        "{name}: content has digest {actual}, expected {expected}: the registry served wrong data"
    )]
    DigestMismatch {
        /// `registry/repository`.
        name: String,
        /// The digest asked for.
        expected: Digest,
        /// The digest of what arrived.
        actual: Digest,
    },
    /// A blob ended before its declared size.
    #[error(
        "{name}: blob {digest} ended after {actual} of {expected} bytes: the connection broke, try again"
    )]
    Truncated {
        /// `registry/repository`.
        name: String,
        /// The blob.
        digest: Digest,
        /// The size the descriptor declares.
        expected: u64,
        /// What arrived.
        actual: u64,
    },
    /// More bytes arrived than allowed; reading stopped.
    #[error("{name}: {what} is larger than {limit} bytes: refusing to read more")]
    TooLarge {
        /// `registry/repository`.
        name: String,
        /// What was being read (`manifest latest`, `blob sha256:…`).
        what: String,
        /// The limit.
        limit: u64,
    },
    /// A manifest that cannot be parsed or is of an unsupported kind.
    #[error("{name}: invalid manifest: {reason}")]
    InvalidManifest {
        /// The reference.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The registry answered with a status we did not expect.
    #[error("{name}: {what} failed with HTTP {status}{detail}")]
    Status {
        /// `registry/repository`.
        name: String,
        /// The operation (`get manifest`, `upload blob`).
        what: String,
        /// The HTTP status code.
        status: u16,
        /// The registry's error code and message, prefixed by `: `.
        detail: String,
    },
    /// The connection failed, timed out or broke mid-transfer.
    #[error("{registry}: {what}: {source}: check the address and that the registry is up")]
    Transport {
        /// The registry `host[:port]` (or the token endpoint's host).
        registry: String,
        /// The operation.
        what: String,
        /// The HTTP client's error.
        #[source]
        source: reqwest::Error,
    },
    /// The registry sent something the protocol does not allow.
    #[error("{name}: {reason}")]
    Protocol {
        /// `registry/repository` or the registry.
        name: String,
        /// What was wrong.
        reason: String,
    },
    /// Credentials could not be read.
    #[error(transparent)]
    Credentials(#[from] CredentialError),
    /// The blob sink (the store) failed to take bytes.
    #[error("{name}: writing blob {digest}: {source}")]
    Sink {
        /// `registry/repository`.
        name: String,
        /// The blob.
        digest: Digest,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A file to upload could not be read.
    #[error("{name}: reading the blob to upload: {source}")]
    File {
        /// `registry/repository`.
        name: String,
        /// The I/O error (it names the path).
        #[source]
        source: std::io::Error,
    },
    /// The HTTP client could not be built (for example, no TLS roots).
    #[error("cannot set up the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

impl RegistryError {
    /// True for failures worth trying again: 5xx, 429, broken or timed-out
    /// connections and bodies cut short. Never for 4xx or bad content.
    pub fn is_retryable(&self) -> bool {
        match self {
            RegistryError::Status { status, .. } => *status >= 500 || *status == 429,
            RegistryError::Transport { source, .. } => {
                !source.is_builder() && !source.is_redirect() && !source.is_status()
            }
            RegistryError::Truncated { .. } => true,
            _ => false,
        }
    }
}

/// The error body of the distribution API: `{"errors":[{"code","message"}]}`.
#[derive(Debug, serde::Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Debug, serde::Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// `: CODE: message` from an error body, or the start of a text body, or
/// nothing.
pub(crate) fn error_detail(body: &[u8]) -> String {
    if let Ok(parsed) = serde_json::from_slice::<ErrorBody>(body)
        && let Some(first) = parsed.errors.first()
    {
        let mut s = String::new();
        if !first.code.is_empty() {
            s.push_str(": ");
            s.push_str(&first.code);
        }
        if !first.message.is_empty() {
            s.push_str(": ");
            s.push_str(&first.message);
        }
        return s;
    }
    let text = String::from_utf8_lossy(body);
    let text: String = text
        .trim()
        .chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if text.is_empty() {
        String::new()
    } else {
        format!(": {text}")
    }
}

/// The error code of a distribution API error body (`MANIFEST_UNKNOWN`).
pub(crate) fn error_code(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ErrorBody>(body)
        .ok()?
        .errors
        .into_iter()
        .next()
        .map(|e| e.code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_from_bodies() {
        let body = br#"{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"#;
        assert_eq!(
            error_detail(body),
            ": DENIED: requested access to the resource is denied"
        );
        assert_eq!(error_code(body).as_deref(), Some("DENIED"));
        assert_eq!(error_detail(b""), "");
        assert_eq!(error_detail(b"oops\n"), ": oops");
        assert_eq!(error_code(b"oops"), None);
    }

    #[test]
    fn denied_says_docker_login() {
        let e = RegistryError::Denied {
            name: "127.0.0.1:5000/acme/ext".into(),
            registry: "127.0.0.1:5000".into(),
            detail: String::new(),
        };
        assert_eq!(
            e.to_string(),
            "127.0.0.1:5000/acme/ext: denied: run docker login 127.0.0.1:5000"
        );
        assert!(!e.is_retryable());
        let e = RegistryError::Status {
            name: "r/x".into(),
            what: "get manifest".into(),
            status: 503,
            detail: String::new(),
        };
        assert!(e.is_retryable());
    }
}
