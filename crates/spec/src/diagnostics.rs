//! Diagnostics: what validation found, each with a stable code.
//!
//! Codes are `DH` and three digits, grouped by what they are about: `DH0xx`
//! the metadata.json file itself, `DH1xx` its fields, `DH2xx` labels, `DH3xx`
//! the compose file, `DH4xx` files in the image. A code, once published, keeps
//! its meaning; `docs/diagnostics.md` lists them all.
//!
//! Each code also has a [`Class`], which is the one rule for what stops an
//! install ([`Diagnostic::blocks_install`]) and a build
//! ([`Diagnostic::blocks_build`]).

use std::fmt;

use serde::Serialize;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The extension will not install or work: `validate` fails.
    Error,
    /// Worth fixing; Docker Desktop accepts it.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// What a finding is about, which decides what it stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// The format a host needs to run the extension: metadata.json, the
    /// compose file, the files it names, a label source that cannot be read.
    /// An error of this class stops an install and a build.
    Format,
    /// `api.version`: install checks the constraint against the API it
    /// implements itself (refused unless `--ignore-api-version`); a build
    /// needs it to parse but may target a newer API.
    ApiVersion,
    /// What a marketplace lists (the DH2xx labels: title, vendor, changelog,
    /// screenshots, links…). Docker Desktop installs an image whose listing
    /// labels are missing or malformed, and so does dockhand; `validate` and
    /// `build --strict` fail on such an error, `build` warns.
    Marketplace,
}

impl Class {
    /// `format`, `api-version` or `marketplace`.
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Format => "format",
            Class::ApiVersion => "api-version",
            Class::Marketplace => "marketplace",
        }
    }
}

macro_rules! codes {
    ($( $variant:ident = $num:literal, $sev:ident, $title:literal; )*) => {
        /// A diagnostic code.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $(
                #[doc = $title]
                $variant,
            )*
        }

        impl Code {
            /// Every code, in number order.
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The number after `DH`.
            pub fn number(self) -> u16 {
                match self { $(Code::$variant => $num),* }
            }

            /// The usual severity of this code.
            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev),* }
            }

            /// What the code means, in a few words.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }
        }
    };
}

codes! {
    MetadataTooLarge = 1, Error, "metadata.json is larger than 1 MiB";
    MetadataNotUtf8 = 2, Error, "metadata.json is not UTF-8";
    MetadataSyntax = 3, Error, "metadata.json is not valid JSON";
    MetadataShape = 4, Error, "a metadata.json field has the wrong type or is missing";
    MetadataUnreadable = 5, Error, "metadata.json cannot be read";
    UnknownField = 101, Warning, "unknown metadata.json field (kept, ignored)";
    NoIcon = 102, Warning, "metadata.json names no icon";
    NoComponent = 103, Error, "metadata.json declares no ui, vm or host binaries";
    EmptyTabField = 110, Error, "ui.dashboard-tab title, root or src is empty";
    BadUiPath = 111, Error, "ui.dashboard-tab root or src leaves the image root";
    LegacyBackend = 112, Warning, "legacy ui.dashboard-tab.backend socket";
    LegacyBackendTcp = 113, Warning, "ui.dashboard-tab.backend.tcp is not supported";
    SocketMismatch = 114, Warning, "legacy backend socket and vm.exposes.socket differ";
    VmImageAndCompose = 120, Error, "vm has neither image nor composefile";
    VmEmpty = 121, Error, "vm.image or vm.composefile is empty";
    BadSocketName = 122, Error, "the exposed socket is not a bare file name that fits a unix socket path";
    SocketWithoutVm = 123, Warning, "a backend socket is declared but there is no vm";
    BadComposePath = 124, Error, "vm.composefile leaves the image root";
    VmImageIgnored = 125, Warning, "vm has both image and composefile: the compose file runs, vm.image is ignored";
    HostPathNotAbsolute = 130, Error, "a host binary path is not absolute";
    DuplicateHostBinary = 131, Warning, "a host binary is listed twice for one OS";
    UnknownOs = 132, Warning, "unknown OS key in host.binaries";
    HostNameClash = 133, Warning, "two linux host binaries have the same file name";
    EmptyHostPath = 134, Error, "a host binary path is empty";
    ForeignOsBinary = 135, Warning, "a linux host binary looks like another OS's file";
    NoLabels = 200, Warning, "no labels found: labels not checked";
    MissingLabel = 201, Error, "a required label is missing";
    EmptyLabel = 202, Error, "a required label is empty";
    LabelJson = 203, Error, "a JSON label does not parse";
    LabelJsonShape = 204, Error, "a JSON label has the wrong shape";
    LabelUrl = 205, Error, "a URL label is not an http(s) URL";
    UnknownCategory = 206, Warning, "a category is not one of the official list";
    UnknownLabel = 207, Warning, "unknown label in the extension namespace";
    ApiVersionSyntax = 208, Error, "the api.version constraint does not parse";
    ApiVersionUnsatisfied = 209, Error, "the api.version constraint excludes the API version dockhand implements";
    AccountInfo = 210, Warning, "account-info is neither `required` nor empty";
    OptionalLabelJson = 211, Warning, "an optional JSON label does not parse or has the wrong shape";
    DuplicateLabel = 212, Warning, "a label is set more than once in the Dockerfile";
    UnsetBuildArg = 213, Warning, "a label uses a build variable that has no value";
    UnsafeHtml = 214, Warning, "an HTML label has script or event handlers (they are removed when shown)";
    LabelsUnreadable = 215, Error, "labels.json or the Dockerfile cannot be read";
    ExpiringUrl = 216, Warning, "a label URL carries an access token that expires";
    ChangelogIsUrl = 217, Warning, "the changelog is only a URL";
    UnbalancedHtml = 218, Warning, "an HTML label leaves an element open or closes one never opened";
    ComposeMissing = 300, Error, "the compose file does not exist";
    ComposeSyntax = 301, Error, "the compose file does not parse";
    ComposeShape = 302, Error, "the compose file has no services or a malformed service";
    ServiceWithoutImage = 303, Error, "a compose service has no image";
    ServiceBuild = 304, Warning, "a compose service has a build section (ignored: dockhand never builds images)";
    ComposeOtherFiles = 305, Error, "the compose file makes compose read other files (env_file, label_file, extends.file, include)";
    ComposeRejected = 306, Error, "compose rejects the compose file";
    EngineSocket = 310, Warning, "a service mounts the engine socket (full control of the engine)";
    Privileged = 311, Warning, "a service is privileged";
    HostNetwork = 312, Warning, "a service uses the host network";
    HostPid = 313, Warning, "a service uses the host PID namespace";
    CapAdd = 314, Warning, "a service adds capabilities";
    HostBindMount = 315, Warning, "a service bind-mounts a host path";
    Devices = 316, Warning, "a service maps host devices";
    FixedContainerName = 317, Warning, "a service has a fixed container_name (one install per engine)";
    PublishedPorts = 318, Warning, "a service publishes host ports";
    DesktopVmPath = 319, Warning, "a service mounts a Docker Desktop VM path that other hosts lack";
    FixedResourceName = 320, Warning, "a network or volume has a fixed name shared across projects";
    SharedNamespace = 321, Warning, "a service shares a namespace with the host or another container";
    SecurityOpt = 322, Warning, "a service changes its security options (seccomp, AppArmor, SELinux)";
    DeviceRules = 323, Warning, "a service has device access rules";
    Sysctls = 324, Warning, "a service sets kernel parameters";
    CgroupParent = 325, Warning, "a service sets its cgroup parent";
    HostFile = 326, Warning, "a host file is given to a service";
    VolumesFrom = 327, Warning, "a service mounts the volumes of a container outside the project";
    OutsideProject = 328, Warning, "a volume or network reaches outside the project";
    Runtime = 329, Warning, "a service uses another container runtime";
    UnknownComposeKey = 330, Warning, "a compose key dockhand does not know";
    MissingFile = 400, Error, "a file named by metadata.json is not in the image";
    NotADirectory = 401, Error, "a path named as a directory is a file";
    SymlinkEscapes = 402, Error, "a symlink leads outside the image root";
    MissingOtherOsBinary = 403, Warning, "a host binary for another OS is not in the image";
    FilesNotChecked = 404, Warning, "none of the files metadata.json names are here: files not checked";
    NotAFile = 405, Error, "a path that must be a file is a directory";
    IconNotImage = 406, Warning, "the icon is not an image (png, jpeg, gif, webp, svg or ico)";
}

impl Code {
    /// What this code is about: the DH2xx label codes are marketplace
    /// findings, except `api.version` (its own class) and a label source that
    /// cannot be read (the format); every other code is about the format.
    pub fn class(self) -> Class {
        match self {
            Code::ApiVersionSyntax | Code::ApiVersionUnsatisfied => Class::ApiVersion,
            Code::LabelsUnreadable => Class::Format,
            c if c.number() / 100 == 2 => Class::Marketplace,
            _ => Class::Format,
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DH{:03}", self.number())
    }
}

impl Serialize for Code {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// Where a finding is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Location {
    /// A JSON pointer into metadata.json (`""` for the whole file).
    Metadata(String),
    /// A label by name.
    Label(String),
    /// A JSON pointer into the compose file.
    Compose(String),
    /// A path relative to the image root (or the validated directory).
    File(String),
}

impl Location {
    /// The group text output puts this location under.
    pub fn group(&self) -> &'static str {
        match self {
            Location::Metadata(_) => "metadata.json",
            Location::Label(_) => "labels",
            Location::Compose(_) => "compose file",
            Location::File(_) => "files",
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Metadata(p) => write!(f, "metadata.json:{p}"),
            Location::Label(n) => write!(f, "label:{n}"),
            Location::Compose(p) => write!(f, "compose:{p}"),
            Location::File(p) => f.write_str(p),
        }
    }
}

impl Serialize for Location {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// Stable code.
    pub code: Code,
    /// Error or warning.
    pub severity: Severity,
    /// Where.
    pub location: Location,
    /// What is wrong and what to do, lowercase, no trailing period.
    pub message: String,
}

impl Diagnostic {
    /// A finding with the code's usual severity.
    pub fn new(code: Code, location: Location, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: code.severity(),
            location,
            message: message.into(),
        }
    }

    /// True when this finding stops an install: an error about the format.
    /// Marketplace findings never do (Docker Desktop installs such images);
    /// `api.version` is checked by install itself against the API it
    /// implements.
    pub fn blocks_install(&self) -> bool {
        self.severity == Severity::Error && self.code.class() == Class::Format
    }

    /// True when this finding stops a build (without `--strict`): what stops
    /// an install, and an `api.version` that does not parse (install refuses
    /// it too). A constraint that excludes this host's API does not: an
    /// author may build for a newer one.
    pub fn blocks_build(&self) -> bool {
        self.blocks_install()
            || (self.severity == Severity::Error && self.code == Code::ApiVersionSyntax)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_ordered() {
        let nums: Vec<u16> = Code::ALL.iter().map(|c| c.number()).collect();
        let mut sorted = nums.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(nums, sorted);
        assert_eq!(Code::MetadataSyntax.to_string(), "DH003");
        assert_eq!(Code::MissingLabel.to_string(), "DH201");
    }

    #[test]
    fn only_format_errors_block_an_install() {
        let at = |code: Code| Diagnostic::new(code, Location::Label("x".into()), "m");
        // An empty or missing listing label (a published extension ships
        // `changelog=""`) installs and builds.
        for code in [
            Code::EmptyLabel,
            Code::MissingLabel,
            Code::LabelUrl,
            Code::LabelJson,
        ] {
            assert_eq!(code.class(), Class::Marketplace, "{code}");
            assert_eq!(code.severity(), Severity::Error, "{code}");
            assert!(!at(code).blocks_install(), "{code}");
            assert!(!at(code).blocks_build(), "{code}");
        }
        // The format blocks both.
        for code in [
            Code::MetadataSyntax,
            Code::VmEmpty,
            Code::ComposeMissing,
            Code::MissingFile,
            Code::LabelsUnreadable,
        ] {
            assert_eq!(code.class(), Class::Format, "{code}");
            assert!(at(code).blocks_install(), "{code}");
            assert!(at(code).blocks_build(), "{code}");
        }
        // api.version: install checks it itself; a build needs it to parse.
        assert_eq!(Code::ApiVersionSyntax.class(), Class::ApiVersion);
        assert!(!at(Code::ApiVersionSyntax).blocks_install());
        assert!(at(Code::ApiVersionSyntax).blocks_build());
        assert!(!at(Code::ApiVersionUnsatisfied).blocks_install());
        assert!(!at(Code::ApiVersionUnsatisfied).blocks_build());
        // A warning blocks nothing, whatever its class.
        for code in Code::ALL
            .iter()
            .filter(|c| c.severity() == Severity::Warning)
        {
            assert!(
                !at(*code).blocks_install() && !at(*code).blocks_build(),
                "{code}"
            );
        }
        // Every label code but those two and DH215 is a marketplace finding.
        let marketplace: Vec<u16> = Code::ALL
            .iter()
            .filter(|c| c.class() == Class::Marketplace)
            .map(|c| c.number())
            .collect();
        assert!(marketplace.iter().all(|n| (200..300).contains(n)));
        assert_eq!(
            marketplace.len(),
            Code::ALL.iter().filter(|c| c.number() / 100 == 2).count() - 3
        );
    }

    #[test]
    fn locations_print_as_the_cli_contract_says() {
        assert_eq!(
            Location::Metadata("/vm/image".into()).to_string(),
            "metadata.json:/vm/image"
        );
        assert_eq!(Location::Label("a.b".into()).to_string(), "label:a.b");
        assert_eq!(
            Location::Compose("/services/x".into()).to_string(),
            "compose:/services/x"
        );
        assert_eq!(
            Location::File("ui/index.html".into()).to_string(),
            "ui/index.html"
        );
    }
}
