//! TLS to an engine on TCP, as the docker CLI does it: the engine's
//! certificate checked against a CA file (or, for `https://` without one,
//! the public roots), or not checked at all (`--tls` without `--tlsverify`),
//! and a client certificate when one is given.
//!
//! bollard's own TLS client needs all three files, cannot skip verification
//! and keeps no connection alive between requests; this one is a hyper
//! client with rustls (the same rustls and ring the registry client uses)
//! handed to bollard as a custom transport.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use bollard::{BollardRequest, ClientVersion, Docker};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connect, HttpConnector};
use hyper_util::rt::TokioExecutor;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::{self, PemObject};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

/// The file names the docker CLI looks for in `DOCKER_CERT_PATH` and in a
/// context's TLS directory.
pub const CA_FILE: &str = "ca.pem";
/// The client certificate's file name.
pub const CERT_FILE: &str = "cert.pem";
/// The client key's file name.
pub const KEY_FILE: &str = "key.pem";

/// Why the TLS material cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// rustls refused its own default protocol versions.
    #[error("{0}")]
    Protocols(rustls::Error),
    /// A certificate file cannot be read, or is not PEM.
    #[error("cannot read the {what} {}: {source}", path.display())]
    Unreadable {
        /// `CA certificate`, `client certificate`.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// Why.
        source: pem::Error,
    },
    /// A certificate file holds no certificate.
    #[error("the {what} {} holds no PEM certificate", path.display())]
    NoCertificate {
        /// `CA certificate`, `client certificate`.
        what: &'static str,
        /// The file.
        path: PathBuf,
    },
    /// The CA file holds certificates, none of them usable as a root.
    #[error(
        "the CA certificate {} holds no usable certificate: point DOCKER_CERT_PATH or --tlscacert at the engine's CA (ca.pem)",
        path.display()
    )]
    NoUsableCa {
        /// The file.
        path: PathBuf,
    },
    /// The client key cannot be read, or is not a PEM private key.
    #[error(
        "cannot read the client key {}: {source}; it must be a PEM private key (key.pem)",
        path.display()
    )]
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        source: pem::Error,
    },
    /// The client certificate and the key are not a pair.
    #[error("the client certificate {} and its key do not go together: {source}", path.display())]
    Mismatch {
        /// The certificate's file.
        path: PathBuf,
        /// What rustls said.
        source: rustls::Error,
    },
}

/// How to speak TLS to an engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// Check the engine's certificate (`--tlsverify`, `DOCKER_TLS_VERIFY`);
    /// `false` accepts any certificate (`--tls` alone, a context's
    /// `SkipTLSVerify`).
    pub verify: bool,
    /// The CA certificates to check it against; `None`: the public roots.
    pub ca: Option<PathBuf>,
    /// The client certificate and its key, when the engine asks for one.
    pub client: Option<(PathBuf, PathBuf)>,
    /// The directory given to the docker CLI and compose as
    /// `DOCKER_CERT_PATH`: it holds these files as `ca.pem`, `cert.pem` and
    /// `key.pem`.
    pub cert_dir: Option<PathBuf>,
}

impl TlsConfig {
    /// Verified against the public roots, no client certificate.
    pub fn public_roots() -> Self {
        Self {
            verify: true,
            ca: None,
            client: None,
            cert_dir: None,
        }
    }

    /// The directory the files sit in under the docker CLI's names, when
    /// they all do: what `DOCKER_CERT_PATH` can name for a child.
    pub fn standard_dir(&self) -> Option<PathBuf> {
        let mut dirs = Vec::new();
        let mut check = |path: &Path, name: &str| {
            dirs.push(path.parent().map(Path::to_path_buf));
            path.file_name().is_some_and(|n| n == name)
        };
        let mut ok = true;
        if let Some(ca) = &self.ca {
            ok &= check(ca, CA_FILE);
        }
        if let Some((cert, key)) = &self.client {
            ok &= check(cert, CERT_FILE);
            ok &= check(key, KEY_FILE);
        }
        let first = dirs.first().cloned().flatten()?;
        (ok && dirs.iter().all(|d| d.as_ref() == Some(&first))).then_some(first)
    }

    /// The rustls configuration, reading the files.
    fn rustls_config(&self) -> Result<ClientConfig, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(TlsError::Protocols)?;
        let builder = if self.verify {
            let mut roots = RootCertStore::empty();
            match &self.ca {
                Some(ca) => {
                    let certs = read_certs(ca, "CA certificate")?;
                    let (added, _) = roots.add_parsable_certificates(certs);
                    if added == 0 {
                        return Err(TlsError::NoUsableCa { path: ca.clone() });
                    }
                }
                None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
            }
            builder.with_root_certificates(roots)
        } else {
            builder
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        };
        match &self.client {
            Some((cert, key)) => {
                let certs = read_certs(cert, "client certificate")?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|source| TlsError::Key {
                    path: key.clone(),
                    source,
                })?;
                builder
                    .with_client_auth_cert(certs, key)
                    .map_err(|source| TlsError::Mismatch {
                        path: cert.clone(),
                        source,
                    })
            }
            None => Ok(builder.with_no_client_auth()),
        }
    }
}

fn read_certs(path: &Path, what: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|iter| iter.collect::<Result<Vec<_>, _>>())
        .map_err(|source| TlsError::Unreadable {
            what,
            path: path.to_owned(),
            source,
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            what,
            path: path.to_owned(),
        });
    }
    Ok(certs)
}

/// Accepts the engine's certificate unchecked (`--tls` without
/// `--tlsverify`), still checking that the handshake is signed by it.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// The body type of bollard's requests.
pub(crate) trait RequestBody {
    type Body;
}

impl<B> RequestBody for hyper::Request<B> {
    type Body = B;
}

/// What bollard sends.
pub(crate) type Body = <BollardRequest as RequestBody>::Body;

/// A transport error with its causes, so that "invalid peer certificate:
/// UnknownIssuer" is not lost behind "client error (Connect)".
pub(crate) fn transport_error(e: &dyn std::error::Error) -> bollard::errors::Error {
    bollard::errors::Error::IOError {
        err: std::io::Error::other(crate::error_chain(e)),
    }
}

/// The hyper client speaking TLS with `tls` (its connections are kept
/// alive and shared by every bollard client made from it).
pub(crate) fn hyper_client(
    tls: &TlsConfig,
) -> Result<Arc<Client<HttpsConnector<HttpConnector>, Body>>, TlsError> {
    let config = tls.rustls_config()?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    // A hijacked stream (the relay's exec) sends small frames in both
    // directions; with Nagle's algorithm a frame written while the last
    // one is unacknowledged waits for the engine's delayed ACK (40 ms).
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_only()
        .enable_http1()
        .wrap_connector(http);
    Ok(Arc::new(Client::builder(TokioExecutor::new()).build(https)))
}

/// The hyper client of a plain `tcp://` engine: bollard's own sets no
/// TCP_NODELAY (see [`hyper_client`]); connections kept alive and shared
/// the same way.
pub(crate) fn plain_client() -> Arc<Client<HttpConnector, Body>> {
    let mut http = HttpConnector::new();
    http.set_nodelay(true);
    Arc::new(Client::builder(TokioExecutor::new()).build(http))
}

/// A bollard client speaking API `version` through `client` to `addr`
/// (`https://host:port`, or any name for a connector that ignores it).
pub(crate) fn docker_over<C>(
    client: &Arc<Client<C, Body>>,
    addr: &str,
    timeout: u64,
    version: &ClientVersion,
) -> Result<Docker, bollard::errors::Error>
where
    C: Connect + Clone + Send + Sync + 'static,
{
    let client = Arc::clone(client);
    Docker::connect_with_custom_transport(
        move |req: BollardRequest| {
            let client = Arc::clone(&client);
            async move { client.request(req).await.map_err(|e| transport_error(&e)) }
        },
        Some(addr),
        timeout,
        version,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cert_dir_needs_the_docker_names_in_one_directory() {
        let mut tls = TlsConfig {
            verify: true,
            ca: Some("/c/ca.pem".into()),
            client: Some(("/c/cert.pem".into(), "/c/key.pem".into())),
            cert_dir: None,
        };
        assert_eq!(tls.standard_dir(), Some(PathBuf::from("/c")));
        tls.client = Some(("/c/client.crt".into(), "/c/key.pem".into()));
        assert_eq!(tls.standard_dir(), None);
        tls.client = Some(("/d/cert.pem".into(), "/d/key.pem".into()));
        assert_eq!(tls.standard_dir(), None);
        tls.client = None;
        assert_eq!(tls.standard_dir(), Some(PathBuf::from("/c")));
        assert_eq!(TlsConfig::public_roots().standard_dir(), None);
    }

    #[test]
    fn unreadable_material_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        fs_err::write(&ca, "not a certificate").unwrap();
        let tls = TlsConfig {
            ca: Some(ca.clone()),
            ..TlsConfig::public_roots()
        };
        let e = tls.rustls_config().unwrap_err().to_string();
        assert!(e.contains(&ca.display().to_string()), "{e}");
        let tls = TlsConfig {
            ca: Some(dir.path().join("missing.pem")),
            ..TlsConfig::public_roots()
        };
        let e = tls.rustls_config().unwrap_err().to_string();
        assert!(e.contains("missing.pem"), "{e}");
        // No CA: the public roots, no file read.
        assert!(TlsConfig::public_roots().rustls_config().is_ok());
        let insecure = TlsConfig {
            verify: false,
            ..TlsConfig::public_roots()
        };
        assert!(insecure.rustls_config().is_ok());
    }
}
