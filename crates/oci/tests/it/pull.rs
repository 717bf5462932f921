//! Pulling into the content store, inspecting and pushing, against the fake
//! registry of the client's tests (`registry::fake`): a failed pull names
//! the registry, repository and digest and leaves no bad blob, no temp file
//! and no tag behind; an update fetches only what changed; inspect reads
//! only the top layer; push skips, mounts, and writes the tag last.

// Test support code unwraps like the tests do.
#![allow(clippy::unwrap_used)]

mod failures;
mod fixture;
mod indexes;
mod inspect;
mod push;
mod size;
mod success;

use fixture::{Image, layer, noise};

/// A small three-layer extension image: a backend, the UI, metadata.json on
/// top; `version` goes into a label and into metadata.json.
fn extension(platform: &dockhand_oci::Platform, version: &str) -> Image {
    let metadata = format!(r#"{{"icon":"icon.svg","version":"{version}"}}"#);
    Image::new(
        platform,
        &[
            ("org.opencontainers.image.title", "Ext"),
            ("org.opencontainers.image.version", version),
            ("com.docker.desktop.extension.api.version", ">= 0.3.0"),
        ],
        vec![
            layer(&[("backend/server", &noise(1, 40_000))]),
            layer(&[("ui/index.html", b"<html>hello</html>")]),
            layer(&[("metadata.json", metadata.as_bytes())]),
        ],
    )
}
