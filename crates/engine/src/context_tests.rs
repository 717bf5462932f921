use super::*;

fn write(dir: &Path, rel: &str, text: &str) {
    let path = dir.join(rel);
    fs_err::create_dir_all(path.parent().unwrap()).unwrap();
    fs_err::write(path, text).unwrap();
}

fn add_context(dir: &Path, name: &str, host: &str) {
    add_context_with(dir, name, host, false);
}

fn add_context_with(dir: &Path, name: &str, host: &str, skip_verify: bool) {
    let meta = serde_json::json!({
        "Name": name,
        "Metadata": {"Description": "test"},
        "Endpoints": {"docker": {"Host": host, "SkipTLSVerify": skip_verify}},
    });
    write(
        dir,
        &format!("contexts/meta/{}/meta.json", context_dir_name(name)),
        &meta.to_string(),
    );
}

/// A docker config directory whose `currentContext` is `current`, with the
/// `(name, host)` `contexts`.
fn config_dir(current: &str, contexts: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = serde_json::json!({ "currentContext": current });
    write(dir.path(), "config.json", &config.to_string());
    for (name, host) in contexts {
        add_context(dir.path(), name, host);
    }
    dir
}

fn context_tls(dir: &Path, name: &str, files: &[&str]) -> PathBuf {
    let tls = dir
        .join("contexts/tls")
        .join(context_dir_name(name))
        .join("docker");
    for f in files {
        write(&tls, f, "pem");
    }
    tls
}

fn request(dir: &Path) -> EngineRequest {
    EngineRequest {
        config_dir: dir.to_path_buf(),
        ..Default::default()
    }
}

fn resolve(req: &EngineRequest) -> EngineHost {
    resolve_engine(req).expect("resolves").host
}

#[test]
fn context_dir_is_the_sha256_of_the_name() {
    // What `printf default | sha256sum` prints.
    assert_eq!(
        context_dir_name("default"),
        "37a8eec1ce19687d132fe29051dca629d164e2c4958ba141d5f4133a33f0688f"
    );
}

#[test]
fn the_docker_cli_order() {
    let dir = config_dir(
        "current",
        &[
            ("current", "unix:///run/current.sock"),
            ("env", "unix:///run/env.sock"),
            ("flag", "unix:///run/flag.sock"),
        ],
    );
    let mut req = request(dir.path());
    let r = resolve_engine(&req).unwrap();
    assert_eq!(r.host, EngineHost::Unix("/run/current.sock".into()));
    assert_eq!(
        r.source.to_string(),
        format!(
            "docker context `current` (currentContext in {})",
            dir.path().join("config.json").display()
        )
    );
    req.context_env = Some("env".into());
    assert_eq!(resolve(&req), EngineHost::Unix("/run/env.sock".into()));
    req.host_env = Some("unix:///run/host-env.sock".into());
    let r = resolve_engine(&req).unwrap();
    assert_eq!(r.host, EngineHost::Unix("/run/host-env.sock".into()));
    assert_eq!(r.source, EngineSource::HostEnv);
    req.host_flag = Some("unix:///run/host-flag.sock".into());
    let r = resolve_engine(&req).unwrap();
    assert_eq!(r.host, EngineHost::Unix("/run/host-flag.sock".into()));
    assert_eq!(r.source, EngineSource::HostFlag);
    // --context beats DOCKER_HOST, and refuses -H.
    req.host_flag = None;
    req.context_flag = Some("flag".into());
    let r = resolve_engine(&req).unwrap();
    assert_eq!(r.host, EngineHost::Unix("/run/flag.sock".into()));
    assert_eq!(r.source.to_string(), "docker context `flag` (--context)");
    req.host_flag = Some("unix:///run/host-flag.sock".into());
    let e = resolve_engine(&req).unwrap_err();
    assert!(matches!(e, ContextError::Conflict), "{e:?}");
    assert!(e.to_string().contains("either --host or --context"), "{e}");
    // `--context default` is DOCKER_HOST when set.
    req.host_flag = None;
    req.context_flag = Some("default".into());
    assert_eq!(resolve(&req), EngineHost::Unix("/run/host-env.sock".into()));
    req.host_env = None;
    assert_eq!(resolve(&req), EngineHost::default_socket());
}

#[test]
fn explicit_host_wins_in_the_old_entry_point() {
    let dir = config_dir("remote", &[("remote", "tcp://10.0.0.1:2375")]);
    let host = resolve_host(Some("unix:///run/x.sock"), Some("remote"), dir.path()).unwrap();
    assert_eq!(host, EngineHost::Unix("/run/x.sock".into()));
    assert!(matches!(
        resolve_host(Some("ftp://x"), None, dir.path()),
        Err(ContextError::Host(HostError::Malformed { .. }))
    ));
}

#[test]
fn nothing_configured_means_the_default_socket() {
    let dir = tempfile::tempdir().unwrap();
    let r = resolve_engine(&request(dir.path())).unwrap();
    assert_eq!(r.host, EngineHost::default_socket());
    assert_eq!(r.source, EngineSource::Default);
    // Empty values count as unset.
    let host = resolve_host(Some(""), Some(""), dir.path()).unwrap();
    assert_eq!(host, EngineHost::default_socket());
    write(dir.path(), "config.json", r#"{"auths":{}}"#);
    assert_eq!(
        resolve_host(None, None, dir.path()).unwrap(),
        EngineHost::default_socket()
    );
    write(dir.path(), "config.json", r#"{"currentContext":"default"}"#);
    assert_eq!(
        resolve_host(None, None, dir.path()).unwrap(),
        EngineHost::default_socket()
    );
}

#[test]
fn current_context_from_config() {
    let dir = config_dir(
        "colima",
        &[
            ("colima", "unix:///home/me/.colima/docker.sock"),
            ("other", "tcp://127.0.0.1:2375"),
        ],
    );
    assert_eq!(
        resolve_host(None, None, dir.path()).unwrap(),
        EngineHost::Unix("/home/me/.colima/docker.sock".into())
    );
    // DOCKER_CONTEXT beats currentContext.
    assert_eq!(
        resolve_host(None, Some("other"), dir.path()).unwrap(),
        EngineHost::Tcp("127.0.0.1:2375".into())
    );
    // DOCKER_CONTEXT=default beats currentContext too.
    assert_eq!(
        resolve_host(None, Some("default"), dir.path()).unwrap(),
        EngineHost::default_socket()
    );
}

#[test]
fn broken_contexts_say_what_is_wrong() {
    let dir = tempfile::tempdir().unwrap();
    let e = resolve_host(None, Some("nope"), dir.path()).unwrap_err();
    assert!(matches!(e, ContextError::NoSuchContext { .. }), "{e:?}");
    assert!(e.to_string().contains("`nope` does not exist"), "{e}");

    write(dir.path(), "config.json", "{not json");
    let e = resolve_host(None, None, dir.path()).unwrap_err();
    assert!(matches!(e, ContextError::Config { .. }), "{e:?}");
    assert!(e.to_string().contains("config.json"), "{e}");

    let name = "bad";
    write(
        dir.path(),
        &format!("contexts/meta/{}/meta.json", context_dir_name(name)),
        r#"{"Name":"bad","Endpoints":{}}"#,
    );
    let e = resolve_host(None, Some(name), dir.path()).unwrap_err();
    assert!(matches!(e, ContextError::NoEndpoint { .. }), "{e:?}");

    add_context(dir.path(), "weird", "gopher://box");
    let e = resolve_host(None, Some("weird"), dir.path()).unwrap_err();
    assert!(
        matches!(
            e,
            ContextError::Endpoint {
                source: HostError::Malformed { .. },
                ..
            }
        ),
        "{e:?}"
    );
    assert!(e.to_string().contains("unknown scheme `gopher`"), "{e}");
}

#[test]
fn tls_from_the_environment_and_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let certs = dir.path().join("certs");
    for f in ["ca.pem", "cert.pem", "key.pem"] {
        write(&certs, f, "pem");
    }
    let mut req = request(dir.path());
    req.host_env = Some("tcp://127.0.0.1:2376".into());
    // No TLS asked: plain TCP.
    assert_eq!(resolve(&req), EngineHost::Tcp("127.0.0.1:2376".into()));
    // DOCKER_TLS_VERIFY + DOCKER_CERT_PATH.
    req.tls.verify = true;
    req.tls.cert_path = Some(certs.clone());
    let host = resolve(&req);
    let EngineHost::Tls { addr, tls } = &host else {
        panic!("{host:?}")
    };
    assert_eq!(addr, "127.0.0.1:2376");
    assert!(tls.verify);
    assert_eq!(tls.ca.as_deref(), Some(certs.join("ca.pem").as_path()));
    assert_eq!(
        tls.client,
        Some((certs.join("cert.pem"), certs.join("key.pem")))
    );
    assert_eq!(tls.cert_dir.as_deref(), Some(certs.as_path()));
    assert_eq!(host.to_string(), "tcp://127.0.0.1:2376");

    // The CA missing while verifying: refused, naming the file and the fix.
    req.tls.cert_path = Some(dir.path().join("nowhere"));
    let e = resolve_engine(&req).unwrap_err().to_string();
    assert!(
        e.contains(&dir.path().join("nowhere/ca.pem").display().to_string()),
        "{e}"
    );
    assert!(
        e.contains("DOCKER_CERT_PATH") && e.contains("--tlscacert"),
        "{e}"
    );

    // Flags naming files elsewhere: no standard directory for children.
    let other = dir.path().join("other");
    write(&other, "my-ca.crt", "pem");
    write(&other, "me.crt", "pem");
    write(&other, "me.key", "pem");
    req.tls.ca = Some(other.join("my-ca.crt"));
    req.tls.cert = Some(other.join("me.crt"));
    req.tls.key = Some(other.join("me.key"));
    let EngineHost::Tls { tls, .. } = resolve(&req) else {
        panic!()
    };
    assert_eq!(tls.ca.as_deref(), Some(other.join("my-ca.crt").as_path()));
    assert_eq!(tls.cert_dir, None);
    // A flag naming a missing file.
    req.tls.key = Some(other.join("missing.key"));
    let e = resolve_engine(&req).unwrap_err().to_string();
    assert!(e.contains("missing.key") && e.contains("--tlskey"), "{e}");
    req.tls.ca = Some(other.join("missing-ca.crt"));
    let e = resolve_engine(&req).unwrap_err().to_string();
    assert!(e.contains("missing-ca.crt"), "{e}");

    // --tls alone: no verification, no CA needed.
    let mut req = request(dir.path());
    req.host_flag = Some("tcp://127.0.0.1:2376".into());
    req.tls.tls = true;
    let EngineHost::Tls { tls, .. } = resolve(&req) else {
        panic!()
    };
    assert!(!tls.verify);
    assert_eq!(tls.ca, None);
    assert_eq!(tls.client, None);

    // A certificate without its key.
    let half = dir.path().join("half");
    write(&half, "cert.pem", "pem");
    req.tls.cert_path = Some(half.clone());
    let e = resolve_engine(&req).unwrap_err().to_string();
    assert!(e.contains("has no key") && e.contains("key.pem"), "{e}");

    // TLS settings do not apply to a unix socket.
    req.host_flag = Some("unix:///run/d.sock".into());
    assert_eq!(resolve(&req), EngineHost::Unix("/run/d.sock".into()));

    // --tlsverify and no host: tcp://localhost:2376, as the docker CLI.
    let mut req = request(dir.path());
    req.tls.verify = true;
    req.tls.cert_path = Some(certs.clone());
    let r = resolve_engine(&req).unwrap();
    assert_eq!(r.host.to_string(), "tcp://localhost:2376");
    assert!(matches!(r.host, EngineHost::Tls { .. }));
}

#[test]
fn https_is_verified_against_the_public_roots_without_a_ca() {
    let dir = tempfile::tempdir().unwrap();
    let mut req = request(dir.path());
    req.host_env = Some("https://engine.example:443".into());
    let EngineHost::Tls { addr, tls } = resolve(&req) else {
        panic!()
    };
    assert_eq!(addr, "engine.example:443");
    assert!(tls.verify);
    assert_eq!(tls.ca, None);
    // With a ca.pem in the config dir (DOCKER_CERT_PATH's default), that one.
    write(dir.path(), "ca.pem", "pem");
    let EngineHost::Tls { tls, .. } = resolve(&req) else {
        panic!()
    };
    assert_eq!(tls.ca, Some(dir.path().join("ca.pem")));
    assert_eq!(tls.cert_dir.as_deref(), Some(dir.path()));
}

#[test]
fn contexts_with_tls_material() {
    let dir = tempfile::tempdir().unwrap();
    add_context(dir.path(), "secure", "tcp://10.0.0.2:2376");
    let tls_dir = context_tls(dir.path(), "secure", &["ca.pem", "cert.pem", "key.pem"]);
    let host = resolve_host(None, Some("secure"), dir.path()).unwrap();
    let EngineHost::Tls { addr, tls } = &host else {
        panic!("{host:?}")
    };
    assert_eq!(addr, "10.0.0.2:2376");
    assert!(tls.verify);
    assert_eq!(tls.ca, Some(tls_dir.join("ca.pem")));
    assert_eq!(
        tls.client,
        Some((tls_dir.join("cert.pem"), tls_dir.join("key.pem")))
    );
    assert_eq!(tls.cert_dir.as_deref(), Some(tls_dir.as_path()));

    // SkipTLSVerify without material: TLS, unverified.
    add_context_with(dir.path(), "insecure", "tcp://10.0.0.3:2376", true);
    let EngineHost::Tls { tls, .. } = resolve_host(None, Some("insecure"), dir.path()).unwrap()
    else {
        panic!()
    };
    assert!(!tls.verify);
    assert_eq!(tls.cert_dir, None);

    // The environment's TLS settings do not change a context.
    let mut req = request(dir.path());
    req.context_env = Some("insecure".into());
    req.tls.verify = true;
    req.tls.cert_path = Some(dir.path().join("nowhere"));
    assert!(matches!(resolve(&req), EngineHost::Tls { tls, .. } if !tls.verify));

    // A key without its certificate in the context store.
    add_context(dir.path(), "half", "tcp://10.0.0.4:2376");
    context_tls(dir.path(), "half", &["key.pem"]);
    let e = resolve_host(None, Some("half"), dir.path()).unwrap_err();
    assert!(matches!(e, ContextError::Endpoint { .. }), "{e:?}");
    assert!(e.to_string().contains("docker context `half`"), "{e}");

    // ssh and unix contexts.
    add_context(dir.path(), "ssh", "ssh://me@box");
    assert!(matches!(
        resolve_host(None, Some("ssh"), dir.path()).unwrap(),
        EngineHost::Ssh(t) if t.user.as_deref() == Some("me") && t.host == "box"
    ));
    add_context(dir.path(), "plain", "tcp://10.0.0.5:2375");
    assert_eq!(
        resolve_host(None, Some("plain"), dir.path()).unwrap(),
        EngineHost::Tcp("10.0.0.5:2375".into())
    );
}
