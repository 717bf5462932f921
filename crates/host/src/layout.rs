//! Where dockhand keeps things on disk (see DESIGN.md, "Data on disk").
//!
//! ```text
//! $DOCKHAND_HOME/store/                         the content store (OCI layout)
//! $DOCKHAND_HOME/extensions/<fs-id>/<digest>/   one installed version:
//!     root/        what the host needs from the image (metadata.json, icon, UI, compose file)
//!     host/        this OS's host binaries, 0755, by file name
//!     vm/          the compose file dockhand runs and its override
//!     labels.json  the image labels
//! $DOCKHAND_HOME/extensions/<fs-id>/current     symlink to the active version
//! $DOCKHAND_HOME/dockhand.db                    state and journal
//! $RUNTIME/dockhand/<short>/                    the backend's socket dir (short: a unix socket
//!                                               path must fit in 108 bytes)
//! ```

use std::path::{Path, PathBuf};

use dockhand_oci::Digest;
use dockhand_spec::ExtensionId;
use sha2::{Digest as _, Sha256};

/// The label naming the `$DOCKHAND_HOME` a container belongs to.
pub const HOME_LABEL: &str = "dev.dockhand.home";

/// The directories dockhand uses.
#[derive(Debug, Clone)]
pub struct Layout {
    /// `$DOCKHAND_HOME`.
    pub home: PathBuf,
    /// A short per-user runtime directory (`$XDG_RUNTIME_DIR`, else `/tmp/dockhand-<uid>`).
    pub runtime: PathBuf,
}

impl Layout {
    /// The content store.
    pub fn store(&self) -> PathBuf {
        self.home.join("store")
    }

    /// All extensions.
    pub fn extensions(&self) -> PathBuf {
        self.home.join("extensions")
    }

    /// One extension's directory.
    pub fn extension(&self, id: &ExtensionId) -> PathBuf {
        self.extensions().join(id.fs_name())
    }

    /// One installed version's directory.
    pub fn version(&self, id: &ExtensionId, digest: &Digest) -> PathBuf {
        self.extension(id)
            .join(format!("{}-{}", digest.algorithm().name(), digest.hex()))
    }

    /// The `current` symlink of an extension.
    pub fn current(&self, id: &ExtensionId) -> PathBuf {
        self.extension(id).join("current")
    }

    /// The value of [`HOME_LABEL`] on this home's containers: which
    /// `$DOCKHAND_HOME` started them, so that doctor only ever cleans up its own.
    pub fn home_id(&self) -> String {
        let hash = Sha256::digest(self.home.to_string_lossy().as_bytes());
        hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
    }

    /// The backend's socket directory, bind-mounted at `/run/guest-services`:
    /// one per home and extension, so two homes of one user never share it.
    pub fn socket_dir(&self, id: &ExtensionId) -> PathBuf {
        let hash = Sha256::digest(format!("{}/{id}", self.home_id()).as_bytes());
        let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
        self.runtime.join("dockhand").join(short)
    }

    /// The label filter of this home's containers, networks and volumes of
    /// `id`: the extension's label and this home's, both (another home's
    /// install of the same extension carries another home label).
    pub fn owner_label(&self, id: &ExtensionId) -> String {
        owner_label(&self.home_id(), id)
    }
}

/// The label filter of home `home_id`'s resources of extension `id`.
pub fn owner_label(home_id: &str, id: &ExtensionId) -> String {
    format!(
        "{}={id},{HOME_LABEL}={home_id}",
        dockhand_engine::EXTENSION_LABEL
    )
}

/// 12 hex digits of the id's sha256: short, stable, collision-safe enough
/// for one user's extensions.
pub fn short_name(id: &ExtensionId) -> String {
    let hash = Sha256::digest(id.as_str().as_bytes());
    hash.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// Points `link` at `target` atomically (a new link renamed over the old).
pub fn switch_symlink(link: &Path, target: &Path) -> std::io::Result<()> {
    let tmp = link.with_extension(format!("switch-{}", std::process::id()));
    let _ = fs_err::remove_file(&tmp);
    let rel = target
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| target.to_path_buf());
    fs_err::os::unix::fs::symlink(&rel, &tmp)?;
    fs_err::rename(&tmp, link)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_short_and_stable() {
        let layout = Layout {
            home: "/h".into(),
            runtime: "/run/user/1000".into(),
        };
        let id = ExtensionId::parse("docker/volumes-backup-extension").unwrap();
        let sock = layout
            .socket_dir(&id)
            .join("extension-secretscanner-docker-extension.sock");
        assert!(sock.as_os_str().len() < 100, "{}", sock.display());
        assert_eq!(
            layout.extension(&id),
            PathBuf::from("/h/extensions/docker_volumes-backup-extension")
        );
        assert_eq!(short_name(&id), short_name(&id));
    }

    #[test]
    fn switch_is_atomic_replace() {
        let dir = std::env::temp_dir().join(format!("dh-switch-{}", std::process::id()));
        let _ = fs_err::remove_dir_all(&dir);
        fs_err::create_dir_all(dir.join("v1")).unwrap();
        fs_err::create_dir_all(dir.join("v2")).unwrap();
        let link = dir.join("current");
        switch_symlink(&link, &dir.join("v1")).unwrap();
        switch_symlink(&link, &dir.join("v2")).unwrap();
        assert_eq!(fs_err::read_link(&link).unwrap(), PathBuf::from("v2"));
        fs_err::remove_dir_all(&dir).unwrap();
    }
}
