//! Credentials from a docker config and a real docker-credential helper
//! (a shell script on a helper dir we pass in).

use std::path::Path;
use std::sync::Arc;

use dockhand_oci::registry::{Credential, CredentialSource, DockerConfig, RegistryError};

use super::{
    add_ext, assert_denied_with_login_hint, client_with, get, require_basic, require_bearer,
    token_request,
};
use dockhand_testkit::registry::{Auth, FakeRegistry};

/// Writes `docker-credential-fake`: it records the server URL it was asked
/// for, answers `answer` for `host`, and "credentials not found" otherwise.
fn write_helper(dir: &Path, host: &str, answer: &str) {
    use std::os::unix::fs::PermissionsExt;
    let asked = dir.join("asked");
    let script = format!(
        "#!/bin/sh\n\
         [ \"$1\" = get ] || exit 2\n\
         read -r url\n\
         printf '%s' \"$url\" > '{asked}'\n\
         if [ \"$url\" = '{host}' ]; then\n\
           printf '%s\\n' '{answer}'\n\
         else\n\
           echo 'credentials not found in native keychain'\n\
           exit 1\n\
         fi\n",
        asked = asked.display(),
    );
    let path = dir.join("docker-credential-fake");
    fs_err::write(&path, script).unwrap();
    fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn config(dir: &Path, json: serde_json::Value) -> DockerConfig {
    let path = dir.join("config.json");
    fs_err::write(&path, json.to_string()).unwrap();
    DockerConfig::load(&path, vec![dir.join("nothing-here"), dir.to_owned()]).unwrap()
}

#[tokio::test]
async fn a_credential_helper_supplies_credentials() {
    let reg = FakeRegistry::start();
    require_basic(&reg);
    add_ext(&reg);
    let dir = tempfile::tempdir().unwrap();
    let host = reg.host();
    write_helper(
        dir.path(),
        &host,
        &format!(r#"{{"ServerURL":"{host}","Username":"bob","Secret":"pw"}}"#),
    );
    let cfg = config(
        dir.path(),
        serde_json::json!({"credHelpers": {host.clone(): "fake"}}),
    );
    let c = client_with(3, Arc::new(cfg));
    get(&c, &reg, "acme/ext:1.0").await.unwrap();
    assert_eq!(
        fs_err::read_to_string(dir.path().join("asked")).unwrap(),
        host
    );
}

#[tokio::test]
async fn docker_hub_is_asked_by_its_server_url() {
    let dir = tempfile::tempdir().unwrap();
    write_helper(
        dir.path(),
        "https://index.docker.io/v1/",
        r#"{"ServerURL":"https://index.docker.io/v1/","Username":"<token>","Secret":"refresh"}"#,
    );
    let cfg = config(dir.path(), serde_json::json!({"credsStore": "fake"}));
    assert_eq!(
        cfg.credential("docker.io").await.unwrap(),
        Credential::IdentityToken("refresh".into())
    );
    // Not found: anonymous, unless the inline auths have something.
    assert_eq!(
        cfg.credential("quay.io").await.unwrap(),
        Credential::Anonymous
    );
}

#[tokio::test]
async fn an_identity_token_is_exchanged_at_the_token_endpoint() {
    let reg = FakeRegistry::start();
    require_bearer(&reg, Some(("<token>", "refresh-xyz")));
    add_ext(&reg);
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(
        dir.path(),
        serde_json::json!({"auths": {reg.host(): {"identitytoken": "refresh-xyz"}}}),
    );
    let c = client_with(3, Arc::new(cfg));
    get(&c, &reg, "acme/ext:1.0").await.unwrap();
    let token = token_request(&reg);
    assert_eq!(token.method, "POST");
}

#[tokio::test]
async fn not_found_means_anonymous_and_then_denied() {
    let reg = FakeRegistry::start();
    require_basic(&reg);
    let dir = tempfile::tempdir().unwrap();
    write_helper(dir.path(), "elsewhere.example", "{}");
    let cfg = config(dir.path(), serde_json::json!({"credsStore": "fake"}));
    let c = client_with(3, Arc::new(cfg));
    let e = get(&c, &reg, "acme/ext:1.0").await.unwrap_err();
    assert_denied_with_login_hint(&e, &reg);
}

#[tokio::test]
async fn a_missing_helper_is_named() {
    let reg = FakeRegistry::start();
    reg.set(|s| s.auth = Auth::Bearer { basic: None });
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), serde_json::json!({"credsStore": "nosuch"}));
    let c = client_with(3, Arc::new(cfg));
    let e = get(&c, &reg, "acme/ext:1.0").await.unwrap_err();
    assert!(matches!(e, RegistryError::Credentials(_)), "{e:?}");
    assert!(
        e.to_string()
            .contains("credential helper docker-credential-nosuch is not installed"),
        "{e}"
    );
}

#[tokio::test]
async fn a_failing_helper_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write_helper(dir.path(), "r.example", "this is not json");
    let cfg = config(
        dir.path(),
        serde_json::json!({"credHelpers": {"r.example": "fake"}}),
    );
    let e = cfg.credential("r.example").await.unwrap_err();
    assert!(
        e.to_string().contains("docker-credential-fake failed"),
        "{e}"
    );
    assert!(e.to_string().ends_with("run docker login r.example"), "{e}");
}
