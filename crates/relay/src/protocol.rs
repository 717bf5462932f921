//! The relay protocol: frames, their encoding, and the handshake. Pure: no
//! I/O, shared by the relay and by dockhand's client (`dockhand-engine`'s
//! `relay` module). `docs/bridge.md` ("Relay protocol") is the contract.
//!
//! Every frame is a 9-byte header — type (`u8`), stream id (`u32`, big
//! endian), payload length (`u32`, big endian) — and its payload. The byte
//! stream has no other structure, so it survives being cut into chunks of
//! any size (the Engine API's 8-byte stdout/stderr headers are removed by
//! the client before the bytes reach the decoder).

use std::fmt;

/// The first bytes of a `HELLO` payload.
pub const MAGIC: &[u8; 14] = b"dockhand-relay";
/// The protocol version this build speaks (the only one so far).
pub const VERSION: u16 = 1;
/// The size of a frame header.
pub const HEADER_LEN: usize = 9;
/// The largest payload of any frame: a longer length is a protocol error,
/// refused before anything is allocated for it.
pub const MAX_PAYLOAD: usize = 64 * 1024;
/// The largest `DATA` payload a side accepts unless its `HELLO` says less.
pub const MAX_DATA: u32 = 32 * 1024;
/// How many `DATA` bytes a side may send on one stream before the other
/// side's `WINDOW` frames give it more (what this build grants).
pub const WINDOW: u32 = 256 * 1024;
/// The longest `ERROR` message (longer ones are cut).
pub const MAX_MESSAGE: usize = 4096;
/// The longest socket name an `OPEN` may carry.
pub const MAX_NAME: usize = 255;

/// A frame's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum FrameType {
    /// Both sides, first, stream 0: magic, versions, window, largest `DATA`.
    Hello = 0,
    /// Client: connect stream N to the socket named in the payload.
    Open = 1,
    /// Relay: stream N is connected.
    Opened = 2,
    /// Either: bytes of stream N.
    Data = 3,
    /// Either: the sender consumed this many more bytes of stream N (`u32`).
    Window = 4,
    /// Either: the sender will send no more bytes on stream N (half-close).
    Shutdown = 5,
    /// Either: stream N is gone in both directions (reset).
    Close = 6,
    /// Either: stream N failed (or, on stream 0, the session): a kind and a message.
    Error = 7,
    /// Either, stream 0: answer with `PONG` carrying the same 8 bytes.
    Ping = 8,
    /// The answer to `PING`.
    Pong = 9,
}

impl FrameType {
    fn from_u8(b: u8) -> Option<Self> {
        Some(match b {
            0 => Self::Hello,
            1 => Self::Open,
            2 => Self::Opened,
            3 => Self::Data,
            4 => Self::Window,
            5 => Self::Shutdown,
            6 => Self::Close,
            7 => Self::Error,
            8 => Self::Ping,
            9 => Self::Pong,
            _ => return None,
        })
    }
}

/// What went wrong, in an `ERROR` frame (its first payload byte).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum ErrorKind {
    /// Anything else.
    Other = 0,
    /// No socket of that name.
    NotFound = 1,
    /// A socket nobody listens on.
    Refused = 2,
    /// The relay may not connect to it.
    Denied = 3,
    /// The backend's queue of connections stayed full.
    Busy = 4,
    /// The name is not a plain file name in the socket directory, or not a socket.
    InvalidName = 5,
    /// The peer broke the protocol (stream 0: the session ends).
    Protocol = 6,
    /// The relay has as many streams open as it takes.
    TooManyStreams = 7,
    /// The connection was reset or broke.
    Reset = 8,
    /// No common protocol version (stream 0).
    Version = 9,
}

impl ErrorKind {
    /// The kind of byte `b`; unknown values are [`ErrorKind::Other`].
    pub fn from_u8(b: u8) -> Self {
        match b {
            1 => Self::NotFound,
            2 => Self::Refused,
            3 => Self::Denied,
            4 => Self::Busy,
            5 => Self::InvalidName,
            6 => Self::Protocol,
            7 => Self::TooManyStreams,
            8 => Self::Reset,
            9 => Self::Version,
            _ => Self::Other,
        }
    }

    /// The kind for an I/O error.
    pub fn from_io(kind: std::io::ErrorKind) -> Self {
        use std::io::ErrorKind as K;
        match kind {
            K::NotFound => Self::NotFound,
            K::ConnectionRefused => Self::Refused,
            K::PermissionDenied => Self::Denied,
            K::WouldBlock => Self::Busy,
            K::InvalidInput => Self::InvalidName,
            K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe => Self::Reset,
            _ => Self::Other,
        }
    }

    /// The I/O error kind a client reports for it.
    pub fn to_io(self) -> std::io::ErrorKind {
        use std::io::ErrorKind as K;
        match self {
            Self::NotFound => K::NotFound,
            Self::Refused => K::ConnectionRefused,
            Self::Denied => K::PermissionDenied,
            Self::Busy => K::WouldBlock,
            Self::InvalidName => K::InvalidInput,
            Self::Reset => K::ConnectionReset,
            Self::Protocol | Self::Version => K::InvalidData,
            Self::TooManyStreams | Self::Other => K::Other,
        }
    }
}

/// A `HELLO`: what a side speaks and what it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Hello {
    /// The oldest protocol version the sender speaks.
    pub min_version: u16,
    /// The newest.
    pub max_version: u16,
    /// How many `DATA` bytes the other side may send on one stream before
    /// the sender's `WINDOW` frames give it more.
    pub window: u32,
    /// The largest `DATA` payload the sender accepts.
    pub max_data: u32,
}

impl Hello {
    /// What this build sends.
    pub const fn ours() -> Self {
        Self {
            min_version: VERSION,
            max_version: VERSION,
            window: WINDOW,
            max_data: MAX_DATA,
        }
    }

    /// The version both sides speak (the newest in common), or `None`.
    pub fn agree(&self, peer: &Hello) -> Option<u16> {
        let low = self.min_version.max(peer.min_version);
        let high = self.max_version.min(peer.max_version);
        (low <= high).then_some(high)
    }
}

/// One frame, borrowing its payload from the buffer it was decoded from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame<'a> {
    /// See [`FrameType::Hello`].
    Hello(Hello),
    /// See [`FrameType::Open`].
    Open {
        /// The new stream (the client's; larger than every earlier one).
        id: u32,
        /// The socket's file name in the socket directory.
        name: &'a str,
    },
    /// See [`FrameType::Opened`].
    Opened {
        /// The stream.
        id: u32,
    },
    /// See [`FrameType::Data`].
    Data {
        /// The stream.
        id: u32,
        /// The bytes (never empty).
        bytes: &'a [u8],
    },
    /// See [`FrameType::Window`].
    Window {
        /// The stream.
        id: u32,
        /// More bytes the receiver may send.
        increment: u32,
    },
    /// See [`FrameType::Shutdown`].
    Shutdown {
        /// The stream.
        id: u32,
    },
    /// See [`FrameType::Close`].
    Close {
        /// The stream.
        id: u32,
    },
    /// See [`FrameType::Error`].
    Error {
        /// The stream, or 0 for the session.
        id: u32,
        /// What kind of failure.
        kind: ErrorKind,
        /// For people: what failed and what to do.
        message: &'a str,
    },
    /// See [`FrameType::Ping`].
    Ping(u64),
    /// See [`FrameType::Pong`].
    Pong(u64),
}

/// A byte stream that is not the relay protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// An unknown frame type.
    #[error("unknown frame type {0}")]
    UnknownType(u8),
    /// A payload longer than [`MAX_PAYLOAD`].
    #[error(
        "a frame of type {kind} announces {len} bytes, more than the {MAX_PAYLOAD} a frame may carry"
    )]
    TooLong {
        /// The frame type byte.
        kind: u8,
        /// The announced length.
        len: u32,
    },
    /// A payload of the wrong shape for its type.
    #[error("a {kind:?} frame on stream {id} is malformed: {why}")]
    Malformed {
        /// The type.
        kind: FrameType,
        /// The stream.
        id: u32,
        /// What is wrong.
        why: &'static str,
    },
}

fn malformed(kind: FrameType, id: u32, why: &'static str) -> ProtocolError {
    ProtocolError::Malformed { kind, id, why }
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn u64_of(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_be_bytes(a)
}

/// The length of a `HELLO` payload in version 1 (longer ones are accepted,
/// the rest ignored, for later versions).
const HELLO_LEN: usize = MAGIC.len() + 2 + 2 + 4 + 4;

/// Decodes the frame at the start of `buf`: `Ok(None)` while it is
/// incomplete, else the frame and how many bytes it took.
pub fn decode(buf: &[u8]) -> Result<Option<(Frame<'_>, usize)>, ProtocolError> {
    if buf.len() < HEADER_LEN {
        return Ok(None);
    }
    let kind_byte = buf[0];
    let id = u32_at(buf, 1);
    let len = u32_at(buf, 5);
    let kind = FrameType::from_u8(kind_byte).ok_or(ProtocolError::UnknownType(kind_byte))?;
    if len as usize > MAX_PAYLOAD {
        return Err(ProtocolError::TooLong {
            kind: kind_byte,
            len,
        });
    }
    let total = HEADER_LEN + len as usize;
    if buf.len() < total {
        return Ok(None);
    }
    let p = &buf[HEADER_LEN..total];
    let needs_stream = |frame: Frame<'static>| -> Result<Frame<'static>, ProtocolError> {
        if id == 0 {
            Err(malformed(kind, id, "it needs a stream id other than 0"))
        } else {
            Ok(frame)
        }
    };
    let frame = match kind {
        FrameType::Hello => {
            if id != 0 {
                return Err(malformed(kind, id, "it belongs to stream 0"));
            }
            if p.len() < HELLO_LEN || &p[..MAGIC.len()] != MAGIC {
                return Err(malformed(
                    kind,
                    id,
                    "it does not start with the relay's magic",
                ));
            }
            let at = MAGIC.len();
            let hello = Hello {
                min_version: u16_at(p, at),
                max_version: u16_at(p, at + 2),
                window: u32_at(p, at + 4),
                max_data: u32_at(p, at + 8),
            };
            if hello.min_version > hello.max_version || hello.window == 0 || hello.max_data == 0 {
                return Err(malformed(
                    kind,
                    id,
                    "its versions, window or largest data are invalid",
                ));
            }
            Frame::Hello(hello)
        }
        FrameType::Open => {
            if id == 0 {
                return Err(malformed(kind, id, "it needs a stream id other than 0"));
            }
            if p.is_empty() || p.len() > MAX_NAME {
                return Err(malformed(kind, id, "the socket name is empty or too long"));
            }
            let name = std::str::from_utf8(p)
                .map_err(|_| malformed(kind, id, "the socket name is not UTF-8"))?;
            Frame::Open { id, name }
        }
        FrameType::Opened if p.is_empty() => needs_stream(Frame::Opened { id })?,
        FrameType::Shutdown if p.is_empty() => needs_stream(Frame::Shutdown { id })?,
        FrameType::Close if p.is_empty() => needs_stream(Frame::Close { id })?,
        FrameType::Opened | FrameType::Shutdown | FrameType::Close => {
            return Err(malformed(kind, id, "it carries a payload"));
        }
        FrameType::Data => {
            if id == 0 || p.is_empty() {
                return Err(malformed(
                    kind,
                    id,
                    "it needs a stream and at least one byte",
                ));
            }
            Frame::Data { id, bytes: p }
        }
        FrameType::Window => {
            if p.len() != 4 {
                return Err(malformed(kind, id, "its payload is not 4 bytes"));
            }
            let increment = u32_at(p, 0);
            if increment == 0 {
                return Err(malformed(kind, id, "it grants nothing"));
            }
            needs_stream(Frame::Window { id, increment })?
        }
        FrameType::Error => {
            if p.is_empty() || p.len() > 1 + MAX_MESSAGE {
                return Err(malformed(kind, id, "its payload is empty or too long"));
            }
            let message = std::str::from_utf8(&p[1..])
                .map_err(|_| malformed(kind, id, "its message is not UTF-8"))?;
            Frame::Error {
                id,
                kind: ErrorKind::from_u8(p[0]),
                message,
            }
        }
        FrameType::Ping | FrameType::Pong => {
            if id != 0 || p.len() != 8 {
                return Err(malformed(kind, id, "it needs stream 0 and 8 bytes"));
            }
            if kind == FrameType::Ping {
                Frame::Ping(u64_of(p))
            } else {
                Frame::Pong(u64_of(p))
            }
        }
    };
    Ok(Some((frame, total)))
}

fn header(out: &mut Vec<u8>, kind: FrameType, id: u32, len: usize) {
    out.push(kind as u8);
    out.extend_from_slice(&id.to_be_bytes());
    // Callers keep payloads under MAX_PAYLOAD, far below u32::MAX.
    out.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes());
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character boundary.
fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Appends `frame` to `out`. A `DATA` payload must not be longer than
/// [`MAX_PAYLOAD`] (callers cut at the peer's largest `DATA`); a long
/// `ERROR` message is cut at [`MAX_MESSAGE`] bytes.
pub fn encode(frame: &Frame<'_>, out: &mut Vec<u8>) {
    match *frame {
        Frame::Hello(h) => {
            header(out, FrameType::Hello, 0, HELLO_LEN);
            out.extend_from_slice(MAGIC);
            out.extend_from_slice(&h.min_version.to_be_bytes());
            out.extend_from_slice(&h.max_version.to_be_bytes());
            out.extend_from_slice(&h.window.to_be_bytes());
            out.extend_from_slice(&h.max_data.to_be_bytes());
        }
        Frame::Open { id, name } => {
            header(out, FrameType::Open, id, name.len());
            out.extend_from_slice(name.as_bytes());
        }
        Frame::Opened { id } => header(out, FrameType::Opened, id, 0),
        Frame::Data { id, bytes } => {
            debug_assert!(!bytes.is_empty() && bytes.len() <= MAX_PAYLOAD);
            header(out, FrameType::Data, id, bytes.len());
            out.extend_from_slice(bytes);
        }
        Frame::Window { id, increment } => {
            header(out, FrameType::Window, id, 4);
            out.extend_from_slice(&increment.to_be_bytes());
        }
        Frame::Shutdown { id } => header(out, FrameType::Shutdown, id, 0),
        Frame::Close { id } => header(out, FrameType::Close, id, 0),
        Frame::Error { id, kind, message } => {
            let message = cut(message, MAX_MESSAGE);
            header(out, FrameType::Error, id, 1 + message.len());
            out.push(kind as u8);
            out.extend_from_slice(message.as_bytes());
        }
        Frame::Ping(v) | Frame::Pong(v) => {
            let kind = if matches!(frame, Frame::Ping(_)) {
                FrameType::Ping
            } else {
                FrameType::Pong
            };
            header(out, kind, 0, 8);
            out.extend_from_slice(&v.to_be_bytes());
        }
    }
}

impl fmt::Display for FrameType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(frame: Frame<'_>) {
        let mut out = Vec::new();
        encode(&frame, &mut out);
        // Every prefix is incomplete, the whole is the frame.
        for end in 0..out.len() {
            assert_eq!(decode(&out[..end]), Ok(None), "{frame:?} cut at {end}");
        }
        let (back, used) = decode(&out).expect("decodes").expect("complete");
        assert_eq!((back, used), (frame, out.len()));
    }

    #[test]
    fn every_frame_round_trips() {
        round_trip(Frame::Hello(Hello::ours()));
        round_trip(Frame::Open {
            id: 7,
            name: "backend.sock",
        });
        round_trip(Frame::Opened { id: 7 });
        round_trip(Frame::Data {
            id: u32::MAX,
            bytes: &[0, 1, 2, 255],
        });
        round_trip(Frame::Window {
            id: 1,
            increment: WINDOW,
        });
        round_trip(Frame::Shutdown { id: 1 });
        round_trip(Frame::Close { id: 1 });
        round_trip(Frame::Error {
            id: 0,
            kind: ErrorKind::Version,
            message: "no common version",
        });
        round_trip(Frame::Ping(42));
        round_trip(Frame::Pong(u64::MAX));
    }

    #[test]
    fn long_error_messages_are_cut_on_a_character_boundary() {
        let message = "é".repeat(MAX_MESSAGE);
        let mut out = Vec::new();
        encode(
            &Frame::Error {
                id: 3,
                kind: ErrorKind::Other,
                message: &message,
            },
            &mut out,
        );
        let (frame, _) = decode(&out).expect("decodes").expect("complete");
        let Frame::Error { message: back, .. } = frame else {
            panic!("{frame:?}")
        };
        assert_eq!(back.len(), MAX_MESSAGE);
    }

    #[test]
    fn hostile_headers_are_refused_before_reading_their_payload() {
        let mut huge = vec![FrameType::Data as u8, 0, 0, 0, 1];
        huge.extend_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(decode(&huge), Err(ProtocolError::TooLong { .. })));
        let unknown = [200u8, 0, 0, 0, 1, 0, 0, 0, 0];
        assert_eq!(decode(&unknown), Err(ProtocolError::UnknownType(200)));
        let raw = |kind: FrameType, id: u32, payload: &[u8]| {
            let mut out = Vec::new();
            header(&mut out, kind, id, payload.len());
            out.extend_from_slice(payload);
            out
        };
        for bad in [
            raw(FrameType::Hello, 1, &[0; HELLO_LEN]),
            raw(FrameType::Hello, 0, b"not the magic at all, nope"),
            raw(FrameType::Open, 0, b"x.sock"),
            raw(FrameType::Open, 1, b""),
            raw(FrameType::Open, 1, &[b'a'; MAX_NAME + 1]),
            raw(FrameType::Open, 1, &[0xff, 0xfe]),
            raw(FrameType::Opened, 0, b""),
            raw(FrameType::Opened, 1, b"x"),
            raw(FrameType::Data, 1, b""),
            raw(FrameType::Data, 0, b"x"),
            raw(FrameType::Window, 1, &[0, 0, 0, 0]),
            raw(FrameType::Window, 1, &[0, 0, 1]),
            raw(FrameType::Window, 0, &[0, 0, 0, 1]),
            raw(FrameType::Error, 1, b""),
            raw(FrameType::Ping, 1, &[0; 8]),
            raw(FrameType::Pong, 0, &[0; 7]),
        ] {
            assert!(
                matches!(decode(&bad), Err(ProtocolError::Malformed { .. })),
                "{bad:?}"
            );
        }
        let mut bad_versions = Vec::new();
        encode(
            &Frame::Hello(Hello {
                min_version: 3,
                max_version: 2,
                ..Hello::ours()
            }),
            &mut bad_versions,
        );
        assert!(decode(&bad_versions).is_err());
    }

    #[test]
    fn versions_agree_on_the_newest_in_common() {
        let ours = Hello::ours();
        assert_eq!(ours.agree(&ours), Some(VERSION));
        let later = Hello {
            min_version: 1,
            max_version: 4,
            ..ours
        };
        assert_eq!(ours.agree(&later), Some(1));
        let newer_only = Hello {
            min_version: 2,
            max_version: 4,
            ..ours
        };
        assert_eq!(ours.agree(&newer_only), None);
    }
}
