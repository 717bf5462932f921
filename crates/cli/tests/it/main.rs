//! Integration tests of the `dockhand` binary.

mod corpus;
mod examples;
mod oci;
mod podman;
mod support;
mod validate;
mod version;
