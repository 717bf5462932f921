//! Integration tests of dockhand-server: the router driven in process with
//! `tower::ServiceExt::oneshot`, over a temporary `$DOCKHAND_HOME`.

mod api;
mod sessions;
mod support;
mod ui;
