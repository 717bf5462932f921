//! An engine of an architecture dockhand ships no relay for: the VM engine
//! behind a proxy whose `/version` says `s390x`. The probe says remote, a
//! UI-only extension installs, a backend is refused with a message naming
//! the architecture and the fix, and nothing of it is left on the engine.

use super::*;
use crate::fault_engine::{FaultEngine, Rewrite};

#[test]
fn a_backend_on_an_engine_without_a_relay_for_its_architecture_is_refused() {
    let test = "a_backend_on_an_engine_without_a_relay_for_its_architecture_is_refused";
    let Some((env, vm, mut home)) = relay_test(test, Via::Unix, "relay-arch") else {
        return;
    };
    let real = PathBuf::from(
        vm.unix_host
            .strip_prefix("unix://")
            .expect("the VM engine's unix socket"),
    );
    let proxy = FaultEngine::rewriting(
        &home.dir.0,
        &real,
        Rewrite {
            path: "/version".to_owned(),
            from: r#""Arch":"amd64""#.to_owned(),
            to: r#""Arch":"s390x""#.to_owned(),
        },
    );
    home.engine_env = vec![("DOCKER_HOST", proxy.docker_host())];
    let version = home.json(&["version"]);
    assert_eq!(version["engine"]["mode"], "remote", "{version}");
    assert_eq!(version["engine"]["backends"], "relay", "{version}");

    // A UI needs no relay.
    let (ui, ui_id) = publish(&env, &example("minimal-ui"), false, &[]);
    home.ok(&["install", &ui, "-y"]);
    let (image, id) = publish(&env, &example("backend-image"), true, &[]);
    let e = home.fails(&["install", &image, "-y"]);
    assert!(
        e.contains("runs linux/s390x")
            && e.contains("ships its relay only for linux/amd64 and linux/arm64")
            && e.contains("local mode")
            && e.contains("dockhand-relay-s390x"),
        "{e}"
    );
    let listed = home.json(&["ls"]);
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0]["id"], ui_id.as_str(), "{listed:?}");
    home.ok(&["rm", &ui_id]);
    home.assert_nothing_left(&[&id]);
    assert_eq!(
        proxy.refused.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "the proxy only rewrote"
    );
}
