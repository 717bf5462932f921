//! The dashboard's consent: the preview answers the CLI's summary (read from
//! compose's normalized model, so merge keys, truthy spellings, `${X:-host}`
//! defaults, volume driver options and secret files all show, and no
//! variable of the server's environment is interpolated), pinned to the
//! digest it is about; the install and update routes take only that pinned
//! image, so a registry that retags between preview and install installs
//! the previewed image or fails. Served by testkit's fake registry, with
//! tags that move.
#![allow(clippy::unwrap_used)] // helpers outside #[test] functions

use std::sync::Arc;

use axum::http::StatusCode;
use dockhand_oci::Digest;
use dockhand_server::AppState;
use dockhand_server::catalog::CatalogSetup;
use dockhand_server::updates::UpdateService;
use dockhand_testkit::compose::HOSTILE_LINES;
use dockhand_testkit::registry::FakeRegistry;

use crate::support::{
    Answer, Fixture, PORT, catalog_config, client_once, host_arch, manager, post_json,
};

/// testkit's hostile compose file, with a variable the test process has
/// (cargo sets CARGO_PKG_NAME) that must not reach compose.
fn hostile() -> String {
    dockhand_testkit::compose::hostile("PID", "CARGO_PKG_NAME")
}

/// The repository every test here serves.
const REPO: &str = "acme/x";

/// Adds an extension image to `reg` (a page saying `page`, and `compose`
/// as its backend when given); returns its manifest digest.
fn image(reg: &FakeRegistry, page: &str, compose: Option<&str>) -> String {
    let arch = host_arch();
    let metadata = match compose {
        Some(_) => {
            r#"{"ui":{"dashboard-tab":{"title":"UI","root":"/ui","src":"index.html"}},"vm":{"composefile":"compose.yaml"}}"#
        }
        None => r#"{"ui":{"dashboard-tab":{"title":"UI","root":"/ui","src":"index.html"}}}"#,
    };
    let mut files: Vec<(&str, &[u8])> = vec![
        ("metadata.json", metadata.as_bytes()),
        ("ui/index.html", page.as_bytes()),
    ];
    if let Some(c) = compose {
        files.push(("compose.yaml", c.as_bytes()));
    }
    reg.files_image(
        REPO,
        &arch,
        &[
            ("org.opencontainers.image.title", "UI"),
            ("org.opencontainers.image.vendor", "Acme"),
            ("com.docker.desktop.extension.api.version", ">= 0.3.0"),
        ],
        &files,
    )
    .to_string()
}

/// Points `tag` at the manifest `digest` (a tag that moves), listed in
/// order.
fn tag(reg: &FakeRegistry, tag: &str, digest: &str) {
    reg.tag(REPO, tag, &digest.parse().unwrap());
}

/// A dashboard whose catalog lists `repo` and that checks for updates.
fn fixture(repo: &str) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let manager = manager(tmp.path(), None);
    let setup = CatalogSetup {
        registry: Some(client_once()),
        config: catalog_config(tmp.path(), &format!("{repo}\n"), ""),
        options: Default::default(),
    };
    let state = AppState::with_catalog(Arc::new(manager), PORT, "/".into(), setup);
    state.set_updates(UpdateService {
        client: client_once(),
        interval: None,
        options: Default::default(),
    });
    let app = dockhand_server::router(state.clone());
    Fixture::new(tmp, state, app)
}

async fn post(f: &Fixture, path: &str, body: Option<serde_json::Value>, session: &str) -> Answer {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    post_json(f, path, &body, session).await
}

/// Posts `{"reference": reference}` to `path`.
async fn post_reference(f: &Fixture, path: &str, reference: &str, session: &str) -> Answer {
    let body = serde_json::json!({ "reference": reference });
    post(f, path, Some(body), session).await
}

/// A dashboard listing `reg`'s repository, and a session on it: (the
/// repository, the fixture, the session cookie).
async fn dashboard(reg: &FakeRegistry) -> (String, Fixture, String) {
    let repo = format!("{}/{REPO}", reg.host());
    let f = fixture(&repo);
    let s = f.login().await;
    (repo, f, s)
}

/// Asserts that the privileges of `summary` have every line of
/// [`HOSTILE_LINES`].
fn assert_hostile_lines(summary: &serde_json::Value) {
    let got: Vec<String> = summary["privileges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect();
    for want in HOSTILE_LINES {
        assert!(
            got.iter().any(|l| l == want),
            "missing {want:?} in {got:#?}"
        );
    }
}

#[tokio::test]
async fn the_preview_shows_what_compose_would_run() {
    let reg = FakeRegistry::start();
    let d = image(&reg, "hostile", Some(&hostile()));
    tag(&reg, "1.0.0", &d);
    let (repo, f, s) = dashboard(&reg).await;
    let a = post_reference(&f, "/api/install/preview", &format!("{repo}:1.0.0"), &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let summary = a.json();
    assert_hostile_lines(&summary);
    assert_eq!(summary["privileged"], true);
    // The text is the CLI's, the reference the exact image.
    assert!(
        summary["text"]
            .as_str()
            .unwrap()
            .contains("host path / at /host")
    );
    assert_eq!(summary["reference"], format!("{repo}:1.0.0@{d}"));
    // Nothing was installed.
    assert!(f.state.manager().state.list().unwrap().is_empty());
}

#[tokio::test]
async fn an_image_to_build_or_a_host_env_file_is_refused_by_the_preview() {
    let reg = FakeRegistry::start();
    let d = image(
        &reg,
        "build",
        Some(
            "services:\n  api:\n    build: .\n  b:\n    image: x\n    env_file: /root/.aws/credentials\n",
        ),
    );
    tag(&reg, "1.0.0", &d);
    let (repo, f, s) = dashboard(&reg).await;
    let a = post_reference(&f, "/api/install/preview", &format!("{repo}:1.0.0"), &s).await;
    assert!(a.status.is_client_error(), "{} {}", a.status, a.text());
    assert!(a.text().contains("DH303"), "{}", a.text());
    assert!(a.text().contains("DH305"), "{}", a.text());
}

#[tokio::test]
async fn the_install_takes_the_previewed_digest_even_after_a_retag() {
    let reg = FakeRegistry::start();
    let shown = image(&reg, "the previewed one", None);
    let other = image(&reg, "swapped in", Some(&hostile()));
    tag(&reg, "1.0.0", &shown);
    let (repo, f, s) = dashboard(&reg).await;
    let tagged = format!("{repo}:1.0.0");
    let a = post_reference(&f, "/api/install/preview", &tagged, &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let pinned = a.json()["reference"].as_str().unwrap().to_owned();
    assert_eq!(pinned, format!("{tagged}@{shown}"));

    // An install without a digest is refused: it would resolve the tag again.
    let a = post_reference(&f, "/api/install", &tagged, &s).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    assert!(a.text().contains("preview"), "{}", a.text());

    // The registry moves the tag to a privileged image; the install of the
    // pinned reference still installs what was shown.
    tag(&reg, "1.0.0", &other);
    let a = post_reference(&f, "/api/install", &pinned, &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    assert_eq!(a.json()["digest"], shown);
    assert_eq!(a.json()["version"], "1.0.0");
    let records = f.state.manager().state.list().unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].digest, shown);
    assert!(
        records[0].backend.is_none(),
        "the swapped-in backend was not installed"
    );
    let page = fs_err::read_to_string(f.ui_dir(&records[0]).join("index.html")).unwrap();
    assert_eq!(page, "the previewed one");
}

#[tokio::test]
async fn a_pinned_image_the_registry_no_longer_has_is_not_installed() {
    let reg = FakeRegistry::start();
    let shown = image(&reg, "shown", None);
    let (repo, f, s) = dashboard(&reg).await;
    // The digest of an image the registry never had under that name (or
    // dropped since): the install fails, it does not fall back to the tag.
    let gone = Digest::sha256_of(b"not there").to_string();
    tag(&reg, "1.0.0", &shown);
    let a = post_reference(&f, "/api/install", &format!("{repo}:1.0.0@{gone}"), &s).await;
    assert!(!a.status.is_success(), "{}", a.text());
    assert!(f.state.manager().state.list().unwrap().is_empty());
}

#[tokio::test]
async fn an_update_that_adds_privileges_is_previewed_pinned_and_asked_about() {
    let reg = FakeRegistry::start();
    let v1 = image(&reg, "v1", None);
    tag(&reg, "1.0.0", &v1);
    let (repo, f, s) = dashboard(&reg).await;
    let a = post_reference(&f, "/api/install/preview", &format!("{repo}:1.0.0"), &s).await;
    let pinned = a.json()["reference"].as_str().unwrap().to_owned();
    let a = post_reference(&f, "/api/install", &pinned, &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());

    // 1.1.0 adds a backend with every privilege of hostile().
    let v2 = image(&reg, "v2", Some(&hostile()));
    tag(&reg, "1.1.0", &v2);
    let id = dockhand_spec::ExtensionId::parse(&repo).unwrap();
    let base = format!(
        "/api/extensions/{}/update",
        dockhand_server::api::encode_id(&id)
    );
    let a = post(&f, &format!("{base}/preview"), None, &s).await;
    assert_eq!(a.status, StatusCode::OK, "{}", a.text());
    let p = a.json();
    assert_eq!(p["outcome"], "update", "{p}");
    assert_eq!(p["from"], "1.0.0");
    assert_eq!(p["version"], "1.1.0");
    assert_eq!(p["tag"], "1.1.0");
    assert_eq!(p["digest"], v2);
    assert_eq!(p["widens"], true);
    assert_hostile_lines(&p["summary"]);
    // Without the pinned version, nothing is updated.
    let a = post(&f, &base, None, &s).await;
    assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
    // Pinned but not confirmed: 409 with the summary, the old version stays.
    let a = post(&f, &format!("{base}?tag=1.1.0&digest={v2}"), None, &s).await;
    assert_eq!(a.status, StatusCode::CONFLICT, "{}", a.text());
    assert!(a.text().contains("privileged"), "{}", a.text());
    let records = f.state.manager().state.list().unwrap();
    assert_eq!(records[0].version.as_deref(), Some("1.0.0"));
}
