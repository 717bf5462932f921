//! Size and count limits, and the meter that enforces the expanded-size
//! limits on the decompressor's output.

use std::cell::Cell;
use std::io::{self, Read};
use std::rc::Rc;

const MIB: u64 = 1024 * 1024;
const GIB: u64 = 1024 * MIB;

/// Limits on what an unpack may read and write. Exceeding any of them fails
/// the unpack with an error naming the layer and the entry.
///
/// The defaults are generous for real extension UIs. Expanded sizes count
/// the decompressed tar stream (headers, padding and skipped entries
/// included) as it leaves the decompressor, so a decompression bomb is
/// stopped at the limit without being written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest single file written, in bytes (default 512 MiB).
    pub max_file_bytes: u64,
    /// Largest expanded (decompressed) tar stream of one layer, in bytes
    /// (default 2 GiB).
    pub max_layer_bytes: u64,
    /// Largest expanded size of all layers together, and of all files
    /// written together, in bytes (default 4 GiB).
    pub max_total_bytes: u64,
    /// Most entries in one layer, selected or not (default 1,000,000).
    pub max_entries_per_layer: u64,
    /// Largest `metadata.json` at the image root, in bytes (default 1 MiB).
    pub max_metadata_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_file_bytes: 512 * MIB,
            max_layer_bytes: 2 * GIB,
            max_total_bytes: 4 * GIB,
            max_entries_per_layer: 1_000_000,
            max_metadata_bytes: MIB,
        }
    }
}

/// Which expanded-size limit a layer's stream runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bound {
    /// The per-layer limit is the tighter one.
    Layer,
    /// What is left of the total limit is the tighter one.
    Total,
}

/// Counts the bytes read through a [`Metered`] reader and trips once they
/// pass the limit. Shared by the reader (owned by the tar archive) and the
/// code that maps errors.
#[derive(Debug, Clone)]
pub(crate) struct Meter(Rc<MeterState>);

#[derive(Debug)]
struct MeterState {
    count: Cell<u64>,
    limit: u64,
    bound: Bound,
    /// The configured limit to name in errors.
    named: u64,
    tripped: Cell<bool>,
}

impl Meter {
    /// A meter for one layer, given the total already expanded by the layers
    /// before it.
    pub(crate) fn for_layer(limits: &Limits, total_so_far: u64) -> Self {
        let left = limits.max_total_bytes.saturating_sub(total_so_far);
        let (limit, bound, named) = if limits.max_layer_bytes <= left {
            (limits.max_layer_bytes, Bound::Layer, limits.max_layer_bytes)
        } else {
            (left, Bound::Total, limits.max_total_bytes)
        };
        Self(Rc::new(MeterState {
            count: Cell::new(0),
            limit,
            bound,
            named,
            tripped: Cell::new(false),
        }))
    }

    /// Bytes read so far.
    pub(crate) fn count(&self) -> u64 {
        self.0.count.get()
    }

    /// The configured limit that was passed (the per-layer or the total
    /// one) and which it is, once the meter has tripped.
    pub(crate) fn tripped(&self) -> Option<(u64, Bound)> {
        self.0.tripped.get().then_some((self.0.named, self.0.bound))
    }
}

/// A reader that counts through a [`Meter`] and fails once the meter's
/// limit is passed, reading at most one byte beyond it.
#[derive(Debug)]
pub(crate) struct Metered<R> {
    inner: R,
    meter: Meter,
}

impl<R> Metered<R> {
    pub(crate) fn new(inner: R, meter: Meter) -> Self {
        Self { inner, meter }
    }
}

impl<R: Read> Read for Metered<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let state = &self.meter.0;
        if state.tripped.get() {
            return Err(limit_error());
        }
        let allowed = state
            .limit
            .saturating_sub(state.count.get())
            .saturating_add(1);
        let len = usize::try_from(allowed).map_or(buf.len(), |a| a.min(buf.len()));
        let n = self.inner.read(&mut buf[..len])?;
        let count = state.count.get().saturating_add(n as u64);
        state.count.set(count);
        if count > state.limit {
            state.tripped.set(true);
            return Err(limit_error());
        }
        Ok(n)
    }
}

fn limit_error() -> io::Error {
    io::Error::other("the expanded size limit was reached")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(layer: u64, total: u64) -> Limits {
        Limits {
            max_layer_bytes: layer,
            max_total_bytes: total,
            ..Limits::default()
        }
    }

    #[test]
    fn reads_up_to_the_limit_then_trips() {
        let meter = Meter::for_layer(&limits(10, 100), 0);
        let mut r = Metered::new(&[7u8; 10][..], meter.clone());
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out.len(), 10);
        assert_eq!(meter.tripped(), None);

        let meter = Meter::for_layer(&limits(10, 100), 0);
        let mut r = Metered::new(io::repeat(0), meter.clone());
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert_eq!(meter.count(), 11);
        assert_eq!(meter.tripped(), Some((10, Bound::Layer)));
        assert!(r.read(&mut [0; 4]).is_err());
    }

    #[test]
    fn total_bound_when_tighter() {
        let meter = Meter::for_layer(&limits(10, 100), 95);
        let mut r = Metered::new(io::repeat(0), meter.clone());
        assert!(io::copy(&mut r, &mut io::sink()).is_err());
        assert_eq!(meter.count(), 6);
        assert_eq!(meter.tripped(), Some((100, Bound::Total)));
        let meter = Meter::for_layer(&limits(10, 100), 200);
        let mut r = Metered::new(io::repeat(0), meter.clone());
        assert!(r.read(&mut [0; 4]).is_err());
    }

    #[test]
    fn defaults_are_generous() {
        let l = Limits::default();
        assert_eq!(l.max_file_bytes, 512 * MIB);
        assert_eq!(l.max_layer_bytes, 2 * GIB);
        assert_eq!(l.max_total_bytes, 4 * GIB);
        assert_eq!(l.max_entries_per_layer, 1_000_000);
        assert_eq!(l.max_metadata_bytes, MIB);
    }
}
