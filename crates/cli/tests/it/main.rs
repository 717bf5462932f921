//! Integration tests of the `dockhand` binary.

mod catalog;
mod catalog_browser;
mod corpus;
mod dashboard;
mod examples;
mod fault_engine;
mod lifecycle;
mod nonroot;
mod oci;
mod podman;
mod serve;
mod support;
mod validate;
mod version;
