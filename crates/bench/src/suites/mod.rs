//! The suites, one module each. A suite sets up what it measures, prints its
//! tables through the [`Report`] as each measurement finishes, and cleans up
//! after itself. To add one: a module here with a `run` function and an entry
//! in [`SUITES`].

pub mod bridge;
pub mod catalog;
pub mod compat;
pub mod install;
pub mod oci;
pub mod remote;
pub mod update;

use anyhow::Result;

use crate::measure::Plan;
use crate::table::Report;

/// What every suite is given.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Runs per timed measurement.
    pub plan: Plan,
}

/// A suite: its name on the command line, what it measures, what it needs.
#[derive(Debug)]
pub struct Suite {
    /// `dockhand-bench NAME`.
    pub name: &'static str,
    /// One line on what it measures.
    pub about: &'static str,
    /// The environment and tools it needs.
    pub needs: &'static str,
    /// Runs it.
    pub run: fn(&Options, &mut Report) -> Result<()>,
}

/// Every suite, in listing order.
pub const SUITES: &[Suite] = &[
    Suite {
        name: "oci",
        about: "pull vs skopeo, inspect cost, update delta, build reproducibility",
        needs: "DOCKHAND_TEST_REGISTRY (a registry on loopback), skopeo",
        run: oci::run,
    },
    Suite {
        name: "install",
        about: "install/rm (UI-only, backend) vs docker and compose CLIs, doctor with 20 extensions",
        needs: "DOCKER_HOST (a local engine), DOCKHAND_TEST_REGISTRY, docker, docker-compose, the dockhand binary",
        run: install::run,
    },
    Suite {
        name: "bridge",
        about: "serve + ddClient bridge: vm.service latency/throughput vs the socket and socat, docker exec, start-up, RSS, 1,000 concurrent calls",
        needs: "DOCKER_HOST (a local engine), DOCKHAND_TEST_REGISTRY, docker, socat, the dockhand binary",
        run: bridge::run,
    },
    Suite {
        name: "remote",
        about: "relay mode on the VM engine: vm.service through the relay vs local mode and the socket in the VM, throughput, 1,000 concurrent calls, install, relay RSS",
        needs: "DOCKER_HOST, the VM engine of scripts/deps vm (DOCKHAND_VM_*), DOCKHAND_TEST_REGISTRY, docker compose, curl, nsenter, the dockhand binary, target/relay (scripts/build-relay)",
        run: remote::run,
    },
    Suite {
        name: "update",
        about: "update --check of 20 installed extensions: total time cold and cached vs skopeo, bytes and requests per extension, layer requests",
        needs: "DOCKHAND_TEST_REGISTRY (a registry on loopback), the dockhand binary; skopeo for the baseline",
        run: update::run,
    },
    Suite {
        name: "catalog",
        about: "dockhand catalog of 50 entries (a registry namespace): cold vs cached time, requests and bytes",
        needs: "DOCKHAND_TEST_REGISTRY (a registry on loopback), the dockhand binary",
        run: catalog::run,
    },
    Suite {
        name: "compat",
        about: "the compatibility lab (scripts/compat) with warm caches: whole run and UI step, against its 5-minute budget",
        needs: "root (the lab installs as the dockhand-test user), ../shared/real-extensions, npm, chromium and chromedriver, DOCKER_HOST, DOCKHAND_TEST_REGISTRY",
        run: compat::run,
    },
];
