//! Applying layers, bottom to top, to the staging directory.

use std::io::{self, Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use fs_err::os::unix::fs::OpenOptionsExt;
use tar::{Entry, EntryType};

use super::error::{At, UnpackError};
use super::limits::{Bound, Limits, Meter};
use super::overlay::{Whiteout, Written, clear_opaque, whiteout};
use super::safety::{PathProblem, canonical_symlink_target, hardlink_target, normalize_entry};
use super::selection::Selection;
use super::staging::{Kind, StageError, Staging, kind, remove};
use super::{LayerInput, UnpackReport, layer};
use crate::Digest;

/// Permission bits kept from the tar header for files: no setuid, setgid or
/// sticky bit, no write for group or other, and never executable (an
/// unpacked file is data: a UI file with an exec bit could otherwise be run
/// or preloaded by something pointed at it; host binaries get their mode
/// when the install copies them); the owner can always read.
pub(crate) fn file_mode(mode: u32) -> u32 {
    (mode & 0o644) | 0o400
}

/// Permission bits for directories: as for files, and the owner can always
/// list, enter and write (so the staging tree can be read and deleted).
pub(crate) fn dir_mode(mode: u32) -> u32 {
    (mode & 0o755) | 0o700
}

const SETID_BITS: u32 = 0o7000;
const COPY_BUFFER: usize = 64 * 1024;
/// 9999-12-31T23:59:59Z.
const MAX_MTIME: u64 = 253_402_300_799;

/// See [`super::unpack_layers`].
pub(crate) fn unpack(
    layers: &[LayerInput],
    selection: &Selection,
    staging: &Path,
    limits: &Limits,
) -> Result<UnpackReport, UnpackError> {
    let mut report = UnpackReport::default();
    let mut expanded = 0u64;
    let mut buf = vec![0u8; COPY_BUFFER];
    for layer in layers {
        let meter = Meter::for_layer(limits, expanded);
        let stream = layer::open(layer, meter.clone())?;
        let mut applier = Applier {
            layer: &layer.digest,
            staging: Staging::new(staging),
            selection,
            limits,
            meter: &meter,
            written: Written::default(),
            report: &mut report,
            buf: &mut buf,
        };
        applier.run(stream)?;
        expanded = expanded.saturating_add(meter.count());
        report.layers_read += 1;
    }
    Ok(report)
}

/// Maps an I/O error from the tar reader: the meter's verdict first (a
/// decompression bomb surfaces as a read error), else a corrupt stream.
pub(crate) fn read_error(layer: &Digest, meter: &Meter, at: At, source: io::Error) -> UnpackError {
    match meter.tripped() {
        Some((limit, Bound::Layer)) => UnpackError::LayerTooLarge {
            layer: layer.clone(),
            at,
            limit,
        },
        Some((limit, Bound::Total)) => UnpackError::TotalTooLarge {
            layer: layer.clone(),
            at,
            limit,
        },
        None => UnpackError::Read {
            layer: layer.clone(),
            at,
            source,
        },
    }
}

/// Walks a layer's tar entries in order, each with its name (lossy UTF-8):
/// at most `limits.max_entries_per_layer` of them, a read error mapped by
/// [`read_error`] at the last entry read.
pub(crate) fn each_entry<R: Read>(
    layer: &Digest,
    meter: &Meter,
    limits: &Limits,
    stream: R,
    mut visit: impl FnMut(&mut tar::Entry<'_, R>, &str) -> Result<(), UnpackError>,
) -> Result<(), UnpackError> {
    let mut archive = tar::Archive::new(stream);
    let entries = archive
        .entries()
        .map_err(|e| read_error(layer, meter, At::Start, e))?;
    let mut last: Option<String> = None;
    let mut count = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(|e| {
            let at = last.clone().map_or(At::Start, At::After);
            read_error(layer, meter, at, e)
        })?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        count += 1;
        if count > limits.max_entries_per_layer {
            return Err(UnpackError::TooManyEntries {
                layer: layer.clone(),
                entry: name,
                limit: limits.max_entries_per_layer,
            });
        }
        visit(&mut entry, &name)?;
        last = Some(name);
    }
    Ok(())
}

/// One layer being applied.
struct Applier<'a> {
    layer: &'a Digest,
    staging: Staging<'a>,
    selection: &'a Selection,
    limits: &'a Limits,
    meter: &'a Meter,
    written: Written,
    report: &'a mut UnpackReport,
    buf: &'a mut Vec<u8>,
}

impl Applier<'_> {
    fn run<R: Read>(&mut self, stream: R) -> Result<(), UnpackError> {
        let (layer, meter, limits) = (self.layer, self.meter, self.limits);
        each_entry(layer, meter, limits, stream, |entry, name| {
            self.entry(entry, name)
        })
    }

    fn entry<R: Read>(&mut self, entry: &mut Entry<'_, R>, name: &str) -> Result<(), UnpackError> {
        let entry_type = entry.header().entry_type();
        if entry_type.is_pax_global_extensions() {
            return Ok(());
        }
        let path = normalize_entry(&entry.path_bytes()).map_err(|p| self.unsafe_path(name, p))?;
        let link_target = if entry_type.is_hard_link() {
            let raw = entry.link_name_bytes().unwrap_or_default().into_owned();
            Some(
                hardlink_target(&raw).map_err(|problem| UnpackError::UnsafeHardlink {
                    layer: self.layer.clone(),
                    entry: name.to_owned(),
                    target: String::from_utf8_lossy(&raw).into_owned(),
                    problem,
                })?,
            )
        } else {
            None
        };
        if path.path.is_empty() {
            return Ok(());
        }
        if !path.utf8 {
            // It cannot name anything in staging, which holds UTF-8 names only.
            if self.selection.contains(&path.path) {
                return Err(self.unsafe_path(name, PathProblem::NotUtf8));
            }
            return Ok(());
        }
        let path = path.path;
        if let Some(w) = whiteout(&path) {
            return self.whiteout(w, name);
        }
        if !self.selection.contains(&path) {
            if !entry_type.is_dir() && self.selection.is_ancestor_of_selected(&path) {
                // A non-directory replaces a parent of selected paths: what
                // the layers below put beneath it is gone.
                if let Some(full) = self.stage(name, self.staging.existing(&path))? {
                    remove(&full).map_err(|e| self.write_error(name, e))?;
                }
            }
            return Ok(());
        }
        match entry_type {
            EntryType::Regular | EntryType::Continuous | EntryType::GNUSparse => {
                self.file(entry, &path, name)
            }
            EntryType::Directory => {
                let mode = entry.header().mode().unwrap_or(0o755);
                self.dir(mode, &path, name)
            }
            EntryType::Symlink => {
                let raw = entry.link_name_bytes().unwrap_or_default();
                self.symlink(&raw, &path, name)
            }
            EntryType::Link => match link_target {
                Some(target) => self.hardlink(&target, &path, name),
                None => Ok(()),
            },
            _ => {
                // Devices, fifos, sockets and types this reader does not know.
                self.report.skipped_special += 1;
                Ok(())
            }
        }
    }

    fn whiteout(&mut self, w: Whiteout<'_>, name: &str) -> Result<(), UnpackError> {
        match w {
            Whiteout::Remove(target) => {
                let Some(full) = self.stage(name, self.staging.existing(&target))? else {
                    return Ok(());
                };
                let what = kind(&full).map_err(|e| self.write_error(name, e))?;
                if !self.written.contains(&target) {
                    remove(&full).map_err(|e| self.write_error(name, e))?;
                } else if what == Kind::Dir {
                    // This layer wrote into it: only lower content goes.
                    clear_opaque(&full, &target, &self.written)
                        .map_err(|e| self.write_error(name, e))?;
                }
                Ok(())
            }
            Whiteout::Opaque(dir) => {
                let Some(full) = self.stage(name, self.staging.existing(dir))? else {
                    return Ok(());
                };
                match kind(&full).map_err(|e| self.write_error(name, e))? {
                    Kind::Dir => clear_opaque(&full, dir, &self.written)
                        .map_err(|e| self.write_error(name, e)),
                    Kind::Missing => Ok(()),
                    _ if self.written.contains(dir) => Ok(()),
                    _ => remove(&full).map_err(|e| self.write_error(name, e)),
                }
            }
            Whiteout::Ignored => Ok(()),
        }
    }

    /// Size limit for a file at `path`.
    fn file_limit(&self, path: &str) -> (u64, &'static str) {
        if path == "metadata.json" && self.limits.max_metadata_bytes < self.limits.max_file_bytes {
            (self.limits.max_metadata_bytes, "metadata.json")
        } else {
            (self.limits.max_file_bytes, "a single file")
        }
    }

    fn check_size(&self, path: &str, name: &str, size: u64) -> Result<(), UnpackError> {
        let (limit, what) = self.file_limit(path);
        if size > limit {
            return Err(UnpackError::FileTooLarge {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                size,
                limit,
                what,
            });
        }
        let total = self.report.bytes.saturating_add(size);
        if total > self.limits.max_total_bytes {
            return Err(UnpackError::FilesTooLarge {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                total,
                limit: self.limits.max_total_bytes,
            });
        }
        Ok(())
    }

    /// Prepares the destination of a non-directory: real parent
    /// directories, and nothing left at the path itself.
    fn replace(&mut self, path: &str, name: &str) -> Result<PathBuf, UnpackError> {
        let dest = self.stage(name, self.staging.prepare_parents(path))?;
        remove(&dest).map_err(|e| self.write_error(name, e))?;
        Ok(dest)
    }

    fn file<R: Read>(
        &mut self,
        entry: &mut Entry<'_, R>,
        path: &str,
        name: &str,
    ) -> Result<(), UnpackError> {
        let size = entry.size();
        self.check_size(path, name, size)?;
        let mode = entry.header().mode().unwrap_or(0o644);
        let mtime = entry.header().mtime().ok();
        let dest = self.replace(path, name)?;
        let mut file = create_new(&dest).map_err(|e| self.write_error(name, e))?;
        let mut copied = 0u64;
        loop {
            let n = match entry.read(self.buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    let at = At::Entry(name.to_owned());
                    return Err(read_error(self.layer, self.meter, at, e));
                }
            };
            copied += n as u64;
            if copied > size {
                // The tar reader yields exactly `size` bytes; never trust it blindly.
                return Err(UnpackError::FileTooLarge {
                    layer: self.layer.clone(),
                    entry: name.to_owned(),
                    size: copied,
                    limit: size,
                    what: "its declared size",
                });
            }
            file.write_all(&self.buf[..n])
                .map_err(|e| self.write_error(name, e))?;
        }
        self.finish_file(&file, name, mode, mtime)?;
        self.written.insert(path);
        self.report.files += 1;
        self.report.bytes += copied;
        Ok(())
    }

    fn finish_file(
        &mut self,
        file: &fs_err::File,
        name: &str,
        mode: u32,
        mtime: Option<u64>,
    ) -> Result<(), UnpackError> {
        if mode & SETID_BITS != 0 {
            self.report.stripped_setid += 1;
        }
        file.set_permissions(std::fs::Permissions::from_mode(file_mode(mode)))
            .map_err(|e| self.write_error(name, e))?;
        // Times past the year 9999 are left alone rather than fail the unpack.
        let time = mtime
            .filter(|s| *s <= MAX_MTIME)
            .and_then(|s| SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(s)));
        if let Some(time) = time {
            file.set_modified(time)
                .map_err(|e| self.write_error(name, e))?;
        }
        Ok(())
    }

    /// A directory entry of `mode`.
    fn dir(&mut self, mode: u32, path: &str, name: &str) -> Result<(), UnpackError> {
        let dest = self.stage(name, self.staging.prepare_parents(path))?;
        match kind(&dest).map_err(|e| self.write_error(name, e))? {
            Kind::Dir => {}
            Kind::Missing => fs_err::create_dir(&dest).map_err(|e| self.write_error(name, e))?,
            Kind::File | Kind::Symlink | Kind::Other => {
                remove(&dest).map_err(|e| self.write_error(name, e))?;
                fs_err::create_dir(&dest).map_err(|e| self.write_error(name, e))?;
            }
        }
        if mode & SETID_BITS != 0 {
            self.report.stripped_setid += 1;
        }
        // `dest` was just checked to be a real directory, not a symlink.
        fs_err::set_permissions(&dest, std::fs::Permissions::from_mode(dir_mode(mode)))
            .map_err(|e| self.write_error(name, e))?;
        self.written.insert(path);
        self.report.dirs += 1;
        Ok(())
    }

    /// A symlink entry to `raw` (its target as written in the layer).
    fn symlink(&mut self, raw: &[u8], path: &str, name: &str) -> Result<(), UnpackError> {
        let target =
            canonical_symlink_target(path, raw).map_err(|problem| UnpackError::UnsafeSymlink {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                target: String::from_utf8_lossy(raw).into_owned(),
                problem,
            })?;
        let dest = self.replace(path, name)?;
        fs_err::os::unix::fs::symlink(&target, &dest).map_err(|e| self.write_error(name, e))?;
        self.written.insert(path);
        self.report.symlinks += 1;
        Ok(())
    }

    /// A hardlink is written as a copy of its target, which must already be
    /// a regular file in staging (extracted earlier in this layer or by a
    /// layer below). The copy keeps the target's (already sanitized) mode.
    fn hardlink(&mut self, target: &str, path: &str, name: &str) -> Result<(), UnpackError> {
        let missing = || UnpackError::HardlinkTargetMissing {
            layer: self.layer.clone(),
            entry: name.to_owned(),
            target: target.to_owned(),
        };
        if target == path {
            return Err(missing());
        }
        let Some(source) = self.stage(name, self.staging.existing(target))? else {
            return Err(missing());
        };
        let meta = match fs_err::symlink_metadata(&source) {
            Ok(meta) if meta.file_type().is_file() => meta,
            Ok(_) => return Err(missing()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(missing()),
            Err(e) => return Err(self.write_error(name, e)),
        };
        self.check_size(path, name, meta.len())?;
        let dest = self.replace(path, name)?;
        let mut from = fs_err::File::open(&source).map_err(|e| self.write_error(name, e))?;
        let mut to = create_new(&dest).map_err(|e| self.write_error(name, e))?;
        let copied = io::copy(&mut (&mut from).take(meta.len()), &mut to)
            .map_err(|e| self.write_error(name, e))?;
        to.set_permissions(std::fs::Permissions::from_mode(
            meta.permissions().mode() & 0o777,
        ))
        .map_err(|e| self.write_error(name, e))?;
        if let Ok(time) = meta.modified() {
            to.set_modified(time)
                .map_err(|e| self.write_error(name, e))?;
        }
        self.written.insert(path);
        self.report.files += 1;
        self.report.bytes += copied;
        Ok(())
    }

    /// Maps a staging error for entry `name`.
    fn stage<T>(&self, name: &str, r: Result<T, StageError>) -> Result<T, UnpackError> {
        r.map_err(|e| match e {
            StageError::ThroughSymlink(link) => UnpackError::ThroughSymlink {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                link,
            },
            StageError::NotDirectory(parent) => UnpackError::ParentNotDirectory {
                layer: self.layer.clone(),
                entry: name.to_owned(),
                parent,
            },
            StageError::Io(source) => self.write_error(name, source),
        })
    }

    fn unsafe_path(&self, name: &str, problem: PathProblem) -> UnpackError {
        UnpackError::UnsafePath {
            layer: self.layer.clone(),
            entry: name.to_owned(),
            problem,
        }
    }

    fn write_error(&self, name: &str, source: io::Error) -> UnpackError {
        UnpackError::Write {
            layer: self.layer.clone(),
            entry: name.to_owned(),
            source,
        }
    }
}

/// Creates a new file; fails if anything (even a dangling symlink) is there.
fn create_new(path: &Path) -> io::Result<fs_err::File> {
    fs_err::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_sanitized() {
        for (mode, want) in [
            (0o4755, 0o644),
            (0o2755, 0o644),
            (0o1777, 0o644),
            (0o755, 0o644),
            (0o111, 0o400),
            (0o666, 0o644),
            (0o644, 0o644),
            (0o000, 0o400),
            (0o100_644, 0o644),
        ] {
            assert_eq!(file_mode(mode), want, "file {mode:o}");
        }
        for (mode, want) in [
            (0o1777, 0o755),
            (0o555, 0o755),
            (0o700, 0o700),
            (0o750, 0o750),
        ] {
            assert_eq!(dir_mode(mode), want, "dir {mode:o}");
        }
    }
}
