//! Integration tests of dockhand-server: the bridge and the dashboard
//! resources through the router, with a real backend on a unix socket, real
//! processes and, when `DOCKER_HOST` names one (`scripts/deps`), a real engine.

mod bridge;
mod engine;
mod support;
mod ws;
