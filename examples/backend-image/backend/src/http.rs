//! HTTP/1.1 messages: reading requests (RFC 9112) and writing responses.
//!
//! Just enough of the protocol for a backend that sits behind a proxy: origin-form and
//! absolute-form targets, `Content-Length` and `Transfer-Encoding: chunked` bodies, persistent
//! connections, `Expect: 100-continue`. Every limit is enforced while reading, so a client can
//! neither make the server buffer without bound nor make it panic.

use std::io::{self, BufRead, Write};

/// Longest request line, header line or chunk-size line, in bytes (without the line end).
pub const MAX_LINE: usize = 8 * 1024;
/// Most header (or trailer) fields in one message.
pub const MAX_HEADERS: usize = 100;
/// Most bytes in all header lines of one message together.
pub const MAX_HEAD: usize = 64 * 1024;
/// Largest request body, after chunked decoding.
pub const MAX_BODY: usize = 1024 * 1024;
/// Empty lines tolerated before a request line (RFC 9112 §2.2).
const MAX_LEADING_EMPTY_LINES: usize = 8;

/// Why a request could not be read.
#[derive(Debug)]
pub enum Error {
    /// The connection failed or ended in the middle of a message: nothing to answer.
    Io(io::Error),
    /// The message is malformed: 400.
    Bad(&'static str),
    /// The body is larger than [`MAX_BODY`]: 413.
    BodyTooLarge,
    /// A line, or the header section, is larger than its limit: 431.
    HeadTooLarge,
    /// The transfer coding is not `chunked`: 501.
    UnsupportedCoding,
    /// A well-formed HTTP version other than 1.0 and 1.1: 505.
    UnsupportedVersion,
}

impl Error {
    /// The status to answer with, or `None` when the connection is beyond answering.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Io(_) => None,
            Error::Bad(_) => Some(400),
            Error::BodyTooLarge => Some(413),
            Error::HeadTooLarge => Some(431),
            Error::UnsupportedCoding => Some(501),
            Error::UnsupportedVersion => Some(505),
        }
    }

    /// A short description for the error response body.
    pub fn message(&self) -> &'static str {
        match self {
            Error::Io(_) => "connection error",
            Error::Bad(why) => why,
            Error::BodyTooLarge => "request body too large",
            Error::HeadTooLarge => "request header section too large",
            Error::UnsupportedCoding => "only the chunked transfer coding is supported",
            Error::UnsupportedVersion => "only HTTP/1.0 and HTTP/1.1 are supported",
        }
    }
}

impl From<io::Error> for Error {
    fn from(err: io::Error) -> Self {
        Error::Io(err)
    }
}

/// The protocol version of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// How the body of a request is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyKind {
    /// Exactly this many bytes (`Content-Length`, or 0 without any framing header).
    Length(usize),
    /// `Transfer-Encoding: chunked`.
    Chunked,
}

/// A request line and its header fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub method: String,
    /// The request target in origin form: a path with an optional query (`/a?b`), or `*`.
    pub target: String,
    pub version: Version,
    /// Header fields in arrival order, names as sent, values without surrounding whitespace.
    pub headers: Vec<(String, String)>,
}

impl Head {
    /// The first value of a header field, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// All comma-separated elements of every field with this name, trimmed, empty ones skipped.
    fn list(&self, name: &str) -> impl Iterator<Item = &str> {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty())
    }

    /// The path of the target, without the query.
    pub fn path(&self) -> &str {
        match self.target.split_once('?') {
            Some((path, _)) => path,
            None => &self.target,
        }
    }

    /// Whether the connection stays open after the response (RFC 9112 §9.3).
    pub fn keep_alive(&self) -> bool {
        let has = |option: &str| {
            self.list("connection")
                .any(|o| o.eq_ignore_ascii_case(option))
        };
        match self.version {
            Version::Http11 => !has("close"),
            Version::Http10 => has("keep-alive") && !has("close"),
        }
    }

    /// Whether the client waits for `100 Continue` before sending the body.
    pub fn expects_continue(&self) -> bool {
        self.version == Version::Http11
            && self
                .header("expect")
                .is_some_and(|v| v.eq_ignore_ascii_case("100-continue"))
    }

    /// How the body is delimited (RFC 9112 §6.3); ambiguous framing is rejected.
    pub fn body_kind(&self) -> Result<BodyKind, Error> {
        let has_length = self.header("content-length").is_some();
        if self.header("transfer-encoding").is_some() {
            if self.version == Version::Http10 {
                return Err(Error::Bad("transfer-encoding in an HTTP/1.0 request"));
            }
            if has_length {
                return Err(Error::Bad("both transfer-encoding and content-length"));
            }
            let codings: Vec<&str> = self.list("transfer-encoding").collect();
            return match codings.as_slice() {
                [only] if only.eq_ignore_ascii_case("chunked") => Ok(BodyKind::Chunked),
                [] => Err(Error::Bad("empty transfer-encoding")),
                _ => Err(Error::UnsupportedCoding),
            };
        }
        if !has_length {
            return Ok(BodyKind::Length(0));
        }
        let mut length = None;
        for value in self.list("content-length") {
            let n = parse_decimal(value).ok_or(Error::Bad("invalid content-length"))?;
            if length.is_some_and(|l| l != n) {
                return Err(Error::Bad("conflicting content-length values"));
            }
            length = Some(n);
        }
        match length {
            None => Err(Error::Bad("empty content-length")),
            Some(n) if n > MAX_BODY as u64 => Err(Error::BodyTooLarge),
            Some(n) => usize::try_from(n)
                .map(BodyKind::Length)
                .map_err(|_| Error::BodyTooLarge),
        }
    }
}

/// A complete request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub head: Head,
    pub body: Vec<u8>,
}

/// Reads the next request head, or `None` when the client closed the connection cleanly
/// between requests.
pub fn read_head(r: &mut impl BufRead) -> Result<Option<Head>, Error> {
    let mut line = None;
    for _ in 0..=MAX_LEADING_EMPTY_LINES {
        match read_line(r)? {
            None => return Ok(None),
            Some(l) if l.is_empty() => continue,
            Some(l) => {
                line = Some(l);
                break;
            }
        }
    }
    let line = line.ok_or(Error::Bad("no request line"))?;
    let line = String::from_utf8(line).map_err(|_| Error::Bad("request line is not UTF-8"))?;
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::Bad("malformed request line"));
    };
    if !is_token(method) {
        return Err(Error::Bad("malformed method"));
    }
    let version = parse_version(version)?;
    let target = origin_form(target)?;
    let headers = read_fields(r)?;
    let head = Head {
        method: method.to_owned(),
        target,
        version,
        headers,
    };
    if head.version == Version::Http11 {
        let hosts = head
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("host"))
            .count();
        if hosts != 1 {
            return Err(Error::Bad(
                "an HTTP/1.1 request needs exactly one host header",
            ));
        }
    }
    Ok(Some(head))
}

/// Reads the body that `head` announces.
pub fn read_body(r: &mut impl BufRead, head: &Head) -> Result<Vec<u8>, Error> {
    match head.body_kind()? {
        BodyKind::Length(n) => {
            let mut body = vec![0; n];
            r.read_exact(&mut body)?;
            Ok(body)
        }
        BodyKind::Chunked => read_chunked(r),
    }
}

/// Reads a chunked body (RFC 9112 §7.1): chunks, the last chunk, trailers (read and dropped).
pub fn read_chunked(r: &mut impl BufRead) -> Result<Vec<u8>, Error> {
    let mut body = Vec::new();
    loop {
        let line = read_line(r)?.ok_or_else(eof)?;
        let size = match line.iter().position(|&b| b == b';') {
            Some(i) => &line[..i],
            None => &line[..],
        };
        let size = parse_hex(size.trim_ascii()).ok_or(Error::Bad("invalid chunk size"))?;
        if size == 0 {
            read_fields(r)?;
            return Ok(body);
        }
        let size = usize::try_from(size).map_err(|_| Error::BodyTooLarge)?;
        if size > MAX_BODY - body.len() {
            return Err(Error::BodyTooLarge);
        }
        let start = body.len();
        body.resize(start + size, 0);
        r.read_exact(&mut body[start..])?;
        match read_line(r)? {
            Some(end) if end.is_empty() => {}
            Some(_) => return Err(Error::Bad("chunk data longer than its size")),
            None => return Err(eof()),
        }
    }
}

/// Reads header (or trailer) fields up to and including the empty line that ends them.
pub fn read_fields(r: &mut impl BufRead) -> Result<Vec<(String, String)>, Error> {
    let mut fields = Vec::new();
    let mut total = 0;
    loop {
        let line = read_line(r)?.ok_or_else(eof)?;
        if line.is_empty() {
            return Ok(fields);
        }
        total += line.len();
        if total > MAX_HEAD || fields.len() == MAX_HEADERS {
            return Err(Error::HeadTooLarge);
        }
        fields.push(parse_field(line)?);
    }
}

fn parse_field(line: Vec<u8>) -> Result<(String, String), Error> {
    if line.first().is_some_and(|&b| b == b' ' || b == b'\t') {
        return Err(Error::Bad("obsolete line folding"));
    }
    let line = String::from_utf8(line).map_err(|_| Error::Bad("header field is not UTF-8"))?;
    let (name, value) = line
        .split_once(':')
        .ok_or(Error::Bad("header field without a colon"))?;
    if !is_token(name) {
        return Err(Error::Bad("malformed header field name"));
    }
    let value = value.trim_matches([' ', '\t']);
    if value.chars().any(|c| c.is_ascii_control() && c != '\t') {
        return Err(Error::Bad("control character in a header field value"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// Reads one line ended by LF (an optional CR before it is dropped). `None` at a clean end of
/// input; an end of input inside a line is an error.
pub fn read_line(r: &mut impl BufRead) -> Result<Option<Vec<u8>>, Error> {
    let mut line = Vec::new();
    loop {
        let available = match r.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        if available.is_empty() {
            return if line.is_empty() {
                Ok(None)
            } else {
                Err(eof())
            };
        }
        let (taken, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        line.extend_from_slice(&available[..taken]);
        r.consume(taken);
        // The limit counts the line's content; allow for its CR LF.
        if line.len() > MAX_LINE + 2 {
            return Err(Error::HeadTooLarge);
        }
        if done {
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if line.contains(&b'\r') {
                return Err(Error::Bad("bare carriage return"));
            }
            return Ok(Some(line));
        }
    }
}

fn eof() -> Error {
    Error::Io(io::ErrorKind::UnexpectedEof.into())
}

fn parse_version(version: &str) -> Result<Version, Error> {
    match version {
        "HTTP/1.1" => Ok(Version::Http11),
        "HTTP/1.0" => Ok(Version::Http10),
        _ => {
            let well_formed = version.strip_prefix("HTTP/").is_some_and(|v| {
                let b = v.as_bytes();
                b.len() == 3 && b[0].is_ascii_digit() && b[1] == b'.' && b[2].is_ascii_digit()
            });
            Err(if well_formed {
                Error::UnsupportedVersion
            } else {
                Error::Bad("malformed HTTP version")
            })
        }
    }
}

/// Turns a request target into origin form; an absolute-form target loses scheme and authority.
fn origin_form(target: &str) -> Result<String, Error> {
    if target.is_empty() || target.chars().any(|c| c.is_ascii_control()) {
        return Err(Error::Bad("malformed request target"));
    }
    if target.starts_with('/') || target == "*" {
        return Ok(target.to_owned());
    }
    let rest = ["http://", "https://"]
        .iter()
        .find_map(|scheme| {
            target
                .get(..scheme.len())
                .filter(|s| s.eq_ignore_ascii_case(scheme))
                .map(|_| &target[scheme.len()..])
        })
        .ok_or(Error::Bad("malformed request target"))?;
    Ok(match rest.find(['/', '?']) {
        Some(i) if rest[i..].starts_with('/') => rest[i..].to_owned(),
        Some(i) => format!("/{}", &rest[i..]),
        None => "/".to_owned(),
    })
}

fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fn parse_decimal(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.bytes().try_fold(0u64, |n, b| {
        n.checked_mul(10)?.checked_add(u64::from(b - b'0'))
    })
}

fn parse_hex(s: &[u8]) -> Option<u64> {
    if s.is_empty() {
        return None;
    }
    s.iter().try_fold(0u64, |n, &b| {
        let digit = char::from(b).to_digit(16)?;
        n.checked_mul(16)?.checked_add(u64::from(digit))
    })
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    /// Extra header fields; `Content-Length` and `Connection` are added when writing.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            headers: vec![("Content-Type".to_owned(), content_type.to_owned())],
            body: body.into(),
        }
    }

    pub fn json(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, "application/json", body)
    }

    pub fn text(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Self::new(status, "text/plain; charset=utf-8", body)
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Whether the status forbids a body (1xx, 204, 304).
    fn bodiless(&self) -> bool {
        self.status < 200 || self.status == 204 || self.status == 304
    }

    /// Writes the response; `head_only` answers a HEAD request (headers, no body).
    pub fn write_to(
        &self,
        w: &mut impl Write,
        head_only: bool,
        keep_alive: bool,
    ) -> io::Result<()> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        if !self.bodiless() {
            out.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        if !keep_alive {
            out.push_str("Connection: close\r\n");
        }
        out.push_str("\r\n");
        let mut bytes = out.into_bytes();
        if !head_only && !self.bodiless() {
            bytes.extend_from_slice(&self.body);
        }
        w.write_all(&bytes)?;
        w.flush()
    }
}

/// The interim response that lets a client send the body it announced with `Expect`.
pub fn write_continue(w: &mut impl Write) -> io::Result<()> {
    w.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
    w.flush()
}

/// The reason phrase of a status code (RFC 9110 §15), empty when unknown.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        408 => "Request Timeout",
        409 => "Conflict",
        410 => "Gone",
        411 => "Length Required",
        412 => "Precondition Failed",
        413 => "Content Too Large",
        415 => "Unsupported Media Type",
        418 => "I'm a teapot",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(raw: &str) -> Result<Option<Head>, Error> {
        read_head(&mut raw.as_bytes())
    }

    fn request(raw: &[u8]) -> Result<Request, Error> {
        let mut r = raw;
        let head = read_head(&mut r)?.ok_or(Error::Bad("no request"))?;
        let body = read_body(&mut r, &head)?;
        Ok(Request { head, body })
    }

    fn status_of(raw: &[u8]) -> Option<u16> {
        request(raw).err().and_then(|e| e.status())
    }

    #[test]
    fn parses_a_get_request() {
        let head = head("GET /hello?x=1 HTTP/1.1\r\nHost: x\r\nAccept:  */* \r\n\r\n")
            .expect("valid")
            .expect("present");
        assert_eq!(head.method, "GET");
        assert_eq!(head.target, "/hello?x=1");
        assert_eq!(head.path(), "/hello");
        assert_eq!(head.version, Version::Http11);
        assert_eq!(head.header("accept"), Some("*/*"));
        assert_eq!(head.header("ACCEPT"), Some("*/*"));
        assert_eq!(head.body_kind().expect("framing"), BodyKind::Length(0));
    }

    #[test]
    fn accepts_bare_lf_line_ends_and_leading_empty_lines() {
        let head = head("\r\n\nGET / HTTP/1.0\n\n")
            .expect("valid")
            .expect("present");
        assert_eq!(head.version, Version::Http10);
        assert!(head.headers.is_empty());
    }

    #[test]
    fn clean_end_of_input_is_no_request() {
        assert!(head("").expect("no error").is_none());
    }

    #[test]
    fn absolute_form_becomes_origin_form() {
        for (target, want) in [
            ("http://x/a/b?c", "/a/b?c"),
            ("HTTP://x", "/"),
            ("https://x?q", "/?q"),
        ] {
            let raw = format!("GET {target} HTTP/1.1\r\nHost: x\r\n\r\n");
            let head = head(&raw).expect("valid").expect("present");
            assert_eq!(head.target, want, "{target}");
        }
    }

    #[test]
    fn reads_a_content_length_body() {
        let req = request(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
            .expect("valid");
        assert_eq!(req.body, b"hello");
    }

    #[test]
    fn reads_a_chunked_body_with_extensions_and_trailers() {
        let raw = b"POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
            5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nTrailer: yes\r\n\r\n";
        let req = request(raw).expect("valid");
        assert_eq!(req.body, b"hello 0123456789");
    }

    #[test]
    fn reads_an_empty_chunked_body() {
        let raw = b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n";
        assert_eq!(request(raw).expect("valid").body, b"");
    }

    #[test]
    fn rejects_malformed_chunked_bodies() {
        let prefix = "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
        for body in [
            "zz\r\n",
            "\r\n",
            "5\r\nhelloX\r\n0\r\n\r\n",
            "-1\r\n",
            "0x5\r\n",
        ] {
            let raw = format!("{prefix}{body}");
            assert_eq!(status_of(raw.as_bytes()), Some(400), "{body:?}");
        }
        let huge = format!("{prefix}ffffffffffffffffff\r\n");
        assert_eq!(status_of(huge.as_bytes()), Some(400));
        let big = format!("{prefix}{:x}\r\n", MAX_BODY + 1);
        assert_eq!(status_of(big.as_bytes()), Some(413));
    }

    #[test]
    fn a_truncated_body_is_a_connection_error() {
        for raw in [
            &b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"[..],
            b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab",
            b"GET / HTTP/1.1\r\nHost: x\r\n",
        ] {
            assert!(matches!(request(raw), Err(Error::Io(_))));
        }
    }

    #[test]
    fn rejects_ambiguous_or_invalid_framing() {
        let cases: [(&[u8], u16); 7] = [
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: +1\r\n\r\na", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2000000\r\n\r\n", 413),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501),
            (b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400),
        ];
        for (raw, want) in cases {
            assert_eq!(
                status_of(raw),
                Some(want),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        let same = request(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2, 2\r\n\r\nab");
        assert_eq!(same.expect("identical lengths are fine").body, b"ab");
    }

    #[test]
    fn rejects_malformed_heads() {
        let cases: [(&[u8], u16); 12] = [
            (b"GET /\r\n\r\n", 400),
            (b"GET  / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"G(T / HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET x HTTP/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nA: b\r\n folded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\rY: z\r\n\r\n", 400),
        ];
        for (raw, want) in cases {
            assert_eq!(
                status_of(raw),
                Some(want),
                "{}",
                String::from_utf8_lossy(raw)
            );
        }
        assert_eq!(
            status_of(b"GET /\xff HTTP/1.1\r\nHost: x\r\n\r\n"),
            Some(400)
        );
        assert_eq!(
            status_of(b"\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n"),
            Some(400)
        );
    }

    #[test]
    fn enforces_head_limits() {
        let long = format!(
            "GET /{} HTTP/1.1\r\nHost: x\r\n\r\n",
            "a".repeat(MAX_LINE + 1)
        );
        assert_eq!(status_of(long.as_bytes()), Some(431));
        let many: String = (0..=MAX_HEADERS).map(|i| format!("X-{i}: v\r\n")).collect();
        let raw = format!("GET / HTTP/1.1\r\nHost: x\r\n{many}\r\n");
        assert_eq!(status_of(raw.as_bytes()), Some(431));
    }

    #[test]
    fn keep_alive_follows_version_and_connection_header() {
        let cases = [
            ("GET / HTTP/1.1\r\nHost: x\r\n\r\n", true),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                false,
            ),
            (
                "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, Close\r\n\r\n",
                false,
            ),
            ("GET / HTTP/1.0\r\n\r\n", false),
            ("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true),
        ];
        for (raw, want) in cases {
            let head = head(raw).expect("valid").expect("present");
            assert_eq!(head.keep_alive(), want, "{raw}");
        }
    }

    #[test]
    fn detects_expect_continue() {
        let raw = "POST / HTTP/1.1\r\nHost: x\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n";
        assert!(
            head(raw)
                .expect("valid")
                .expect("present")
                .expects_continue()
        );
        let raw = "POST / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n";
        assert!(
            !head(raw)
                .expect("valid")
                .expect("present")
                .expects_continue()
        );
    }

    #[test]
    fn writes_responses() {
        let response = Response::json(200, "{}").with_header("X-A", "b");
        let mut out = Vec::new();
        response.write_to(&mut out, false, true).expect("write");
        assert_eq!(
            out,
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-A: b\r\nContent-Length: 2\r\n\r\n{}"
        );

        let mut out = Vec::new();
        response.write_to(&mut out, true, false).expect("write");
        assert!(out.ends_with(b"Content-Length: 2\r\nConnection: close\r\n\r\n"));

        let mut out = Vec::new();
        Response::text(204, "dropped")
            .write_to(&mut out, false, true)
            .expect("write");
        assert_eq!(
            out,
            b"HTTP/1.1 204 No Content\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
        );
    }
}
