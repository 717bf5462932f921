//! The backend of the {{title_comment}} extension: a small HTTP/1.1 server on the unix socket
//! that metadata.json names in `vm.exposes.socket`, using the standard library only.
//!
//! The extension's UI reaches it with `ddClient.extension.vm.service.get("/hello")`; the host
//! creates `/run/guest-services` in the container and forwards those calls to the socket.
//!
//! Routes: `GET /hello` (JSON), `GET /healthz` (`ok`); anything else is a JSON 404.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::PathBuf;

const DEFAULT_SOCKET: &str = "/run/guest-services/{{socket}}";

fn main() {
    let mut socket = PathBuf::from(DEFAULT_SOCKET);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--version" => {
                println!("backend {}", env!("CARGO_PKG_VERSION"));
                return;
            }
            "--socket" => match args.next() {
                Some(path) => socket = PathBuf::from(path),
                None => fail("--socket needs a path"),
            },
            other => fail(&format!("unknown argument `{other}`: use --socket PATH or --version")),
        }
    }
    if let Some(dir) = socket.parent() {
        if let Err(e) = std::fs::create_dir_all(dir) {
            fail(&format!("cannot create {}: {e}", dir.display()));
        }
    }
    // A socket left by a previous run would make bind fail.
    let _ = std::fs::remove_file(&socket);
    let listener = match UnixListener::bind(&socket) {
        Ok(l) => l,
        Err(e) => fail(&format!("cannot listen on {}: {e}", socket.display())),
    };
    // The host connects as an ordinary user while this process runs as root: let it in.
    if let Err(e) = std::fs::set_permissions(&socket, std::fs::Permissions::from_mode(0o666)) {
        fail(&format!("cannot make {} reachable: {e}", socket.display()));
    }
    eprintln!("backend: listening on {}", socket.display());
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                std::thread::spawn(move || {
                    if let Err(e) = serve(stream) {
                        eprintln!("backend: connection: {e}");
                    }
                });
            }
            Err(e) => eprintln!("backend: accept: {e}"),
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("backend: {message}");
    std::process::exit(1);
}

/// Answers the requests of one connection (keep-alive) until the client closes it.
fn serve(stream: UnixStream) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut writer = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line)? == 0 {
            return Ok(());
        }
        let mut parts = request_line.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let path = parts.next().unwrap_or("").to_owned();
        let mut length = 0usize;
        let mut close = false;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header)? == 0 {
                return Ok(());
            }
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let value = value.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.parse().unwrap_or(0);
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.eq_ignore_ascii_case("close");
                }
            }
        }
        // The body is not used by these routes, but it must be read off the connection.
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let (status, content_type, body) = route(&method, &path);
        write!(
            writer,
            "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n{}\r\n{body}",
            body.len(),
            if close { "Connection: close\r\n" } else { "" },
        )?;
        writer.flush()?;
        if close {
            return Ok(());
        }
    }
}

/// What to answer: status line, content type, body.
fn route(method: &str, path: &str) -> (&'static str, &'static str, String) {
    match (method, path) {
        ("GET", "/hello") => (
            "200 OK",
            "application/json",
            format!(
                "{{\"message\":\"hello from the {{json_name}} backend\",\"version\":\"{}\"}}",
                env!("CARGO_PKG_VERSION")
            ),
        ),
        ("GET", "/healthz") => ("200 OK", "text/plain", "ok".to_owned()),
        _ => (
            "404 Not Found",
            "application/json",
            "{\"error\":\"not found\"}".to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::route;

    #[test]
    fn hello_answers_json() {
        let (status, kind, body) = route("GET", "/hello");
        assert_eq!(status, "200 OK");
        assert_eq!(kind, "application/json");
        assert!(body.starts_with("{\"message\":\"hello from"));
    }

    #[test]
    fn unknown_paths_are_404() {
        assert_eq!(route("GET", "/nope").0, "404 Not Found");
    }
}
