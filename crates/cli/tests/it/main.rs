//! Integration tests of the `dockhand` binary.

mod corpus;
mod examples;
mod oci;
mod support;
mod validate;
mod version;
