//! A minimal Docker Engine API client on a unix socket: one GET at a time. It lets a backend
//! show that the engine socket was mounted into its container (`/engine/version`).

use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use crate::http;

const TIMEOUT: Duration = Duration::from_secs(10);

/// What the engine answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineResponse {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// Sends `GET path` to the engine listening on `socket`.
pub fn get(socket: &Path, path: &str) -> io::Result<EngineResponse> {
    let mut stream = UnixStream::connect(socket)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: dockhand-example-backend\r\nConnection: close\r\n\r\n"
    )?;
    stream.flush()?;
    read_response(&mut BufReader::new(stream))
}

/// Reads one response: its body ends by `Content-Length`, chunked coding, or the end of input.
pub fn read_response(r: &mut impl BufRead) -> io::Result<EngineResponse> {
    let line = http::read_line(r)
        .map_err(into_io)?
        .ok_or_else(|| invalid("the engine closed the connection without answering"))?;
    let line = String::from_utf8(line).map_err(|_| invalid("status line is not UTF-8"))?;
    let status = match line.split(' ').collect::<Vec<_>>().as_slice() {
        [version, code, ..] if version.starts_with("HTTP/1.") && code.len() == 3 => code
            .parse::<u16>()
            .map_err(|_| invalid("malformed status code"))?,
        _ => return Err(invalid("malformed status line")),
    };
    let fields = http::read_fields(r).map_err(into_io)?;
    let field = |name: &str| {
        fields
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let chunked = field("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked"));
    let body = if chunked {
        http::read_chunked(r).map_err(into_io)?
    } else if let Some(length) = field("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| invalid("malformed content-length"))?;
        if length > http::MAX_BODY {
            return Err(invalid("the engine's answer is too large"));
        }
        let mut body = vec![0; length];
        r.read_exact(&mut body)?;
        body
    } else {
        let mut body = Vec::new();
        r.take(http::MAX_BODY as u64).read_to_end(&mut body)?;
        body
    };
    Ok(EngineResponse {
        status,
        content_type: field("content-type").map(str::to_owned),
        body,
    })
}

fn invalid(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message.to_owned())
}

fn into_io(err: http::Error) -> io::Error {
    match err {
        http::Error::Io(e) => e,
        other => invalid(other.message()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    fn parse(raw: &[u8]) -> io::Result<EngineResponse> {
        read_response(&mut &raw[..])
    }

    #[test]
    fn reads_content_length_chunked_and_close_delimited_answers() {
        let want = EngineResponse {
            status: 200,
            content_type: Some("application/json".to_owned()),
            body: b"{\"Version\":\"27\"}".to_vec(),
        };
        let sized = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 16\r\n\r\n{\"Version\":\"27\"}";
        assert_eq!(parse(sized).expect("valid"), want);
        let chunked = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n{\"Version\":\"27\"}\r\n0\r\n\r\n";
        assert_eq!(parse(chunked).expect("valid"), want);
        let closed =
            b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"Version\":\"27\"}";
        assert_eq!(parse(closed).expect("valid"), want);
    }

    #[test]
    fn rejects_garbage() {
        for raw in [
            &b""[..],
            b"nonsense\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"\xff\r\n",
        ] {
            assert!(parse(raw).is_err(), "{}", String::from_utf8_lossy(raw));
        }
    }

    #[test]
    fn talks_to_an_engine_on_a_unix_socket() {
        let dir = crate::server::tests::temp_dir("engine");
        let socket = dir.join("docker.sock");
        let listener = UnixListener::bind(&socket).expect("bind");
        let engine = std::thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream);
            let head = http::read_head(&mut reader)
                .expect("valid")
                .expect("present");
            let mut stream = reader.into_inner();
            let body = format!("{{\"path\":\"{}\"}}", head.target);
            http::Response::json(200, body)
                .write_to(&mut stream, false, false)
                .expect("answer");
        });
        let response = get(&socket, "/version").expect("engine answers");
        engine.join().expect("engine thread");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, br#"{"path":"/version"}"#);
        std::fs::remove_dir_all(dir).expect("clean up");
    }
}
