//! `dockhand version`: dockhand's version, the extension API it implements,
//! and the engine it would use — where it is, how it was chosen, what it is,
//! and its mode (local: it sees this machine's files; remote: backends run
//! in relay mode, reached through their relay). The engine part never fails the command: an engine that
//! cannot be resolved or reached is reported as such.

use std::process::ExitCode;
use std::time::Duration;

use anyhow::Result;
use dockhand_engine::{Engine, EngineMode};
use serde::Serialize;

use crate::args::{Cli, VersionArgs};
use crate::settings::{Settings, runtime};

/// How long the engine part may take (an ssh or TCP engine that does not
/// answer would otherwise hold `version` for the connection timeout).
const ENGINE_TIMEOUT: Duration = Duration::from_secs(60);

#[derive(Serialize)]
struct VersionInfo {
    version: &'static str,
    api_version: &'static str,
    engine: EngineInfo,
}

/// The engine as `version --format json` reports it.
#[derive(Serialize, Default)]
struct EngineInfo {
    /// The `DOCKER_HOST` that names it (a TLS one as `tcp://`).
    host: Option<String>,
    /// `unix`, `tcp`, `tcp+tls` or `ssh`.
    kind: Option<&'static str>,
    /// Where its address came from (`DOCKER_HOST`, `docker context `x` (--context)`, …).
    source: Option<String>,
    /// True when it answered.
    reachable: bool,
    /// `Docker` or `Podman`.
    flavor: Option<String>,
    /// The engine's version.
    version: Option<String>,
    /// Its API version.
    api_version: Option<String>,
    /// `local` or `remote`.
    mode: Option<EngineMode>,
    /// Why.
    mode_reason: Option<String>,
    /// How backends are reached: `local` (their socket directories on this
    /// machine) or `relay` (remote mode: through their relay).
    backends: Option<&'static str>,
    /// True when the mode came from `$DOCKHAND_HOME/engines.json`.
    mode_cached: Option<bool>,
    /// The identity the mode is kept under.
    engine_id: Option<String>,
    /// Why the engine could not be resolved, reached or probed.
    error: Option<String>,
}

/// The mode as a person reads it.
pub fn mode_words(mode: EngineMode) -> &'static str {
    match mode {
        EngineMode::Local => "local",
        EngineMode::Remote => "remote, through the relay",
    }
}

async fn engine_info(settings: &Settings) -> EngineInfo {
    let mut info = EngineInfo {
        host: Some(settings.engine.to_string()),
        kind: Some(settings.engine.kind()),
        source: Some(settings.engine_source.to_string()),
        ..Default::default()
    };
    let engine = match Engine::connect(&settings.engine).await {
        Ok(engine) => engine,
        Err(e) => {
            info.error = Some(e.to_string());
            return info;
        }
    };
    info.reachable = true;
    match engine.version().await {
        Ok(v) => {
            info.flavor = Some(v.flavor.to_string());
            info.version = Some(v.version);
            info.api_version = Some(v.api_version);
        }
        Err(e) => info.error = Some(e.to_string()),
    }
    match dockhand_host::engine_mode::mode_of(&engine, &settings.home, &settings.runtime_dir, false)
        .await
    {
        Ok(report) => {
            info.mode = Some(report.mode);
            info.backends = Some(match report.mode {
                EngineMode::Local => "local",
                EngineMode::Remote => "relay",
            });
            info.mode_reason = Some(report.reason);
            info.mode_cached = Some(report.cached);
            info.engine_id = Some(report.engine_id);
        }
        Err(e) => info.error = Some(e.to_string()),
    }
    info
}

pub fn run(args: &VersionArgs, cli: &Cli) -> Result<ExitCode> {
    let engine = match Settings::resolve(cli) {
        Ok(settings) => runtime()?
            .block_on(async { tokio::time::timeout(ENGINE_TIMEOUT, engine_info(&settings)).await })
            .unwrap_or_else(|_| EngineInfo {
                host: Some(settings.engine.to_string()),
                kind: Some(settings.engine.kind()),
                source: Some(settings.engine_source.to_string()),
                error: Some(format!(
                    "the engine did not answer within {} s",
                    ENGINE_TIMEOUT.as_secs()
                )),
                ..Default::default()
            }),
        Err(e) => EngineInfo {
            error: Some(format!("{e:#}")),
            ..Default::default()
        },
    };
    let info = VersionInfo {
        version: env!("CARGO_PKG_VERSION"),
        api_version: dockhand_spec::API_VERSION,
        engine,
    };
    crate::output::report(args.format, &info, text)?;
    Ok(ExitCode::SUCCESS)
}

fn text(info: &VersionInfo) -> String {
    let mut out = format!(
        "dockhand {}\nExtension API {}\n",
        info.version, info.api_version
    );
    let e = &info.engine;
    let at = match (&e.host, &e.source) {
        (Some(host), Some(source)) => format!(" at {host} (from {source})"),
        (Some(host), None) => format!(" at {host}"),
        _ => String::new(),
    };
    if e.reachable {
        out.push_str(&format!(
            "Engine: {} {} (API {}){at}\n",
            e.flavor.as_deref().unwrap_or("?"),
            e.version.as_deref().unwrap_or("?"),
            e.api_version.as_deref().unwrap_or("?"),
        ));
    } else {
        out.push_str(&format!("Engine: not reachable{at}\n"));
    }
    if let (Some(mode), Some(reason)) = (e.mode, &e.mode_reason) {
        out.push_str(&format!("Mode: {}: {reason}\n", mode_words(mode)));
    }
    if let Some(error) = &e.error {
        out.push_str(&format!("Error: {error}\n"));
    }
    out.trim_end().to_owned()
}
