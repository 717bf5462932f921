//! Integration tests of dockhand-server: the router driven in process with
//! `tower::ServiceExt::oneshot` over a temporary `$DOCKHAND_HOME`; the bridge
//! and the dashboard resources with a real backend on a unix socket, real
//! processes and, when `DOCKER_HOST` names one (`scripts/deps`), a real engine.

mod api;
mod blocking;
mod bridge;
mod bridge_limits;
mod bridge_support;
mod catalog;
mod consent;
mod dev;
mod dev_server;
mod engine;
mod engine_env;
mod page_errors;
mod relay;
mod sessions;
mod shutdown;
mod support;
mod ui;
mod updates;
mod ws;
