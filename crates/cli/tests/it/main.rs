//! Integration tests of the `dockhand` binary.

mod corpus;
mod examples;
mod support;
mod validate;
mod version;
