//! The engines of `scripts/deps` as the engine crate names them: the main
//! one (`DOCKER_HOST`) and the "VM" engine of `scripts/deps vm` (a dockerd in
//! its own mount namespace, over TLS), and the relay binaries that
//! relay-mode tests install on it.

use std::path::PathBuf;
use std::process::Command;

use dockhand_engine::{EngineHost, EngineRequest, RelayBinaries, TlsRequest, resolve_engine};

use crate::env::require_var;
use crate::examples::repo_root;

/// The main engine of `scripts/deps` (`DOCKER_HOST`), or `None` after
/// [`skip`](crate::env::skip)ping when it is unset.
pub fn engine_host(test: &str) -> Option<EngineHost> {
    require_var(
        test,
        "DOCKER_HOST",
        "no engine from scripts/deps (DOCKER_HOST is unset; `. .state/deps/env` sets it)",
    )
    .map(|h| h.parse().expect("DOCKER_HOST parses"))
}

/// The VM engine over TLS, or `None` after [`skip`](crate::env::skip)ping
/// (a failure under `DOCKHAND_REQUIRE_ENV=1`) when `scripts/deps vm` has
/// not run.
pub fn vm_tls_host(test: &str) -> Option<EngineHost> {
    let host = require_var(
        test,
        "DOCKHAND_VM_TLS_HOST",
        "no VM engine from `scripts/deps vm` (DOCKHAND_VM_TLS_HOST unset)",
    )?;
    let certs = require_var(
        test,
        "DOCKHAND_VM_CERT_PATH",
        "no VM engine certificates (DOCKHAND_VM_CERT_PATH unset)",
    )?;
    let request = EngineRequest {
        host_env: Some(host),
        config_dir: PathBuf::from("/nonexistent/docker-config"),
        tls: TlsRequest {
            verify: true,
            cert_path: Some(PathBuf::from(certs)),
            ..Default::default()
        },
        ..Default::default()
    };
    Some(
        resolve_engine(&request)
            .expect("the VM engine resolves")
            .host,
    )
}

/// The relay binaries `scripts/build-relay` writes under `target/relay`
/// (built for amd64 when missing).
pub fn relay_binaries() -> RelayBinaries {
    let root = repo_root();
    let dir = root.join("target/relay");
    if !dir.join("dockhand-relay-amd64").is_file() {
        let status = Command::new(root.join("scripts/build-relay"))
            .arg("amd64")
            .status()
            .expect("scripts/build-relay runs");
        assert!(status.success(), "scripts/build-relay failed");
    }
    RelayBinaries { dir }
}
