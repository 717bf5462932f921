//! The content store: an OCI image layout on disk.
