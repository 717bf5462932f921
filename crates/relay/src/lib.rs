//! dockhand-relay: reaches the unix sockets of an extension's backend for a
//! dockhand whose engine does not share its files (a VM, another machine).
//!
//! The relay runs in a helper container of the extension's compose project
//! with the extension's `/run/guest-services` volume mounted. Its main
//! process idles (`dockhand-relay idle`); dockhand starts one
//! `dockhand-relay serve` per session through the Engine API's exec, with
//! stdin and stdout attached and no TTY, and multiplexes every connection
//! to a backend socket over that one stream ([`protocol`], documented in
//! `docs/bridge.md`, "Relay protocol").
//!
//! - [`protocol`]: frames, their encoding, the handshake (pure; the client in
//!   `dockhand-engine` uses it too);
//! - [`name`]: socket names confined to the socket directory;
//! - [`serve`]: the one-thread, non-blocking loop (mio) between the stream
//!   and the sockets.
//!
//! The binary is linked statically (musl) and put in a one-layer image by
//! dockhand itself (`dockhand-engine`'s `relay::image`).

pub mod name;
pub mod protocol;
pub mod serve;

pub use serve::{Ended, Options, ServeError, serve};
