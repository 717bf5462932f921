//! Registry credentials: the docker CLI's config file (`auths`, `credsStore`,
//! `credHelpers`) and the docker-credential helper protocol.
//!
//! The caller resolves where the config lives (`$DOCKER_CONFIG/config.json`
//! or `~/.docker/config.json`) and where helpers are searched (the
//! directories of `PATH`); this module reads neither environment variable.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use base64::Engine as _;
use futures_util::future::BoxFuture;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

/// The key Docker Hub's credentials are stored under.
pub const DOCKER_HUB_AUTH_KEY: &str = "https://index.docker.io/v1/";

/// How long a credential helper may take before we give up on it.
const HELPER_TIMEOUT: Duration = Duration::from_secs(30);

/// Credentials for one registry.
#[derive(Clone, PartialEq, Eq, Default)]
pub enum Credential {
    /// No credentials: pull anonymously.
    #[default]
    Anonymous,
    /// A user name and password (or access token used as a password).
    Basic {
        /// The user name.
        username: String,
        /// The password or token.
        password: String,
    },
    /// An OAuth2 refresh token (`identitytoken`), exchanged at the token endpoint.
    IdentityToken(String),
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Credential::Anonymous => f.write_str("Anonymous"),
            Credential::Basic { username, .. } => {
                write!(
                    f,
                    "Basic {{ username: {username:?}, password: <redacted> }}"
                )
            }
            Credential::IdentityToken(_) => f.write_str("IdentityToken(<redacted>)"),
        }
    }
}

/// Why credentials could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CredentialError {
    /// The docker config file could not be read.
    #[error("cannot read the docker config: {0}")]
    Read(#[source] std::io::Error),
    /// The docker config file is not valid.
    #[error("{path}: invalid docker config: {reason}: fix the file or move it away")]
    Config {
        /// The config file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A configured credential helper is not installed.
    #[error(
        "{registry}: credential helper docker-credential-{helper} is not installed: install it, or remove it from {config}"
    )]
    HelperMissing {
        /// The helper's name (`pass`, `desktop`).
        helper: String,
        /// The registry whose credentials were asked for.
        registry: String,
        /// The config file that names the helper.
        config: PathBuf,
    },
    /// A credential helper failed or answered nonsense.
    #[error(
        "{registry}: credential helper docker-credential-{helper} failed: {reason}: run docker login {registry}"
    )]
    HelperFailed {
        /// The helper's name.
        helper: String,
        /// The registry.
        registry: String,
        /// What went wrong.
        reason: String,
    },
}

/// Where the client gets credentials for a registry. Called only when a
/// registry asks for authentication, at most once per registry per client.
pub trait CredentialSource: Send + Sync + fmt::Debug {
    /// The credentials for `registry` (`docker.io`, `127.0.0.1:5000`);
    /// [`Credential::Anonymous`] when there are none.
    fn credential<'a>(
        &'a self,
        registry: &'a str,
    ) -> BoxFuture<'a, Result<Credential, CredentialError>>;
}

/// No credentials for any registry.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoCredentials;

impl CredentialSource for NoCredentials {
    fn credential<'a>(&'a self, _: &'a str) -> BoxFuture<'a, Result<Credential, CredentialError>> {
        Box::pin(async { Ok(Credential::Anonymous) })
    }
}

/// Fixed credentials per registry (`host[:port]`), for callers that already
/// hold them and for tests.
#[derive(Debug, Clone, Default)]
pub struct StaticCredentials {
    by_registry: HashMap<String, Credential>,
}

impl StaticCredentials {
    /// No credentials yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds credentials for `registry`.
    pub fn with(mut self, registry: &str, credential: Credential) -> Self {
        self.by_registry.insert(registry.to_owned(), credential);
        self
    }
}

impl CredentialSource for StaticCredentials {
    fn credential<'a>(
        &'a self,
        registry: &'a str,
    ) -> BoxFuture<'a, Result<Credential, CredentialError>> {
        let found = self.by_registry.get(registry).cloned().unwrap_or_default();
        Box::pin(async move { Ok(found) })
    }
}

/// The docker CLI's `config.json`: inline `auths`, a default `credsStore`
/// and per-registry `credHelpers`.
#[derive(Debug, Clone, Default)]
pub struct DockerConfig {
    path: PathBuf,
    auths: Vec<(String, AuthEntry)>,
    creds_store: Option<String>,
    cred_helpers: Vec<(String, String)>,
    helper_dirs: Vec<PathBuf>,
}

#[derive(Debug, Clone, Default, Deserialize)]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct ConfigFile {
    #[serde(default)]
    auths: HashMap<String, AuthEntry>,
    #[serde(default, rename = "credsStore")]
    creds_store: Option<String>,
    #[serde(default, rename = "credHelpers")]
    cred_helpers: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct HelperAnswer {
    #[serde(default, rename = "Username")]
    username: String,
    #[serde(default, rename = "Secret")]
    secret: String,
}

impl DockerConfig {
    /// Reads the config at `path`; a missing file means no credentials.
    /// Credential helpers (`docker-credential-<name>`) are looked for in
    /// `helper_dirs`, in order.
    pub fn load(path: &Path, helper_dirs: Vec<PathBuf>) -> Result<Self, CredentialError> {
        let text = match fs_err::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    path: path.to_owned(),
                    helper_dirs,
                    ..Self::default()
                });
            }
            Err(e) => return Err(CredentialError::Read(e)),
        };
        Self::parse(path, &text, helper_dirs)
    }

    /// Parses config text (`path` is used in messages).
    pub fn parse(
        path: &Path,
        text: &str,
        helper_dirs: Vec<PathBuf>,
    ) -> Result<Self, CredentialError> {
        let file: ConfigFile = if text.trim().is_empty() {
            ConfigFile::default()
        } else {
            serde_json::from_str(text).map_err(|e| CredentialError::Config {
                path: path.to_owned(),
                reason: e.to_string(),
            })?
        };
        let mut auths: Vec<_> = file.auths.into_iter().collect();
        auths.sort_by(|a, b| a.0.cmp(&b.0));
        let mut cred_helpers: Vec<_> = file.cred_helpers.into_iter().collect();
        cred_helpers.sort();
        Ok(Self {
            path: path.to_owned(),
            auths,
            creds_store: file.creds_store.filter(|s| !s.is_empty()),
            cred_helpers,
            helper_dirs,
        })
    }

    /// The helper configured for `registry`: its `credHelpers` entry, else `credsStore`.
    fn helper_for(&self, registry: &str) -> Option<&str> {
        let key = server_url(registry);
        self.cred_helpers
            .iter()
            .find(|(k, _)| *k == key)
            .or_else(|| {
                self.cred_helpers
                    .iter()
                    .find(|(k, _)| same_registry(k, registry))
            })
            .map(|(_, h)| h.as_str())
            .or(self.creds_store.as_deref())
    }

    /// The inline `auths` entry for `registry`.
    fn inline_for(&self, registry: &str) -> Result<Credential, CredentialError> {
        let key = server_url(registry);
        let entry = self
            .auths
            .iter()
            .find(|(k, _)| *k == key)
            .or_else(|| self.auths.iter().find(|(k, _)| same_registry(k, registry)));
        let Some((key, entry)) = entry else {
            return Ok(Credential::Anonymous);
        };
        if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
            return Ok(Credential::IdentityToken(token.to_owned()));
        }
        if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
            let bad = || CredentialError::Config {
                path: self.path.clone(),
                reason: format!("auths.\"{key}\".auth is not base64 of user:password"),
            };
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(auth.trim())
                .map_err(|_| bad())?;
            let decoded = String::from_utf8(decoded).map_err(|_| bad())?;
            let (username, password) = decoded.split_once(':').ok_or_else(bad)?;
            return Ok(Credential::Basic {
                username: username.to_owned(),
                password: password.to_owned(),
            });
        }
        match (&entry.username, &entry.password) {
            (Some(u), Some(p)) if !u.is_empty() => Ok(Credential::Basic {
                username: u.clone(),
                password: p.clone(),
            }),
            _ => Ok(Credential::Anonymous),
        }
    }

    async fn ask_helper(
        &self,
        helper: &str,
        registry: &str,
    ) -> Result<Credential, CredentialError> {
        let exe = format!("docker-credential-{helper}");
        let found = self
            .helper_dirs
            .iter()
            .map(|d| d.join(&exe))
            .find(|p| is_executable(p));
        let Some(program) = found else {
            return Err(CredentialError::HelperMissing {
                helper: helper.to_owned(),
                registry: registry.to_owned(),
                config: self.path.clone(),
            });
        };
        let failed = |reason: String| CredentialError::HelperFailed {
            helper: helper.to_owned(),
            registry: registry.to_owned(),
            reason,
        };
        let mut child = tokio::process::Command::new(&program)
            .arg("get")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| failed(format!("cannot start {}: {e}", program.display())))?;
        if let Some(mut stdin) = child.stdin.take() {
            // A helper that exits without reading stdin is judged by its answer.
            let _ = stdin.write_all(server_url(registry).as_bytes()).await;
            drop(stdin);
        }
        let output = tokio::time::timeout(HELPER_TIMEOUT, child.wait_with_output())
            .await
            .map_err(|_| failed(format!("no answer within {}s", HELPER_TIMEOUT.as_secs())))?
            .map_err(|e| failed(e.to_string()))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            if stdout.contains("credentials not found") || stderr.contains("credentials not found")
            {
                return Ok(Credential::Anonymous);
            }
            let said = if stdout.trim().is_empty() {
                stderr.trim().to_owned()
            } else {
                stdout.trim().to_owned()
            };
            return Err(failed(format!("{}: {said}", output.status)));
        }
        let answer: HelperAnswer = serde_json::from_str(stdout.trim())
            .map_err(|e| failed(format!("its answer is not credentials JSON: {e}")))?;
        Ok(match (answer.username.as_str(), answer.secret) {
            (_, s) if s.is_empty() => Credential::Anonymous,
            ("<token>", s) => Credential::IdentityToken(s),
            (u, s) => Credential::Basic {
                username: u.to_owned(),
                password: s,
            },
        })
    }
}

impl CredentialSource for DockerConfig {
    fn credential<'a>(
        &'a self,
        registry: &'a str,
    ) -> BoxFuture<'a, Result<Credential, CredentialError>> {
        Box::pin(async move {
            if let Some(helper) = self.helper_for(registry) {
                let found = self.ask_helper(helper, registry).await?;
                if found != Credential::Anonymous {
                    return Ok(found);
                }
            }
            self.inline_for(registry)
        })
    }
}

/// The server URL docker stores a registry's credentials under.
pub fn server_url(registry: &str) -> String {
    if is_docker_hub(registry) {
        DOCKER_HUB_AUTH_KEY.to_owned()
    } else {
        registry.to_owned()
    }
}

fn is_docker_hub(host: &str) -> bool {
    matches!(
        host,
        "docker.io" | "index.docker.io" | "registry-1.docker.io"
    )
}

/// True when a config key (`https://host:port/v1/`, `host:port`) names `registry`.
fn same_registry(key: &str, registry: &str) -> bool {
    let host = key
        .strip_prefix("https://")
        .or_else(|| key.strip_prefix("http://"))
        .unwrap_or(key);
    let host = host.split('/').next().unwrap_or(host);
    host == registry || (is_docker_hub(host) && is_docker_hub(registry))
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    fs_err::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> DockerConfig {
        DockerConfig::parse(Path::new("/x/config.json"), text, vec![]).unwrap()
    }

    #[tokio::test]
    async fn inline_auths() {
        let c = cfg(r#"{"auths":{
            "https://index.docker.io/v1/":{"auth":"dXNlcjpwYXNz"},
            "127.0.0.1:5000":{"username":"a","password":"b"},
            "https://ghcr.io":{"identitytoken":"tok"},
            "empty.example":{}
        }}"#);
        let basic = |u: &str, p: &str| Credential::Basic {
            username: u.into(),
            password: p.into(),
        };
        for (registry, want) in [
            ("docker.io", basic("user", "pass")),
            ("127.0.0.1:5000", basic("a", "b")),
            ("ghcr.io", Credential::IdentityToken("tok".into())),
            ("empty.example", Credential::Anonymous),
            ("quay.io", Credential::Anonymous),
        ] {
            assert_eq!(c.credential(registry).await.unwrap(), want, "{registry}");
        }
        assert!(!format!("{:?}", basic("u", "secret")).contains("secret"));
    }

    #[tokio::test]
    async fn bad_config_names_the_file() {
        let e = DockerConfig::parse(Path::new("/x/config.json"), "{", vec![]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("/x/config.json: invalid docker config"),
            "{e}"
        );
        let c = cfg(r#"{"auths":{"r.example":{"auth":"bm9jb2xvbg=="}}}"#);
        let e = c.credential("r.example").await.unwrap_err();
        assert!(e.to_string().contains("auths.\"r.example\".auth"), "{e}");
        let missing = DockerConfig::load(Path::new("/nonexistent/config.json"), vec![]).unwrap();
        assert_eq!(
            missing.credential("docker.io").await.unwrap(),
            Credential::Anonymous
        );
    }

    #[tokio::test]
    async fn missing_helper_is_named() {
        let c = cfg(r#"{"credsStore":"nosuch","credHelpers":{"gcr.io":"gcloud"}}"#);
        let e = c.credential("gcr.io").await.unwrap_err();
        assert!(
            e.to_string()
                .contains("credential helper docker-credential-gcloud is not installed"),
            "{e}"
        );
        let e = c.credential("docker.io").await.unwrap_err();
        assert!(e.to_string().contains("docker-credential-nosuch"), "{e}");
    }

    #[test]
    fn keys() {
        assert_eq!(server_url("docker.io"), DOCKER_HUB_AUTH_KEY);
        assert_eq!(server_url("localhost:5000"), "localhost:5000");
        assert!(same_registry("https://index.docker.io/v1/", "docker.io"));
        assert!(same_registry("http://localhost:5000/v2/", "localhost:5000"));
        assert!(!same_registry("localhost:5001", "localhost:5000"));
    }
}
