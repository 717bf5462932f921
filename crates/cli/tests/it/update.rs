//! `dockhand update` on the real registry and engine: versions published
//! with `dockhand build --label`, `update --check` choosing the highest
//! compatible one through a counting proxy (no layer request), updates that
//! keep a named volume's data, a failed update leaving the old version
//! serving, a rollback, and consent asked again only when it widens.

use std::collections::HashSet;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::lifecycle::{
    Home, base_image, build_and_push, build_to_layout, example, http_get, volume_extension,
};
use crate::support::{self, RealEnv, TempDir, docker};

const API: &str = "com.docker.desktop.extension.api.version";

/// A TCP proxy in front of the registry that records request lines and
/// counts the bytes the registry sends back.
struct CountingProxy {
    addr: String,
    requests: Arc<Mutex<Vec<String>>>,
    bytes: Arc<AtomicU64>,
}

impl CountingProxy {
    fn start(upstream: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let bytes = Arc::new(AtomicU64::new(0));
        let (r, b, up) = (
            Arc::clone(&requests),
            Arc::clone(&bytes),
            upstream.to_owned(),
        );
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let Ok(server) = TcpStream::connect(&up) else {
                    continue;
                };
                let (r, b) = (Arc::clone(&r), Arc::clone(&b));
                let (mut c_in, mut s_out) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    let mut pending = Vec::new();
                    while let Ok(n) = c_in.read(&mut buf) {
                        if n == 0 || s_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        while let Some(i) = pending.windows(2).position(|w| w == b"\r\n") {
                            let line = String::from_utf8_lossy(&pending[..i]).into_owned();
                            pending.drain(..i + 2);
                            let method = line.split(' ').next().unwrap_or_default();
                            if ["GET", "HEAD", "PUT", "POST", "PATCH", "DELETE"].contains(&method)
                                && line.ends_with("HTTP/1.1")
                            {
                                r.lock().expect("lock").push(line);
                            }
                        }
                    }
                    let _ = s_out.shutdown(std::net::Shutdown::Write);
                });
                let (mut s_in, mut c_out) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    while let Ok(n) = s_in.read(&mut buf) {
                        if n == 0 || c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        b.fetch_add(n as u64, Ordering::SeqCst);
                    }
                    let _ = c_out.shutdown(std::net::Shutdown::Write);
                });
            }
        });
        Self {
            addr,
            requests,
            bytes,
        }
    }

    fn reset(&self) {
        self.requests.lock().expect("lock").clear();
        self.bytes.store(0, Ordering::SeqCst);
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("lock").clone()
    }
}

/// Pushes `dir` as `repo:tag` with extra labels.
fn push_version(
    env: &RealEnv,
    dir: &Path,
    repo: &str,
    tag: &str,
    backend: bool,
    labels: &[(&str, &str)],
) {
    let mut args = vec![
        "--label".to_owned(),
        format!("org.opencontainers.image.version={tag}"),
    ];
    if backend {
        args.extend(["--base".to_owned(), base_image(env).to_owned()]);
    }
    for (k, v) in labels {
        args.extend(["--label".to_owned(), format!("{k}={v}")]);
    }
    build_and_push(env, dir, &format!("{repo}:{tag}"), &args);
}

fn unique(name: &str) -> String {
    support::unique_name("dockhand-up", name)
}

/// The config digests of every tag of `repo` (through the registry API).
fn config_digests(repo: &str, tags: &[&str]) -> HashSet<String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let client = dockhand_oci::registry::RegistryClient::new(Default::default()).expect("client");
    let mut out = HashSet::new();
    rt.block_on(async {
        for tag in tags {
            let r = dockhand_oci::Reference::parse(&format!("{repo}:{tag}")).expect("ref");
            let mut todo = vec![r.clone()];
            while let Some(r) = todo.pop() {
                let m = client.get_manifest(&r).await.expect("manifest");
                match m.parse().expect("parse") {
                    dockhand_oci::registry::ManifestKind::Index(i) => {
                        for d in i.manifests {
                            todo.push(r.with_digest(d.digest));
                        }
                    }
                    dockhand_oci::registry::ManifestKind::Image(img) => {
                        out.insert(img.config.digest.to_string());
                    }
                }
            }
        }
    });
    out
}

fn check_json(home: &Home, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["update", "--check", "--format", "json"];
    all.extend_from_slice(args);
    serde_json::from_str::<Value>(&home.ok(&all))
        .expect("json")
        .as_array()
        .expect("array")
        .clone()
}

#[test]
fn check_picks_the_highest_compatible_version_without_layers_then_updates_and_rolls_back() {
    let Some(env) = support::real_env(
        "check_picks_the_highest_compatible_version_without_layers_then_updates_and_rolls_back",
    ) else {
        return;
    };
    let proxy = CountingProxy::start(&env.registry);
    let dir = example("minimal-ui");
    let path = unique("ui");
    let repo = format!("{}/{path}", env.registry);
    let ok_api = [(API, ">= 0.3.0")];
    push_version(&env, &dir, &repo, "1.0.0", false, &ok_api);
    push_version(&env, &dir, &repo, "1.1.0", false, &ok_api);
    push_version(&env, &dir, &repo, "2.0.0", false, &[(API, ">= 9.0.0")]);
    push_version(&env, &dir, &repo, "1.2.0-rc.1", false, &ok_api);
    push_version(&env, &dir, &repo, "latest", false, &ok_api);
    push_version(&env, &dir, &repo, "foo", false, &ok_api);
    let configs = config_digests(
        &repo,
        &["1.0.0", "1.1.0", "2.0.0", "1.2.0-rc.1", "latest", "foo"],
    );

    // Installed through the proxy, so every later registry request is counted.
    let id = format!("{}/{path}", proxy.addr);
    let home = Home::new(&env, "up-check");
    home.ok(&["install", &format!("{id}:1.0.0"), "-y"]);
    proxy.reset();
    let rows = check_json(&home, &[]);
    assert_eq!(
        rows,
        vec![serde_json::json!({
            "id": id, "installed": "1.0.0", "latest": "1.1.0",
            "update_available": true, "blocked_by_api": "2.0.0"
        })]
    );
    let requests = proxy.requests();
    let blobs: Vec<&String> = requests.iter().filter(|l| l.contains("/blobs/")).collect();
    let layers: Vec<&&String> = blobs
        .iter()
        .filter(|l| !configs.iter().any(|c| l.contains(c.as_str())))
        .collect();
    assert!(layers.is_empty(), "layer requests: {layers:?}");
    assert_eq!(
        blobs.len(),
        2,
        "the configs of 2.0.0 and 1.1.0: {requests:?}"
    );
    let bytes = proxy.bytes.load(Ordering::SeqCst);
    assert!(bytes < 32 * 1024, "{bytes} bytes for one check");

    // Again: from the cache, no config read.
    proxy.reset();
    assert_eq!(check_json(&home, &[])[0]["latest"], "1.1.0");
    assert!(
        proxy.requests().iter().all(|l| !l.contains("/blobs/")),
        "{:?}",
        proxy.requests()
    );
    // Pre-releases only when asked.
    assert_eq!(check_json(&home, &["--pre"])[0]["latest"], "1.2.0-rc.1");
    check_json(&home, &[]);

    // ls shows the update.
    assert_eq!(home.ls()[0]["update_available"], "1.1.0");
    let table = home.ok(&["ls"]);
    assert!(
        table.contains("UPDATE") && table.contains("1.1.0"),
        "{table}"
    );
    let text = home.ok(&["update", "--check"]);
    assert!(
        text.contains("BLOCKED BY API") && text.contains("2.0.0") && text.contains("yes"),
        "{text}"
    );

    // update ID: the latest compatible, without a question (nothing widens, no terminal).
    let out = home.ok(&["update", &id]);
    assert!(out.contains("from 1.0.0 to 1.1.0"), "{out}");
    let listed = home.ls();
    assert_eq!(listed[0]["version"], "1.1.0");
    assert_eq!(listed[0]["update_available"], Value::Null);
    let out = home.ok(&["update", &id]);
    assert!(out.contains("up to date") && out.contains("2.0.0"), "{out}");
    // The blocked version is refused by name.
    let err = home.fails(&["update", &format!("{id}:2.0.0"), "-y"]);
    assert!(err.contains(">= 9.0.0"), "{err}");
    assert_eq!(home.ls()[0]["version"], "1.1.0");

    // Rollback; the newer version shows as an update again.
    let out = home.ok(&["update", &format!("{id}:1.0.0")]);
    assert!(out.contains("from 1.1.0 to 1.0.0"), "{out}");
    let listed = home.ls();
    assert_eq!(listed[0]["version"], "1.0.0");
    assert_eq!(listed[0]["update_available"], "1.1.0");
    // Only one version directory is left.
    let ext_dir = fs_err::read_dir(home.dir_path().join("home/extensions"))
        .expect("extensions")
        .next()
        .expect("one")
        .expect("entry")
        .path();
    let versions = fs_err::read_dir(&ext_dir)
        .expect("read")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().starts_with("sha256"))
        })
        .count();
    assert_eq!(versions, 1, "old versions removed in {}", ext_dir.display());
}

#[test]
fn local_sources_are_skipped_with_a_reason() {
    let Some(env) = support::real_env("local_sources_are_skipped_with_a_reason") else {
        return;
    };
    let home = Home::new(&env, "up-local");
    let tmp = TempDir::new("up-oci");
    build_to_layout(
        "minimal-ui",
        "dockhand-up/local:1.0.0",
        &tmp.0.join("layout"),
    );
    home.ok(&[
        "install",
        &format!("oci:{}", tmp.0.join("layout").display()),
        "-y",
    ]);
    let out = home.run(&["update", "--check", "--format", "json"]);
    assert!(out.status.success());
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows[0]["update_available"], false);
    assert!(
        rows[0]["skipped"]
            .as_str()
            .unwrap_or_default()
            .contains("oci:"),
        "{rows}"
    );
    let err = home.fails(&["update", "dockhand-up/local"]);
    assert!(err.contains("no registry"), "{err}");
}

/// The one container of `id`'s service `api`.
fn api_container(env: &RealEnv, id: &str) -> String {
    let out = docker(
        env,
        &[
            "ps",
            "-q",
            "--filter",
            &format!("label=dev.dockhand.extension={id}"),
            "--filter",
            "label=com.docker.compose.service=api",
        ],
    );
    out.lines().next().unwrap_or_default().trim().to_owned()
}

#[test]
fn updates_keep_volume_data_and_a_failed_update_leaves_the_old_version_serving() {
    let Some(env) = support::real_env(
        "updates_keep_volume_data_and_a_failed_update_leaves_the_old_version_serving",
    ) else {
        return;
    };
    let tmp = TempDir::new("up-vol");
    let root = volume_extension(&tmp);
    let repo = format!("{}/{}", env.registry, unique("vol"));
    push_version(&env, &root, &repo, "1.0.0", true, &[]);
    push_version(&env, &root, &repo, "1.1.0", true, &[]);
    let home = Home::new(&env, "up-vol");
    home.ok(&["install", &format!("{repo}:1.0.0"), "-y"]);

    // A file in the named volume, written into the running backend container.
    let before = api_container(&env, &repo);
    assert!(!before.is_empty(), "the backend runs");
    let marker = tmp.write("marker.txt", "kept across updates\n");
    docker(
        &env,
        &[
            "cp",
            &marker.display().to_string(),
            &format!("{before}:/data/marker.txt"),
        ],
    );

    home.ok(&["update", &repo]);
    assert_eq!(home.ls()[0]["version"], "1.1.0");
    let after = api_container(&env, &repo);
    assert!(
        !after.is_empty() && after != before,
        "the container was recreated"
    );
    let marker = support::read_in_container(
        |args| docker(&env, args),
        &after,
        "/data/marker.txt",
        &tmp.0.join("out"),
    );
    assert_eq!(marker, "kept across updates\n");
    let sock = home.socket(&repo, "api.sock");
    assert!(http_get(&sock, "/hello").contains("hello from the backend"));

    // 1.2.0's backend exits before it creates its socket: the update fails and 1.1.0 serves again.
    fs_err::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/backend/api.sock\"]\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n",
    )
    .expect("write");
    push_version(&env, &root, &repo, "1.2.0", true, &[]);
    let err = support::fails(
        home.cmd(&["update", &repo, "-y"])
            .env("DOCKHAND_READY_TIMEOUT", "4"),
    );
    assert!(
        err.contains("api.sock") && err.contains("not updated"),
        "{err}"
    );
    let listed = home.ls();
    assert_eq!(listed[0]["version"], "1.1.0");
    assert_eq!(listed[0]["vm"]["state"], "running");
    assert!(http_get(&sock, "/hello").contains("hello from the backend"));
    let now = api_container(&env, &repo);
    let marker = support::read_in_container(
        |args| docker(&env, args),
        &now,
        "/data/marker.txt",
        &tmp.0.join("out-after-failure"),
    );
    assert_eq!(
        marker, "kept across updates\n",
        "the volume's data survived the failure"
    );
    home.ok(&["doctor"]);

    // 1.2.1's service exits at once (its command does not exist): the same.
    fs_err::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/no-such-program\"]\n    volumes:\n      - data:/data\nvolumes:\n  data: {}\n",
    )
    .expect("write");
    push_version(&env, &root, &repo, "1.2.1", true, &[]);
    let failed = home
        .cmd(&["update", &format!("{repo}:1.2.1"), "-y"])
        .env("DOCKHAND_READY_TIMEOUT", "4")
        .output()
        .expect("runs");
    assert_eq!(
        failed.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    assert_eq!(home.ls()[0]["version"], "1.1.0");
    assert!(http_get(&sock, "/hello").contains("hello from the backend"));

    // 1.3.0 adds engine access: without a terminal and without -y it is refused.
    fs_err::write(
        root.join("docker-compose.yaml"),
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n    volumes:\n      - data:/data\n      - /var/run/docker.sock.raw:/var/run/docker.sock\nvolumes:\n  data: {}\n",
    )
    .expect("write");
    push_version(&env, &root, &repo, "1.3.0", true, &[]);
    let err = home.fails(&["update", &format!("{repo}:1.3.0")]);
    assert!(err.contains("terminal") && err.contains("-y"), "{err}");
    assert_eq!(home.ls()[0]["version"], "1.1.0");
    home.ok(&["update", &format!("{repo}:1.3.0"), "-y"]);
    assert_eq!(home.ls()[0]["version"], "1.3.0");
    home.ok(&["rm", &repo, "--volumes"]);
}

/// One HTTP/1.1 request with `Connection: close`: status code and body.
/// `auth` is the dashboard's credentials, as the login answer gave them: the
/// session cookie and the page key (from the redirect's fragment).
fn http(port: u16, method: &str, path: &str, auth: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: localhost:{port}\r\nOrigin: http://localhost:{port}\r\n{auth}Content-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("an answer");
    let code = head
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("a status");
    let cookie = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("set-cookie: ")
                .or_else(|| l.strip_prefix("Set-Cookie: "))
        })
        .and_then(|c| c.split(';').next())
        .unwrap_or_default();
    if method == "GET" && path.starts_with("/?token=") {
        let key = head
            .lines()
            .find_map(|l| {
                l.strip_prefix("location: /#key=")
                    .or_else(|| l.strip_prefix("Location: /#key="))
            })
            .unwrap_or_default();
        return (
            code,
            format!("Cookie: {cookie}\r\nX-Dockhand-Key: {key}\r\n"),
        );
    }
    (code, body.to_owned())
}

#[test]
fn serve_checks_periodically_and_updates_from_the_dashboard() {
    let Some(env) = support::real_env("serve_checks_periodically_and_updates_from_the_dashboard")
    else {
        return;
    };
    let dir = example("minimal-ui");
    let repo = format!("{}/{}", env.registry, unique("serve"));
    push_version(&env, &dir, &repo, "1.0.0", false, &[]);
    push_version(&env, &dir, &repo, "1.1.0", false, &[]);
    let home = Home::new(&env, "up-serve");
    home.ok(&["install", &format!("{repo}:1.0.0"), "-y"]);
    let mut child = home
        .cmd(&["serve", "--port", "0", "--check-interval", "1s"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("serve starts");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.take().expect("stdout")),
        &mut line,
    )
    .expect("the URL");
    let url = line
        .trim()
        .strip_prefix("http://localhost:")
        .expect("a URL");
    let (port, token_path) = url.split_at(url.find('/').expect("a path"));
    let port: u16 = port.parse().expect("a port");
    let (code, cookie) = http(port, "GET", token_path, "");
    assert_eq!(code, 303);
    let mut seen = Value::Null;
    for _ in 0..100 {
        let (_, body) = http(port, "GET", "/api/extensions", &cookie);
        let list: Value = serde_json::from_str(&body).expect("json");
        seen = list[0]["update_available"].clone();
        if !seen.is_null() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(seen, "1.1.0", "the periodic check found the update");
    let id = dockhand_spec::ExtensionId::parse(&repo).expect("id");
    let path = format!(
        "/api/extensions/{}/update",
        dockhand_server::api::encode_id(&id)
    );
    // The preview names the version and its digest; the update takes them.
    let (code, body) = http(port, "POST", &format!("{path}/preview"), &cookie);
    assert_eq!(code, 200, "{body}");
    let preview: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(preview["version"], "1.1.0", "{preview}");
    assert_eq!(preview["widens"], false, "{preview}");
    let pinned = format!(
        "{path}?tag={}&digest={}",
        preview["tag"].as_str().expect("a tag"),
        preview["digest"].as_str().expect("a digest")
    );
    let (code, body) = http(port, "POST", &pinned, &cookie);
    assert_eq!(code, 200, "{body}");
    let answer: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(answer["outcome"], "updated", "{answer}");
    assert_eq!(answer["from"], "1.0.0");
    assert_eq!(answer["version"], "1.1.0");
    let (_, body) = http(port, "GET", "/api/extensions", &cookie);
    let list: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(list[0]["version"], "1.1.0");
    assert_eq!(list[0]["update_available"], Value::Null);
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let _ = child.wait();
}

/// Runs dockhand on an empty home (no engine, no registry needed).
fn on_empty_home(tmp: &TempDir, args: &[&str]) -> std::process::Output {
    support::dockhand()
        .env("DOCKHAND_HOME", tmp.0.join("home"))
        .env("DOCKHAND_SYSTEM_CONFIG", tmp.0.join("none.toml"))
        .args(args)
        .output()
        .expect("dockhand runs")
}

#[test]
fn checking_with_nothing_installed_says_so() {
    let tmp = TempDir::new("up-empty");
    let out = on_empty_home(&tmp, &["update", "--check"]);
    assert!(out.status.success(), "{out:?}");
    assert!(out.stdout.is_empty(), "no empty table: {out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("nothing to check"), "{err}");
    // JSON stays JSON: an empty list.
    let out = on_empty_home(&tmp, &["update", "--check", "--format", "json"]);
    assert!(out.status.success(), "{out:?}");
    let rows: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(rows, serde_json::json!([]));
}

#[test]
fn updating_what_is_not_installed_says_just_that() {
    let tmp = TempDir::new("up-none");
    let out = on_empty_home(&tmp, &["update", "acme/nope"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("acme/nope is not installed"), "{err}");
    assert!(
        !err.contains("was not updated"),
        "one message, not two: {err}"
    );
}
