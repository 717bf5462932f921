//! The listening socket and its connections: one thread per connection, persistent
//! connections until the client closes, asks to close, or sends something unreadable.

use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use crate::http::{self, BodyKind, Request};
use crate::routes::{self, Context};

/// How long an idle persistent connection (or a stalled request) stays open.
const READ_TIMEOUT: Duration = Duration::from_secs(300);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Listens on `path`: creates its directory, replaces a stale socket left by an earlier run
/// (but nothing else), and opens the socket to every user (mode 0666), because the host side
/// connecting to it is usually not the container's root.
pub fn bind(path: &Path) -> io::Result<UnixListener> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        fs::create_dir_all(parent)?;
    }
    match fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => fs::remove_file(path)?,
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "the path exists and is not a socket",
            ));
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let listener = UnixListener::bind(path)?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o666))?;
    Ok(listener)
}

/// Accepts connections forever, each on its own thread.
pub fn serve(listener: &UnixListener, ctx: &Arc<Context>) {
    for stream in listener.incoming() {
        let stream = match stream {
            Ok(stream) => stream,
            Err(err) => {
                eprintln!("backend: accepting a connection failed: {err}");
                // Out of file descriptors, say: let connections finish instead of spinning.
                thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let ctx = Arc::clone(ctx);
        let spawned = thread::Builder::new()
            .name("connection".to_owned())
            .spawn(move || {
                if let Err(err) = connection(stream, &ctx)
                    && !is_disconnect(&err)
                {
                    eprintln!("backend: connection failed: {err}");
                }
            });
        if let Err(err) = spawned {
            eprintln!("backend: cannot start a connection thread: {err}");
        }
    }
}

fn connection(stream: UnixStream, ctx: &Context) -> io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let reader = BufReader::new(stream.try_clone()?);
    handle_connection(reader, stream, ctx)
}

fn is_disconnect(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::BrokenPipe
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::UnexpectedEof
    )
}

/// Serves the requests that arrive on one connection, in order, until it closes.
///
/// A request that cannot be read gets its error status (400, 413, 431, 501, 505) and the
/// connection closes; a connection that breaks mid-request just closes.
pub fn handle_connection(
    mut reader: impl BufRead,
    mut writer: impl Write,
    ctx: &Context,
) -> io::Result<()> {
    loop {
        let head = match http::read_head(&mut reader) {
            Ok(Some(head)) => head,
            Ok(None) => return Ok(()),
            Err(err) => return reject(&mut writer, &err),
        };
        let has_body = head
            .body_kind()
            .is_ok_and(|kind| kind != BodyKind::Length(0));
        if has_body && head.expects_continue() {
            http::write_continue(&mut writer)?;
        }
        let body = match http::read_body(&mut reader, &head) {
            Ok(body) => body,
            Err(err) => return reject(&mut writer, &err),
        };
        let keep_alive = head.keep_alive();
        let request = Request { head, body };
        let response = routes::handle(ctx, &request);
        eprintln!(
            "backend: {} {} -> {}",
            request.head.method, request.head.target, response.status
        );
        response.write_to(&mut writer, request.head.method == "HEAD", keep_alive)?;
        if !keep_alive {
            return Ok(());
        }
    }
}

fn reject(writer: &mut impl Write, err: &http::Error) -> io::Result<()> {
    match err.status() {
        Some(status) => {
            eprintln!("backend: rejected a request: {status} {}", err.message());
            routes::error(status, err.message()).write_to(writer, false, false)
        }
        None => Ok(()),
    }
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use crate::engine::read_response;
    use std::path::PathBuf;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fresh, short directory for sockets (a socket path must fit in 108 bytes).
    pub fn temp_dir(name: &str) -> PathBuf {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("dhb-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create temp dir");
        dir
    }

    fn ctx() -> Context {
        Context {
            docker_socket: PathBuf::from("/nonexistent/docker.sock"),
        }
    }

    /// Feeds `input` to a connection and returns everything written back.
    fn converse(input: &[u8]) -> String {
        let mut output = Vec::new();
        handle_connection(input, &mut output, &ctx()).expect("in-memory io cannot fail");
        String::from_utf8_lossy(&output).into_owned()
    }

    fn count_responses(output: &str) -> usize {
        output.matches("HTTP/1.1 ").count()
    }

    #[test]
    fn answers_pipelined_requests_until_connection_close() {
        let output = converse(
            b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n\
              POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n\
              GET /status/418 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n\
              GET /hello HTTP/1.1\r\nHost: x\r\n\r\n",
        );
        assert_eq!(count_responses(&output), 3, "{output}");
        assert!(output.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(output.contains(
            "Content-Type: text/plain\r\nX-Echo-Method: POST\r\nContent-Length: 3\r\n\r\nabc"
        ));
        assert!(output.contains("HTTP/1.1 418 I'm a teapot\r\n"));
        assert!(output.ends_with("\"reason\":\"I'm a teapot\"}"));
        assert!(output.contains("Connection: close\r\n"));
    }

    #[test]
    fn http_1_0_closes_after_one_request() {
        let output = converse(b"GET /healthz HTTP/1.0\r\n\r\nGET /healthz HTTP/1.0\r\n\r\n");
        assert_eq!(count_responses(&output), 1);
        assert!(output.ends_with("Connection: close\r\n\r\nok"));
    }

    #[test]
    fn a_bad_request_gets_400_and_closes() {
        let output = converse(b"GET /hello\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
        assert_eq!(count_responses(&output), 1);
        assert!(output.starts_with("HTTP/1.1 400 Bad Request\r\n"));
        assert!(output.contains("Connection: close\r\n"));
        assert!(output.ends_with(r#"{"error":"malformed request line"}"#));
    }

    #[test]
    fn head_gets_headers_without_body() {
        let output = converse(b"HEAD /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
        assert!(output.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(output.ends_with("Connection: close\r\n\r\n"), "{output}");
    }

    #[test]
    fn sends_100_continue_before_reading_an_expected_body() {
        let output = converse(
            b"POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi",
        );
        assert!(output.starts_with("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n"));
        assert!(output.ends_with("\r\n\r\nhi"));
    }

    #[test]
    fn a_truncated_request_closes_without_answer() {
        assert_eq!(
            converse(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\nab"),
            ""
        );
    }

    /// xorshift64*: deterministic noise without a dependency.
    struct Noise(u64);

    impl Noise {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            (self.next() % n as u64) as usize
        }
    }

    #[test]
    fn never_panics_on_garbage() {
        let valid: &[u8] = b"POST /echo?a=b HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n\
            4;x=y\r\nabcd\r\n0\r\nT: v\r\n\r\nGET /status/204 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n";
        let alphabet = b"\r\n :;/0123456789abcdefxHTP.\xff\x00\t-";
        let mut noise = Noise(0x9e37_79b9_7f4a_7c15);
        let (mut answered, mut rejected) = (0, 0);
        for round in 0..5000 {
            let input: Vec<u8> = if round % 2 == 0 {
                let mut input = valid.to_vec();
                for _ in 0..=noise.below(8) {
                    let at = noise.below(input.len());
                    match noise.below(3) {
                        0 => input[at] = alphabet[noise.below(alphabet.len())],
                        1 => {
                            input.remove(at);
                        }
                        _ => input.insert(at, alphabet[noise.below(alphabet.len())]),
                    }
                }
                input
            } else {
                let len = noise.below(200);
                (0..len)
                    .map(|_| alphabet[noise.below(alphabet.len())])
                    .collect()
            };
            let output = converse(&input);
            assert!(
                output.is_empty() || output.starts_with("HTTP/1.1 "),
                "input {:?} gave {output:?}",
                String::from_utf8_lossy(&input)
            );
            answered += usize::from(output.contains("HTTP/1.1 200 "));
            rejected += usize::from(output.contains("HTTP/1.1 400 "));
        }
        // The noise reaches both the routes and the parser's error paths.
        assert!(answered > 100 && rejected > 100, "{answered} {rejected}");
    }

    #[test]
    fn serves_a_unix_socket_with_keep_alive() {
        let dir = temp_dir("serve");
        let socket = dir.join("backend.sock");

        // A stale socket from an earlier run is replaced; anything else is left alone.
        drop(UnixListener::bind(&socket).expect("stale socket"));
        let listener = bind(&socket).expect("bind over a stale socket");
        let mode = fs::metadata(&socket)
            .expect("socket exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o666);
        let file = dir.join("file");
        fs::write(&file, "keep").expect("write file");
        assert!(bind(&file).is_err());
        assert_eq!(fs::read_to_string(&file).expect("file kept"), "keep");

        let ctx = Arc::new(ctx());
        thread::spawn(move || serve(&listener, &ctx));

        let mut client = UnixStream::connect(&socket).expect("connect");
        client
            .write_all(b"GET /hello HTTP/1.1\r\nHost: x\r\n\r\n")
            .expect("send first");
        let mut reader = BufReader::new(client.try_clone().expect("clone"));
        let first = read_response(&mut reader).expect("first answer");
        assert_eq!(first.status, 200);
        assert!(String::from_utf8_lossy(&first.body).contains("hello from the backend"));

        client
            .write_all(b"POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nping")
            .expect("send second on the same connection");
        let second = read_response(&mut reader).expect("second answer");
        assert_eq!((second.status, second.body.as_slice()), (200, &b"ping"[..]));

        fs::remove_dir_all(dir).expect("clean up");
    }
}
