//! Catalogs against a fake registry: what a cold and a cached run ask, the
//! latest compatible version, `_catalog` pages.
#![allow(clippy::unwrap_used)] // tests

use dockhand_host::catalog::CatalogOptions;

use dockhand_testkit::registry::{FakeRegistry, Response};

use crate::support::{Catalogs, client, platform_options};

fn labels<'a>(title: &'a str, api: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("org.opencontainers.image.title", title),
        ("org.opencontainers.image.vendor", "Acme"),
        ("org.opencontainers.image.description", "Does things"),
        ("com.docker.desktop.extension.api.version", api),
        ("com.docker.extension.categories", "utility-tools,volumes"),
    ]
}

#[tokio::test]
async fn cold_then_cached_then_refreshed() {
    let reg = FakeRegistry::start();
    reg.image("acme/ext", "1.0.0", &labels("Ext", ">= 0.2.0"));
    reg.image("acme/ext", "1.1.0", &labels("Ext 1.1", ">= 0.4.0"));
    reg.image("acme/ext", "2.0.0", &labels("Ext 2", ">= 9.0.0"));
    reg.image("acme/ext", "2.1.0-rc.1", &labels("Ext rc", ">= 0.1.0"));
    reg.image("acme/pinned", "0.1.0", &labels("Pinned", "0.3.3"));
    let tmp = tempfile::tempdir().unwrap();
    fs_err::write(
        tmp.path().join("team.txt"),
        format!("# team\n{0}/acme/ext\n{0}/acme/pinned:0.1.0\n", reg.host()),
    )
    .unwrap();
    let catalogs = Catalogs::open(
        tmp.path(),
        "[[catalog]]\nname = \"team\"\nfile = \"team.txt\"\n",
    );
    let options = platform_options();

    let cold = catalogs.list(&options).await;
    let ext = &cold.items[0];
    assert_eq!(ext.latest.as_deref(), Some("1.1.0"), "2.0.0 needs API 9");
    assert_eq!(ext.title, "Ext 1.1");
    assert!(ext.compatible);
    assert_eq!(ext.categories, ["utility-tools", "volumes"]);
    assert_eq!(cold.items[1].latest.as_deref(), Some("0.1.0"));
    assert!(cold.items[1].pinned);
    let log = reg.take_log();
    assert!(log.iter().all(|l| !l.contains("layer")), "{log:?}");
    let blobs = log.iter().filter(|l| l.contains("/blobs/")).count();
    assert_eq!(
        blobs, 3,
        "configs of 2.0.0, 1.1.0 and the pinned one: {log:?}"
    );

    // Cached: one HEAD per label lookup, nothing else.
    let cached = catalogs.list(&options).await;
    assert_eq!(cached.items, cold.items);
    let log = reg.take_log();
    assert!(
        log.iter()
            .all(|l| l.starts_with("HEAD ") && l.contains("/manifests/")),
        "{log:?}"
    );
    assert_eq!(log.len(), 3, "{log:?}");

    // --refresh lists the tags again, still no GET of a manifest or blob.
    let refresh = CatalogOptions {
        refresh: true,
        ..platform_options()
    };
    catalogs.list(&refresh).await;
    let log = reg.take_log();
    assert!(log.iter().any(|l| l.contains("/tags/list")), "{log:?}");
    assert!(
        log.iter()
            .all(|l| l.starts_with("HEAD ") || l.contains("/tags/list")),
        "{log:?}"
    );
}

#[tokio::test]
async fn a_moved_tag_is_read_again() {
    let reg = FakeRegistry::start();
    reg.image("acme/ext", "1.0.0", &labels("Old", ">= 0.2.0"));
    let tmp = tempfile::tempdir().unwrap();
    let catalogs = Catalogs::open(
        tmp.path(),
        &format!("[[catalog]]\nname = \"r\"\nurl = \"{}/acme\"\n", reg.host()),
    );
    reg.answer(
        "/v2/_catalog",
        Response::new(200).json(serde_json::json!({"repositories": ["acme/ext", "other/x"]})),
    );
    let options = platform_options();
    let first = catalogs.list(&options).await;
    assert_eq!(first.items.len(), 1, "other/x is outside the namespace");
    assert_eq!(first.items[0].title, "Old");
    reg.image("acme/ext", "1.0.0", &labels("New", ">= 0.2.0"));
    let again = catalogs.list(&options).await;
    assert_eq!(again.items[0].title, "New");
}

#[tokio::test]
async fn namespace_listing_follows_link_pages() {
    let reg = FakeRegistry::start();
    reg.image("acme/a", "1.0.0", &labels("A", ">= 0.2.0"));
    reg.image("acme/b", "1.0.0", &labels("B", ">= 0.2.0"));
    let page2 = "/v2/_catalog?last=acme%2Fa&n=1";
    let first = Response::new(200)
        .json(serde_json::json!({"repositories": ["acme/a"]}))
        .header("Link", format!("<{page2}>; rel=\"next\""));
    reg.answer("/v2/_catalog", first);
    reg.answer(
        page2,
        Response::new(200).json(serde_json::json!({"repositories": ["acme/b"]})),
    );
    let repos = client()
        .list_repositories(&reg.host(), "acme", 100)
        .await
        .unwrap();
    assert_eq!(repos, ["acme/a", "acme/b"]);
}

#[tokio::test]
async fn one_entry_with_its_details() {
    let reg = FakeRegistry::start();
    let mut l = labels("Ext", ">= 0.2.0");
    l.push((
        "com.docker.extension.screenshots",
        r#"[{"alt":"one","url":"https://example.com/1.png"}]"#,
    ));
    l.push(("com.docker.extension.publisher-url", "https://example.com"));
    l.push(("com.docker.extension.detailed-description", "<p>Hi</p>"));
    reg.image("acme/ext", "1.0.0", &l);
    let tmp = tempfile::tempdir().unwrap();
    fs_err::write(
        tmp.path().join("c.json"),
        format!(
            r#"{{"extensions": [{{"reference": "{}/acme/ext", "title": "Better title"}}]}}"#,
            reg.host()
        ),
    )
    .unwrap();
    let catalogs = Catalogs::open(tmp.path(), "[[catalog]]\nname = \"c\"\nfile = \"c.json\"\n");
    let item = catalogs
        .entry(&format!("{}/acme/ext", reg.host()))
        .await
        .unwrap();
    assert_eq!(item.title, "Better title");
    let d = item.details();
    assert_eq!(d.screenshots[0].alt, "one");
    assert_eq!(d.links[0].url, "https://example.com");
    assert_eq!(d.detailed_description.as_deref(), Some("<p>Hi</p>"));
}
