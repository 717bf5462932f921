//! `metadata.json`: the typed model of what an extension asks the host to run.
//!
//! Every object keeps the fields it does not know in `extra`, so that a
//! metadata.json written for a newer host round-trips unchanged; `validate`
//! warns about them.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// metadata.json files larger than this are refused before parsing.
pub const METADATA_MAX_BYTES: usize = 1024 * 1024;

/// Why a metadata.json could not be read into [`Metadata`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetadataError {
    /// Larger than [`METADATA_MAX_BYTES`]; nothing was parsed.
    #[error(
        "metadata.json is {size} bytes, over the {limit}-byte limit: it should only describe the extension"
    )]
    TooLarge {
        /// Size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// Not UTF-8.
    #[error("metadata.json is not UTF-8 (invalid byte at offset {offset}): save it as UTF-8")]
    NotUtf8 {
        /// Byte offset of the first invalid sequence.
        offset: usize,
    },
    /// Not JSON.
    #[error("metadata.json is not valid JSON at line {line}, column {column}: {message}")]
    Syntax {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// JSON, but not of the shape metadata.json must have.
    #[error("{message}")]
    Shape {
        /// JSON pointer of the offending value (`""` for the document).
        pointer: String,
        /// What is wrong and what is expected.
        message: String,
    },
}

impl MetadataError {
    /// JSON pointer of the offending value, when the error has one.
    pub fn pointer(&self) -> Option<&str> {
        match self {
            Self::Shape { pointer, .. } => Some(pointer),
            _ => None,
        }
    }
}

/// The whole metadata.json.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// Path of the icon file in the image, relative to its root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icon: Option<String>,
    /// The dashboard tab.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ui: Option<Ui>,
    /// The backend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vm: Option<Vm>,
    /// Binaries copied to the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    /// Fields this host does not know (kept, ignored).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ui`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ui {
    /// `ui.dashboard-tab`.
    #[serde(
        rename = "dashboard-tab",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub dashboard_tab: Option<DashboardTab>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `ui.dashboard-tab`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DashboardTab {
    /// The tab title.
    pub title: String,
    /// Directory in the image that holds the UI (with or without a leading `/`).
    pub root: String,
    /// Entry page relative to `root`; may carry a query string or a leading `/`.
    pub src: String,
    /// Legacy place for the backend socket (pre-GA SDK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<LegacyBackend>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl DashboardTab {
    /// `root` without leading or trailing slashes (`ui` for `/ui/`).
    pub fn root_dir(&self) -> &str {
        self.root.trim_matches('/')
    }

    /// `src` without its query string, fragment or leading slash.
    pub fn entry_file(&self) -> &str {
        let end = self.src.find(['?', '#']).unwrap_or(self.src.len());
        self.src[..end].trim_start_matches('/')
    }

    /// The entry page's path in the image, relative to the image root.
    pub fn entry_path(&self) -> String {
        match self.root_dir() {
            "" => self.entry_file().to_owned(),
            root => format!("{root}/{}", self.entry_file()),
        }
    }
}

/// `ui.dashboard-tab.backend` (legacy).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LegacyBackend {
    /// Socket name in `/run/guest-services`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
    /// A TCP port (Portainer only; not supported by any current host).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<Value>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `vm`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Vm {
    /// An image reference; `${DESKTOP_PLUGIN_IMAGE}` is the extension's own image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// Path of a compose file in the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub composefile: Option<String>,
    /// What the backend exposes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposes: Option<Exposes>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `vm.exposes`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Exposes {
    /// Unix socket name the backend listens on in `/run/guest-services/`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub socket: Option<String>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `host`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Host {
    /// Groups of binaries keyed by OS; several groups are merged. `null`
    /// reads as absent, like every other optional field.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub binaries: Vec<BinaryGroup>,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One object of `host.binaries`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BinaryGroup {
    /// macOS binaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub darwin: Option<Vec<BinaryPath>>,
    /// Windows binaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<Vec<BinaryPath>>,
    /// Linux binaries.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub linux: Option<Vec<BinaryPath>>,
    /// Unknown OS keys.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `{ "path": "/in/image" }`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct BinaryPath {
    /// Absolute path in the image.
    pub path: String,
    /// Unknown fields.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An operating system key of `host.binaries`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Os {
    /// `darwin`.
    Darwin,
    /// `linux`.
    Linux,
    /// `windows`.
    Windows,
}

impl Os {
    /// Every OS key, in the order the format documents them.
    pub const ALL: [Os; 3] = [Os::Darwin, Os::Windows, Os::Linux];

    /// The key as written in metadata.json.
    pub fn key(self) -> &'static str {
        match self {
            Os::Darwin => "darwin",
            Os::Linux => "linux",
            Os::Windows => "windows",
        }
    }
}

/// A host binary after merging the groups: where it is declared and its path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostBinary {
    /// JSON pointer of the `path` value.
    pub pointer: String,
    /// Path in the image as written.
    pub path: String,
}

impl HostBinary {
    /// The name a UI calls it by: the last path component.
    pub fn name(&self) -> &str {
        self.path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or(&self.path)
    }

    /// True when the entry names a directory (ends with `/`), as gefyra's do.
    pub fn is_dir(&self) -> bool {
        self.path.ends_with('/')
    }
}

impl Metadata {
    /// Parses metadata.json bytes: size, encoding, syntax, then shape.
    pub fn from_slice(bytes: &[u8]) -> Result<Self, MetadataError> {
        if bytes.len() > METADATA_MAX_BYTES {
            return Err(MetadataError::TooLarge {
                size: bytes.len(),
                limit: METADATA_MAX_BYTES,
            });
        }
        let text = std::str::from_utf8(bytes).map_err(|e| MetadataError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Value = serde_json::from_str(text).map_err(|e| MetadataError::Syntax {
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
        Self::from_value(value)
    }

    /// Reads an already parsed JSON document.
    pub fn from_value(value: Value) -> Result<Self, MetadataError> {
        if !value.is_object() {
            return Err(MetadataError::Shape {
                pointer: String::new(),
                message: "metadata.json must be a JSON object".to_owned(),
            });
        }
        serde_path_to_error::deserialize(value).map_err(|e| {
            let pointer = path_to_pointer(e.path());
            let message = strip_position(&e.inner().to_string());
            MetadataError::Shape { pointer, message }
        })
    }

    /// The dashboard tab, when there is one.
    pub fn dashboard_tab(&self) -> Option<&DashboardTab> {
        self.ui.as_ref()?.dashboard_tab.as_ref()
    }

    /// The backend socket name: `vm.exposes.socket`, else the legacy
    /// `ui.dashboard-tab.backend.socket`.
    pub fn backend_socket(&self) -> Option<&str> {
        self.vm
            .as_ref()
            .and_then(|vm| vm.exposes.as_ref())
            .and_then(|e| e.socket.as_deref())
            .or_else(|| self.legacy_socket())
    }

    /// The legacy `ui.dashboard-tab.backend.socket`.
    pub fn legacy_socket(&self) -> Option<&str> {
        self.dashboard_tab()?.backend.as_ref()?.socket.as_deref()
    }

    /// Host binaries for `os`, all groups merged, in declaration order.
    pub fn host_binaries(&self, os: Os) -> Vec<HostBinary> {
        let Some(host) = &self.host else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, group) in host.binaries.iter().enumerate() {
            let list = match os {
                Os::Darwin => &group.darwin,
                Os::Linux => &group.linux,
                Os::Windows => &group.windows,
            };
            for (j, bin) in list.iter().flatten().enumerate() {
                out.push(HostBinary {
                    pointer: format!("/host/binaries/{i}/{}/{j}/path", os.key()),
                    path: bin.path.clone(),
                });
            }
        }
        out
    }

    /// Every unknown field, as `(json pointer, name)`, document order.
    pub fn unknown_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut add = |base: &str, extra: &Map<String, Value>| {
            out.extend(
                extra
                    .keys()
                    .map(|k| format!("{base}/{}", escape_pointer(k))),
            );
        };
        add("", &self.extra);
        if let Some(ui) = &self.ui {
            add("/ui", &ui.extra);
            if let Some(tab) = &ui.dashboard_tab {
                add("/ui/dashboard-tab", &tab.extra);
                if let Some(b) = &tab.backend {
                    add("/ui/dashboard-tab/backend", &b.extra);
                }
            }
        }
        if let Some(vm) = &self.vm {
            add("/vm", &vm.extra);
            if let Some(e) = &vm.exposes {
                add("/vm/exposes", &e.extra);
            }
        }
        if let Some(host) = &self.host {
            add("/host", &host.extra);
            for (i, g) in host.binaries.iter().enumerate() {
                add(&format!("/host/binaries/{i}"), &g.extra);
                for os in Os::ALL {
                    let list = match os {
                        Os::Darwin => &g.darwin,
                        Os::Linux => &g.linux,
                        Os::Windows => &g.windows,
                    };
                    for (j, b) in list.iter().flatten().enumerate() {
                        add(&format!("/host/binaries/{i}/{}/{j}", os.key()), &b.extra);
                    }
                }
            }
        }
        out
    }
}

fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// Escapes a key for use in a JSON pointer (RFC 6901).
pub fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn path_to_pointer(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::new();
    for seg in path.iter() {
        match seg {
            Segment::Seq { index } => out.push_str(&format!("/{index}")),
            Segment::Map { key } => out.push_str(&format!("/{}", escape_pointer(key))),
            Segment::Enum { variant } => out.push_str(&format!("/{}", escape_pointer(variant))),
            Segment::Unknown => {}
        }
    }
    out
}

/// serde_json appends " at line L column C"; the diagnostic carries that itself.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_unknown_fields_and_round_trips() {
        let src = r#"{"name":"x","ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"index.html?v1","future":1}},"vm":{"image":"${DESKTOP_PLUGIN_IMAGE}"}}"#;
        let m = Metadata::from_slice(src.as_bytes()).unwrap();
        assert_eq!(
            m.unknown_fields(),
            vec!["/name", "/ui/dashboard-tab/future"]
        );
        let again = serde_json::to_value(&m).unwrap();
        assert_eq!(again, serde_json::from_str::<Value>(src).unwrap());
        let tab = m.dashboard_tab().unwrap();
        assert_eq!(tab.entry_path(), "ui/index.html");
    }

    #[test]
    fn entry_handles_leading_slash_and_query() {
        let tab = DashboardTab {
            title: "t".into(),
            root: "/client/".into(),
            src: "/index.html#top".into(),
            ..Default::default()
        };
        assert_eq!(tab.entry_path(), "client/index.html");
    }

    #[test]
    fn errors_name_position_and_pointer() {
        let e = Metadata::from_slice(b"{\n  \"icon\": ,\n}").unwrap_err();
        assert!(
            matches!(
                e,
                MetadataError::Syntax {
                    line: 2,
                    column: 11,
                    ..
                }
            ),
            "{e:?}"
        );
        let e =
            Metadata::from_slice(br#"{"ui":{"dashboard-tab":{"title":3,"root":"r","src":"s"}}}"#)
                .unwrap_err();
        assert_eq!(e.pointer(), Some("/ui/dashboard-tab/title"));
        let e = Metadata::from_slice(b"[1]").unwrap_err();
        assert_eq!(e.pointer(), Some(""));
        let e = Metadata::from_slice(b"{\"icon\":\"\xff\"}").unwrap_err();
        assert!(matches!(e, MetadataError::NotUtf8 { offset: 9 }));
        let big = vec![b' '; METADATA_MAX_BYTES + 1];
        assert!(matches!(
            Metadata::from_slice(&big),
            Err(MetadataError::TooLarge { .. })
        ));
    }

    #[test]
    fn merges_binary_groups() {
        let src = r#"{"host":{"binaries":[{"linux":[{"path":"/a"}]},{"windows":[{"path":"/w"}]},{"linux":[{"path":"/b/"}]}]}}"#;
        let m = Metadata::from_slice(src.as_bytes()).unwrap();
        let linux = m.host_binaries(Os::Linux);
        assert_eq!(linux.len(), 2);
        assert_eq!(linux[1].pointer, "/host/binaries/2/linux/0/path");
        assert_eq!(linux[1].name(), "b");
        assert!(linux[1].is_dir());
    }
}
