//! An extension laid out like its image root (a build context, a folder to
//! validate), seen through [`ImageFiles`]: what its metadata.json read gave
//! and which labels stand beside it. Reading the directory itself is the
//! caller's (`dockhand_oci::build::ExtensionDir`): this crate does no I/O.

use std::collections::BTreeMap;

use crate::{ImageFiles, Labels, LabelsInput, labels_from_dockerfile};

/// What metadata.json holds, read with its size limit.
#[derive(Debug)]
pub enum MetadataBytes {
    /// The bytes.
    Read(Vec<u8>),
    /// Over the limit: not read.
    TooLarge(u64),
    /// Exists but cannot be read (permissions, I/O): the message says why.
    Unreadable(String),
}

/// The labels beside metadata.json: `labels.json`, else the final stage
/// of the `Dockerfile`, else none.
pub fn labels_beside_metadata(
    files: &dyn ImageFiles,
    build_args: &BTreeMap<String, String>,
) -> LabelsInput {
    for name in ["labels.json", "Dockerfile"] {
        let bytes = match files.read(name) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(message) => {
                return LabelsInput::Unreadable {
                    source: name.to_owned(),
                    message,
                };
            }
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return LabelsInput::Unreadable {
                source: name.to_owned(),
                message: format!("{name} is not UTF-8: save it as UTF-8"),
            };
        };
        return if name == "labels.json" {
            match serde_json::from_str::<BTreeMap<String, String>>(&text) {
                Ok(map) => LabelsInput::from_labels(Labels(map)),
                Err(e) => LabelsInput::Unreadable {
                    source: name.to_owned(),
                    message: format!(
                        "labels.json must be a JSON object of string values (line {}, column {}): {}",
                        e.line(),
                        e.column(),
                        strip_position(&e.to_string())
                    ),
                },
            }
        } else {
            match labels_from_dockerfile(&text, build_args, None) {
                Ok(d) => LabelsInput::Found {
                    labels: d.labels,
                    duplicates: d.duplicates,
                    unset_variables: d.unset_variables,
                },
                Err(e) => LabelsInput::Unreadable {
                    source: name.to_owned(),
                    message: format!("Dockerfile: {e}"),
                },
            }
        };
    }
    LabelsInput::Absent
}

fn strip_position(msg: &str) -> String {
    msg.rfind(" at line ")
        .map_or_else(|| msg.to_owned(), |i| msg[..i].to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FileKind;

    struct Files(BTreeMap<&'static str, Vec<u8>>);

    impl ImageFiles for Files {
        fn kind(&self, path: &str) -> FileKind {
            match self.0.contains_key(path) {
                true => FileKind::File,
                false => FileKind::Missing,
            }
        }
        fn read(&self, path: &str) -> Result<Option<Vec<u8>>, String> {
            Ok(self.0.get(path).cloned())
        }
    }

    fn labels_of(files: &[(&'static str, &[u8])]) -> LabelsInput {
        let files = Files(files.iter().map(|(k, v)| (*k, v.to_vec())).collect());
        labels_beside_metadata(&files, &BTreeMap::new())
    }

    #[test]
    fn labels_json_comes_before_the_dockerfile() {
        let found = labels_of(&[
            ("labels.json", br#"{"org.opencontainers.image.title":"A"}"#),
            (
                "Dockerfile",
                b"FROM scratch\nLABEL org.opencontainers.image.title=B\n",
            ),
        ]);
        let LabelsInput::Found { labels, .. } = found else {
            panic!("{found:?}")
        };
        assert_eq!(labels.0["org.opencontainers.image.title"], "A");
        let found = labels_of(&[(
            "Dockerfile",
            b"FROM scratch\nLABEL org.opencontainers.image.title=B\n",
        )]);
        let LabelsInput::Found { labels, .. } = found else {
            panic!("{found:?}")
        };
        assert_eq!(labels.0["org.opencontainers.image.title"], "B");
        assert_eq!(labels_of(&[]), LabelsInput::Absent);
    }

    #[test]
    fn unreadable_labels_say_why() {
        let LabelsInput::Unreadable { source, message } = labels_of(&[("labels.json", b"\xff")])
        else {
            panic!("not unreadable")
        };
        assert_eq!(source, "labels.json");
        assert_eq!(message, "labels.json is not UTF-8: save it as UTF-8");
        let LabelsInput::Unreadable { message, .. } = labels_of(&[("labels.json", b"[1]")]) else {
            panic!("not unreadable")
        };
        assert!(
            message.starts_with(
                "labels.json must be a JSON object of string values (line 1, column 0)"
            ),
            "{message}"
        );
        assert!(!message.contains(" at line "), "{message}");
    }
}
