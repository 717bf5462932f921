//! dockhand-relay: reaches the unix sockets of an extension's backend for a
//! dockhand whose engine does not share its files (a VM, another machine).
//!
//! The relay runs in a helper container of the extension's compose project
//! with the extension's `/run/guest-services` volume mounted, on the network
//! of the engine's host. A session is one byte stream over which dockhand
//! multiplexes every connection to a backend socket: a loopback TCP
//! connection to the container's main process (`dockhand-relay listen`)
//! where dockhand can reach it, otherwise an exec of `dockhand-relay serve`
//! through the Engine API with stdin and stdout attached and no TTY ([`protocol`], documented in
//! `docs/bridge.md`, "Relay protocol").
//!
//! - [`protocol`]: frames, their encoding, the handshake (pure; the client in
//!   `dockhand-engine` uses it too);
//! - [`name`]: socket names confined to the socket directory;
//! - [`mod@serve`]: the one-thread, non-blocking loop (mio) between the stream
//!   and the sockets;
//! - [`ticket`] and [`listen`]: the direct transport — the container's main
//!   process (`dockhand-relay listen`) on a loopback TCP port of the
//!   engine's host, each connection authenticated with the token of the
//!   ticket it printed to its log, then served as an exec session is. A
//!   client that cannot reach the port uses the exec.
//!
//! The binary is linked statically (musl) and put in a one-layer image by
//! dockhand itself (`dockhand-engine`'s `relay::image`).

pub mod listen;
pub mod name;
pub mod protocol;
pub mod serve;
pub mod ticket;

pub use listen::{ListenError, ListenOptions, Listener};
pub use serve::{Ended, Options, ServeError, serve};
