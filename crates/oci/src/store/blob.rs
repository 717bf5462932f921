//! Blobs: reading them, and writing them so that nothing partial or wrong
//! ever appears under a blob's final name.

use std::io::{self, BufWriter, Read, Write};
use std::path::PathBuf;

use fs_err::{self as fs, File};

use super::error::{IoContext, StoreError};
use super::layout::{Store, TempFile, sync_dir};
use crate::{Digest, Hasher};

/// The buffer size for streaming blobs.
const CHUNK: usize = 64 * 1024;

impl Store {
    /// Whether the blob is in the store.
    pub fn has_blob(&self, digest: &Digest) -> bool {
        self.blob_file(digest).is_file()
    }

    /// Where the blob is (or would be): `blobs/<alg>/<hex>`.
    pub fn blob_path(&self, digest: &Digest) -> PathBuf {
        self.blob_file(digest)
    }

    /// The blob's size in bytes.
    pub fn blob_size(&self, digest: &Digest) -> Result<u64, StoreError> {
        let path = self.blob_file(digest);
        match fs::metadata(&path) {
            Ok(m) if m.is_file() => Ok(m.len()),
            Ok(_) => Err(StoreError::BlobMissing {
                digest: digest.clone(),
                path,
            }),
            Err(e) => Err(self.missing_or_io(digest, path, e)),
        }
    }

    /// Opens the blob for reading.
    pub fn open_blob(&self, digest: &Digest) -> Result<File, StoreError> {
        let path = self.blob_file(digest);
        File::open(&path).map_err(|e| self.missing_or_io(digest, path, e))
    }

    /// Reads the whole blob, refusing one larger than `max_bytes` before
    /// reading it.
    pub fn read_blob(&self, digest: &Digest, max_bytes: u64) -> Result<Vec<u8>, StoreError> {
        let path = self.blob_file(digest);
        let file = self.open_blob(digest)?;
        let size = file.metadata().ctx("inspect", &path)?.len();
        if size > max_bytes {
            return Err(StoreError::BlobTooLarge {
                digest: digest.clone(),
                size,
                max: max_bytes,
            });
        }
        let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        file.take(max_bytes.saturating_add(1))
            .read_to_end(&mut bytes)
            .ctx("read", &path)?;
        let read = bytes.len() as u64;
        if read > max_bytes {
            return Err(StoreError::BlobTooLarge {
                digest: digest.clone(),
                size: read,
                max: max_bytes,
            });
        }
        Ok(bytes)
    }

    /// Re-hashes the blob and checks it against its name.
    pub fn verify_blob(&self, digest: &Digest) -> Result<(), StoreError> {
        let path = self.blob_file(digest);
        let mut file = self.open_blob(digest)?;
        let mut hasher = Hasher::new(digest.algorithm());
        each_chunk(
            &mut file,
            |e| StoreError::io("read", &path, e),
            |chunk| {
                hasher.update(chunk);
                Ok(())
            },
        )?;
        let actual = hasher.finish();
        if &actual != digest {
            return Err(StoreError::CorruptBlob { path, actual });
        }
        Ok(())
    }

    /// Stores `bytes` as a sha256 blob and returns its digest; a no-op when
    /// the blob is already there.
    pub fn put_bytes(&self, bytes: &[u8]) -> Result<Digest, StoreError> {
        let digest = Digest::sha256_of(bytes);
        if !self.has_blob(&digest) {
            let mut writer = self.begin_blob(&digest, Some(bytes.len() as u64))?;
            writer.write(bytes)?;
            writer.commit()?;
        }
        Ok(digest)
    }

    /// Starts writing the blob `expected`, which should be `expected_size`
    /// bytes long when that is known. The bytes go to a locked temp file in
    /// `ingest/` and reach `blobs/` only through [`BlobWriter::commit`].
    ///
    /// When the blob is already in the store, nothing is written to disk, but
    /// the stream is still hashed and checked at commit. Without
    /// `expected_size` nothing bounds the stream: pass the descriptor's size
    /// whenever there is one.
    pub fn begin_blob(
        &self,
        expected: &Digest,
        expected_size: Option<u64>,
    ) -> Result<BlobWriter, StoreError> {
        let temp = if self.has_blob(expected) {
            None
        } else {
            // Shared lock: `gc` (exclusive) never sees this temp file between
            // its creation and its lock, so it never takes it for stale.
            let _lock = self.lock_shared()?;
            let temp = TempFile::create(self.temp_path(expected.hex()))?;
            Some(BufWriter::with_capacity(CHUNK, temp))
        };
        Ok(BlobWriter {
            store: self.clone(),
            expected: expected.clone(),
            expected_size,
            hasher: Hasher::new(expected.algorithm()),
            temp,
            overflowed: false,
        })
    }

    /// Writes everything `reader` yields as the blob `expected` (see
    /// [`Store::begin_blob`]) and returns its size.
    pub fn write_blob(
        &self,
        expected: &Digest,
        mut reader: impl Read,
        expected_size: Option<u64>,
    ) -> Result<u64, StoreError> {
        let mut writer = self.begin_blob(expected, expected_size)?;
        each_chunk(
            &mut reader,
            |source| StoreError::Source {
                digest: expected.clone(),
                source,
            },
            |chunk| writer.write(chunk),
        )?;
        writer.commit()
    }

    fn missing_or_io(&self, digest: &Digest, path: PathBuf, e: io::Error) -> StoreError {
        if e.kind() == io::ErrorKind::NotFound {
            StoreError::BlobMissing {
                digest: digest.clone(),
                path,
            }
        } else {
            StoreError::io("read", path, e)
        }
    }
}

/// Hands what `reader` yields to `chunk`, a buffer at a time, until its end
/// (a read interrupted by a signal is tried again); a read error is
/// `read_error`'s.
fn each_chunk<E>(
    reader: &mut impl Read,
    read_error: impl FnOnce(io::Error) -> E,
    mut chunk: impl FnMut(&[u8]) -> Result<(), E>,
) -> Result<(), E> {
    let mut buf = vec![0; CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(read_error(e)),
        };
        chunk(&buf[..n])?;
    }
}

/// A blob being written; see [`Store::begin_blob`]. Dropping it before
/// [`BlobWriter::commit`] removes its temp file; a process killed while
/// writing leaves only a temp file in `ingest/`, which [`Store::gc`] removes.
#[derive(Debug)]
pub struct BlobWriter {
    store: Store,
    expected: Digest,
    expected_size: Option<u64>,
    hasher: Hasher,
    /// `None` when the blob was already in the store.
    temp: Option<BufWriter<TempFile>>,
    overflowed: bool,
}

impl BlobWriter {
    /// The digest this blob must have.
    pub fn expected(&self) -> &Digest {
        &self.expected
    }

    /// Bytes written so far.
    pub fn written(&self) -> u64 {
        self.hasher.len()
    }

    /// Hashes and writes `bytes`. Fails, writing nothing, as soon as the
    /// total would exceed the expected size; the writer then cannot commit.
    pub fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        if let Some(expected) = self.expected_size
            && (self.overflowed || self.hasher.len() + bytes.len() as u64 > expected)
        {
            self.overflowed = true;
            return Err(StoreError::BlobTooLong {
                digest: self.expected.clone(),
                expected,
            });
        }
        if let Some(temp) = &mut self.temp
            && let Err(e) = temp.write_all(bytes)
        {
            return Err(StoreError::io("write", temp.get_ref().path.clone(), e));
        }
        self.hasher.update(bytes);
        Ok(())
    }

    /// Checks size and digest; on success makes the blob durable under its
    /// final name (fsync, atomic rename, fsync of the directory) and returns
    /// its size. On failure the temp file is removed and nothing is stored.
    pub fn commit(self) -> Result<u64, StoreError> {
        let BlobWriter {
            store,
            expected,
            expected_size,
            hasher,
            temp,
            overflowed,
        } = self;
        let actual_size = hasher.len();
        if let Some(expected_size) = expected_size {
            if overflowed {
                return Err(StoreError::BlobTooLong {
                    digest: expected,
                    expected: expected_size,
                });
            }
            if actual_size != expected_size {
                return Err(StoreError::SizeMismatch {
                    digest: expected,
                    expected: expected_size,
                    actual: actual_size,
                });
            }
        }
        let actual = hasher.finish();
        if actual != expected {
            return Err(StoreError::DigestMismatch { expected, actual });
        }
        let dest = store.blob_file(&expected);
        let Some(temp) = temp else {
            return if store.has_blob(&expected) {
                Ok(actual_size)
            } else {
                Err(StoreError::BlobVanished { digest: expected })
            };
        };
        let temp = temp.into_inner().map_err(|e| {
            let (error, writer) = e.into_parts();
            StoreError::io("write", writer.get_ref().path.clone(), error)
        })?;
        if let Some(dir) = dest.parent()
            && !dir.is_dir()
        {
            fs::create_dir_all(dir).ctx("create", dir)?;
            if let Some(blobs) = dir.parent() {
                sync_dir(blobs)?;
            }
        }
        temp.persist(&dest)?;
        Ok(actual_size)
    }
}

impl Write for TempFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::super::layout::testutil::temp_store;
    use super::*;

    fn ingest_count(store: &Store) -> usize {
        fs::read_dir(store.ingest_dir()).unwrap().count()
    }

    #[test]
    fn put_read_open_verify() {
        let (_tmp, store) = temp_store("blob");
        let d = store.put_bytes(b"hello").unwrap();
        assert_eq!(d, Digest::sha256_of(b"hello"));
        assert!(store.has_blob(&d));
        assert_eq!(store.blob_size(&d).unwrap(), 5);
        assert_eq!(store.read_blob(&d, 5).unwrap(), b"hello");
        assert!(matches!(
            store.read_blob(&d, 4),
            Err(StoreError::BlobTooLarge {
                size: 5,
                max: 4,
                ..
            })
        ));
        let mut s = String::new();
        store.open_blob(&d).unwrap().read_to_string(&mut s).unwrap();
        assert_eq!(s, "hello");
        store.verify_blob(&d).unwrap();
        assert_eq!(store.put_bytes(b"hello").unwrap(), d);
        assert_eq!(ingest_count(&store), 0);

        fs::write(store.blob_path(&d), b"jello").unwrap();
        assert!(matches!(
            store.verify_blob(&d),
            Err(StoreError::CorruptBlob { .. })
        ));
        let missing = Digest::sha256_of(b"missing");
        assert!(!store.has_blob(&missing));
        assert!(matches!(
            store.blob_size(&missing),
            Err(StoreError::BlobMissing { .. })
        ));
        let err = store.read_blob(&missing, 10).unwrap_err();
        assert!(err.to_string().contains(&missing.to_string()), "{err}");
    }

    #[test]
    fn sha512_blobs_get_their_own_folder() {
        let (tmp, store) = temp_store("sha512");
        let mut h = Hasher::new(crate::Algorithm::Sha512);
        h.update(b"x");
        let d = h.finish();
        assert_eq!(store.write_blob(&d, &b"x"[..], None).unwrap(), 1);
        assert!(
            store
                .blob_path(&d)
                .starts_with(tmp.path().join("blobs/sha512"))
        );
        assert!(store.has_blob(&d));
    }

    #[test]
    fn existing_blob_still_verifies_the_stream() {
        let (_tmp, store) = temp_store("existing");
        let d = store.put_bytes(b"abc").unwrap();
        let mut w = store.begin_blob(&d, Some(3)).unwrap();
        assert_eq!(ingest_count(&store), 0, "no temp file for a present blob");
        w.write(b"abd").unwrap();
        assert!(matches!(w.commit(), Err(StoreError::DigestMismatch { .. })));
        assert_eq!(store.read_blob(&d, 3).unwrap(), b"abc");
        assert_eq!(store.write_blob(&d, &b"abc"[..], Some(3)).unwrap(), 3);

        let w = store.begin_blob(&d, None).unwrap();
        fs::remove_file(store.blob_path(&d)).unwrap();
        let mut w = w;
        w.write(b"abc").unwrap();
        assert!(matches!(w.commit(), Err(StoreError::BlobVanished { .. })));
    }

    #[test]
    fn short_stream_and_failing_reader() {
        let (_tmp, store) = temp_store("short");
        let d = Digest::sha256_of(b"abcdef");
        let err = store.write_blob(&d, &b"abc"[..], Some(6)).unwrap_err();
        assert!(matches!(
            err,
            StoreError::SizeMismatch {
                expected: 6,
                actual: 3,
                ..
            }
        ));
        struct Broken;
        impl Read for Broken {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("connection reset"))
            }
        }
        assert!(matches!(
            store.write_blob(&d, Broken, None),
            Err(StoreError::Source { .. })
        ));
        assert!(!store.has_blob(&d));
        assert_eq!(ingest_count(&store), 0);
    }
}
