//! HTTP/1.1 by hand, as tests speak it to a backend's unix socket, a
//! registry or `dockhand serve`: one request per connection
//! (`Connection: close`), the whole answer read until the peer closes.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long a test waits for an answer.
const READ_TIMEOUT: Duration = Duration::from_secs(20);

/// An answer as read off the wire.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code (0 when the status line does not parse).
    pub status: u16,
    /// The status line and headers, without the blank line.
    pub head: String,
    /// Everything after the blank line (not de-chunked).
    pub body: String,
    /// The whole answer.
    pub raw: String,
}

impl Response {
    /// Splits a raw answer into status, head and body.
    pub fn parse(raw: String) -> Self {
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Self {
            status,
            head: head.to_owned(),
            body: body.to_owned(),
            raw: raw.clone(),
        }
    }

    /// The status and the body.
    pub fn into_parts(self) -> (u16, String) {
        (self.status, self.body)
    }

    /// The first header `name` (case-insensitive), trimmed.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers(name).next()
    }

    /// Every header `name` (case-insensitive), trimmed, in order.
    pub fn headers<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a str> + use<'a> {
        let name = name.to_owned();
        self.head.lines().skip(1).filter_map(move |l| {
            let (k, v) = l.split_once(':')?;
            k.trim().eq_ignore_ascii_case(&name).then_some(v.trim())
        })
    }
}

/// `GET path` with `Host: host`, closing the connection after the answer.
pub fn get_request(host: &str, path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n")
}

/// `method path` with a JSON `body` and `Host: host`, closing the connection
/// after the answer.
pub fn json_request(host: &str, method: &str, path: &str, body: &str) -> String {
    format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// Sends `request` as is over the unix socket `sock`; the whole answer.
pub fn unix_exchange(sock: &Path, request: &str) -> Response {
    let s =
        UnixStream::connect(sock).unwrap_or_else(|e| panic!("connect to {}: {e}", sock.display()));
    s.set_read_timeout(Some(READ_TIMEOUT))
        .expect("a read timeout");
    Response::parse(exchange(s, request))
}

/// Sends `request` as is to `addr` (`host:port`); the whole answer.
pub fn tcp_exchange(addr: &str, request: &str) -> Response {
    let s = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    s.set_read_timeout(Some(READ_TIMEOUT))
        .expect("a read timeout");
    Response::parse(exchange(s, request))
}

/// `GET path` over the unix socket `sock` (a backend's).
pub fn unix_get(sock: &Path, path: &str) -> Response {
    unix_exchange(sock, &get_request("backend", path))
}

/// `GET path` from `addr` (`host:port`).
pub fn tcp_get(addr: &str, path: &str) -> Response {
    tcp_exchange(addr, &get_request(addr, path))
}

fn exchange(mut s: impl Read + Write, request: &str) -> String {
    s.write_all(request.as_bytes()).expect("send the request");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    String::from_utf8_lossy(&raw).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_splits_into_status_headers_and_body() {
        let r = Response::parse(
            "HTTP/1.1 303 See Other\r\nLocation: /#key=k\r\nset-cookie: a=1\r\nSet-Cookie: b=2\r\n\r\nbody"
                .to_owned(),
        );
        assert_eq!(r.status, 303);
        assert_eq!(r.header("location"), Some("/#key=k"));
        assert_eq!(r.headers("set-cookie").collect::<Vec<_>>(), ["a=1", "b=2"]);
        assert_eq!(r.body, "body");
    }

    #[test]
    fn a_garbled_answer_has_status_zero() {
        let r = Response::parse("nonsense".to_owned());
        assert_eq!((r.status, r.body.as_str()), (0, ""));
    }
}
