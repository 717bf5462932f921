//! An engine that errors on demand: a proxy on a unix socket in front of the
//! real engine that answers every request whose path contains a chosen
//! fragment with a 500, and forwards the rest (one request per connection,
//! so every request passes the check). It can also change what the engine
//! answers instead ([`Rewrite`]): an engine that says it is another one.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// What the proxy changes in the answers to some requests.
#[derive(Debug, Clone)]
pub struct Rewrite {
    /// Requests whose path contains this.
    pub path: String,
    /// Bytes of their answers replaced…
    pub from: String,
    /// …with these, of the same length (so `Content-Length` still holds).
    pub to: String,
}

/// What the proxy does: fail some requests, rewrite the answers of others.
#[derive(Debug, Clone, Default)]
struct Rules {
    fail_on: String,
    rewrite: Option<Rewrite>,
}

/// A running proxy; stops accepting when dropped.
#[derive(Debug)]
pub struct FaultEngine {
    /// The proxy's socket.
    pub socket: PathBuf,
    /// Requests refused so far.
    pub refused: Arc<AtomicUsize>,
}

impl FaultEngine {
    /// Proxies to `real` (a unix socket path), failing requests whose path
    /// contains `fail_on`.
    pub fn start(dir: &Path, real: &Path, fail_on: &str) -> Self {
        Self::spawn(
            dir,
            real,
            Rules {
                fail_on: fail_on.to_owned(),
                rewrite: None,
            },
        )
    }

    /// Proxies to `real` (a unix socket path), changing the answers
    /// `rewrite` names and nothing else.
    pub fn rewriting(dir: &Path, real: &Path, rewrite: Rewrite) -> Self {
        assert!(!rewrite.from.is_empty(), "a rewrite replaces something");
        assert_eq!(
            rewrite.from.len(),
            rewrite.to.len(),
            "a rewrite keeps the answer's length"
        );
        Self::spawn(
            dir,
            real,
            Rules {
                fail_on: String::new(),
                rewrite: Some(rewrite),
            },
        )
    }

    fn spawn(dir: &Path, real: &Path, rules: Rules) -> Self {
        let socket = dir.join("fault.sock");
        let _ = fs_err::remove_file(&socket);
        let listener = UnixListener::bind(&socket).expect("bind the fault engine");
        let refused = Arc::new(AtomicUsize::new(0));
        let (real, rules, count) = (real.to_path_buf(), Arc::new(rules), refused.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { break };
                let (real, rules, count) = (real.clone(), rules.clone(), count.clone());
                std::thread::spawn(move || {
                    let _ = handle(conn, &real, &rules, &count);
                });
            }
        });
        Self { socket, refused }
    }

    /// `DOCKER_HOST` for the proxy.
    pub fn docker_host(&self) -> String {
        format!("unix://{}", self.socket.display())
    }
}

fn handle(
    client: UnixStream,
    real: &Path,
    rules: &Rules,
    count: &AtomicUsize,
) -> std::io::Result<()> {
    let fail_on = rules.fail_on.as_str();
    let mut reader = BufReader::new(client.try_clone()?);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let end = line == "\r\n";
        // One request per connection: every request comes through here.
        if !line.to_ascii_lowercase().starts_with("connection:") {
            head.push(line);
        }
        if end {
            break;
        }
    }
    let path = head
        .first()
        .and_then(|l| l.split_whitespace().nth(1))
        .unwrap_or("")
        .to_owned();
    let mut client_w = client;
    if !fail_on.is_empty() && path.contains(fail_on) && !path.contains("/_ping") {
        count.fetch_add(1, Ordering::SeqCst);
        let body = r#"{"message":"injected failure"}"#;
        write!(
            client_w,
            "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        return Ok(());
    }
    let mut upstream = UnixStream::connect(real)?;
    let last = head.len() - 1;
    head.insert(last, "Connection: close\r\n".to_owned());
    upstream.write_all(head.concat().as_bytes())?;
    // Whatever the reader buffered past the head belongs to the body.
    let buffered = reader.buffer().to_vec();
    upstream.write_all(&buffered)?;
    let mut up_r = upstream.try_clone()?;
    let mut client_r = reader.into_inner();
    let to_upstream = std::thread::spawn(move || {
        let _ = std::io::copy(&mut client_r, &mut upstream);
        let _ = upstream.shutdown(std::net::Shutdown::Write);
    });
    if let Some(rewrite) = rules.rewrite.as_ref().filter(|r| path.contains(&r.path)) {
        // The whole answer (the engine closes after it), changed, at once.
        let mut answer = Vec::new();
        up_r.read_to_end(&mut answer)?;
        client_w.write_all(&replace(
            &answer,
            rewrite.from.as_bytes(),
            rewrite.to.as_bytes(),
        ))?;
        let _ = client_w.shutdown(std::net::Shutdown::Both);
        let _ = to_upstream.join();
        return Ok(());
    }
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = up_r.read(&mut buf)?;
        if n == 0 {
            break;
        }
        client_w.write_all(&buf[..n])?;
    }
    let _ = client_w.shutdown(std::net::Shutdown::Both);
    let _ = to_upstream.join();
    Ok(())
}

/// `bytes` with every `from` replaced by `to`.
fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    out
}
