//! Integration tests of the `dockhand` binary.

mod backend_socket;
mod build;
mod catalog;
mod catalog_browser;
mod compat;
mod corpus;
mod dashboard;
mod dev;
mod dev_e2e;
mod engines;
mod examples;
mod fault_engine;
mod icons_browser;
mod init;
mod lifecycle;
mod nonroot;
mod oci;
mod plugin;
mod podman;
mod serve;
mod support;
mod terminal;
mod untagged;
mod update;
mod validate;
mod version;
