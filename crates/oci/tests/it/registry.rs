//! The registry client against an in-process registry that misbehaves on
//! demand (`fake`), and against a real registry when one is configured
//! (`real`).

// Test support code (the fake registry, helpers) unwraps like the tests do.
#![allow(clippy::unwrap_used)]

mod helpers;
mod push;
mod real;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use dockhand_oci::Digest;
use dockhand_oci::registry::{
    Credential, CredentialSource, Manifest, ManifestKind, OCI_CONFIG, OCI_LAYER_GZIP, OCI_MANIFEST,
    RegistryClient, RegistryError, RegistryOptions, RequestKind, RetryPolicy, StaticCredentials,
};
use dockhand_testkit::registry::{Auth, Body, FakeRegistry, Request, Response};

/// A client with tiny retry delays.
pub fn client_with(attempts: u32, credentials: Arc<dyn CredentialSource>) -> RegistryClient {
    RegistryClient::new(RegistryOptions {
        retry: RetryPolicy {
            max_attempts: attempts,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        },
        credentials,
        connect_timeout: Duration::from_secs(2),
        read_timeout: Duration::from_secs(5),
        ..RegistryOptions::default()
    })
    .unwrap()
}

pub fn client(attempts: u32) -> RegistryClient {
    client_with(attempts, Arc::new(StaticCredentials::new()))
}

/// An OCI image manifest for one config and one layer.
pub fn image_manifest(config: &[u8], layer: &[u8]) -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "mediaType": OCI_MANIFEST,
        "config": {"mediaType": OCI_CONFIG, "digest": Digest::sha256_of(config), "size": config.len()},
        "layers": [{"mediaType": OCI_LAYER_GZIP, "digest": Digest::sha256_of(layer), "size": layer.len()}],
    })
    .to_string()
    .into_bytes()
}

/// Makes `reg` ask for basic auth as `bob` with the password `pw`.
pub fn require_basic(reg: &FakeRegistry) {
    reg.set(|s| {
        s.auth = Auth::Basic {
            user: "bob".into(),
            pass: "pw".into(),
        }
    });
}

/// Makes `reg` ask for a bearer token, given for `basic` (a user and a
/// password) or to anyone when `None`.
pub fn require_bearer(reg: &FakeRegistry, basic: Option<(&str, &str)>) {
    let basic = basic.map(|(user, pass)| (user.to_owned(), pass.to_owned()));
    reg.set(|s| s.auth = Auth::Bearer { basic });
}

/// Adds `acme/ext:1.0`, a manifest of the config `c` and the layer `l`.
pub fn add_ext(reg: &FakeRegistry) {
    reg.add_manifest("acme/ext", "1.0", OCI_MANIFEST, &image_manifest(b"c", b"l"));
}

/// Gets the manifest of `reference` (a name on `reg`) with `c`.
pub async fn get(
    c: &RegistryClient,
    reg: &FakeRegistry,
    reference: &str,
) -> Result<Manifest, RegistryError> {
    c.get_manifest(&reg.reference(reference)).await
}

/// Asserts `e` is [`RegistryError::Denied`] and its message ends with the
/// hint to run `docker login` for `reg`.
pub fn assert_denied_with_login_hint(e: &RegistryError, reg: &FakeRegistry) {
    assert!(matches!(e, RegistryError::Denied { .. }), "{e:?}");
    let hint = format!("run docker login {}", reg.host());
    assert!(e.to_string().ends_with(&hint), "{e}");
}

/// The request `reg` had at its token endpoint.
pub fn token_request(reg: &FakeRegistry) -> Request {
    reg.log()
        .into_iter()
        .find(|r| r.path() == "/token")
        .unwrap()
}

/// A client that logs in to `reg` as `username` with `password`.
fn basic_client(reg: &FakeRegistry, username: &str, password: &str) -> RegistryClient {
    let creds = StaticCredentials::new().with(
        &reg.host(),
        Credential::Basic {
            username: username.into(),
            password: password.into(),
        },
    );
    client_with(3, Arc::new(creds))
}

/// Answers every request whose path contains `part` with what `make` makes.
fn answer_paths(
    reg: &FakeRegistry,
    part: &'static str,
    make: impl Fn() -> Response + Send + Sync + 'static,
) {
    reg.hook(move |req| req.path().contains(part).then(&make));
}

/// Answers the first request whose path `matches` with what `make` makes
/// (the others as the fake does); returns the count of requests that
/// matched.
fn fail_first(
    reg: &FakeRegistry,
    matches: fn(&str) -> bool,
    make: fn() -> Response,
) -> Arc<AtomicUsize> {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    reg.hook(move |req| {
        (matches(req.path()) && seen.fetch_add(1, Ordering::SeqCst) == 0).then(make)
    });
    calls
}

/// Fetches the blob `d` of `acme/ext` on `reg` (declared `size` bytes)
/// into `sink` with `c`; the error it must end with.
async fn blob_fails(
    c: &RegistryClient,
    reg: &FakeRegistry,
    d: &Digest,
    size: u64,
    sink: &mut Vec<u8>,
) -> RegistryError {
    c.fetch_blob(&reg.reference("acme/ext"), d, size, sink)
        .await
        .unwrap_err()
}

/// Fetches the blob `d` of `acme/ext` on `reg` with `c`; its bytes.
async fn blob(c: &RegistryClient, reg: &FakeRegistry, d: &Digest, size: u64) -> Vec<u8> {
    let mut sink = Vec::new();
    c.fetch_blob(&reg.reference("acme/ext"), d, size, &mut sink)
        .await
        .unwrap();
    sink
}

#[tokio::test]
async fn reads_a_manifest_and_its_blobs() {
    let reg = FakeRegistry::start();
    let (config, layer) = (b"{\"os\":\"linux\"}".to_vec(), vec![7u8; 100_000]);
    reg.add_blob("acme/ext", &config);
    let layer_digest = reg.add_blob("acme/ext", &layer);
    let body = image_manifest(&config, &layer);
    let digest = reg.add_manifest("acme/ext", "1.0", OCI_MANIFEST, &body);
    let c = client(3);
    let r = reg.reference("acme/ext:1.0");

    let m = c.get_manifest(&r).await.unwrap();
    assert_eq!(m.media_type, OCI_MANIFEST);
    assert_eq!(m.digest, digest);
    let ManifestKind::Image(img) = m.parse().unwrap() else {
        panic!("expected an image manifest")
    };
    assert_eq!(img.layers[0].digest, layer_digest);

    let pinned = c
        .get_manifest(&r.with_digest(digest.clone()))
        .await
        .unwrap();
    assert_eq!(pinned.bytes, m.bytes);
    let head = c.head_manifest(&r).await.unwrap().unwrap();
    assert_eq!(head.digest, Some(digest));
    assert_eq!(head.size, Some(body.len() as u64));
    assert!(
        c.head_manifest(&reg.reference("acme/ext:nope"))
            .await
            .unwrap()
            .is_none()
    );

    let mut sink = Vec::new();
    let n = c
        .fetch_blob(&r, &layer_digest, layer.len() as u64, &mut sink)
        .await
        .unwrap();
    assert_eq!(n, layer.len() as u64);
    assert_eq!(sink, layer);
    assert!(c.head_blob(&r, &layer_digest).await.unwrap());
    assert!(!c.head_blob(&r, &Digest::sha256_of(b"other")).await.unwrap());

    let stats = c.stats().snapshot();
    assert_eq!(stats.requests_of(RequestKind::Manifest), 4);
    assert_eq!(stats.requests_of(RequestKind::Blob), 3);
    assert_eq!(stats.requests_of(RequestKind::Token), 0);
    assert_eq!(stats.bytes_received, (2 * body.len() + layer.len()) as u64);
    assert_eq!(reg.log().len() as u64, stats.total_requests());
}

#[tokio::test]
async fn unknown_things_have_helpful_errors() {
    let reg = FakeRegistry::start();
    add_ext(&reg);
    let c = client(3);
    let e = get(&c, &reg, "acme/ext:2.0").await.unwrap_err();
    assert!(matches!(e, RegistryError::ManifestUnknown { .. }), "{e:?}");
    assert_eq!(
        e.to_string(),
        format!(
            "{}/acme/ext:2.0: manifest unknown: check the tag or digest",
            reg.host()
        )
    );
    let d = Digest::sha256_of(b"x");
    let e = blob_fails(&c, &reg, &d, 1, &mut Vec::new()).await;
    assert!(matches!(e, RegistryError::BlobUnknown { .. }), "{e}");
    let e = c
        .list_tags(&reg.reference("acme/none"), 10)
        .await
        .unwrap_err();
    assert!(
        e.to_string()
            .ends_with("acme/none: repository unknown: check the name"),
        "{e}"
    );
}

#[tokio::test]
async fn blob_with_wrong_bytes_is_a_digest_mismatch() {
    let reg = FakeRegistry::start();
    let claimed = Digest::sha256_of(b"the real layer");
    reg.set(|s| {
        s.blobs.insert(
            ("acme/ext".into(), claimed.to_string()),
            b"a fake layer!!".to_vec(),
        );
    });
    let c = client(3);
    let e = blob_fails(&c, &reg, &claimed, 14, &mut Vec::new()).await;
    match &e {
        RegistryError::DigestMismatch {
            expected, actual, ..
        } => {
            assert_eq!(*expected, claimed);
            assert_eq!(*actual, Digest::sha256_of(b"a fake layer!!"));
        }
        other => panic!("expected DigestMismatch, got {other:?}"),
    }
    assert_eq!(
        reg.count("GET", "/v2/acme/ext/blobs/"),
        1,
        "bad content is not retried"
    );
}

#[tokio::test]
async fn manifest_with_wrong_digest_is_refused() {
    let reg = FakeRegistry::start();
    let body = image_manifest(b"c", b"l");
    reg.add_manifest("acme/ext", "1.0", OCI_MANIFEST, &body);
    let c = client(3);
    // Pinned to a digest the bytes do not have: the fake serves them under it.
    let wrong = Digest::sha256_of(b"something else");
    reg.set(|s| {
        s.manifests.insert(
            ("acme/ext".into(), wrong.to_string()),
            (OCI_MANIFEST.into(), body.clone()),
        );
    });
    let e = c
        .get_manifest(&reg.reference("acme/ext").with_digest(wrong))
        .await
        .unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e:?}");
    // A lying Docker-Content-Digest header.
    reg.hook(|req| {
        req.path().ends_with("/manifests/lies").then(|| {
            Response::new(200)
                .header("Content-Type", OCI_MANIFEST)
                .header(
                    "Docker-Content-Digest",
                    Digest::sha256_of(b"no").to_string(),
                )
                .body(image_manifest(b"c", b"l"))
        })
    });
    let e = get(&c, &reg, "acme/ext:lies").await.unwrap_err();
    assert!(matches!(e, RegistryError::DigestMismatch { .. }), "{e:?}");
}

#[tokio::test]
async fn a_body_cut_short_fails_after_the_retries() {
    let reg = FakeRegistry::start();
    let layer = vec![1u8; 50_000];
    let d = Digest::sha256_of(&layer);
    let cut = layer[..20_000].to_vec();
    answer_paths(&reg, "/blobs/", move || {
        Response::new(200).with_body(Body::Truncated {
            declared: 50_000,
            sent: cut.clone(),
        })
    });
    let c = client(3);
    let mut sink = Vec::new();
    let e = blob_fails(&c, &reg, &d, 50_000, &mut sink).await;
    assert!(e.is_retryable(), "a broken transfer is transient: {e:?}");
    assert_eq!(reg.count("GET", "/v2/acme/ext/blobs/"), 3);
    assert_eq!(c.stats().requests(RequestKind::Blob), 3);
    assert!(sink.len() <= 20_000, "each retry restarts the sink");
}

#[tokio::test]
async fn a_500_then_200_succeeds_after_one_retry() {
    let reg = FakeRegistry::start();
    let layer = b"layer bytes".to_vec();
    let d = reg.add_blob("acme/ext", &layer);
    let calls = fail_first(
        &reg,
        |path| path.contains("/blobs/"),
        || Response::new(500).body("boom"),
    );
    let c = client(3);
    let sink = blob(&c, &reg, &d, layer.len() as u64).await;
    assert_eq!(sink, layer);
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(c.stats().requests(RequestKind::Blob), 2);
}

#[tokio::test]
async fn a_4xx_is_not_retried() {
    let reg = FakeRegistry::start();
    answer_paths(&reg, "/manifests/", || Response::new(400).body("bad"));
    let c = client(5);
    let e = get(&c, &reg, "acme/ext:1").await.unwrap_err();
    assert!(
        matches!(e, RegistryError::Status { status: 400, .. }),
        "{e:?}"
    );
    assert_eq!(reg.count("GET", "/v2/acme/ext/manifests/"), 1);
    // 429 is retried.
    answer_paths(&reg, "/manifests/", || Response::new(429));
    let e = get(&c, &reg, "acme/ext:1").await.unwrap_err();
    assert!(
        matches!(e, RegistryError::Status { status: 429, .. }),
        "{e:?}"
    );
    assert_eq!(reg.count("GET", "/v2/acme/ext/manifests/"), 1 + 5);
}

#[tokio::test]
async fn a_never_ending_body_stops_at_the_size() {
    let reg = FakeRegistry::start();
    reg.hook(|req| {
        (req.path().contains("/blobs/") || req.path().contains("/manifests/"))
            .then(|| Response::new(200).with_body(Body::Endless(vec![0u8; 16 * 1024])))
    });
    let c = RegistryClient::new(RegistryOptions {
        max_manifest_bytes: 100_000,
        retry: RetryPolicy {
            max_attempts: 3,
            ..RetryPolicy::none()
        },
        ..RegistryOptions::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let mut sink = Vec::new();
    let d = Digest::sha256_of(b"x");
    let e = blob_fails(&c, &reg, &d, 1_000_000, &mut sink).await;
    assert!(
        matches!(
            e,
            RegistryError::TooLarge {
                limit: 1_000_000,
                ..
            }
        ),
        "{e:?}"
    );
    assert!(sink.len() <= 1_000_000);
    let e = get(&c, &reg, "acme/ext:1").await.unwrap_err();
    assert!(
        matches!(e, RegistryError::TooLarge { limit: 100_000, .. }),
        "{e:?}"
    );
    assert!(
        e.to_string()
            .contains("manifest 1 is larger than 100000 bytes"),
        "{e}"
    );
    assert_eq!(reg.count("GET", "/v2/"), 2, "too large is not retried");
    assert!(c.stats().bytes_received() < 1_200_000);
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_manifest_over_the_limit_is_refused_unread() {
    let reg = FakeRegistry::start();
    let big = format!(
        "{{\"schemaVersion\":2,\"pad\":\"{}\"}}",
        "x".repeat(5 * 1024 * 1024)
    );
    reg.add_manifest("acme/ext", "big", OCI_MANIFEST, big.as_bytes());
    let c = client(3);
    let e = get(&c, &reg, "acme/ext:big").await.unwrap_err();
    assert!(
        matches!(e, RegistryError::TooLarge { limit, .. } if limit == 4 * 1024 * 1024),
        "{e:?}"
    );
    assert!(
        c.stats().bytes_received() < 1024 * 1024,
        "stopped on Content-Length"
    );
}

#[tokio::test]
async fn bearer_tokens_are_fetched_once_and_reused() {
    let reg = FakeRegistry::start();
    require_bearer(&reg, Some(("alice", "s3cret")));
    add_ext(&reg);
    let c = basic_client(&reg, "alice", "s3cret");
    let r = reg.reference("acme/ext:1.0");
    c.get_manifest(&r).await.unwrap();
    c.get_manifest(&r).await.unwrap();
    let stats = c.stats();
    assert_eq!(stats.requests(RequestKind::Token), 1);
    // 401, then with the token, then straight with the cached token.
    assert_eq!(stats.requests(RequestKind::Manifest), 3);
    let token_req = token_request(&reg);
    assert_eq!(
        token_req.query("scope").as_deref(),
        Some("repository:acme/ext:pull")
    );
    assert_eq!(token_req.query("service").as_deref(), Some("fake"));
}

#[tokio::test]
async fn anonymous_bearer_tokens_work_too() {
    let reg = FakeRegistry::start();
    reg.set(|s| s.auth = Auth::Bearer { basic: None });
    add_ext(&reg);
    let c = client(3);
    get(&c, &reg, "acme/ext:1.0").await.unwrap();
    let token_req = token_request(&reg);
    assert_eq!(token_req.header("authorization"), None);
}

#[tokio::test]
async fn basic_auth_sends_credentials() {
    let reg = FakeRegistry::start();
    require_basic(&reg);
    add_ext(&reg);
    let c = basic_client(&reg, "bob", "pw");
    get(&c, &reg, "acme/ext:1.0").await.unwrap();
    get(&c, &reg, "acme/ext:1.0").await.unwrap();
    assert_eq!(
        c.stats().requests(RequestKind::Manifest),
        3,
        "one 401, then basic up front"
    );
}

#[tokio::test]
async fn refused_credentials_say_docker_login() {
    let reg = FakeRegistry::start();
    require_bearer(&reg, Some(("alice", "right")));
    let c = basic_client(&reg, "alice", "wrong");
    let e = get(&c, &reg, "acme/ext:1.0").await.unwrap_err();
    assert_denied_with_login_hint(&e, &reg);

    // Basic without credentials.
    require_basic(&reg);
    let e = get(&client(3), &reg, "acme/ext:1.0").await.unwrap_err();
    assert!(e.to_string().contains("docker login"), "{e}");
}

#[tokio::test]
async fn forbidden_is_denied_with_the_login_hint() {
    let reg = FakeRegistry::start();
    reg.hook(|req| {
        req.path().starts_with("/v2/acme").then(|| {
            Response::new(403).json(serde_json::json!(
                {"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}
            ))
        })
    });
    let c = client(3);
    let e = get(&c, &reg, "acme/ext:1.0").await.unwrap_err();
    assert_eq!(
        e.to_string(),
        format!(
            "{0}/acme/ext:1.0: denied: DENIED: requested access to the resource is denied: run docker login {0}",
            reg.host()
        )
    );
    assert_eq!(reg.count("GET", "/v2/acme"), 1, "denied is not retried");
}

/// A tag list of a repository the registry does not know is `NameUnknown`;
/// a registry without the catalog API answers its listing with a status
/// error naming the operation.
#[tokio::test]
async fn listings_answered_404() {
    let reg = FakeRegistry::start();
    let c = client(3);
    let e = c
        .list_tags(&reg.reference("acme/none"), 100)
        .await
        .unwrap_err();
    assert!(
        matches!(&e, RegistryError::NameUnknown { name } if name.ends_with("acme/none")),
        "{e:?}"
    );
    let e = c.list_repositories(&reg.host(), "", 100).await.unwrap_err();
    assert!(
        matches!(&e, RegistryError::Status { status: 404, what, .. } if what == "list repositories"),
        "{e:?}"
    );
}

#[tokio::test]
async fn tags_follow_links_across_pages() {
    let reg = FakeRegistry::start();
    let all: Vec<String> = (1..=7).map(|i| format!("v{i}")).collect();
    reg.set(|s| {
        s.tags.insert("acme/ext".into(), all.clone());
        s.page_size = Some(3);
    });
    let c = client(3);
    let r = reg.reference("acme/ext");
    assert_eq!(c.list_tags(&r, 100).await.unwrap(), all);
    assert_eq!(c.stats().requests(RequestKind::Tags), 3);
    assert_eq!(c.list_tags(&r, 4).await.unwrap(), all[..4]);
    assert_eq!(
        c.stats().requests(RequestKind::Tags),
        5,
        "stops when it has enough"
    );
}

#[tokio::test]
async fn tags_follow_absolute_links() {
    let reg = FakeRegistry::start();
    let addr = reg.host();
    reg.hook(move |req| {
        if !req.path().ends_with("/tags/list") {
            return None;
        }
        let page = req.query("page").unwrap_or_default();
        let (tags, next) = match page.as_str() {
            "" => (vec!["a"], Some("2")),
            "2" => (vec!["b"], Some("3")),
            _ => (vec!["c"], None),
        };
        let mut resp = Response::new(200).json(serde_json::json!({"tags": tags}));
        if let Some(n) = next {
            resp = resp.header(
                "Link",
                format!(r#"<http://{addr}/v2/acme/ext/tags/list?page={n}>; rel="next""#),
            );
        }
        Some(resp)
    });
    let c = client(3);
    assert_eq!(
        c.list_tags(&reg.reference("acme/ext"), 100).await.unwrap(),
        ["a", "b", "c"]
    );
}

#[tokio::test]
async fn a_link_loop_or_endless_pages_stop() {
    let reg = FakeRegistry::start();
    reg.hook(|req| {
        let p = req.query("p").unwrap_or_else(|| "0".into());
        let link = if req.path().contains("loop") {
            // The first page → ?p=1 → the first page again → …
            if p == "0" {
                format!("{}?p=1", req.path())
            } else {
                req.path().to_owned()
            }
        } else {
            format!("{}?p={}", req.path(), p.parse::<u64>().unwrap() + 1)
        };
        Some(
            Response::new(200)
                .json(serde_json::json!({"tags": [format!("t{p}")]}))
                .header("Link", format!(r#"<{link}>; rel="next""#)),
        )
    });
    let c = client(3);
    let tags = c
        .list_tags(&reg.reference("acme/loop"), 1000)
        .await
        .unwrap();
    assert_eq!(tags, ["t0", "t1"]);
    let tags = c
        .list_tags(&reg.reference("acme/endless"), 10_000)
        .await
        .unwrap();
    assert_eq!(tags.len(), dockhand_oci::registry::MAX_TAG_PAGES);
}

#[tokio::test]
async fn blob_redirects_do_not_carry_the_token() {
    let storage = FakeRegistry::start();
    let layer = b"stored elsewhere".to_vec();
    let d = storage.add_blob("store", &layer);
    let reg = FakeRegistry::start();
    reg.set(|s| s.auth = Auth::Bearer { basic: None });
    let target = format!("http://{}/v2/store/blobs/{d}", storage.host());
    reg.hook(move |req| {
        (req.path().contains("/blobs/") && req.header("authorization").is_some())
            .then(|| Response::new(307).header("Location", target.clone()))
    });
    let c = client(3);
    let sink = blob(&c, &reg, &d, layer.len() as u64).await;
    assert_eq!(sink, layer);
    let at_storage = storage.log();
    assert_eq!(at_storage.len(), 1);
    assert_eq!(at_storage[0].header("authorization"), None);
}

#[tokio::test]
async fn a_stalled_body_times_out_and_is_retried() {
    let reg = FakeRegistry::start();
    answer_paths(&reg, "/blobs/", || {
        Response::new(200).with_body(Body::Stall {
            declared: 1000,
            sent: vec![1; 10],
        })
    });
    let c = RegistryClient::new(RegistryOptions {
        read_timeout: Duration::from_millis(200),
        retry: RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(1),
        },
        ..RegistryOptions::default()
    })
    .unwrap();
    let started = std::time::Instant::now();
    let d = Digest::sha256_of(b"x");
    let e = blob_fails(&c, &reg, &d, 1000, &mut Vec::new()).await;
    assert!(e.is_retryable(), "{e:?}");
    assert_eq!(reg.count("GET", "/v2/acme/ext/blobs/"), 2);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried() {
    let reg = FakeRegistry::start();
    reg.set(|s| s.auth = Auth::Bearer { basic: None });
    add_ext(&reg);
    fail_first(&reg, |path| path == "/token", || Response::new(502));
    let c = client(3);
    get(&c, &reg, "acme/ext:1.0").await.unwrap();
    assert_eq!(c.stats().requests(RequestKind::Token), 2);
}
