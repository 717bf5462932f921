//! The registry client (distribution API): manifests, blobs, tags, push, auth.
