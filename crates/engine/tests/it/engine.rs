//! The Engine API basics against the real engine: ping, version, lists by
//! label, and errors that name a missing container.

use dockhand_engine::{Engine, EngineError, resolve_host};
use futures_util::StreamExt;

use crate::support::{engine_host, extension_label, unique_id};

#[tokio::test(flavor = "multi_thread")]
async fn ping_version_and_empty_lists() {
    let Some(host) = engine_host("ping_version_and_empty_lists") else {
        return;
    };
    // DOCKER_HOST wins over any context, as with the docker CLI.
    let config = tempfile::tempdir().expect("temp dir");
    let resolved =
        resolve_host(Some(&host.to_string()), Some("elsewhere"), config.path()).expect("resolves");
    assert_eq!(resolved, host);

    let engine = Engine::connect(&host).await.expect("connect");
    engine.ping().await.expect("ping");
    let v = engine.version().await.expect("version");
    assert!(!v.version.is_empty() && !v.api_version.is_empty(), "{v:?}");
    assert_eq!(v.os, "linux");
    assert_eq!(v.flavor, engine.flavor(), "{v:?}");

    let label = extension_label(&unique_id("nothing"));
    assert!(
        engine
            .containers_by_label(&label)
            .await
            .expect("ls")
            .is_empty()
    );
    assert!(
        engine
            .networks_by_label(&label)
            .await
            .expect("ls")
            .is_empty()
    );
    assert!(
        engine
            .volumes_by_label(&label)
            .await
            .expect("ls")
            .is_empty()
    );
    assert_eq!(
        engine.remove_containers_by_label(&label).await.expect("rm"),
        0
    );
    assert_eq!(
        engine.remove_networks_by_label(&label).await.expect("rm"),
        0
    );
    assert_eq!(engine.remove_volumes_by_label(&label).await.expect("rm"), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_container_is_named() {
    let Some(host) = engine_host("a_missing_container_is_named") else {
        return;
    };
    let engine = Engine::connect(&host).await.expect("connect");
    let name = "dockhand-it-no-such-container";
    let e = engine.start_container(name).await.unwrap_err();
    assert!(
        matches!(&e, EngineError::NoSuchContainer(n) if n == name),
        "{e:?}"
    );
    let e = engine.stop_container(name, None).await.unwrap_err();
    assert!(matches!(e, EngineError::NoSuchContainer(_)), "{e:?}");
    let e = engine
        .exec(name, vec!["true".into()], vec![], None)
        .await
        .unwrap_err();
    assert!(matches!(e, EngineError::NoSuchContainer(_)), "{e:?}");
    assert!(e.to_string().contains(name), "{e}");
    let logs: Vec<_> = engine.logs(name, false, None).collect().await;
    assert!(
        matches!(logs.as_slice(), [Err(EngineError::NoSuchContainer(_))]),
        "{logs:?}"
    );
}
