//! Local or remote mode for the manager ([`dockhand_engine::EngineMode`]):
//! the probe runs in the directory backends' socket directories are made in
//! (`<runtime>/dockhand`, private to the user), its answer is kept in
//! `$DOCKHAND_HOME/engines.json`, and [`uses_relay`] is the one choice made
//! on it: a backend on an engine in remote mode is reached through its relay
//! (relay mode, [`crate::relay`]).

use std::path::{Path, PathBuf};

use dockhand_engine::{Engine, EngineMode, ModeOptions, ModeReport};

use crate::InstallError;

/// The cache file's name in `$DOCKHAND_HOME`.
pub const MODE_CACHE: &str = "engines.json";

/// The directory the probe uses: where socket directories are made
/// (`<runtime>/dockhand`), created private like them.
pub fn probe_dir(runtime: &Path) -> Result<PathBuf, InstallError> {
    let dir = runtime.join("dockhand");
    crate::private_dir::ensure(runtime)
        .and_then(|()| crate::private_dir::ensure(&dir))
        .map_err(|e| InstallError::SocketDir(e.into()))?;
    Ok(dir)
}

/// The mode of `engine` for a dockhand whose home is `home` and whose
/// runtime directory is `runtime`: cached, unless `refresh`.
pub async fn mode_of(
    engine: &Engine,
    home: &Path,
    runtime: &Path,
    refresh: bool,
) -> Result<ModeReport, InstallError> {
    let dir = probe_dir(runtime)?;
    let cache = home.join(MODE_CACHE);
    engine
        .mode(&ModeOptions {
            dir: &dir,
            cache: Some(&cache),
            refresh,
        })
        .await
        .map_err(|e| InstallError::EngineMode {
            host: engine.host().describe(),
            error: Box::new(e),
        })
}

/// Whether backends on `engine` are reached through the relay (relay mode):
/// the engine's mode for the home and runtime directory of `layout`, from
/// the cache when it has one, is remote. The manager and the server (for
/// `vm.service`) both decide with this.
pub async fn uses_relay(
    engine: &Engine,
    layout: &crate::layout::Layout,
) -> Result<bool, InstallError> {
    let report = mode_of(engine, &layout.home, &layout.runtime, false).await?;
    Ok(report.mode == EngineMode::Remote)
}
