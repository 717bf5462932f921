//! Content digests (`sha256:…`), parsed once and carried as a type, and a
//! hasher that checks bytes against an expected digest as they stream by.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256, Sha512};

/// A digest algorithm the store accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    /// `sha256`, 64 hex digits.
    Sha256,
    /// `sha512`, 128 hex digits.
    Sha512,
}

impl Algorithm {
    /// The name used in digests and in the store's `blobs/<name>/` folder.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha512 => 128,
        }
    }
}

/// Why a string is not a digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    /// No `algorithm:` prefix.
    #[error("`{0}` is not a digest: expected sha256:<64 hex digits>")]
    Malformed(String),
    /// An algorithm other than sha256/sha512.
    #[error("digest algorithm `{0}` is not supported: use sha256")]
    Unsupported(String),
    /// Wrong length or not lowercase hex.
    #[error("`{0}` is not a digest: the hex part must be {1} lowercase hex digits")]
    BadHex(String, usize),
}

/// A validated content digest.
///
/// ```
/// use dockhand_oci::Digest;
/// let d = Digest::sha256_of(b"hello");
/// assert_eq!(d.to_string().len(), 7 + 64);
/// assert_eq!(d, d.to_string().parse().unwrap());
/// ```
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `algorithm:hex`.
    pub fn parse(s: &str) -> Result<Self, DigestError> {
        let (alg, hex) = s
            .split_once(':')
            .ok_or_else(|| DigestError::Malformed(s.to_owned()))?;
        let algorithm = match alg {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            "" => return Err(DigestError::Malformed(s.to_owned())),
            other => return Err(DigestError::Unsupported(other.to_owned())),
        };
        let len = algorithm.hex_len();
        if hex.len() != len
            || !hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            return Err(DigestError::BadHex(s.to_owned(), len));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// The sha256 digest of `bytes`.
    pub fn sha256_of(bytes: &[u8]) -> Self {
        Self {
            algorithm: Algorithm::Sha256,
            hex: hex(&Sha256::digest(bytes)),
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex part.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex digits, as `docker` shows image ids.
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algorithm.name(), self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Hashes a stream of bytes with the algorithm of an expected digest.
#[derive(Debug, Clone)]
pub struct Hasher {
    inner: HasherInner,
    len: u64,
}

#[derive(Debug, Clone)]
enum HasherInner {
    Sha256(Sha256),
    Sha512(Sha512),
}

impl Hasher {
    /// A hasher for `algorithm`.
    pub fn new(algorithm: Algorithm) -> Self {
        let inner = match algorithm {
            Algorithm::Sha256 => HasherInner::Sha256(Sha256::new()),
            Algorithm::Sha512 => HasherInner::Sha512(Sha512::new()),
        };
        Self { inner, len: 0 }
    }

    /// Adds bytes.
    pub fn update(&mut self, bytes: &[u8]) {
        self.len += bytes.len() as u64;
        match &mut self.inner {
            HasherInner::Sha256(h) => h.update(bytes),
            HasherInner::Sha512(h) => h.update(bytes),
        }
    }

    /// Bytes seen so far.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True before any byte.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The digest of everything seen.
    pub fn finish(self) -> Digest {
        match self.inner {
            HasherInner::Sha256(h) => Digest {
                algorithm: Algorithm::Sha256,
                hex: hex(&h.finalize()),
            },
            HasherInner::Sha512(h) => Digest {
                algorithm: Algorithm::Sha512,
                hex: hex(&h.finalize()),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        let good = "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";
        let d: Digest = good.parse().unwrap();
        assert_eq!(d, Digest::sha256_of(b"hello"));
        assert_eq!(d.short(), "2cf24dba5fb0");
        for bad in [
            "",
            "sha256",
            "sha256:",
            "md5:abc",
            ":abc",
            "sha256:ABC",
            &good.replace('2', "G"),
            &good[..70],
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad}");
        }
        assert!(matches!(
            Digest::parse("md5:abc"),
            Err(DigestError::Unsupported(_))
        ));
    }

    #[test]
    fn hasher_matches_one_shot() {
        let mut h = Hasher::new(Algorithm::Sha256);
        h.update(b"hel");
        h.update(b"lo");
        assert_eq!(h.len(), 5);
        assert_eq!(h.finish(), Digest::sha256_of(b"hello"));
        let mut h = Hasher::new(Algorithm::Sha512);
        h.update(b"");
        assert_eq!(h.finish().hex().len(), 128);
    }

    #[test]
    fn serde_as_string() {
        let d = Digest::sha256_of(b"x");
        let j = serde_json::to_string(&d).unwrap();
        assert_eq!(serde_json::from_str::<Digest>(&j).unwrap(), d);
        assert!(serde_json::from_str::<Digest>("\"sha256:nothex\"").is_err());
    }
}
