//! Integration tests of dockhand-oci.

/// Asserts that `result` (an unpack, a build) failed with an error matching
/// `pattern` (an optional `if` guard included; bindings are references),
/// and gives the error back for further checks.
macro_rules! assert_refused {
    ($result:expr, $($pattern:tt)+) => {{
        let err = $result.expect_err("it must be refused");
        assert!(matches!(&err, $($pattern)+), "{err}");
        err
    }};
}

mod build;
mod pull;
mod reference;
mod registry;
mod store;
mod unpack;
