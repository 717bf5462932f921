//! Credentials and the checks every request goes through (`docs/bridge.md`,
//! "Sessions").
//!
//! - [`random_token`]: 32 bytes of `/dev/urandom`, hex.
//! - [`Auth`]: the one-time startup token (10 minutes), dashboard sessions,
//!   tickets (single use, 30 s, for one extension) and the extension
//!   sessions they become. All in memory: a restart logs everybody out.
//! - Cookies: [`cookie`] reads one from the `Cookie` headers,
//!   [`session_cookie`] and [`extension_cookie`] write `Set-Cookie` values.
//! - [`parse_host`] splits a `Host` header; [`check_origin`] is the `Origin`
//!   check of state-changing requests (and WebSocket upgrades), the only one.

use std::collections::HashMap;
use std::io::Read;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, Method, header};
use dockhand_spec::ExtensionId;

use crate::error::ApiError;

/// The dashboard's session cookie.
pub const SESSION_COOKIE: &str = "dockhand_session";
/// An extension origin's session cookie.
pub const EXTENSION_COOKIE: &str = "dockhand_ext";
/// How long the startup token printed by `serve` stays valid.
pub const STARTUP_TOKEN_TTL: Duration = Duration::from_secs(10 * 60);
/// How long a ticket stays valid.
pub const TICKET_TTL: Duration = Duration::from_secs(30);
/// Extension sessions kept at most; the oldest go first.
const MAX_EXTENSION_SESSIONS: usize = 1024;
/// Unused tickets kept at most; the oldest go first.
const MAX_TICKETS: usize = 256;

/// 32 random bytes from `/dev/urandom`, as 64 lowercase hex digits.
pub fn random_token() -> std::io::Result<String> {
    let mut bytes = [0u8; 32];
    fs_err::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// Compares two secrets in time independent of where they differ.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A new dashboard session: the cookie's secret and the page key.
///
/// The cookie alone is not enough for the dashboard API: cookies are not
/// kept apart by port, so a page or a server on another `localhost` port (a
/// dev server, an extension's published port opened with `openExternal`)
/// receives `dockhand_session`. Every `/api/` call must also carry the page
/// key ([`PAGE_KEY_HEADER`], or [`PAGE_KEY_PARAM`] for a WebSocket), which
/// only the dashboard's own page has: the login redirect puts it in the URL
/// fragment (never sent to any server) and the page keeps it in its origin's
/// storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardLogin {
    /// The `dockhand_session` cookie's value.
    pub session: String,
    /// The page key.
    pub key: String,
}

impl DashboardLogin {
    fn new() -> std::io::Result<Self> {
        Ok(Self {
            session: random_token()?,
            key: random_token()?,
        })
    }
}

/// The header that carries the page key on dashboard API calls.
pub const PAGE_KEY_HEADER: &str = "x-dockhand-key";
/// The query parameter that carries it on a dashboard WebSocket (which
/// cannot set headers).
pub const PAGE_KEY_PARAM: &str = "key";

/// A session on an extension origin, as [`Auth::extension_session`] finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtensionSession {
    /// The extension the session is for.
    pub extension: ExtensionId,
    /// A small number naming the session (not the secret): the bridge may use
    /// it to group the processes one tab started.
    pub number: u64,
}

#[derive(Debug, Default)]
struct Store {
    startup: Option<(String, Instant)>,
    /// Dashboard sessions: the cookie's secret and the page key.
    sessions: Vec<(String, String)>,
    tickets: HashMap<String, (ExtensionId, Instant)>,
    extension_sessions: HashMap<String, (ExtensionSession, Instant)>,
    next_number: u64,
}

/// Every credential of one server, in memory.
#[derive(Debug, Default)]
pub struct Auth {
    store: Mutex<Store>,
}

impl Auth {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // Every change is a few map operations that cannot leave it half done.
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Makes a new one-time startup token (replacing any earlier one), valid
    /// for [`STARTUP_TOKEN_TTL`].
    pub fn issue_startup_token(&self) -> std::io::Result<String> {
        let token = random_token()?;
        self.store().startup = Some((token.clone(), Instant::now() + STARTUP_TOKEN_TTL));
        Ok(token)
    }

    /// Spends the startup token: a new dashboard session when `token` is it
    /// and still valid, else `None`. Either way a matching token is used up.
    pub fn redeem_startup_token(&self, token: &str) -> std::io::Result<Option<DashboardLogin>> {
        self.redeem_startup_token_at(token, Instant::now())
    }

    fn redeem_startup_token_at(
        &self,
        token: &str,
        now: Instant,
    ) -> std::io::Result<Option<DashboardLogin>> {
        let mut store = self.store();
        let valid = match &store.startup {
            Some((t, until)) if same_secret(t, token) => {
                let valid = now < *until;
                store.startup = None;
                valid
            }
            _ => false,
        };
        if !valid {
            return Ok(None);
        }
        let login = DashboardLogin::new()?;
        store
            .sessions
            .push((login.session.clone(), login.key.clone()));
        Ok(Some(login))
    }

    /// A new dashboard session without the startup token (for embedding the
    /// server in another program, and for tests).
    pub fn create_session(&self) -> std::io::Result<DashboardLogin> {
        let login = DashboardLogin::new()?;
        self.store()
            .sessions
            .push((login.session.clone(), login.key.clone()));
        Ok(login)
    }

    /// True when `session` is a dashboard session.
    pub fn is_session(&self, session: &str) -> bool {
        self.store()
            .sessions
            .iter()
            .any(|(s, _)| same_secret(s, session))
    }

    /// True when `key` is the page key of dashboard session `session`.
    pub fn is_page_key(&self, session: &str, key: &str) -> bool {
        self.store()
            .sessions
            .iter()
            .any(|(s, k)| same_secret(s, session) && same_secret(k, key))
    }

    /// A single-use ticket for `extension`, valid for [`TICKET_TTL`].
    pub fn issue_ticket(&self, extension: &ExtensionId) -> std::io::Result<String> {
        let ticket = random_token()?;
        let now = Instant::now();
        let mut store = self.store();
        store.tickets.retain(|_, (_, until)| now < *until);
        make_room(&mut store.tickets, MAX_TICKETS);
        store
            .tickets
            .insert(ticket.clone(), (extension.clone(), now + TICKET_TTL));
        Ok(ticket)
    }

    /// Spends `ticket` on the origin of `extension`: a new extension session
    /// secret when the ticket is valid and for that extension, else `None`.
    /// A known ticket is used up even when refused.
    pub fn redeem_ticket(
        &self,
        ticket: &str,
        extension: &ExtensionId,
    ) -> std::io::Result<Option<String>> {
        self.redeem_ticket_at(ticket, extension, Instant::now())
    }

    fn redeem_ticket_at(
        &self,
        ticket: &str,
        extension: &ExtensionId,
        now: Instant,
    ) -> std::io::Result<Option<String>> {
        let mut store = self.store();
        let Some((for_extension, until)) = store.tickets.remove(ticket) else {
            return Ok(None);
        };
        if now >= until || for_extension != *extension {
            return Ok(None);
        }
        let secret = random_token()?;
        make_room(&mut store.extension_sessions, MAX_EXTENSION_SESSIONS);
        store.next_number += 1;
        let session = ExtensionSession {
            extension: for_extension,
            number: store.next_number,
        };
        store
            .extension_sessions
            .insert(secret.clone(), (session, now));
        Ok(Some(secret))
    }

    /// The extension session whose secret is `secret`.
    pub fn extension_session(&self, secret: &str) -> Option<ExtensionSession> {
        self.store()
            .extension_sessions
            .get(secret)
            .map(|(s, _)| s.clone())
    }

    /// Ends every session and ticket of `extension` (it was removed).
    pub fn forget_extension(&self, extension: &ExtensionId) {
        let mut store = self.store();
        store.tickets.retain(|_, (e, _)| e != extension);
        store
            .extension_sessions
            .retain(|_, (s, _)| s.extension != *extension);
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| n.trim() == name)
        .map(|(_, v)| v.trim().trim_matches('"'))
}

/// `Set-Cookie` for the dashboard session.
pub fn session_cookie(session: &str) -> String {
    format!("{SESSION_COOKIE}={session}; HttpOnly; SameSite=Strict; Path=/")
}

/// `Set-Cookie` for an extension origin's session (browsers treat
/// `*.localhost` as a secure context, so `Secure` works over plain HTTP).
///
/// `<slug>.localhost` and `localhost` are different sites (`localhost` is a
/// top-level name, so each `<slug>.localhost` is its own registrable
/// domain): inside the dashboard's iframe this is a third-party cookie,
/// which Chromium blocks unless it is `Partitioned` (CHIPS: kept per
/// top-level site, here the dashboard's). Firefox partitions it anyway.
pub fn extension_cookie(secret: &str) -> String {
    format!("{EXTENSION_COOKIE}={secret}; HttpOnly; SameSite=None; Secure; Partitioned; Path=/")
}

/// True for the methods that change state: `POST`, `PUT`, `PATCH`, `DELETE`.
pub fn is_state_changing(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// True when the request asks for a WebSocket.
pub fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// The `Origin` check, the only one: a state-changing request
/// ([`is_state_changing`]) or a WebSocket upgrade passes only when its
/// `Origin` header is exactly `expected` (`http://localhost:7411`), else
/// `403`; other requests pass. The router's session layer
/// ([`crate::gate`]) applies it once per request, before any route.
pub fn check_origin(method: &Method, headers: &HeaderMap, expected: &str) -> Result<(), ApiError> {
    if !is_state_changing(method) && !is_websocket_upgrade(headers) {
        return Ok(());
    }
    match headers.get(header::ORIGIN).map(|v| v.to_str()) {
        Some(Ok(origin)) if origin == expected => Ok(()),
        Some(Ok(origin)) => Err(ApiError::forbidden(format!(
            "requests from {origin} are refused here: only {expected} may make them"
        ))),
        _ => Err(ApiError::forbidden(format!(
            "this request needs an Origin header equal to {expected}"
        ))),
    }
}

/// The fetch-metadata check of an extension origin's bridge and
/// `ddclient.js`: a browser says in `Sec-Fetch-Site` who asks, and only the
/// extension's own page may (`same-origin`). Another extension's page (whose
/// browser sends this origin's `SameSite=None` cookie along) cannot include
/// this extension's `ddclient.js` with a `<script>` to read its facts, nor
/// call its bridge. A request without the header (not from a browser) is
/// left to the cookie and `Origin` checks.
pub fn check_same_origin_fetch(headers: &HeaderMap) -> Result<(), ApiError> {
    match headers.get("sec-fetch-site").map(|v| v.to_str()) {
        None | Some(Ok("same-origin")) => Ok(()),
        Some(site) => Err(ApiError::forbidden(format!(
            "the bridge answers only the extension's own page (Sec-Fetch-Site: {}): open it in its tab",
            site.unwrap_or("?")
        ))),
    }
}

/// A `Host` header split into a lowercase name and a port (80 when absent).
/// `[::1]:7411` gives `("[::1]", 7411)`. `None` when it cannot be a host.
pub fn parse_host(host: &str) -> Option<(String, u16)> {
    let host = host.trim().to_ascii_lowercase();
    let (name, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let (name, rest) = host.split_at(end + 1);
        match rest.strip_prefix(':') {
            Some(p) => (name.to_owned(), p.parse().ok()?),
            None if rest.is_empty() => (name.to_owned(), 80),
            None => return None,
        }
    } else {
        match host.rsplit_once(':') {
            Some((name, p)) => (name.to_owned(), p.parse().ok()?),
            None => (host, 80),
        }
    };
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'[' | b']' | b':'));
    valid.then_some((name, port))
}

/// What a `Host` names, before the extension is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostName {
    /// `localhost`, `127.0.0.1` or `[::1]` on this server's port.
    Dashboard,
    /// `<slug>.localhost` on this server's port: the slug.
    Extension(String),
}

/// The allow-list: what `host` (a `Host` header) names on a server listening
/// on `port`, or `None` when this server does not answer for it (`421`).
pub fn classify_host(host: &str, port: u16) -> Option<HostName> {
    let (name, p) = parse_host(host)?;
    if p != port {
        return None;
    }
    match name.as_str() {
        "localhost" | "127.0.0.1" | "[::1]" => Some(HostName::Dashboard),
        _ => {
            let slug = name.strip_suffix(".localhost")?;
            let label = !slug.is_empty()
                && slug.len() <= 63
                && slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            label.then(|| HostName::Extension(slug.to_owned()))
        }
    }
}

/// Makes room for one more entry in `map`, which holds at most `max`: when
/// it is full, the entry with the earliest instant goes.
fn make_room<T>(map: &mut HashMap<String, (T, Instant)>, max: usize) {
    if map.len() >= max
        && let Some(oldest) = map
            .iter()
            .min_by_key(|(_, (_, at))| *at)
            .map(|(k, _)| k.clone())
    {
        map.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;
    use crate::test_support::header_map;

    fn id(s: &str) -> ExtensionId {
        ExtensionId::parse(s).unwrap()
    }

    #[test]
    fn tokens_are_64_hex_and_differ() {
        let a = random_token().unwrap();
        let b = random_token().unwrap();
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }

    #[test]
    fn startup_token_is_single_use_and_expires() {
        let auth = Auth::new();
        let t = auth.issue_startup_token().unwrap();
        assert!(auth.redeem_startup_token("nope").unwrap().is_none());
        let login = auth.redeem_startup_token(&t).unwrap().unwrap();
        let s = login.session.clone();
        assert!(auth.is_session(&s));
        assert!(!auth.is_session("nope"));
        assert!(auth.is_page_key(&s, &login.key));
        assert!(!auth.is_page_key(&s, &s), "the cookie is not the key");
        assert!(!auth.is_page_key("nope", &login.key));
        assert_ne!(login.key, login.session);
        assert!(auth.redeem_startup_token(&t).unwrap().is_none());

        let t = auth.issue_startup_token().unwrap();
        let late = Instant::now() + STARTUP_TOKEN_TTL + Duration::from_secs(1);
        assert!(auth.redeem_startup_token_at(&t, late).unwrap().is_none());
        assert!(auth.redeem_startup_token(&t).unwrap().is_none(), "spent");
    }

    #[test]
    fn tickets_are_single_use_for_one_extension_and_expire() {
        let auth = Auth::new();
        let (a, b) = (id("acme/a"), id("acme/b"));
        let k = auth.issue_ticket(&a).unwrap();
        assert!(auth.redeem_ticket(&k, &b).unwrap().is_none());
        assert!(
            auth.redeem_ticket(&k, &a).unwrap().is_none(),
            "spent by the refusal"
        );

        let k = auth.issue_ticket(&a).unwrap();
        let secret = auth.redeem_ticket(&k, &a).unwrap().unwrap();
        assert_eq!(auth.extension_session(&secret).unwrap().extension, a);
        assert!(auth.redeem_ticket(&k, &a).unwrap().is_none());

        let k = auth.issue_ticket(&a).unwrap();
        let late = Instant::now() + TICKET_TTL + Duration::from_secs(1);
        assert!(auth.redeem_ticket_at(&k, &a, late).unwrap().is_none());

        auth.forget_extension(&a);
        assert!(auth.extension_session(&secret).is_none());
    }

    #[test]
    fn a_full_map_loses_its_oldest_entry_only() {
        let start = Instant::now();
        let mut map = HashMap::new();
        for i in 0..3u64 {
            map.insert(format!("k{i}"), ((), start + Duration::from_secs(10 - i)));
        }
        make_room(&mut map, 4);
        assert_eq!(map.len(), 3, "room already");
        make_room(&mut map, 3);
        assert_eq!(map.len(), 2);
        assert!(!map.contains_key("k2"), "the earliest instant goes");
        // A flood never grows the map past its cap.
        for i in 0..100u64 {
            make_room(&mut map, 3);
            map.insert(format!("f{i}"), ((), start + Duration::from_secs(i)));
        }
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn cookies_are_found_among_others() {
        let h = header_map(&[
            (header::COOKIE, "a=1; dockhand_ext=xyz"),
            (header::COOKIE, "dockhand_session=s1"),
        ]);
        assert_eq!(cookie(&h, EXTENSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("s1"));
        assert_eq!(cookie(&h, "b"), None);
        assert_eq!(
            session_cookie("v"),
            "dockhand_session=v; HttpOnly; SameSite=Strict; Path=/"
        );
        assert_eq!(
            extension_cookie("v"),
            "dockhand_ext=v; HttpOnly; SameSite=None; Secure; Partitioned; Path=/"
        );
    }

    #[test]
    fn hosts_parse() {
        assert_eq!(
            parse_host("LocalHost:7411"),
            Some(("localhost".into(), 7411))
        );
        assert_eq!(parse_host("[::1]:80"), Some(("[::1]".into(), 80)));
        assert_eq!(parse_host("[::1]"), Some(("[::1]".into(), 80)));
        assert_eq!(parse_host("a.localhost"), Some(("a.localhost".into(), 80)));
        assert_eq!(parse_host("a.localhost:x"), None);
        assert_eq!(parse_host("a b:1"), None);
        assert_eq!(parse_host(":1"), None);
    }

    #[test]
    fn the_allow_list() {
        assert_eq!(classify_host("localhost:7", 7), Some(HostName::Dashboard));
        assert_eq!(classify_host("127.0.0.1:7", 7), Some(HostName::Dashboard));
        assert_eq!(classify_host("[::1]:7", 7), Some(HostName::Dashboard));
        assert_eq!(classify_host("localhost:8", 7), None);
        assert_eq!(classify_host("localhost", 7), None);
        assert_eq!(classify_host("evil.com:7", 7), None);
        assert_eq!(classify_host("a.b.localhost:7", 7), None);
        assert_eq!(classify_host(".localhost:7", 7), None);
        assert_eq!(
            classify_host("Ab-1.localhost:7", 7),
            Some(HostName::Extension("ab-1".into()))
        );
    }

    #[test]
    fn origin_must_match_exactly() {
        let post = &Method::POST;
        let mut h = HeaderMap::new();
        assert_eq!(
            check_origin(post, &h, "http://localhost:1")
                .unwrap_err()
                .status,
            axum::http::StatusCode::FORBIDDEN
        );
        assert!(check_origin(&Method::GET, &h, "http://localhost:1").is_ok());
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://localhost:1"),
        );
        assert!(check_origin(post, &h, "http://localhost:1").is_ok());
        assert!(check_origin(post, &h, "http://localhost:12").is_err());
        h.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
        assert!(check_origin(&Method::GET, &h, "http://localhost:12").is_err());
    }
}
