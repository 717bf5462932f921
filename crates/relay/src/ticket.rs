//! The direct transport's ticket and handshake (pure but for the random
//! bytes; `docs/bridge.md`, "Relay protocol", "Direct transport").
//!
//! The relay container's main process (`dockhand-relay listen`) listens on
//! a loopback TCP port of the engine's host and prints one [`Ticket`] line:
//! the port and a fresh random [`Token`]. The line is in the container's
//! log, which only those who can use the engine read (and they can exec in
//! the relay anyway). A client that connects proves it knows the token and
//! makes the relay prove it too, before a single frame is sent:
//!
//! 1. client → relay: [`TCP_MAGIC`], a 32-byte client nonce;
//! 2. relay → client: a 32-byte relay nonce, the relay's proof;
//! 3. client → relay: the client's proof.
//!
//! A proof is HMAC-SHA-256 keyed with the token over the side's label and
//! both nonces ([`proof`]), so neither side ever sends the token, a proof
//! is good for one connection only, and a process that took the port number
//! on the client's machine (where the relay's port is not forwarded) learns
//! nothing and is refused before the client sends a byte of a request.
//! After step 3 the connection speaks the relay protocol ([`crate::protocol`])
//! exactly as an exec's stdin and stdout do.

use std::fmt;
use std::io::{self, Read, Write};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The first bytes a client sends on a direct connection.
pub const TCP_MAGIC: &[u8; 16] = b"dockhand-relay-d";
/// The size of each side's nonce.
pub const NONCE_LEN: usize = 32;
/// The size of a proof.
pub const PROOF_LEN: usize = 32;
/// The size of a token.
pub const TOKEN_LEN: usize = 32;
/// What a ticket line starts with.
const TICKET_PREFIX: &str = "dockhand-relay: listening on 127.0.0.1:";
/// What stands between the port and the token.
const TICKET_MIDDLE: &str = ", ticket ";

/// A random secret shared through the relay container's log.
#[derive(Clone, PartialEq, Eq)]
pub struct Token([u8; TOKEN_LEN]);

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(..)")
    }
}

impl Token {
    /// A new token from the system's random source.
    pub fn generate() -> io::Result<Self> {
        Ok(Self(random()?))
    }

    /// The token written as 64 lowercase hex digits.
    fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The token from 64 hex digits.
    fn from_hex(s: &str) -> Option<Self> {
        if s.len() != TOKEN_LEN * 2 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; TOKEN_LEN];
        for (byte, pair) in out.iter_mut().zip(s.as_bytes().chunks(2)) {
            let pair = std::str::from_utf8(pair).ok()?;
            *byte = u8::from_str_radix(pair, 16).ok()?;
        }
        Some(Self(out))
    }
}

/// 32 bytes from the system's random source.
pub fn random() -> io::Result<[u8; 32]> {
    let mut out = [0u8; 32];
    getrandom::fill(&mut out).map_err(io::Error::other)?;
    Ok(out)
}

/// Where a relay listens and the token it asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    /// The port on the loopback address of the engine's host.
    pub port: u16,
    /// The shared secret.
    pub token: Token,
}

impl Ticket {
    /// The line the relay prints on its standard output.
    pub fn line(&self) -> String {
        format!(
            "{TICKET_PREFIX}{}{TICKET_MIDDLE}{}",
            self.port,
            self.token.hex()
        )
    }

    /// The ticket in a line of the relay's log (`None` for any other line).
    pub fn parse(line: &str) -> Option<Self> {
        let rest = line.trim_end().strip_prefix(TICKET_PREFIX)?;
        let (port, token) = rest.split_once(TICKET_MIDDLE)?;
        let port: u16 = port.parse().ok().filter(|p| *p != 0)?;
        Some(Self {
            port,
            token: Token::from_hex(token)?,
        })
    }
}

/// Which side a proof is from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The relay (step 2).
    Relay,
    /// The client (step 3).
    Client,
}

impl Side {
    fn label(self) -> &'static [u8] {
        match self {
            Side::Relay => b"dockhand-relay proof: relay",
            Side::Client => b"dockhand-relay proof: client",
        }
    }
}

fn mac(
    token: &Token,
    side: Side,
    client: &[u8; NONCE_LEN],
    relay: &[u8; NONCE_LEN],
) -> Hmac<Sha256> {
    // HMAC takes a key of any length: this cannot fail.
    let mut mac =
        <Hmac<Sha256> as Mac>::new_from_slice(&token.0).expect("HMAC takes any key length");
    mac.update(side.label());
    mac.update(client);
    mac.update(relay);
    mac
}

/// `side`'s proof that it knows `token`, for the connection of these nonces.
pub fn proof(
    token: &Token,
    side: Side,
    client: &[u8; NONCE_LEN],
    relay: &[u8; NONCE_LEN],
) -> [u8; PROOF_LEN] {
    mac(token, side, client, relay)
        .finalize()
        .into_bytes()
        .into()
}

/// Whether `got` is `side`'s proof (compared in constant time).
pub fn check(
    token: &Token,
    side: Side,
    client: &[u8; NONCE_LEN],
    relay: &[u8; NONCE_LEN],
    got: &[u8],
) -> bool {
    mac(token, side, client, relay).verify_slice(got).is_ok()
}

/// Why a direct connection was refused.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeError {
    /// Reading or writing failed (or timed out).
    #[error("the direct connection failed during its handshake: {0}")]
    Io(#[from] io::Error),
    /// The first bytes are not [`TCP_MAGIC`].
    #[error("the peer does not speak the relay's direct transport")]
    Magic,
    /// The peer does not know the token.
    #[error("the peer's proof does not match the relay's ticket")]
    Proof,
}

/// The relay's side of the handshake on a blocking stream (with timeouts
/// set by the caller): on `Ok` the client proved it knows `token`.
pub fn accept<S: Read + Write>(stream: &mut S, token: &Token) -> Result<(), HandshakeError> {
    let mut hello = [0u8; TCP_MAGIC.len() + NONCE_LEN];
    stream.read_exact(&mut hello)?;
    let (magic, nonce) = hello.split_at(TCP_MAGIC.len());
    if magic != TCP_MAGIC {
        return Err(HandshakeError::Magic);
    }
    let client: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| HandshakeError::Magic)?;
    let relay = random()?;
    let mut answer = [0u8; NONCE_LEN + PROOF_LEN];
    answer[..NONCE_LEN].copy_from_slice(&relay);
    answer[NONCE_LEN..].copy_from_slice(&proof(token, Side::Relay, &client, &relay));
    stream.write_all(&answer)?;
    stream.flush()?;
    let mut theirs = [0u8; PROOF_LEN];
    stream.read_exact(&mut theirs)?;
    if check(token, Side::Client, &client, &relay, &theirs) {
        Ok(())
    } else {
        Err(HandshakeError::Proof)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(b: u8) -> Token {
        Token([b; TOKEN_LEN])
    }

    #[test]
    fn a_ticket_line_reads_back_and_nothing_else_does() {
        let t = Ticket {
            port: 40123,
            token: Token::generate().unwrap(),
        };
        assert_eq!(Ticket::parse(&t.line()), Some(t.clone()));
        assert_eq!(Ticket::parse(&format!("{}\n", t.line())), Some(t.clone()));
        assert!(
            t.line()
                .starts_with("dockhand-relay: listening on 127.0.0.1:40123, ticket ")
        );
        let good = t.line();
        for bad in [
            String::new(),
            "dockhand-relay: listening on 127.0.0.1:0, ticket ".to_owned() + &"ab".repeat(32),
            good.replace("40123", "70000"),
            good[..good.len() - 2].to_owned(),
            good.clone() + "00",
            good[..good.len() - 1].to_owned() + "g",
            good.replace("127.0.0.1", "0.0.0.0"),
        ] {
            assert_eq!(Ticket::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn a_token_is_never_printed() {
        let t = Ticket {
            port: 1,
            token: token(0xab),
        };
        assert!(!format!("{t:?}").contains("abab"));
    }

    #[test]
    fn proofs_differ_by_side_nonce_and_token() {
        let (c, r) = ([1u8; NONCE_LEN], [2u8; NONCE_LEN]);
        let p = proof(&token(7), Side::Relay, &c, &r);
        assert!(check(&token(7), Side::Relay, &c, &r, &p));
        assert!(!check(&token(7), Side::Client, &c, &r, &p));
        assert!(!check(&token(8), Side::Relay, &c, &r, &p));
        assert!(!check(&token(7), Side::Relay, &r, &c, &p));
        assert!(!check(&token(7), Side::Relay, &c, &r, &p[..31]));
    }

    /// Plays the client of [`accept`] over a socket pair.
    fn client(known: &Token, magic: &[u8], lie: bool) -> Result<(), HandshakeError> {
        let (mut ours, mut theirs) = std::os::unix::net::UnixStream::pair().unwrap();
        let relay_token = token(7);
        let relay = std::thread::spawn(move || accept(&mut theirs, &relay_token));
        let c = [3u8; NONCE_LEN];
        ours.write_all(magic).unwrap();
        ours.write_all(&c).unwrap();
        let mut answer = [0u8; NONCE_LEN + PROOF_LEN];
        if ours.read_exact(&mut answer).is_ok() {
            let r: [u8; NONCE_LEN] = answer[..NONCE_LEN].try_into().unwrap();
            assert!(check(&token(7), Side::Relay, &c, &r, &answer[NONCE_LEN..]));
            let mut mine = proof(known, Side::Client, &c, &r);
            if lie {
                mine[0] ^= 1;
            }
            ours.write_all(&mine).unwrap();
        }
        relay.join().unwrap()
    }

    #[test]
    fn the_relay_lets_in_only_a_client_that_knows_the_token() {
        client(&token(7), TCP_MAGIC, false).unwrap();
        assert!(matches!(
            client(&token(9), TCP_MAGIC, false),
            Err(HandshakeError::Proof)
        ));
        assert!(matches!(
            client(&token(7), TCP_MAGIC, true),
            Err(HandshakeError::Proof)
        ));
        assert!(matches!(
            client(&token(7), b"GET / HTTP/1.1\r\n", false),
            Err(HandshakeError::Magic)
        ));
    }
}
