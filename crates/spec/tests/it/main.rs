//! Integration tests of dockhand-spec against the shared corpus of real
//! extensions (`../shared/corpus`; skipped with a message when absent).

mod corpus;
mod diagnostics_doc;
mod dockerfile_corpus;
mod schema;
