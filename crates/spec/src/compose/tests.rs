use super::*;

fn facts(text: &str) -> ComposeFacts {
    ComposeFacts::parse(text).unwrap()
}

fn lines(f: &ComposeFacts) -> Vec<String> {
    f.all_grants().map(Grant::line).collect()
}

fn kinds(f: &ComposeFacts) -> Vec<GrantKind> {
    f.all_grants().map(|g| g.kind).collect()
}

#[test]
fn reads_services_and_risky_options() {
    let text = r#"
services:
  api:
    image: ${DESKTOP_PLUGIN_IMAGE}
    cap_add: [NET_ADMIN]
    network_mode: host
    volumes:
      - /var/run/docker.sock.raw:/var/run/docker.sock
      - $HOME/.kube:/root/.kube:ro
      - data:/data
      - type: bind
        source: /var/lib/docker
        target: /var/lib/docker
  sidecar:
    image: busybox
    privileged: true
    pid: host
    ports: ["8080:80", {target: 81, published: 8081}]
    container_name: fixed
volumes:
  data: {}
  shared: {name: global-data}
networks:
  default: {name: fixed-net}
"#;
    let f = facts(text);
    assert_eq!(f.services.len(), 2);
    let api = &f.services[0];
    assert!(api.uses_plugin_image);
    assert_eq!(api.image.as_deref(), Some("${DESKTOP_PLUGIN_IMAGE}"));
    assert_eq!(api.engine_socket_mounts[0].target, "/var/run/docker.sock");
    assert_eq!(api.host_bind_mounts.len(), 2);
    // The documented variables stand for themselves.
    assert_eq!(api.host_bind_mounts[0].source, "$HOME/.kube");
    assert!(api.host_bind_mounts[0].read_only);
    assert_eq!(api.host_bind_mounts[1].pointer, "/services/api/volumes/3");
    let side = &f.services[1];
    assert!(!side.uses_plugin_image);
    assert_eq!(side.ports, vec!["8080:80", "8081:81"]);
    assert_eq!(side.container_name.as_deref(), Some("fixed"));
    assert_eq!(f.volumes, vec!["data", "shared"]);
    assert_eq!(
        f.fixed_names,
        vec![
            ("/networks/default/name".to_owned(), "fixed-net".to_owned()),
            ("/volumes/shared/name".to_owned(), "global-data".to_owned())
        ]
    );
    assert!(f.reaches_engine());
    assert_eq!(
        lines(&f),
        [
            "service api: capabilities NET_ADMIN",
            "service api: host network",
            "service api: the engine socket at /var/run/docker.sock (can control every container on this engine)",
            "service api: host path $HOME/.kube at /root/.kube (read-only)",
            "service api: host path /var/lib/docker at /var/lib/docker",
            "service sidecar: privileged (full access to the host)",
            "service sidecar: host process namespace (sees every process)",
        ]
    );
}

#[test]
fn merge_keys_carry_privileges_and_mounts() {
    let text = r#"
x-base: &base
  privileged: true
  volumes:
    - /:/host
services:
  api:
    <<: *base
    image: busybox
"#;
    let f = facts(text);
    assert_eq!(
        lines(&f),
        [
            "service api: privileged (full access to the host)",
            "service api: host path / at /host",
        ]
    );
}

#[test]
fn truthy_spellings_are_privileged() {
    for spelling in ["\"on\"", "on", "yes", "\"Y\"", "1", "\"TRUE\"", "\"maybe\""] {
        let f = facts(&format!(
            "services:\n  a:\n    image: x\n    privileged: {spelling}\n"
        ));
        assert_eq!(kinds(&f), [GrantKind::Privileged], "{spelling}");
    }
    for spelling in ["false", "\"off\"", "no", "\"0\"", "0", "\"\""] {
        let f = facts(&format!(
            "services:\n  a:\n    image: x\n    privileged: {spelling}\n"
        ));
        assert!(kinds(&f).is_empty(), "{spelling}");
    }
}

#[test]
fn interpolated_host_modes_use_their_defaults() {
    let f = facts(
        "services:\n  a:\n    image: x\n    network_mode: ${X:-host}\n    pid: \"${Y-host}\"\n    ipc: ${Z:-host}\n",
    );
    assert_eq!(
        kinds(&f),
        [
            GrantKind::HostNetwork,
            GrantKind::HostPid,
            GrantKind::Namespace
        ]
    );
}

#[test]
fn only_the_given_environment_is_interpolated() {
    let text = "services:\n  a:\n    image: x\n    network_mode: ${NET:-bridge}\n    volumes: [\"$HOME/.ssh:/ssh\"]\n";
    let env = vec![
        ("DESKTOP_PLUGIN_IMAGE".to_owned(), "acme/ext:1".to_owned()),
        ("HOME".to_owned(), "/home/me".to_owned()),
    ];
    let f = ComposeFacts::local(text, &env, &ModelContext::default()).unwrap();
    assert_eq!(
        lines(&f),
        ["service a: host path /home/me/.ssh at /ssh"],
        "NET is not in the environment given, whatever the process has"
    );
}

#[test]
fn every_privilege_key_is_a_grant() {
    let text = r#"
services:
  a:
    image: busybox
    device_cgroup_rules: ["c 1:3 mr"]
    security_opt: ["seccomp=unconfined", "apparmor:unconfined", "no-new-privileges:true"]
    uts: host
    userns_mode: host
    cgroup: host
    sysctls: {net.ipv4.ip_forward: 1}
    cgroup_parent: /
    volumes_from: [b, "container:other"]
    devices: ["/dev/kvm:/dev/kvm"]
    runtime: runc-unsafe
    gpus: all
    use_api_socket: true
    post_start: [{command: x, privileged: yes}]
    network_mode: container:victim
    pid: container:victim
    deploy: {resources: {reservations: {devices: [{capabilities: [gpu]}]}}}
    frobnicate: {x: 1}
  b:
    image: busybox
volumes:
  root:
    driver_opts: {type: none, o: bind, device: /}
  nfs:
    driver_opts: {type: nfs, o: "addr=10.0.0.1", device: ":/x"}
  old:
    external: true
    name: someone-elses
  plugin:
    driver: rexray
networks:
  hostnet: {external: true, name: host}
  mac: {driver: macvlan, driver_opts: {parent: eth0}}
secrets:
  s: {file: /etc/shadow}
configs:
  c: {file: ./relative}
models:
  m: {model: x}
"#;
    let f = facts(text);
    let all = lines(&f);
    let expect = [
        "service a: device access rules c 1:3 mr",
        "service a: security options seccomp=unconfined, apparmor:unconfined",
        "service a: the host's UTS (hostname) namespace",
        "service a: the host's user namespace (no user remapping)",
        "service a: the host's cgroup namespace",
        "service a: kernel parameters net.ipv4.ip_forward=1",
        "service a: cgroup parent /",
        "service a: the volumes of container other",
        "service a: host devices /dev/kvm:/dev/kvm",
        "service a: container runtime runc-unsafe",
        "service a: GPUs all",
        "service a: the engine's API socket and your registry credentials",
        "service a: a privileged post_start command (full access to the host)",
        "service a: the network namespace of container victim",
        "service a: the process namespace of container victim",
        "service a: reserved devices capabilities=[gpu]",
        "service a: key `frobnicate` = x=1 (dockhand does not know what it grants)",
        "compose file: top-level key `models` = m=[model=x] (dockhand does not know what it grants)",
        "volume root: host path / (bound by driver options)",
        "volume nfs: driver options type=nfs, o=addr=10.0.0.1, device=:/x",
        "volume old: the existing volume someone-elses (shared with whatever else uses it)",
        "volume plugin: driver rexray",
        "network hostnet: the existing network host (shared with whatever else uses it)",
        "network mac: driver macvlan",
        "network mac: driver options parent=eth0",
        "secret s: host file /etc/shadow",
        "config c: host file ./relative",
    ];
    for e in expect {
        assert!(all.iter().any(|l| l == e), "missing {e:?} in {all:#?}");
    }
    assert_eq!(all.len(), expect.len(), "{all:#?}");
    assert!(f.reaches_engine());
}

#[test]
fn quiet_keys_grant_nothing() {
    let text = r#"
services:
  a:
    image: x
    restart: always
    environment: {A: b}
    command: [run]
    healthcheck: {test: [CMD, "true"]}
    ulimits: {nofile: 1024}
    cap_drop: [ALL]
    security_opt: [no-new-privileges:true]
    network_mode: bridge
    pid: ""
    ipc: shareable
    volumes: [data:/d, /anon, {type: tmpfs, target: /t}, {type: volume, source: data, target: /e}]
    x-note: whatever
volumes:
  data: {labels: {a: b}}
networks:
  default: {}
x-anything: {privileged: true}
"#;
    let f = facts(text);
    assert!(lines(&f).is_empty(), "{:#?}", lines(&f));
}

#[test]
fn normalized_models_of_v1_and_v2_give_the_same_grants() {
    // docker-compose v1 `config` (YAML, short volume syntax, paths made absolute).
    let v1 = br#"
services:
  a:
    image: acme/ext:1
    privileged: true
    network_mode: host
    volumes:
    - /var/run/docker.sock.raw:/var/run/docker.sock:rw
    - /home/me/.kube:/kube:ro
    - data:/data:rw
version: '3.9'
volumes:
  data: {}
"#;
    // compose v2 `config --format json` (long syntax, names filled in).
    let v2 = br#"{
  "name": "dockhand-acme_ext",
  "services": {"a": {
    "image": "acme/ext:1", "privileged": true, "network_mode": "host",
    "networks": {"default": null},
    "volumes": [
      {"type": "bind", "source": "/var/run/docker.sock.raw", "target": "/var/run/docker.sock", "bind": {"create_host_path": true}},
      {"type": "bind", "source": "/home/me/.kube", "target": "/kube", "read_only": true, "bind": {}},
      {"type": "volume", "source": "data", "target": "/data", "volume": {}}
    ]}},
  "networks": {"default": {"name": "dockhand-acme_ext_default", "ipam": {}}},
  "volumes": {"data": {"name": "dockhand-acme_ext_data"}}
}"#;
    let context = ModelContext {
        project: "dockhand-acme_ext".into(),
        plugin_image: "acme/ext:1".into(),
        project_dir: "/tmp/x".into(),
        home: "/home/me".into(),
    };
    let one = ComposeFacts::from_config_output(v1, &context).unwrap();
    let two = ComposeFacts::from_config_output(v2, &context).unwrap();
    assert_eq!(one.source, ModelSource::Compose);
    assert_eq!(lines(&one), lines(&two));
    assert_eq!(one.fixed_names, two.fixed_names);
    assert!(two.fixed_names.is_empty(), "{:?}", two.fixed_names);
    assert!(one.services[0].uses_plugin_image && two.services[0].uses_plugin_image);
    assert_eq!(one.services[0].engine_socket_mounts, {
        let mut m = two.services[0].engine_socket_mounts.clone();
        m[0].pointer = "/services/a/volumes/0".into();
        m
    });
    assert!(ComposeFacts::from_config_output(b"\xff", &context).is_err());
    assert!(ComposeFacts::from_config_output(b"[1]", &context).is_err());
}

#[test]
fn plugin_image_forms() {
    for (image, mentions) in [
        ("${DESKTOP_PLUGIN_IMAGE}", true),
        ("$DESKTOP_PLUGIN_IMAGE", true),
        ("${DESKTOP_PLUGIN_IMAGE:-x}", true),
        ("$DESKTOP_PLUGIN_IMAGES", false),
        ("busybox", false),
    ] {
        assert_eq!(mentions_plugin_image(image), mentions, "{image}");
    }
}

#[test]
fn bad_files_say_where() {
    let e = ComposeFacts::parse("services:\n  a: [\n").unwrap_err();
    assert!(
        matches!(e, ComposeError::Syntax { line: Some(_), .. }),
        "{e:?}"
    );
    let e = ComposeFacts::parse("version: '3'\n").unwrap_err();
    assert_eq!(e.to_string(), "the compose file has no services");
    let e = ComposeFacts::parse("services: {}\n").unwrap_err();
    assert_eq!(e.to_string(), "the compose file has no services");
    let e = ComposeFacts::parse("- 1\n").unwrap_err();
    assert!(matches!(e, ComposeError::Shape { .. }));
}
