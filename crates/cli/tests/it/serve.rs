//! `dockhand serve` as a user runs it: the printed URL logs a plain HTTP
//! client in, the cookie opens the API, SIGTERM stops it cleanly.
#![allow(clippy::unwrap_used)] // test helpers

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, ChildStdout, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use dockhand_host::state::{ExtensionRecord, State};
use dockhand_spec::ExtensionId;
use dockhand_testkit::records::record;

use crate::support::{TempDir, dockhand};

/// One HTTP/1.1 request on a new connection: status line, headers (lowercase names), body.
fn http(port: u16, request: &str) -> (String, Vec<(String, String)>, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a full answer");
    let mut lines = head.lines();
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn wait_exit(child: &mut Child, within: Duration) -> Option<std::process::ExitStatus> {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

/// Starts `dockhand serve --port 0 ARGS` with `envs` set, on an engine
/// socket nothing listens on and a docker config under `tmp`: the child,
/// its stdout after the first line, and that line (the URL) trimmed.
fn start_serve(
    tmp: &TempDir,
    args: &[&str],
    envs: &[(&str, &Path)],
) -> (Child, BufReader<ChildStdout>, String) {
    let mut child = dockhand()
        .args(["serve", "--port", "0"])
        .args(args)
        .envs(envs.iter().copied())
        .env(
            "DOCKER_HOST",
            format!("unix://{}/no-engine.sock", tmp.arg()),
        )
        .env("DOCKER_CONFIG", tmp.0.join("docker"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dockhand serve starts");
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut url = String::new();
    stdout.read_line(&mut url).unwrap();
    let url = url.trim_end().to_owned();
    (child, stdout, url)
}

/// Sends SIGTERM to `child` and waits up to 8 s for it, killing it after
/// that; its exit status when it stopped in time.
fn stop(child: &mut Child) -> Option<ExitStatus> {
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = wait_exit(child, Duration::from_secs(8));
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    status
}

#[test]
fn serve_prints_a_url_that_logs_in_and_stops_on_sigterm() {
    let tmp = TempDir::new("serve");
    let home = tmp.0.join("home");
    let state = State::open(&home).unwrap();
    let id = ExtensionId::parse("acme/served").unwrap();
    state
        .put(&ExtensionRecord {
            digest: format!("sha256:{}", "cd".repeat(32)),
            ..record(&id, "Served", home.join("extensions/acme_served/v"))
        })
        .unwrap();
    drop(state);

    let (mut child, mut stdout, url) = start_serve(&tmp, &[], &[("DOCKHAND_HOME", &home)]);
    let rest = url
        .strip_prefix("http://localhost:")
        .unwrap_or_else(|| panic!("stdout is the dashboard URL, got `{url}`"));
    let (port, path) = rest.split_at(rest.find('/').unwrap());
    let port: u16 = port.parse().unwrap();
    assert!(
        path.starts_with("/?token=") && path.len() == 8 + 64,
        "{path}"
    );
    let host = format!("localhost:{port}");

    let (status, headers, _) = http(
        port,
        &format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    );
    assert!(status.contains(" 303 "), "{status}");
    // The page key rides in the redirect's fragment.
    let key = header(&headers, "location")
        .and_then(|l| l.strip_prefix("/#key="))
        .expect("the page key");
    let set_cookie = header(&headers, "set-cookie").expect("a session cookie");
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Strict"));
    let cookie = set_cookie.split(';').next().unwrap();

    let (status, _, body) = http(
        port,
        &format!(
            "GET /api/extensions HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nX-Dockhand-Key: {key}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(status.contains(" 200 "), "{status} {body}");
    let list: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(list[0]["id"], "acme/served");
    assert!(
        list[0]["slug"]
            .as_str()
            .unwrap()
            .starts_with("acme-served-")
    );

    let (status, _, _) = http(
        port,
        &format!("GET /api/extensions HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
    );
    assert!(status.contains(" 401 "), "{status}");
    // The cookie alone (what another localhost port receives) is not enough.
    let (status, _, _) = http(
        port,
        &format!(
            "GET /api/extensions HTTP/1.1\r\nHost: {host}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        ),
    );
    assert!(status.contains(" 403 "), "{status}");

    let status = stop(&mut child);
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    let status =
        status.unwrap_or_else(|| panic!("still running 8 s after SIGTERM; stderr:\n{err}"));
    assert!(status.success(), "{status}; stderr:\n{err}");
    let mut more = String::new();
    stdout.read_to_string(&mut more).unwrap();
    assert_eq!(more, "", "stdout holds the URL only");
    assert!(err.contains("stopped"), "{err}");
}

#[test]
fn serve_refuses_a_non_loopback_address_without_the_flag() {
    let tmp = TempDir::new("serve-bind");
    let out = dockhand()
        .args(["serve", "--port", "0", "--bind", "0.0.0.0"])
        .env("DOCKHAND_HOME", tmp.0.join("home"))
        .env("DOCKER_HOST", "unix:///nonexistent.sock")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--allow-non-loopback"), "{err}");
}

/// `serve --open` hands the browser launcher (`BROWSER`, here a script that
/// records what it got) the `file://` path of a private redirect page, never
/// the token URL: argv is visible to every local user in `ps`. The page is
/// `0600` in the private runtime directory and gone once serve stops.
#[test]
fn serve_open_gives_the_browser_no_token() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = TempDir::new("serve-open");
    let out = tmp.0.join("seen");
    let run = tmp.0.join("run");
    fs_err::create_dir_all(&out).unwrap();
    fs_err::create_dir_all(&run).unwrap();
    fs_err::set_permissions(&run, std::fs::Permissions::from_mode(0o700)).unwrap();
    let browser = tmp.0.join("browser");
    fs_err::write(
        &browser,
        "#!/bin/sh\nprintf '%s\\n' \"$0\" \"$@\" > \"$SEEN/argv.tmp\"\nf=\"${1#file://}\"\n\
         stat -c %a \"$f\" > \"$SEEN/mode\"\ncat \"$f\" > \"$SEEN/page\"\n\
         mv \"$SEEN/argv.tmp\" \"$SEEN/argv\"\n",
    )
    .unwrap();
    fs_err::set_permissions(&browser, std::fs::Permissions::from_mode(0o755)).unwrap();
    let home = tmp.0.join("home");
    let envs = [
        ("DOCKHAND_HOME", home.as_path()),
        ("XDG_RUNTIME_DIR", &run),
        ("BROWSER", &browser),
        ("SEEN", &out),
    ];
    let (mut child, _stdout, url) = start_serve(&tmp, &["--open"], &envs);
    let token = url.split_once("token=").expect("a token URL").1.to_owned();
    assert_eq!(token.len(), 64, "{url}");
    let until = Instant::now() + Duration::from_secs(10);
    while !out.join("argv").exists() && Instant::now() < until {
        std::thread::sleep(Duration::from_millis(50));
    }
    let argv = fs_err::read_to_string(out.join("argv")).expect("the browser was started");
    assert!(!argv.contains(&token), "the token is in argv: {argv}");
    let page_url = argv.lines().nth(1).expect("one argument");
    let page = page_url
        .strip_prefix("file://")
        .unwrap_or_else(|| panic!("a file URL: {argv}"));
    assert!(
        std::path::Path::new(page).starts_with(run.join("dockhand")),
        "{page}"
    );
    assert_eq!(
        fs_err::read_to_string(out.join("mode")).unwrap().trim(),
        "600"
    );
    let html = fs_err::read_to_string(out.join("page")).unwrap();
    assert!(
        html.contains(&format!("http-equiv=\"refresh\" content=\"0;url={url}\"")),
        "{html}"
    );
    assert!(std::path::Path::new(page).exists());

    let status = stop(&mut child);
    assert!(status.is_some_and(|s| s.success()), "{status:?}");
    assert!(
        !std::path::Path::new(page).exists(),
        "the page is removed when serve stops"
    );
}
