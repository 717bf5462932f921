//! Files added besides those metadata.json names (`--add`): a backend binary
//! for every platform, or one per platform (`--add linux/arm64=SRC:DEST`).
//!
//! Each goes into its platform's image only if it can run there: a file
//! whose header says it is an executable (ELF, Mach-O, PE,
//! [`super::executable`]) must be of the platform's OS format and
//! architecture, whatever its mode bits (a shared library counts too).
//! Scripts and other files are not checked. Host binaries that metadata.json
//! lists are not checked either: they run on the user's machine, listed per
//! OS, not in the image.

use std::fmt;
use std::io::Read;
use std::str::FromStr;

use super::executable::{Executable, HEAD_BYTES};
use super::layer::LayerSpec;
use super::{BuildError, ExtensionDir, add_file_at};
use crate::platform::Platform;

/// One `--add`: a file of the directory put into the image at `dest`, in
/// every platform's image or only in `platform`'s.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraFile {
    /// Only this platform's image gets it; `None`: every platform's.
    pub platform: Option<Platform>,
    /// Path in the directory (relative to it).
    pub source: String,
    /// Absolute path in the image.
    pub dest: String,
}

/// Why an `--add` value does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "--add `{0}` is not [PLATFORM=]SRC:DEST: write e.g. --add dist/backend:/backend, or --add linux/arm64=dist/arm64/backend:/backend for one platform"
)]
pub struct ExtraFileError(pub String);

impl ExtraFile {
    /// A file for every platform.
    pub fn new(source: &str, dest: &str) -> Self {
        Self {
            platform: None,
            source: source.to_owned(),
            dest: dest.to_owned(),
        }
    }
}

impl FromStr for ExtraFile {
    type Err = ExtraFileError;

    /// `SRC:DEST` or `OS/ARCH[/VARIANT]=SRC:DEST`. The part before the first
    /// `=` is a platform when it reads as one (a SRC with `=` in its name
    /// and a `/` before it is written `./SRC`); DEST is absolute and SRC may
    /// hold `:`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (platform, rest) = match s.split_once('=') {
            Some((p, rest)) if !p.contains(':') => match p.parse::<Platform>() {
                Ok(platform) => (Some(platform), rest),
                Err(_) => (None, s),
            },
            _ => (None, s),
        };
        match rest.rsplit_once(':') {
            Some((source, dest)) if !source.is_empty() && dest.starts_with('/') => Ok(Self {
                platform,
                source: source.to_owned(),
                dest: dest.to_owned(),
            }),
            _ => Err(ExtraFileError(s.to_owned())),
        }
    }
}

impl fmt::Display for ExtraFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(p) = &self.platform {
            write!(f, "{p}=")?;
        }
        write!(f, "{}:{}", self.source, self.dest)
    }
}

/// The layer of added files for each of `platforms`, in order (empty where
/// nothing is added), after checking every file: inside the directory, a
/// file, one per image path and platform, and runnable on its platform.
pub(super) fn layers(
    dir: &ExtensionDir,
    files: &[ExtraFile],
    platforms: &[Platform],
) -> Result<Vec<LayerSpec>, BuildError> {
    let mut checked = Vec::new();
    for file in files {
        if let Some(p) = &file.platform
            && !platforms.iter().any(|b| b.matches(p))
        {
            return Err(BuildError::AddPlatformNotBuilt {
                add: file.to_string(),
                platform: p.to_string(),
                building: list(platforms),
            });
        }
        let source = file.source.trim_start_matches("./").to_owned();
        let dest = file.dest.trim_matches('/').to_owned();
        if dest.is_empty() || dest.split('/').any(|c| c == ".." || c == ".") {
            return Err(BuildError::File {
                path: source,
                message: format!(
                    "`{}` is not a path in the image: write an absolute path such as /backend",
                    file.dest
                ),
            });
        }
        let mut layer = LayerSpec::default();
        let real = add_file_at(dir, &source, &dest, &mut layer)?;
        if real.is_dir() {
            return Err(BuildError::File {
                path: source,
                message: "is a directory: add its files one by one".into(),
            });
        }
        let executable = Executable::parse(&head(&real)?);
        checked.push((file, source, dest, executable));
    }
    let mut out = Vec::new();
    for platform in platforms {
        let mut layer = LayerSpec::default();
        let mut taken: Vec<&str> = Vec::new();
        let mine = checked
            .iter()
            .filter(|(f, ..)| f.platform.as_ref().is_none_or(|p| platform.matches(p)));
        for (_, source, dest, executable) in mine {
            if taken.contains(&dest.as_str()) {
                return Err(BuildError::AddTwice {
                    dest: format!("/{dest}"),
                    platform: platform.to_string(),
                });
            }
            taken.push(dest);
            if let Some(exe) = executable.as_ref().filter(|e| !e.runs_on(platform)) {
                return Err(BuildError::WrongArchitecture {
                    path: source.clone(),
                    found: exe.to_string(),
                    platform: platform.to_string(),
                    hint: hint(exe, platform, platforms),
                });
            }
            add_file_at(dir, source, dest, &mut layer)?;
        }
        out.push(layer);
    }
    Ok(out)
}

/// What to do about an executable that cannot run on `platform`.
fn hint(exe: &Executable, platform: &Platform, all: &[Platform]) -> String {
    if !exe.format.runs_on(platform.os()) {
        return format!(
            "build it for {platform} (a {} program), or list it in metadata.json's host.binaries if it is meant for the user's machine",
            match platform.os() {
                "windows" => "Windows (PE)",
                "darwin" => "macOS (Mach-O)",
                _ => "Linux (ELF)",
            }
        );
    }
    let fits: Vec<&Platform> = all.iter().filter(|p| exe.runs_on(p)).collect();
    match fits.first() {
        Some(fit) => format!(
            "give each platform its own build with --add {fit}=SRC:DEST and --add {platform}=SRC:DEST, or build only --platform {}",
            fits.iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
        None => format!("build it for {platform} and add it with --add {platform}=SRC:DEST"),
    }
}

fn list(platforms: &[Platform]) -> String {
    platforms
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first bytes of a file, enough for [`Executable::parse`].
fn head(path: &std::path::Path) -> Result<Vec<u8>, BuildError> {
    let mut bytes = Vec::new();
    fs_err::File::open(path)?
        .take(HEAD_BYTES as u64)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_values_parse() {
        let plain: ExtraFile = "dist/backend:/backend".parse().expect("parses");
        assert_eq!(plain, ExtraFile::new("dist/backend", "/backend"));
        let one: ExtraFile = "linux/arm64=out/arm64/backend:/backend"
            .parse()
            .expect("parses");
        assert_eq!(one.platform, Some("linux/arm64".parse().expect("platform")));
        assert_eq!(one.source, "out/arm64/backend");
        assert_eq!(one.to_string(), "linux/arm64=out/arm64/backend:/backend");
        let variant: ExtraFile = "linux/arm/v7=b:/b".parse().expect("parses");
        assert_eq!(
            variant.platform.expect("platform").to_string(),
            "linux/arm/v7"
        );
        // `=` in a SRC with no platform before it, and `:` in a SRC.
        let eq: ExtraFile = "a=b:/x".parse().expect("parses");
        assert_eq!((eq.platform, eq.source.as_str()), (None, "a=b"));
        let dotted: ExtraFile = "./x/y=z:/x".parse().expect("parses");
        assert_eq!((dotted.platform, dotted.source.as_str()), (None, "./x/y=z"));
        let colon: ExtraFile = "c:d/e:/x".parse().expect("parses");
        assert_eq!(colon.source, "c:d/e");
        for bad in [
            "backend",
            "backend:backend",
            ":/backend",
            "linux/amd64=",
            "linux/amd64=:/b",
            "linux/amd64=b",
        ] {
            let e = bad.parse::<ExtraFile>().expect_err(bad);
            assert!(e.to_string().contains("[PLATFORM=]SRC:DEST"), "{e}");
        }
    }
}
