//! Integration tests of the `dockhand` binary.

mod support;
