//! Relay mode's client side: reaching the sockets in a backend's
//! `/run/guest-services` when the engine does not share this machine's
//! files (a VM, another machine), through the Engine API only.
//!
//! - [`session`](Relay): the multiplexer — many [`RelayStream`]s (each an
//!   `AsyncRead + AsyncWrite`, used where a `UnixStream` is in local mode)
//!   over one stream speaking `dockhand_relay::protocol`;
//! - `direct.rs`: that stream as a loopback TCP connection to the relay
//!   container's main process where this machine reaches it, else an exec
//!   ([`Engine::relay_open`](crate::Engine::relay_open), [`RelayIo`]);
//! - `exec.rs`: the exec of `dockhand-relay serve` in the relay container
//!   ([`Engine::relay_exec`](crate::Engine::relay_exec));
//! - `image.rs`: the relay's image, built by dockhand from the static
//!   binary for the engine's architecture and loaded through the API
//!   ([`Engine::ensure_relay_image`](crate::Engine::ensure_relay_image)).
//!
//! The protocol is documented in `docs/bridge.md` ("Relay protocol"), the
//! image in `docs/engines.md`.

mod direct;
mod exec;
mod image;
mod session;

#[cfg(test)]
mod tests;

pub use direct::{DirectError, RelayIo, RelayTransport};
pub use exec::{ExecIo, RELAY_BINARY, RELAY_SOCKET_DIR, StderrTail};
pub use image::{
    RELAY_ARCHES, RELAY_LABEL, RELAY_REPOSITORY, RelayBinaries, RelayImageError, relay_image_name,
    relay_image_tar,
};
pub use session::{Relay, RelayDriver, RelayError, RelayStream, RelayViolation};
