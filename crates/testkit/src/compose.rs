//! Compose files that try to hide privileges from the consent summary.

/// A compose file that hides privileges from a reading of the YAML as
/// written: a merge key (privileged, `/` bound at `/host`), a quoted truthy
/// spelling (`privileged: "on"`), interpolated defaults (`${NET:-host}`,
/// `${PID_VAR:-host}` for the pid namespace, `${CAP_VAR:-SYS_ADMIN}` for a
/// capability), a volume whose driver options bind `/`, and a host file as
/// a secret. A test names in `pid_var` and `cap_var` variables it sets in
/// the environment, which must not reach compose.
pub fn hostile(pid_var: &str, cap_var: &str) -> String {
    format!(
        r#"
x-base: &base
  privileged: true
  volumes: ["/:/host"]
services:
  api:
    <<: *base
    image: ${{DESKTOP_PLUGIN_IMAGE}}
    network_mode: ${{NET:-host}}
    pid: "${{{pid_var}:-host}}"
    cap_add: ["${{{cap_var}:-SYS_ADMIN}}"]
  side:
    image: ${{DESKTOP_PLUGIN_IMAGE}}
    privileged: "on"
    volumes: ["root:/r"]
    secrets: [key]
volumes:
  root:
    driver_opts: {{type: none, o: bind, device: /}}
secrets:
  key: {{file: /etc/shadow}}
"#
    )
}

/// The lines the consent summary of [`hostile`] must have (none of its
/// variables set).
pub const HOSTILE_LINES: [&str; 8] = [
    "service api: privileged (full access to the host)",
    "service api: host path / at /host",
    "service api: host network",
    "service api: host process namespace (sees every process)",
    "service api: capabilities SYS_ADMIN",
    "service side: privileged (full access to the host)",
    "volume root: host path / (bound by driver options)",
    "secret key: host file /etc/shadow",
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_variables_are_named_where_compose_reads_them() {
        let text = super::hostile("PID_MODE", "EXTRA_CAP");
        for want in [
            "pid: \"${PID_MODE:-host}\"\n",
            "cap_add: [\"${EXTRA_CAP:-SYS_ADMIN}\"]\n",
            "image: ${DESKTOP_PLUGIN_IMAGE}\n",
            "driver_opts: {type: none, o: bind, device: /}",
        ] {
            assert!(text.contains(want), "no {want:?} in:\n{text}");
        }
    }
}
