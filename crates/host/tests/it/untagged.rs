//! Untagged references against a fake registry: the highest version whose
//! api.version the API satisfies (pre-releases only when asked, `latest`
//! only without version tags), refusals that name the versions and what
//! they need, the install path choosing among what the allow-list permits,
//! and catalog entries following the same rule.
#![allow(clippy::unwrap_used)] // tests

use dockhand_host::state::State;
use dockhand_host::update::CheckOptions;
use dockhand_host::update::untagged::{
    ChosenBy, ResolveError, ResolveOptions, parse_source, resolve,
};
use dockhand_host::{InstallError, Manager};
use dockhand_oci::Reference;

use dockhand_testkit::registry::FakeRegistry;

use crate::support::{self, Catalogs, client, platform_options};

const API: &str = "com.docker.desktop.extension.api.version";

fn options() -> ResolveOptions {
    ResolveOptions {
        check: CheckOptions {
            platform: "linux/amd64".parse().unwrap(),
            ..Default::default()
        },
        ignore_api_version: false,
    }
}

fn repo(reg: &FakeRegistry, name: &str) -> Reference {
    Reference::parse_loose(&format!("{}/{name}", reg.host())).unwrap()
}

/// `acme/ext`: 1.0.0, 1.1.0, 1.2.0 (needs API 9), 2.0.0-rc.1 and latest.
fn published() -> FakeRegistry {
    let reg = FakeRegistry::start();
    reg.image("acme/ext", "1.0.0", &[(API, ">= 0.3.0")]);
    reg.image("acme/ext", "1.1.0", &[(API, ">= 0.3.0")]);
    reg.image("acme/ext", "1.2.0", &[(API, ">= 9")]);
    reg.image("acme/ext", "2.0.0-rc.1", &[(API, ">= 0.4.0")]);
    reg.image("acme/ext", "latest", &[(API, ">= 0.3.0")]);
    reg
}

/// Publishes `acme/plain` (only `latest`) and `acme/beta` (only a
/// pre-release besides `latest`) on `reg`.
fn publish_without_versions(reg: &FakeRegistry) {
    reg.image("acme/plain", "latest", &[(API, ">= 0.3.0")]);
    reg.image("acme/beta", "1.0.0-rc.1", &[(API, ">= 0.3.0")]);
    reg.image("acme/beta", "latest", &[(API, ">= 0.3.0")]);
}

#[tokio::test]
async fn the_highest_compatible_version_without_a_layer_then_from_the_cache() {
    let reg = published();
    let tmp = tempfile::tempdir().unwrap();
    let state = State::open(&tmp.path().join("home")).unwrap();
    let ext = repo(&reg, "acme/ext");

    let r = resolve(&client(), &state, &ext, &options()).await.unwrap();
    assert_eq!(r.tag, "1.1.0");
    assert_eq!(r.by, ChosenBy::Version);
    assert_eq!(
        r.reference.to_string(),
        format!("{}/acme/ext:1.1.0", reg.host())
    );
    assert_eq!(
        r.passed,
        vec![("1.2.0".to_owned(), Some(">= 9".to_owned()))]
    );
    assert!(
        r.message(&options()).ends_with("; 1.2.0 needs `>= 9`)"),
        "{}",
        r.message(&options())
    );
    let log = reg.take_log();
    let blobs: Vec<&String> = log.iter().filter(|l| l.contains("/blobs/")).collect();
    assert_eq!(blobs.len(), 2, "the configs of 1.2.0 and 1.1.0: {log:?}");
    assert!(
        log.iter()
            .all(|l| !l.contains("2.0.0-rc.1") && !l.contains("latest")),
        "{log:?}"
    );

    // Again: the verdicts come from dockhand.db, no config is read.
    let again = resolve(&client(), &state, &ext, &options()).await.unwrap();
    assert_eq!(again.tag, "1.1.0");
    assert_eq!(again.counts.cached, 2);
    assert!(reg.take_log().iter().all(|l| !l.contains("/blobs/")));

    // --pre: the release candidate is the highest, and compatible.
    let mut pre = options();
    pre.check.pre = true;
    assert_eq!(
        resolve(&client(), &state, &ext, &pre).await.unwrap().tag,
        "2.0.0-rc.1"
    );
    // --ignore-api-version: the highest version, whatever it needs.
    let mut any = options();
    any.ignore_api_version = true;
    assert_eq!(
        resolve(&client(), &state, &ext, &any).await.unwrap().tag,
        "1.2.0"
    );
    // validate --api-version 9.0.0: the version made for it.
    let mut nine = options();
    nine.check.api = semver::Version::new(9, 0, 0);
    assert_eq!(
        resolve(&client(), &state, &ext, &nine).await.unwrap().tag,
        "1.2.0"
    );
}

#[tokio::test]
async fn latest_only_without_version_tags_and_refusals_say_what_to_do() {
    let reg = FakeRegistry::start();
    publish_without_versions(&reg);
    reg.image("acme/plain", "edge", &[(API, ">= 0.3.0")]);
    reg.image("acme/new", "1.0.0", &[(API, ">= 9")]);
    reg.image("acme/new", "v2.0.0", &[(API, ">= 10.1")]);
    reg.image("acme/new", "latest", &[(API, ">= 0.3.0")]);
    reg.image("acme/odd", "edge", &[]);
    let tmp = tempfile::tempdir().unwrap();
    let state = State::open(&tmp.path().join("home")).unwrap();
    let c = client();
    // Why `name` is refused with the default options.
    let refusal = async |name: &str| {
        resolve(&c, &state, &repo(&reg, name), &options())
            .await
            .unwrap_err()
    };

    let r = resolve(&c, &state, &repo(&reg, "acme/plain"), &options())
        .await
        .unwrap();
    assert_eq!((r.tag.as_str(), r.by), ("latest", ChosenBy::Latest));
    assert!(
        r.message(&options()).contains("no version tags"),
        "{}",
        r.message(&options())
    );
    // latest is not read: the install reads it.
    assert!(
        reg.take_log().iter().all(|l| !l.contains("/manifests/")),
        "only the tag list"
    );

    let e = refusal("acme/new").await;
    assert!(matches!(e, ResolveError::NoCompatible { .. }), "{e}");
    assert_eq!(
        e.to_string(),
        format!(
            "no version of {0}/acme/new works with extension API 0.4.2: v2.0.0 needs `>= 10.1`, 1.0.0 needs `>= 9`; name a version made for 0.4.2 ({0}/acme/new:TAG), or pass --ignore-api-version to install the highest (v2.0.0) anyway",
            reg.host()
        )
    );

    let e = refusal("acme/beta").await;
    assert!(
        e.to_string()
            .contains("acme/beta has only pre-release versions (1.0.0-rc.1): pass --pre"),
        "{e}"
    );
    let mut pre = options();
    pre.check.pre = true;
    let r = resolve(&c, &state, &repo(&reg, "acme/beta"), &pre)
        .await
        .unwrap();
    assert_eq!(r.tag, "1.0.0-rc.1");

    let e = refusal("acme/odd").await;
    assert!(
        e.to_string()
            .contains("acme/odd has no version tag (such as 1.0.0) and no `latest`: its tags are edge: name a tag"),
        "{e}"
    );
    let e = refusal("acme/missing").await;
    assert!(
        e.to_string().starts_with(&format!(
            "cannot list the versions of {}/acme/missing",
            reg.host()
        )),
        "{e}"
    );
}

async fn install(m: &Manager, reference: &str) -> Result<(), InstallError> {
    support::install(m, parse_source(reference).unwrap()).await
}

#[tokio::test]
async fn an_untagged_install_chooses_among_what_the_allow_list_permits() {
    let reg = published();
    let tmp = tempfile::tempdir().unwrap();
    let addr = &reg.host();
    let m = support::with_policy(
        tmp.path(),
        &format!("[allow]\nextensions = [\"{addr}/acme/ext:1.0.0\", \"{addr}/acme/old:0.9.0\"]\n"),
    );
    // Not listed at all: refused before the registry is asked anything.
    let e = install(&m, &format!("{addr}/acme/unknown"))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("acme/unknown is not listed"), "{e}");
    assert!(reg.take_log().is_empty());

    // Only 1.0.0 is permitted: that is what is fetched (the fake layer is no
    // tar, so the install stops while unpacking it).
    let e = install(&m, &format!("{addr}/acme/ext")).await.unwrap_err();
    assert!(!matches!(e, InstallError::NotAllowed { .. }), "{e}");
    let log = reg.take_log();
    assert!(
        log.iter().any(|l| l.contains("/acme/ext/manifests/1.0.0")),
        "{log:?}"
    );
    assert!(
        log.iter().all(|l| !l.contains("/manifests/1.1.0")),
        "{log:?}"
    );

    // Listed only at a version the registry does not have: the allow-list's word.
    reg.image("acme/old", "1.0.0", &[(API, ">= 0.3.0")]);
    let e = install(&m, &format!("{addr}/acme/old")).await.unwrap_err();
    assert!(matches!(e, InstallError::NotAllowed { .. }), "{e}");
    assert!(e.to_string().contains("acme/old:0.9.0"), "{e}");
}

#[tokio::test]
async fn catalog_entries_without_a_tag_follow_the_same_rule() {
    let reg = published();
    publish_without_versions(&reg);
    let tmp = tempfile::tempdir().unwrap();
    let addr = &reg.host();
    fs_err::write(
        tmp.path().join("team.txt"),
        format!("{addr}/acme/ext\n{addr}/acme/plain\n{addr}/acme/beta\n"),
    )
    .unwrap();
    let catalogs = Catalogs::open(
        tmp.path(),
        "[[catalog]]\nname = \"team\"\nfile = \"team.txt\"\n",
    );
    let listing = catalogs.list(&platform_options()).await;
    let items = &listing.items;
    assert_eq!(items[0].latest.as_deref(), Some("1.1.0"));
    assert_eq!(items[0].reference, format!("{addr}/acme/ext:1.1.0"));
    assert!(items[0].compatible);
    assert_eq!(items[1].latest.as_deref(), Some("latest"));
    let e = items[2].error.as_deref().unwrap_or_default();
    assert!(e.contains("only pre-release versions (1.0.0-rc.1)"), "{e}");
}
