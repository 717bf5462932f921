//! An extension image unpacked into a temporary directory, for the commands
//! that check its files (`validate IMAGE`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use dockhand_host::acquire::AcquiredImage;
use dockhand_oci::Platform;
use dockhand_oci::extract::{Binaries, extract_extension};
use dockhand_oci::source::ImageSource;
use dockhand_oci::store::Store;
use dockhand_oci::unpack::Limits;
use dockhand_spec::Labels;

use crate::settings::{Settings, runtime};

/// A directory removed when dropped.
#[derive(Debug)]
pub struct Staging(PathBuf);

impl Staging {
    /// The directory.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

/// Fetches `source` for this host's platform, unpacks the files its
/// metadata.json names (host binaries of every OS) and returns the
/// directory and the image's labels.
pub fn unpack_for_validation(
    source: &ImageSource,
    settings: &Settings,
    insecure: &[String],
) -> Result<(Staging, Labels)> {
    let store = Store::open(settings.store_dir())?;
    let platform = Platform::host();
    let mut client = None;
    let acquirer = super::acquirer_for(source, &store, settings, &mut client, insecure)?;
    let AcquiredImage { top, image, .. } =
        runtime()?.block_on(acquirer.acquire_for(source, &platform, None))?;
    let dir = store.root().join("ingest").join(format!(
        "validate-{}-{}",
        std::process::id(),
        top.digest.short()
    ));
    let _ = fs_err::remove_dir_all(&dir);
    fs_err::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let staging = Staging(dir);
    extract_extension(
        &store,
        &image,
        staging.path(),
        Binaries::All,
        &Limits::default(),
    )
    .with_context(|| format!("unpacking {source}"))?;
    Ok((staging, Labels(image.config.labels())))
}
