//! The ddClient bridge: the extension origin's `/.dockhand/api/…` routes
//! (`docs/bridge.md`, "Bridge").
//!
//! | route | module |
//! |---|---|
//! | `GET /.dockhand/api/info` | here |
//! | `POST /.dockhand/api/docker/exec`, `POST /.dockhand/api/host/exec` | [`exec`] |
//! | `POST /.dockhand/api/docker/containers`, `…/images` | [`docker`] |
//! | `POST /.dockhand/api/vm/request`, `POST /.dockhand/api/vm/exec` | [`vm`] |
//! | `GET /.dockhand/api/exec/ws` (WebSocket) | [`ws`] |
//! | `POST /.dockhand/api/page/error` | [`page`] |
//!
//! # What the server must provide (the adapter)
//!
//! [`routes`] is generic over the server's state `S` and needs:
//!
//! 1. `Arc<BridgeState>: FromRef<S>` — one [`BridgeState`] for the server's
//!    life, built with [`BridgeState::new`] from an [`EngineHandle`] (lazy or
//!    connected), the docker CLI resolved once with
//!    [`exec::resolve_program`]`(&manager.docker_cli, &manager.search_path)`,
//!    and the user's home (read at the edge, not here).
//! 2. `Caller: FromRequestParts<S>` — the calling extension, after the
//!    server checked the Host (`<slug>.localhost:PORT`) and the
//!    `dockhand_ext` cookie for that extension (reject with `421`/`401` as
//!    the contract says). Build it with [`Caller::new`]`(&layout,
//!    Arc<ExtensionRecord>, origin)`; `origin` is the extension's origin
//!    `http://<slug>.localhost:PORT`.
//!    Giving a `Caller` also means the `Origin` check passed: a `POST` or
//!    the WebSocket upgrade comes from [`CallerParts::origin`] (`403`
//!    otherwise; the server's session layer, [`crate::gate`], applies
//!    [`crate::auth::check_origin`] once, before any route). The routes do
//!    not check again.
//! 3. Nothing else: every bridge route reads its own body with the limit in
//!    [`Limits::max_body`] (so the router needs no `DefaultBodyLimit` for
//!    these routes).
//!
//! On shutdown call [`procs::Processes::kill_all`] on
//! `bridge_state.processes` (processes get SIGTERM, then SIGKILL after
//! [`Limits::kill_grace`]); when an extension is disabled or removed call
//! [`procs::Processes::kill_extension`],
//! [`pool::UnixPools::forget_under`]`(socket_dir)` and
//! [`relay::RelaySessions::forget`]`(id)`.
//!
//! The dashboard's engine routes live in [`crate::resources`] and need the
//! same `Arc<BridgeState>` plus `DashboardAccess: FromRequestParts<S>`: the
//! server's session check (cookie and page key; `Origin` on state-changing
//! methods and WebSocket upgrades), giving [`DashboardAccess::origin`], the
//! dashboard origin of the request. The `Origin` check of the terminal
//! WebSocket matters: extension pages (`<slug>.localhost`) are same-site
//! with `localhost` and would otherwise get the session cookie on a
//! WebSocket handshake.
//!
//! # Decisions beyond the contract
//!
//! - Limits: 16 processes per extension (`429`), 16 MiB of buffered output
//!   per extension for collected execs (`507`, the command is killed; a
//!   streaming exec is not buffered), 32 MiB request bodies (`413`) and
//!   backend answers (`502`); a `vm.service` call is cut after
//!   [`Limits::service_timeout`] (`504`, its connection closed; streaming
//!   execs are not cut), and its bodies count against the server-wide
//!   [`Budget`] of [`Limits::in_flight_bytes`] (`503` at once past it).
//! - A killed process reports `code` 128 + signal plus `"signal"` and
//!   `"killed": true` (collected answer and the WebSocket's `exit` message).
//! - Processes run in their own process group; a kill is SIGTERM to the
//!   group, SIGKILL after [`Limits::kill_grace`]. Local processes start in
//!   the user's home unless `cwd` says otherwise, with the server's
//!   environment plus `env`; the docker CLI gets the engine's `DOCKER_HOST`
//!   (and no `DOCKER_CONTEXT`), whatever `env` says.
//! - Host and vm execs split their arguments like docker execs (Docker
//!   Desktop does); a host binary's name is taken as is.
//! - Each streaming socket owns its process, so a tab's processes die with
//!   its sockets. A `vm` exec is ended from inside its container when the
//!   engine is local ([`dockhand_engine::Engine::kill_exec`]); otherwise
//!   only its streaming stops.

pub mod argv;
pub mod context;
pub mod docker;
pub mod exec;
pub mod page;
pub mod policy;
pub mod pool;
pub mod procs;
pub mod relay;
pub mod shared_map;
pub mod vm;
pub mod ws;

use std::sync::Arc;

use axum::extract::{FromRef, FromRequestParts};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;

pub use context::{
    BridgeJson, BridgeState, Budget, Caller, CallerParts, DashboardAccess, EngineHandle, Held,
    Limits,
};

/// The bridge's routes, for the extension origins (see the module docs for
/// what `S` must provide).
pub fn routes<S>() -> Router<S>
where
    S: Clone + Send + Sync + 'static,
    Arc<BridgeState>: FromRef<S>,
    Caller: FromRequestParts<S>,
{
    Router::new()
        .route("/.dockhand/api/info", get(info))
        .route("/.dockhand/api/docker/exec", post(exec::docker_exec))
        .route("/.dockhand/api/host/exec", post(exec::host_exec))
        .route("/.dockhand/api/docker/containers", post(docker::containers))
        .route("/.dockhand/api/docker/images", post(docker::images))
        .route("/.dockhand/api/vm/request", post(vm::vm_request))
        .route("/.dockhand/api/vm/exec", post(vm::vm_exec))
        .route("/.dockhand/api/exec/ws", get(ws::exec_ws))
        .route("/.dockhand/api/page/error", post(page::page_error))
}

/// Node's name of this machine's architecture (`x64`, `arm64`).
pub fn node_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x64",
        "aarch64" => "arm64",
        "x86" => "ia32",
        "arm" => "arm",
        "powerpc64" => "ppc64",
        "s390x" => "s390x",
        "riscv64" => "riscv64",
        other => other,
    }
}

/// This machine's host name.
pub fn hostname() -> String {
    rustix::system::uname()
        .nodename()
        .to_string_lossy()
        .into_owned()
}

/// `GET /.dockhand/api/info`.
pub async fn info(caller: Caller) -> Json<serde_json::Value> {
    let r = &caller.record;
    Json(json!({
        "extension": r.id.as_str(),
        "image": r.image,
        "host": {
            "platform": std::env::consts::OS,
            "arch": node_arch(),
            "hostname": hostname(),
        },
        "vm": r.backend.is_some(),
        "hostBinaries": r.host_binaries,
    }))
}
