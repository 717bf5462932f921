//! What a local process started for an extension may be given: the rules
//! that keep `docker.cli.exec` on the engine dockhand chose and keep the
//! environment of `docker.cli.exec` and `host.cli.exec` from changing which
//! program runs or how it loads (`docs/security.md`, `docs/bridge.md`).
//!
//! - **Docker's global options** before the subcommand (`-H`, `--host`,
//!   `-c`, `--context`, `--config`, `--tls*`, and any other option there)
//!   are refused: they win over the `DOCKER_HOST` dockhand sets. The
//!   harmless ones (`--version`, `-v`, `--help`, `-h`, `-D`, `--debug`,
//!   `-l`/`--log-level`) are allowed.
//! - **Environment names** must be portable (`[A-Za-z_][A-Za-z0-9_]*`, at
//!   most 128 bytes) and are refused when they can redirect the docker CLI
//!   or change how a program is found or loaded: [`RESERVED_NAMES`] and
//!   anything starting with one of [`RESERVED_PREFIXES`] (any case).
//!
//! Commands in the backend container (`vm.cli.exec`) are not local and keep
//! any environment.

use crate::error::ApiError;

/// Variables an extension may not set for a local process.
pub const RESERVED_NAMES: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "SHELL",
    "TMPDIR",
    "IFS",
    "ENV",
    "CDPATH",
    "PS4",
    "SHELLOPTS",
    "BASHOPTS",
    "GLOBIGNORE",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "NO_PROXY",
    "GODEBUG",
    "GOTRACEBACK",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "PERL5OPT",
    "PERL5LIB",
    "RUBYOPT",
    "RUBYLIB",
];

/// Prefixes of variables an extension may not set for a local process.
pub const RESERVED_PREFIXES: &[&str] = &[
    "DOCKER_",
    "BUILDX_",
    "BUILDKIT_HOST",
    "LD_",
    "DYLD_",
    "GCONV_",
    "MALLOC_",
    "XDG_",
    "BASH_",
    "NODE_",
    "PYTHON",
    "GIT_",
    "SSH_",
];

/// Global options of the docker CLI that change nothing about where it
/// connects or what it reads.
const HARMLESS_GLOBAL_FLAGS: &[&str] = &[
    "--version",
    "-v",
    "--help",
    "-h",
    "--debug",
    "-D",
    "--log-level",
    "-l",
];

/// Refuses docker global options before the subcommand (see the module
/// docs). `argv` is what follows `docker`.
pub fn check_docker_argv(argv: &[String]) -> Result<(), ApiError> {
    let mut words = argv.iter();
    while let Some(word) = words.next() {
        if !word.starts_with('-') || word == "-" {
            return Ok(());
        }
        let name = word.split_once('=').map_or(word.as_str(), |(n, _)| n);
        if !HARMLESS_GLOBAL_FLAGS.contains(&name) {
            return Err(ApiError::bad_request(format!(
                "docker's global option `{name}` before the subcommand is not allowed: \
                 docker.cli.exec always talks to the engine dockhand uses; \
                 pass the subcommand first (for example `ps`, not `{name} … ps`)"
            )));
        }
        if matches!(name, "--log-level" | "-l") && !word.contains('=') {
            // Its value is the next word.
            words.next();
        }
    }
    Ok(())
}

/// Refuses environment names an extension may not set for a local process.
pub fn check_local_env(env: &[(String, String)]) -> Result<(), ApiError> {
    for (name, _) in env {
        let portable = name.len() <= 128
            && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !portable {
            return Err(ApiError::bad_request(format!(
                "`{name}` is not a valid environment variable name: use letters, digits and `_`"
            )));
        }
        let upper = name.to_ascii_uppercase();
        if RESERVED_NAMES.contains(&upper.as_str())
            || RESERVED_PREFIXES.iter().any(|p| upper.starts_with(p))
        {
            return Err(ApiError::bad_request(format!(
                "the environment variable {name} cannot be set by an extension: it would change \
                 which engine the docker CLI talks to or how a program is found or loaded \
                 (see docs/bridge.md, \"Local processes\")"
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| (*w).to_owned()).collect()
    }

    #[test]
    fn global_options_before_the_subcommand_are_refused() {
        for argv in [
            &["--context", "prod", "ps"][..],
            &["-c", "prod", "ps"],
            &["-H", "tcp://elsewhere:2375", "ps"],
            &["--host=tcp://elsewhere:2375", "ps"],
            &["--config", "/tmp/x", "ps"],
            &["--tlsverify", "ps"],
            &["--tlscacert=/x", "ps"],
            &["-D", "--context", "prod", "ps"],
            &["--unknown", "ps"],
        ] {
            let e = check_docker_argv(&v(argv)).unwrap_err();
            assert!(e.to_string().contains("global option"), "{argv:?}: {e}");
        }
    }

    #[test]
    fn subcommands_and_harmless_options_pass() {
        for argv in [
            &["ps", "--context", "x"][..],
            &["run", "-H", "x", "alpine"],
            &["--version"],
            &["-D", "ps"],
            &["--log-level", "debug", "ps"],
            &["-l=warn", "ps"],
            &["context", "ls"],
            &[],
        ] {
            check_docker_argv(&v(argv)).unwrap_or_else(|e| panic!("{argv:?}: {e}"));
        }
    }

    #[test]
    fn reserved_environment_names_are_refused_in_any_case() {
        for name in [
            "DOCKER_HOST",
            "docker_host",
            "DOCKER_CONTEXT",
            "DOCKER_CONFIG",
            "DOCKER_CERT_PATH",
            "DOCKER_TLS_VERIFY",
            "DOCKER_TLS",
            "SSH_AUTH_SOCK",
            "LD_PRELOAD",
            "LD_LIBRARY_PATH",
            "DYLD_INSERT_LIBRARIES",
            "PATH",
            "Path",
            "HOME",
            "BASH_ENV",
            "NODE_OPTIONS",
            "PYTHONPATH",
            "XDG_CONFIG_HOME",
            "https_proxy",
            "GIT_SSH_COMMAND",
        ] {
            let env = vec![(name.to_owned(), "x".to_owned())];
            let e = check_local_env(&env).unwrap_err();
            assert!(e.to_string().contains("cannot be set"), "{name}: {e}");
        }
        // Every variable that names the engine for the docker CLI.
        for name in dockhand_engine::CHILD_ENV_NAMES {
            let env = vec![(name.to_owned(), "x".to_owned())];
            assert!(check_local_env(&env).is_err(), "{name}");
        }
        for name in ["A B", "1X", "X-Y", "é", ""] {
            let env = vec![(name.to_owned(), "x".to_owned())];
            assert!(check_local_env(&env).is_err(), "{name}");
        }
    }

    #[test]
    fn ordinary_names_pass() {
        let env: Vec<(String, String)> = ["FOO", "MY_TOOL_TOKEN", "LANG", "LC_ALL", "TZ", "_X1"]
            .iter()
            .map(|n| ((*n).to_owned(), "v".to_owned()))
            .collect();
        check_local_env(&env).unwrap();
    }
}
