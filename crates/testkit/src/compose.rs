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

#[cfg(test)]
mod tests {
    #[test]
    fn the_variables_are_named_where_compose_reads_them() {
        let text = super::hostile("PID_MODE", "EXTRA_CAP");
        assert!(text.contains("pid: \"${PID_MODE:-host}\"\n"), "{text}");
        assert!(
            text.contains("cap_add: [\"${EXTRA_CAP:-SYS_ADMIN}\"]\n"),
            "{text}"
        );
        assert!(text.contains("image: ${DESKTOP_PLUGIN_IMAGE}\n"), "{text}");
        assert!(
            text.contains("driver_opts: {type: none, o: bind, device: /}"),
            "{text}"
        );
    }
}
