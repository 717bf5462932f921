//! Reading one file from an image, top layer first, touching as few layers
//! as possible: how `inspect` reads metadata.json.

use std::io::{self, Read};

use tar::EntryType;

use super::error::{At, UnpackError};
use super::extract::{each_entry, read_error};
use super::limits::{Limits, Meter};
use super::overlay::{Whiteout, whiteout};
use super::safety::{PathProblem, hardlink_target, is_ancestor, is_within, normalize_image_path};
use super::selection::SelectionError;
use super::{LayerInput, layer};
use crate::Digest;

/// What the layers say about a path, deciding from the top.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The topmost layer that has the path holds it as a regular file.
    Found {
        /// The file's content.
        bytes: Vec<u8>,
        /// The index (in the bottom → top slice) of the layer it came from.
        layer: usize,
    },
    /// A layer deletes the path (a whiteout of it or of a parent, an opaque
    /// parent directory, or a parent replaced by a non-directory) above any
    /// layer that has it.
    Deleted {
        /// The index of the deciding layer.
        layer: usize,
    },
    /// No layer has the path.
    Absent,
}

/// The result of [`lookup_top_down`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// What the layers say.
    pub outcome: Outcome,
    /// The indices of the layers read, top first: the top layer down to the
    /// deciding one, never below it.
    pub layers_read: Vec<usize>,
}

impl Lookup {
    /// The file's content and layer index, if found.
    pub fn into_file(self) -> Option<(Vec<u8>, usize)> {
        match self.outcome {
            Outcome::Found { bytes, layer } => Some((bytes, layer)),
            Outcome::Deleted { .. } | Outcome::Absent => None,
        }
    }
}

/// Reads the file at image path `path` (`metadata.json`, `/ui/icon.svg`)
/// from the topmost layer that decides it, reading layers from the top down
/// and none below that layer.
///
/// Returns the content and the index of the layer it came from, or `None`
/// when a layer deletes it or no layer has it. A file larger than
/// `max_bytes` is an error, as is the path being a directory, symlink or
/// hardlink in the deciding layer. Each layer read must pass the same entry
/// name checks and the default [`Limits`] on expanded size and entries as an
/// unpack; use [`lookup_top_down`] to choose the limits and to learn which
/// layers were read.
pub fn find_file_top_down(
    layers: &[LayerInput],
    path: &str,
    max_bytes: u64,
) -> Result<Option<(Vec<u8>, usize)>, UnpackError> {
    lookup_top_down(layers, path, max_bytes, &Limits::default()).map(Lookup::into_file)
}

/// [`find_file_top_down`] with explicit limits, returning what was decided
/// and which layers were read.
///
/// Within the deciding layer the whole tar stream is read: the last entry
/// for a path wins, and whiteouts only hide lower layers, so a layer that
/// both whiteouts and holds the file has it.
pub fn lookup_top_down(
    layers: &[LayerInput],
    path: &str,
    max_bytes: u64,
    limits: &Limits,
) -> Result<Lookup, UnpackError> {
    let wanted = normalize_image_path(path).map_err(|problem| SelectionError {
        path: path.to_owned(),
        problem,
    })?;
    if wanted.is_empty() {
        return Err(SelectionError {
            path: path.to_owned(),
            problem: PathProblem::Empty,
        }
        .into());
    }
    let mut layers_read = Vec::new();
    let mut expanded = 0u64;
    for (index, layer) in layers.iter().enumerate().rev() {
        layers_read.push(index);
        let meter = Meter::for_layer(limits, expanded);
        let stream = layer::open(layer, meter.clone())?;
        let scan = Scan {
            layer: &layer.digest,
            meter: &meter,
            limits,
            wanted: &wanted,
            max_bytes,
        };
        let verdict = scan.run(stream)?;
        expanded = expanded.saturating_add(meter.count());
        let outcome = match verdict {
            Verdict::Found(bytes) => Outcome::Found {
                bytes,
                layer: index,
            },
            Verdict::Deleted => Outcome::Deleted { layer: index },
            Verdict::Undecided => continue,
        };
        return Ok(Lookup {
            outcome,
            layers_read,
        });
    }
    Ok(Lookup {
        outcome: Outcome::Absent,
        layers_read,
    })
}

enum Verdict {
    Found(Vec<u8>),
    Deleted,
    Undecided,
}

struct Scan<'a> {
    layer: &'a Digest,
    meter: &'a Meter,
    limits: &'a Limits,
    wanted: &'a str,
    max_bytes: u64,
}

impl Scan<'_> {
    fn run<R: Read>(&self, stream: R) -> Result<Verdict, UnpackError> {
        let mut found: Option<Vec<u8>> = None;
        let mut hidden = false;
        each_entry(
            self.layer,
            self.meter,
            self.limits,
            stream,
            |entry, name| {
                let entry_type = entry.header().entry_type();
                if entry_type.is_pax_global_extensions() {
                    return Ok(());
                }
                let path =
                    super::safety::normalize_entry(&entry.path_bytes()).map_err(|problem| {
                        UnpackError::UnsafePath {
                            layer: self.layer.clone(),
                            entry: name.to_owned(),
                            problem,
                        }
                    })?;
                if entry_type.is_hard_link() {
                    let raw = entry.link_name_bytes().unwrap_or_default().into_owned();
                    hardlink_target(&raw).map_err(|problem| UnpackError::UnsafeHardlink {
                        layer: self.layer.clone(),
                        entry: name.to_owned(),
                        target: String::from_utf8_lossy(&raw).into_owned(),
                        problem,
                    })?;
                }
                if path.utf8 {
                    let path = path.path;
                    match whiteout(&path) {
                        Some(Whiteout::Remove(target)) => {
                            hidden |= is_within(self.wanted, &target);
                        }
                        Some(Whiteout::Opaque(dir)) => {
                            hidden |= is_ancestor(dir, self.wanted);
                        }
                        Some(Whiteout::Ignored) => {}
                        None if path == self.wanted => {
                            found = Some(self.read_file(entry, entry_type, name)?);
                        }
                        None if !entry_type.is_dir() && is_ancestor(&path, self.wanted) => {
                            found = None;
                            hidden = true;
                        }
                        None => {}
                    }
                }
                Ok(())
            },
        )?;
        Ok(match found {
            Some(bytes) => Verdict::Found(bytes),
            None if hidden => Verdict::Deleted,
            None => Verdict::Undecided,
        })
    }

    fn read_file<R: Read>(
        &self,
        entry: &mut tar::Entry<'_, R>,
        entry_type: EntryType,
        name: &str,
    ) -> Result<Vec<u8>, UnpackError> {
        let kind = match entry_type {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => None,
            EntryType::Directory => Some("directory"),
            EntryType::Symlink => Some("symlink"),
            EntryType::Link => Some("hardlink"),
            _ => Some("special file"),
        };
        if let Some(kind) = kind {
            return Err(UnpackError::NotRegularFile {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                kind,
            });
        }
        let size = entry.size();
        if size > self.max_bytes {
            return Err(UnpackError::FileTooLarge {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                size,
                limit: self.max_bytes,
                what: "this lookup",
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).min(1 << 20));
        entry
            .take(self.max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|e: io::Error| {
                read_error(self.layer, self.meter, At::Entry(name.to_owned()), e)
            })?;
        if bytes.len() as u64 > self.max_bytes {
            return Err(UnpackError::FileTooLarge {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                size: bytes.len() as u64,
                limit: self.max_bytes,
                what: "this lookup",
            });
        }
        Ok(bytes)
    }
}
