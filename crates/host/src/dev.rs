//! Development mode (`dockhand dev`): an extension's UI loaded from a dev
//! server ([`DevUiSource`]) and its bridge call log ([`BridgeLog`]).
//!
//! The settings themselves are kept per extension in the state database
//! ([`crate::state::State::dev_settings`]); this module owns what they mean:
//! which URLs a UI may come from and where and how the call log is written.

use std::io::{BufRead as _, Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use dockhand_spec::ExtensionId;

use crate::layout::Layout;

/// An extension's development settings; the default is "not in dev mode".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DevSettings {
    /// Where the UI comes from instead of the installed files.
    pub ui_source: Option<DevUiSource>,
    /// Whether bridge calls are logged ([`BridgeLog`]).
    pub debug: bool,
}

impl DevSettings {
    /// True when nothing is set: the extension is not in dev mode.
    pub fn is_default(&self) -> bool {
        self.ui_source.is_none() && !self.debug
    }
}

/// Why a dev server URL is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DevUrlError {
    /// Not a URL at all.
    #[error(
        "`{url}` is not a URL ({detail}): give the dev server's address, e.g. http://localhost:5173"
    )]
    Invalid {
        /// What was given.
        url: String,
        /// What the parser said.
        detail: String,
    },
    /// Neither `http` nor `https`.
    #[error(
        "`{url}` is not an http(s) URL: give the dev server's address, e.g. http://localhost:5173"
    )]
    Scheme {
        /// What was given.
        url: String,
    },
    /// A user name or password in the URL.
    #[error(
        "`{url}` carries credentials: they would be stored in dockhand's state and sent on every request; give the URL without user:password@"
    )]
    Credentials {
        /// What was given, credentials masked.
        url: String,
    },
    /// A host other than loopback, without `allow_remote`.
    #[error(
        "`{host}` is not a loopback address: the dev server gets every request of the extension's tab (and its pages get the extension's whole ddClient), so it must run on this machine (localhost, 127.0.0.1, [::1]); pass --allow-remote if you trust that host and its network"
    )]
    NotLoopback {
        /// The host named.
        host: String,
    },
}

/// A dev server's URL: `http` or `https`, no credentials, loopback unless
/// allowed otherwise. Requests go to its origin; its path and query are
/// where the tab opens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevUiSource {
    url: url::Url,
}

impl DevUiSource {
    /// Checks `input`; a host off this machine only with `allow_remote`.
    pub fn parse(input: &str, allow_remote: bool) -> Result<Self, DevUrlError> {
        let url = url::Url::parse(input.trim()).map_err(|e| DevUrlError::Invalid {
            url: input.to_owned(),
            detail: e.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DevUrlError::Scheme {
                url: input.to_owned(),
            });
        }
        if !url.username().is_empty() || url.password().is_some() {
            let mut masked = url.clone();
            let _ = masked.set_username("");
            let _ = masked.set_password(None);
            return Err(DevUrlError::Credentials {
                url: masked.to_string(),
            });
        }
        let host = url.host().ok_or_else(|| DevUrlError::Invalid {
            url: input.to_owned(),
            detail: "no host".to_owned(),
        })?;
        if !allow_remote && !is_loopback(&host) {
            return Err(DevUrlError::NotLoopback {
                host: host.to_string(),
            });
        }
        Ok(Self { url })
    }

    /// The URL as given (normalised).
    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    /// `scheme://host:port`, where every proxied request goes.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }

    /// `host:port` as a `Host` header names it.
    pub fn authority(&self) -> String {
        let host = match self.url.host() {
            Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
            Some(h) => h.to_string(),
            None => String::new(),
        };
        match self.url.port_or_known_default() {
            Some(p) => format!("{host}:{p}"),
            None => host,
        }
    }

    /// The path and query the tab opens (`/` for `http://localhost:5173`).
    pub fn entry(&self) -> String {
        let mut s = self.url.path().to_owned();
        if let Some(q) = self.url.query() {
            s.push('?');
            s.push_str(q);
        }
        s
    }

    /// True when the host is this machine.
    pub fn is_loopback(&self) -> bool {
        self.url.host().as_ref().is_some_and(is_loopback)
    }
}

impl std::fmt::Display for DevUiSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// The bridge call log of one extension: JSON lines in
/// `$DOCKHAND_HOME/extensions/<fs-id>/bridge.log`, moved to `bridge.log.1`
/// (replacing it) when it passes [`BridgeLog::MAX_BYTES`], so at most twice
/// that is kept.
#[derive(Debug, Clone)]
pub struct BridgeLog {
    path: PathBuf,
}

impl BridgeLog {
    /// Size at which the log is rotated.
    pub const MAX_BYTES: u64 = 1024 * 1024;

    /// The log of extension `id`.
    pub fn of(layout: &Layout, id: &ExtensionId) -> Self {
        Self {
            path: layout.extension(id).join("bridge.log"),
        }
    }

    /// The log at `path` (tests).
    pub fn at(path: PathBuf) -> Self {
        Self { path }
    }

    /// The current file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The previous file, after a rotation.
    pub fn rotated(&self) -> PathBuf {
        let mut name = self.path.as_os_str().to_owned();
        name.push(".1");
        PathBuf::from(name)
    }

    /// Appends one line (a newline is added), rotating first when the file
    /// has grown past [`Self::MAX_BYTES`].
    pub fn append(&self, line: &str) -> std::io::Result<()> {
        self.append_with_limit(line, Self::MAX_BYTES)
    }

    /// [`Self::append`] with another rotation size.
    pub fn append_with_limit(&self, line: &str, max: u64) -> std::io::Result<()> {
        if let Some(dir) = self.path.parent() {
            fs_err::create_dir_all(dir)?;
        }
        if fs_err::metadata(&self.path).is_ok_and(|m| m.len() >= max) {
            fs_err::rename(&self.path, self.rotated())?;
        }
        let mut buf = Vec::with_capacity(line.len() + 1);
        buf.extend_from_slice(line.as_bytes());
        buf.push(b'\n');
        let mut f = fs_err::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)?;
        // One write: concurrent appenders never interleave inside a line.
        f.write_all(&buf)
    }

    /// The last `n` lines (all with `None`), the rotated file's included.
    pub fn tail(&self, n: Option<usize>) -> std::io::Result<Vec<String>> {
        let mut lines = Vec::new();
        for path in [self.rotated(), self.path.clone()] {
            match fs_err::File::open(&path) {
                Ok(f) => {
                    for line in std::io::BufReader::new(f).lines() {
                        lines.push(line?);
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        if let Some(n) = n {
            let skip = lines.len().saturating_sub(n);
            lines.drain(..skip);
        }
        Ok(lines)
    }

    /// The whole lines written after byte `offset` of the current file, and
    /// the offset to read from next; a file shorter than `offset` (rotated
    /// meanwhile) is read from its start.
    pub fn read_from(&self, offset: u64) -> std::io::Result<(Vec<String>, u64)> {
        let mut f = match fs_err::File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok((Vec::new(), 0)),
            Err(e) => return Err(e),
        };
        let len = f.metadata()?.len();
        let start = if len < offset { 0 } else { offset };
        f.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        f.take(len - start).read_to_end(&mut buf)?;
        let whole = buf.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let lines = String::from_utf8_lossy(&buf[..whole])
            .lines()
            .map(str::to_owned)
            .collect();
        Ok((lines, start + whole as u64))
    }

    /// The size of the current file (0 when missing).
    pub fn len(&self) -> u64 {
        fs_err::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// True when the current file is empty or missing.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// `secs.millis` since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn rfc3339_millis(millis: u128) -> String {
    let secs = i64::try_from(millis / 1000).unwrap_or(i64::MAX);
    let ms = millis % 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's days-to-civil, on the 400-year cycle from 0000-03-01.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_urls_are_taken() {
        for ok in [
            "http://localhost:5173",
            "http://LOCALHOST:5173/app/?x=1",
            "http://127.0.0.1:3000/",
            "http://127.1.2.3:3000/",
            "http://[::1]:8080",
            "https://localhost:5173",
            "http://dev.localhost:1234",
        ] {
            let s = DevUiSource::parse(ok, false).unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(s.is_loopback(), "{ok}");
        }
        let s = DevUiSource::parse("http://localhost:5173/app/?v=1", false).unwrap();
        assert_eq!(s.origin(), "http://localhost:5173");
        assert_eq!(s.authority(), "localhost:5173");
        assert_eq!(s.entry(), "/app/?v=1");
        let s = DevUiSource::parse("http://[::1]", false).unwrap();
        assert_eq!(s.authority(), "[::1]:80");
        assert_eq!(s.entry(), "/");
    }

    #[test]
    fn hostile_urls_are_refused() {
        assert!(matches!(
            DevUiSource::parse("http://user:secret@localhost:5173", false),
            Err(DevUrlError::Credentials { url }) if !url.contains("secret")
        ));
        assert!(matches!(
            DevUiSource::parse("http://user@localhost:5173", true),
            Err(DevUrlError::Credentials { .. })
        ));
        let err = DevUiSource::parse("http://example.com:5173", false).unwrap_err();
        assert!(matches!(err, DevUrlError::NotLoopback { .. }));
        assert!(err.to_string().contains("--allow-remote"), "{err}");
        for remote in [
            "http://10.0.0.1",
            "http://localhost.example.com",
            "http://[::2]",
            "http://0.0.0.0",
        ] {
            assert!(
                matches!(
                    DevUiSource::parse(remote, false),
                    Err(DevUrlError::NotLoopback { .. })
                ),
                "{remote}"
            );
        }
        assert!(DevUiSource::parse("http://example.com:5173", true).is_ok());
        assert!(matches!(
            DevUiSource::parse("file:///etc/passwd", false),
            Err(DevUrlError::Scheme { .. })
        ));
        assert!(matches!(
            DevUiSource::parse("ws://localhost:1", false),
            Err(DevUrlError::Scheme { .. })
        ));
        assert!(matches!(
            DevUiSource::parse("localhost:5173", false),
            Err(DevUrlError::Scheme { .. } | DevUrlError::Invalid { .. })
        ));
        assert!(matches!(
            DevUiSource::parse("not a url", false),
            Err(DevUrlError::Invalid { .. })
        ));
    }

    #[test]
    fn the_log_rotates_and_tails_across_files() {
        let tmp = tempfile::tempdir().unwrap();
        let log = BridgeLog::at(tmp.path().join("ext/bridge.log"));
        assert!(log.tail(None).unwrap().is_empty());
        for i in 0..10 {
            log.append_with_limit(&format!("line {i:02}"), 32).unwrap();
        }
        // 8 bytes a line: rotated every 4 lines, at most 2 files.
        assert!(log.len() <= 32);
        assert!(log.rotated().exists());
        let all = log.tail(None).unwrap();
        assert_eq!(all.last().unwrap(), "line 09");
        assert!(all.len() <= 8, "{all:?}");
        assert_eq!(log.tail(Some(2)).unwrap(), vec!["line 08", "line 09"]);
    }

    #[test]
    fn reading_from_an_offset_follows_rotation() {
        let tmp = tempfile::tempdir().unwrap();
        let log = BridgeLog::at(tmp.path().join("bridge.log"));
        assert_eq!(log.read_from(0).unwrap(), (vec![], 0));
        log.append("a").unwrap();
        log.append("b").unwrap();
        let (lines, at) = log.read_from(0).unwrap();
        assert_eq!(lines, vec!["a", "b"]);
        assert_eq!(at, 4);
        fs_err::OpenOptions::new()
            .append(true)
            .open(log.path())
            .unwrap()
            .write_all(b"half")
            .unwrap();
        assert_eq!(log.read_from(at).unwrap(), (vec![], 4));
        fs_err::rename(log.path(), log.rotated()).unwrap();
        log.append("c").unwrap();
        assert_eq!(log.read_from(4).unwrap(), (vec!["c".to_owned()], 2));
    }

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_700_000_000_123),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(rfc3339_millis(951_782_400_000), "2000-02-29T00:00:00.000Z");
    }
}
