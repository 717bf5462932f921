//! The Docker CLI plugin mode: dockhand run as `docker-extension`.
//!
//! The docker CLI finds `docker-extension` in a `cli-plugins` directory, asks it
//! `docker-extension docker-cli-plugin-metadata` for a JSON description, and then runs
//! `docker [GLOBAL OPTIONS] extension VERB ARGS…` as `docker-extension [GLOBAL OPTIONS]
//! extension VERB ARGS…`: its own arguments after the program name, unchanged. This module
//! turns that into a dockhand command line: Docker's global options become dockhand's, and
//! [`VERBS`] maps each `docker extension` verb and the flags Docker spells differently.

use std::ffi::OsString;

use serde::Serialize;

/// The program name the docker CLI gives the plugin.
pub const PLUGIN_BINARY: &str = "docker-extension";
/// The plugin's command name in `docker COMMAND`.
pub const PLUGIN_COMMAND: &str = "extension";

/// The answer to `docker-cli-plugin-metadata`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct PluginMetadata {
    /// Always `0.1.0`.
    pub schema_version: &'static str,
    /// Who made the plugin.
    pub vendor: &'static str,
    /// The plugin's version.
    pub version: &'static str,
    /// One line for `docker --help`.
    pub short_description: &'static str,
    /// Where to read about it.
    #[serde(rename = "URL")]
    pub url: &'static str,
}

/// The handshake document.
pub fn metadata() -> PluginMetadata {
    PluginMetadata {
        schema_version: "0.1.0",
        vendor: "dockhand",
        version: env!("CARGO_PKG_VERSION"),
        short_description: "Manage Docker extensions (dockhand)",
        url: env!("CARGO_PKG_REPOSITORY"),
    }
}

/// How a Docker flag of one verb becomes dockhand's.
#[derive(Debug, Clone, Copy)]
pub struct FlagMap {
    /// Docker's spelling (`-f`, `--force`).
    pub docker: &'static str,
    /// dockhand's spelling, or `None` when the flag is accepted and has no effect.
    pub dockhand: Option<&'static str>,
    /// Whether the flag takes a value.
    pub takes_value: bool,
    /// Said on stderr when the flag is dropped.
    pub note: &'static str,
}

/// One `docker extension` verb.
#[derive(Debug, Clone, Copy)]
pub struct Verb {
    /// Docker's verb.
    pub docker: &'static str,
    /// The dockhand command it runs (words before the arguments).
    pub dockhand: &'static [&'static str],
    /// Flags spelt differently (the others pass as they are).
    pub flags: &'static [FlagMap],
    /// The first positional argument is an image whose tag is dropped (Docker's `rm
    /// IMAGE[:TAG]`; dockhand takes the extension id).
    pub image_to_id: bool,
}

const fn same(verb: &'static str, dockhand: &'static [&'static str]) -> Verb {
    Verb {
        docker: verb,
        dockhand,
        flags: &[],
        image_to_id: false,
    }
}

const NO_AUTO_RESOLVE: &str = "has no effect with dockhand: an IMAGE without a tag always resolves to its highest version whose api.version dockhand satisfies (latest when it has no version tags)";
const NO_INSTALL_CHECK: &str = "is not done by dockhand: check installing with `docker extension install -f IMAGE` and `docker extension rm IMAGE`";

/// The `docker extension` verbs. A verb not listed runs the dockhand command of the same
/// name (so `docker extension doctor` and `docker extension serve` work too).
pub const VERBS: &[Verb] = &[
    // install IMAGE [-f|--force]: Docker's --force skips the question and allows a
    // reinstall, as dockhand's does.
    same("install", &["install"]),
    same("ls", &["ls"]),
    same("list", &["ls"]),
    Verb {
        docker: "rm",
        dockhand: &["rm"],
        flags: &[],
        image_to_id: true,
    },
    Verb {
        docker: "uninstall",
        dockhand: &["rm"],
        flags: &[],
        image_to_id: true,
    },
    // update IMAGE:TAG [-f|--force]: --force skips the question.
    Verb {
        docker: "update",
        dockhand: &["update"],
        flags: &[
            FlagMap {
                docker: "-f",
                dockhand: Some("--yes"),
                takes_value: false,
                note: "",
            },
            FlagMap {
                docker: "--force",
                dockhand: Some("--yes"),
                takes_value: false,
                note: "",
            },
        ],
        image_to_id: false,
    },
    // validate IMAGE|metadata.json [-a] [-e] [-s VERSION] [-i]: -e and -s are dockhand's too.
    Verb {
        docker: "validate",
        dockhand: &["validate"],
        flags: &[
            FlagMap {
                docker: "--sdk-version",
                dockhand: Some("--api-version"),
                takes_value: true,
                note: "",
            },
            FlagMap {
                docker: "-a",
                dockhand: None,
                takes_value: false,
                note: NO_AUTO_RESOLVE,
            },
            FlagMap {
                docker: "--auto-resolve-tag",
                dockhand: None,
                takes_value: false,
                note: NO_AUTO_RESOLVE,
            },
            FlagMap {
                docker: "-i",
                dockhand: None,
                takes_value: false,
                note: NO_INSTALL_CHECK,
            },
            FlagMap {
                docker: "--validate-install-uninstall",
                dockhand: None,
                takes_value: false,
                note: NO_INSTALL_CHECK,
            },
        ],
        image_to_id: false,
    },
    same("init", &["init"]),
    same("dev", &["dev"]),
    same("enable", &["enable"]),
    same("disable", &["disable"]),
    same("version", &["version"]),
];

/// What to do after translating the plugin's arguments.
#[derive(Debug, PartialEq, Eq)]
pub enum Translation {
    /// Print the handshake JSON.
    Metadata,
    /// Run dockhand with these arguments (program name first) and print these notes first.
    Run {
        /// The dockhand command line.
        args: Vec<OsString>,
        /// Notes for stderr (flags that have no effect).
        notes: Vec<String>,
    },
    /// The arguments cannot be used: the message says why.
    Refuse(String),
}

/// True when the program was called as the Docker CLI plugin (`docker-extension`).
pub fn is_plugin_name(argv0: &std::ffi::OsStr) -> bool {
    std::path::Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| {
            n == PLUGIN_BINARY || n.strip_suffix(".exe").is_some_and(|s| s == PLUGIN_BINARY)
        })
}

/// Docker's global options: (spellings, takes a value, dockhand's global option or `None`
/// to drop it).
const GLOBALS: &[(&[&str], bool, Option<&str>)] = &[
    (&["-H", "--host"], true, Some("--host")),
    (&["--config"], true, Some("--docker-config")),
    (&["-c", "--context"], true, Some("--docker-context")),
    (&["-D", "--debug"], false, Some("--verbose")),
    (&["-l", "--log-level"], true, None),
    (&["--tls"], false, Some("--tls")),
    (&["--tlsverify"], false, Some("--tlsverify")),
    (&["--tlscacert"], true, Some("--tlscacert")),
    (&["--tlscert"], true, Some("--tlscert")),
    (&["--tlskey"], true, Some("--tlskey")),
];

/// Translates the plugin's arguments (program name first) into a dockhand command line.
pub fn translate(args: &[OsString]) -> Translation {
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    if words.first().map(String::as_str) == Some("docker-cli-plugin-metadata") {
        return Translation::Metadata;
    }
    let mut out: Vec<String> = vec!["dockhand".to_owned()];
    let mut notes = Vec::new();
    let mut i = 0;
    // Docker's global options, up to the plugin's name.
    while i < words.len() {
        let word = &words[i];
        if word == PLUGIN_COMMAND {
            i += 1;
            break;
        }
        if word == "help" {
            // `docker help extension [VERB]`.
            let rest: Vec<String> = words[i + 1..]
                .iter()
                .filter(|w| *w != PLUGIN_COMMAND)
                .cloned()
                .collect();
            out.extend(
                rest.iter()
                    .take(1)
                    .map(|v| dockhand_verb(v))
                    .flat_map(|v| v.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()),
            );
            out.push("--help".to_owned());
            return Translation::Run {
                args: os(out),
                notes,
            };
        }
        let (name, inline) = match word.split_once('=') {
            Some((n, v)) if n.starts_with("--") => (n.to_owned(), Some(v.to_owned())),
            _ => (word.clone(), None),
        };
        let Some((_, takes_value, ours)) = GLOBALS
            .iter()
            .find(|(names, _, _)| names.contains(&name.as_str()))
        else {
            return Translation::Refuse(format!(
                "unknown docker option `{word}` before `{PLUGIN_COMMAND}`: run `docker {PLUGIN_COMMAND} --help`"
            ));
        };
        let value = if *takes_value {
            match inline {
                Some(v) => Some(v),
                None => {
                    i += 1;
                    match words.get(i) {
                        Some(v) => Some(v.clone()),
                        None => {
                            return Translation::Refuse(format!(
                                "docker option {name} needs a value"
                            ));
                        }
                    }
                }
            }
        } else {
            None
        };
        if let Some(ours) = ours {
            out.push((*ours).to_owned());
            out.extend(value);
        }
        i += 1;
    }
    let rest = &words[i.min(words.len())..];
    let Some(verb_word) = rest.first() else {
        out.push("--help".to_owned());
        return Translation::Run {
            args: os(out),
            notes,
        };
    };
    let verb = VERBS.iter().find(|v| v.docker == verb_word);
    match verb {
        Some(v) => out.extend(v.dockhand.iter().map(|s| (*s).to_owned())),
        None => out.push(verb_word.clone()),
    }
    let mut positional_seen = false;
    let mut j = 1;
    while j < rest.len() {
        let word = &rest[j];
        j += 1;
        if word == "--" {
            out.extend(rest[j - 1..].iter().cloned());
            break;
        }
        let Some(v) = verb else {
            out.push(word.clone());
            continue;
        };
        let (name, inline) = match word.split_once('=') {
            Some((n, value)) if n.starts_with("--") => (n, Some(value)),
            _ => (word.as_str(), None),
        };
        if let Some(map) = v.flags.iter().find(|f| f.docker == name) {
            let value = if map.takes_value && inline.is_none() {
                j += 1;
                rest.get(j - 1).cloned()
            } else {
                inline.map(str::to_owned)
            };
            match map.dockhand {
                Some(ours) => {
                    out.push(ours.to_owned());
                    out.extend(value);
                }
                None => notes.push(format!(
                    "docker extension {} {}: {}",
                    v.docker, map.docker, map.note
                )),
            }
            continue;
        }
        if v.image_to_id && !positional_seen && !word.starts_with('-') {
            positional_seen = true;
            out.push(image_to_id(word));
            continue;
        }
        out.push(word.clone());
    }
    Translation::Run {
        args: os(out),
        notes,
    }
}

fn dockhand_verb(docker: &str) -> Vec<&str> {
    VERBS
        .iter()
        .find(|v| v.docker == docker)
        .map_or_else(|| vec![docker], |v| v.dockhand.to_vec())
}

/// `docker/ext:1.0` → `docker/ext`; anything that does not parse stays as it is.
fn image_to_id(word: &str) -> String {
    dockhand_oci::Reference::parse_loose(word)
        .map(|r| r.extension_id().to_string())
        .unwrap_or_else(|_| word.to_owned())
}

fn os(words: Vec<String>) -> Vec<OsString> {
    words.into_iter().map(OsString::from).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(line: &str) -> (Vec<String>, Vec<String>) {
        let args: Vec<OsString> = std::iter::once("docker-extension")
            .chain(line.split_whitespace())
            .map(OsString::from)
            .collect();
        match translate(&args) {
            Translation::Run { args, notes } => (
                args.into_iter()
                    .skip(1)
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect(),
                notes,
            ),
            other => panic!("{line}: {other:?}"),
        }
    }

    fn words(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    /// Docker's command line → dockhand's. Add a row for each verb the table gains.
    const CASES: &[(&str, &str)] = &[
        ("extension ls", "ls"),
        ("extension list", "ls"),
        (
            "extension install acme/ext:1.0.0 -f",
            "install acme/ext:1.0.0 -f",
        ),
        (
            "extension install --force acme/ext:1.0.0",
            "install --force acme/ext:1.0.0",
        ),
        ("extension rm acme/ext:1.0.0", "rm acme/ext"),
        (
            "extension uninstall 127.0.0.1:5000/acme/ext:2",
            "rm 127.0.0.1:5000/acme/ext",
        ),
        (
            "extension update acme/ext:2.0.0 -f",
            "update acme/ext:2.0.0 --yes",
        ),
        (
            "extension update --force acme/ext:2.0.0",
            "update --yes acme/ext:2.0.0",
        ),
        (
            "extension validate -a -e -s 0.3.0 -i dir",
            "validate -e -s 0.3.0 dir",
        ),
        (
            "extension validate --sdk-version=0.3.0 --errors-only x",
            "validate --api-version 0.3.0 --errors-only x",
        ),
        (
            "extension validate --sdk-version 0.3.0 x",
            "validate --api-version 0.3.0 x",
        ),
        ("extension init my-ext", "init my-ext"),
        (
            "extension dev ui-source acme/ext http://localhost:3000",
            "dev ui-source acme/ext http://localhost:3000",
        ),
        ("extension dev debug acme/ext", "dev debug acme/ext"),
        ("extension dev reset acme/ext", "dev reset acme/ext"),
        ("extension enable acme/ext", "enable acme/ext"),
        ("extension disable acme/ext", "disable acme/ext"),
        ("extension version", "version"),
        ("extension doctor", "doctor"),
        ("extension", "--help"),
        ("extension --help", "--help"),
        ("help extension", "--help"),
        ("help extension rm", "rm --help"),
        (
            "-H unix:///tmp/d.sock extension ls",
            "--host unix:///tmp/d.sock ls",
        ),
        (
            "--host=tcp://127.0.0.1:2375 --config /tmp/c extension ls",
            "--host tcp://127.0.0.1:2375 --docker-config /tmp/c ls",
        ),
        (
            "--context other -D -l debug extension ls",
            "--docker-context other --verbose ls",
        ),
        (
            "-H tcp://127.0.0.1:2376 --tlsverify --tlscacert /c/ca.pem --tlscert=/c/cert.pem --tlskey /c/key.pem extension ls",
            "--host tcp://127.0.0.1:2376 --tlsverify --tlscacert /c/ca.pem --tlscert /c/cert.pem --tlskey /c/key.pem ls",
        ),
        ("--tls extension version", "--tls version"),
    ];

    #[test]
    fn docker_command_lines_become_dockhands() {
        for (docker, ours) in CASES {
            assert_eq!(run(docker).0, words(ours), "docker {docker}");
        }
    }

    #[test]
    fn dropped_flags_are_said() {
        let (_, notes) = run("extension validate -a -i x");
        assert_eq!(notes.len(), 2);
        assert!(
            notes[0].contains("-a") && notes[1].contains("-i"),
            "{notes:?}"
        );
    }

    #[test]
    fn every_verb_maps_to_a_dockhand_command() {
        use clap::CommandFactory;
        let cli = crate::args::Cli::command();
        for verb in VERBS {
            // update and dev come with the other parts of the distribution work; the
            // mapping is there already.
            if ["update", "dev"].contains(&verb.dockhand[0])
                && cli.find_subcommand(verb.dockhand[0]).is_none()
            {
                continue;
            }
            assert!(
                cli.find_subcommand(verb.dockhand[0]).is_some(),
                "{} maps to a missing command {:?}",
                verb.docker,
                verb.dockhand
            );
        }
    }

    #[test]
    fn the_handshake_and_bad_options() {
        let args: Vec<OsString> = ["docker-extension", "docker-cli-plugin-metadata"]
            .iter()
            .map(OsString::from)
            .collect();
        assert_eq!(translate(&args), Translation::Metadata);
        let json = serde_json::to_value(metadata()).unwrap();
        assert_eq!(json["SchemaVersion"], "0.1.0");
        assert_eq!(json["Vendor"], "dockhand");
        assert!(json["URL"].is_string() && json["ShortDescription"].is_string());
        for bad in ["--tlscacert", "--bogus extension ls", "-H"] {
            let args: Vec<OsString> = std::iter::once("docker-extension")
                .chain(bad.split_whitespace())
                .map(OsString::from)
                .collect();
            assert!(matches!(translate(&args), Translation::Refuse(_)), "{bad}");
        }
        assert!(is_plugin_name(
            "/home/u/.docker/cli-plugins/docker-extension".as_ref()
        ));
        assert!(!is_plugin_name("/usr/bin/dockhand".as_ref()));
    }
}
