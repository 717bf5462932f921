//! What the host needs from an extension image, unpacked safely into a
//! staging directory: metadata.json, the icon, the UI root, the compose
//! file and the host binaries — nothing else.

use std::path::Path;

use dockhand_spec::{METADATA_MAX_BYTES, Metadata, Os};

use crate::source::ResolvedImage;
use crate::store::Store;
use crate::unpack::{
    LayerInput, Limits, Outcome, Selection, SelectionError, UnpackError, UnpackReport,
    lookup_top_down, unpack_layers,
};

/// Why an extension could not be extracted.
#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    /// The image has no metadata.json.
    #[error("{0} has no metadata.json at its root: it is not a Docker extension image")]
    NoMetadata(String),
    /// metadata.json does not parse.
    #[error("{image}: {source}")]
    BadMetadata {
        /// The image.
        image: String,
        /// Why.
        source: dockhand_spec::MetadataError,
    },
    /// A path metadata.json names cannot be selected.
    #[error("{0}")]
    Selection(#[from] SelectionError),
    /// A layer is hostile or broken.
    #[error(transparent)]
    Unpack(#[from] UnpackError),
}

/// Which host binaries to take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binaries {
    /// Linux entries only (what an install copies to the host).
    LinuxOnly,
    /// Every OS (what `validate` checks).
    All,
}

/// The layers of `image`, bottom first, as unpack inputs.
pub fn layer_inputs(store: &Store, image: &ResolvedImage) -> Vec<LayerInput> {
    image
        .manifest
        .layers
        .iter()
        .map(|l| LayerInput {
            digest: l.digest.clone(),
            media_type: l.media_type.clone(),
            path: store.blob_path(&l.digest),
        })
        .collect()
}

/// Reads metadata.json from the top layers, then unpacks the files it names
/// into `staging` (an existing empty directory).
pub fn extract_extension(
    store: &Store,
    image: &ResolvedImage,
    staging: &Path,
    binaries: Binaries,
    limits: &Limits,
) -> Result<(Metadata, UnpackReport), ExtractError> {
    let layers = layer_inputs(store, image);
    let name = image.top.digest.to_string();
    let found = lookup_top_down(&layers, "metadata.json", METADATA_MAX_BYTES as u64, limits)?;
    let Outcome::Found { bytes, .. } = found.outcome else {
        return Err(ExtractError::NoMetadata(name));
    };
    let metadata = Metadata::from_slice(&bytes).map_err(|source| ExtractError::BadMetadata {
        image: name,
        source,
    })?;
    let mut selection = Selection::new().file("metadata.json")?;
    if let Some(icon) = metadata.icon.as_deref().filter(|i| !i.trim().is_empty()) {
        selection.add(icon.trim_start_matches('/'))?;
    }
    if let Some(tab) = metadata.dashboard_tab() {
        if !tab.root_dir().is_empty() {
            selection = selection.dir(tab.root_dir())?;
        } else {
            selection = selection.dir("/")?;
        }
    }
    if let Some(compose) = metadata
        .vm
        .as_ref()
        .and_then(|vm| vm.composefile.as_deref())
    {
        selection.add(compose.trim_start_matches('/'))?;
    }
    let oses: &[Os] = match binaries {
        Binaries::LinuxOnly => &[Os::Linux],
        Binaries::All => &Os::ALL,
    };
    for os in oses {
        for bin in metadata.host_binaries(*os) {
            if bin.path.starts_with('/') && !bin.path.contains("..") {
                selection.add(bin.path.trim_start_matches('/'))?;
            }
        }
    }
    let report = unpack_layers(&layers, &selection, staging, limits)?;
    Ok((metadata, report))
}
