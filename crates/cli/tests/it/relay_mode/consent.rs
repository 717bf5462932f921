//! The consent summary in relay mode: a bind mount in an extension's
//! compose file names a path on the engine's host, and the prompt `install`
//! prints and the dashboard's consent summary (`POST /api/install/preview`)
//! say so, naming the engine. Installed, the path is made on the VM
//! engine's side (its private `/tmp`), not on this machine.

use std::path::Path;
use std::process::Stdio;

use serde_json::json;

use super::*;
use crate::backend_socket::Served;
use crate::lifecycle::copy_dir;

#[test]
fn the_consent_summary_in_relay_mode_puts_host_paths_on_the_engines_host() {
    let test = "the_consent_summary_in_relay_mode_puts_host_paths_on_the_engines_host";
    let Some((env, vm, home)) = relay_test(test, Via::Tls, "relay-consent") else {
        return;
    };
    // The compose example with a bind mount of a path only the VM engine's
    // namespace has (its /tmp is private).
    let data = format!("/tmp/dockhand-relay-consent-{}", std::process::id());
    let src = TempDir::new("relay-consent-src");
    let dir = src.0.join("bind-mount");
    let example = example("backend-compose");
    fs_err::create_dir_all(&dir).expect("mkdir");
    for f in ["icon.svg", "Dockerfile", "metadata.json"] {
        fs_err::copy(example.join(f), dir.join(f)).expect("copy");
    }
    copy_dir(&example.join("ui"), &dir.join("ui"));
    let compose = fs_err::read_to_string(example.join("docker-compose.yaml")).expect("read");
    let compose = compose.replace(
        "    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n",
        &format!(
            "    command: [\"/backend\", \"--socket\", \"/run/guest-services/api.sock\"]\n    volumes:\n      - {data}:/data\n"
        ),
    );
    assert!(compose.contains(&data), "{compose}");
    fs_err::write(dir.join("docker-compose.yaml"), compose).expect("write");
    let (reference, id) = publish(&env, &dir, true, &[]);
    let on_host = format!(
        "host path {data} at /data, on the engine's host (remote engine {} (TLS)), not on this machine",
        vm.tls_host
    );

    // The prompt, without a terminal: it prints the summary, then refuses.
    let stderr = support::fails(home.cmd(&["install", &reference]).stdin(Stdio::null()));
    assert!(
        stderr.contains(&format!("service api: {on_host}")),
        "{stderr}"
    );
    assert!(
        stderr.contains("engine socket  watcher"),
        "the engine socket line is unchanged: {stderr}"
    );
    assert!(home.json(&["ls"]).as_array().expect("array").is_empty());

    // The dashboard's consent summary: the line, and the engine as a field.
    let served = Served::spawn(home.cmd(&["serve", "--port", "0"]));
    let (status, summary) =
        served.dashboard_post("/api/install/preview", &json!({"reference": reference}));
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        summary["remote_engine"],
        format!("{} (TLS)", vm.tls_host),
        "{summary}"
    );
    let line = format!("service api: {on_host}");
    assert!(
        summary["privileges"]
            .as_array()
            .is_some_and(|p| p.iter().any(|l| l == line.as_str())),
        "{summary}"
    );
    assert!(
        summary["text"]
            .as_str()
            .is_some_and(|t| t.contains(&on_host)),
        "{summary}"
    );
    drop(served);

    // Installed: the bind's source is on the engine's side only.
    home.ok(&["install", &reference, "-y"]);
    let api = home.service_container(&id, "api");
    let mounts = home.docker(&[
        "inspect",
        "-f",
        "{{range .Mounts}}{{.Type}} {{.Source}} {{.Destination}};{{end}}",
        &api,
    ]);
    assert!(mounts.contains(&format!("bind {data} /data;")), "{mounts}");
    assert!(
        !Path::new(&data).exists(),
        "{data} was made on this machine, not on the engine's host"
    );
    home.ok(&["rm", &id, "--volumes"]);
    home.assert_nothing_left(&[&id]);
}
