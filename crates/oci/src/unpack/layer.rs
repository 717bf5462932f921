//! Opening a layer blob: its media type, its compression (declared by the
//! media type, decided by the magic bytes) and the decompressed tar stream.

use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use flate2::read::MultiGzDecoder;
use ruzstd::decoding::errors::{FrameDecoderError, ReadFrameHeaderError};
use ruzstd::decoding::{BlockDecodingStrategy, FrameDecoder};

use super::LayerInput;
use super::error::UnpackError;
use super::limits::{Meter, Metered};

/// How a layer's tar stream is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Compression {
    /// A plain tar stream.
    None,
    /// gzip (one or more members).
    Gzip,
    /// zstd (one or more frames; skippable frames are skipped).
    Zstd,
}

impl Compression {
    /// The compression a layer media type declares, or `None` when the media
    /// type is not a tar layer dockhand reads.
    ///
    /// Accepts the OCI layer types (`application/vnd.oci.image.layer.v1.tar`,
    /// `…tar+gzip`, `…tar+zstd`, and their `nondistributable` forms) and
    /// Docker's (`application/vnd.docker.image.rootfs.diff.tar.gzip`,
    /// `…rootfs.foreign.diff.tar.gzip`, `…rootfs.diff.tar`).
    pub fn from_media_type(media_type: &str) -> Option<Self> {
        let media_type = media_type.split(';').next().unwrap_or_default().trim();
        let (kind, compression) = [
            ("tar+gzip", Compression::Gzip),
            ("tar.gzip", Compression::Gzip),
            ("tar+zstd", Compression::Zstd),
            ("tar", Compression::None),
        ]
        .into_iter()
        .find_map(|(suffix, c)| media_type.strip_suffix(suffix).map(|k| (k, c)))?;
        match kind {
            "application/vnd.oci.image.layer.v1."
            | "application/vnd.oci.image.layer.nondistributable.v1."
            | "application/vnd.docker.image.rootfs.diff."
            | "application/vnd.docker.image.rootfs.foreign.diff." => Some(compression),
            _ => None,
        }
    }

    /// The compression the first bytes of a blob show: gzip `1f 8b`, zstd
    /// `28 b5 2f fd`, else a plain tar. `Err` names a compression that is
    /// recognised but not supported (bzip2, xz).
    pub fn from_magic(head: &[u8]) -> Result<Self, &'static str> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Ok(Compression::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Ok(Compression::Zstd)
        } else if head.starts_with(b"BZh") {
            Err("bzip2")
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
            Err("xz")
        } else {
            Ok(Compression::None)
        }
    }
}

/// Opens a layer: checks its media type, detects its compression from the
/// magic bytes (which win over the media type, as in docker) and returns the
/// decompressed stream, metered.
pub(crate) fn open(
    layer: &LayerInput,
    meter: Meter,
) -> Result<Metered<Box<dyn Read>>, UnpackError> {
    if Compression::from_media_type(&layer.media_type).is_none() {
        return Err(UnpackError::UnsupportedMediaType {
            layer: layer.digest.clone(),
            media_type: layer.media_type.clone(),
        });
    }
    let open_err = |source| UnpackError::Open {
        layer: layer.digest.clone(),
        source,
    };
    let mut file = fs_err::File::open(&layer.path).map_err(open_err)?;
    let mut head = [0u8; 6];
    let len = read_head(&mut file, &mut head).map_err(open_err)?;
    file.seek(SeekFrom::Start(0)).map_err(open_err)?;
    let compression = Compression::from_magic(&head[..len]).map_err(|format| {
        UnpackError::UnsupportedCompression {
            layer: layer.digest.clone(),
            format,
        }
    })?;
    let file = BufReader::with_capacity(64 * 1024, file);
    let stream: Box<dyn Read> = match compression {
        Compression::None => Box::new(file),
        Compression::Gzip => Box::new(MultiGzDecoder::new(file)),
        Compression::Zstd => Box::new(ZstdReader::new(file)),
    };
    Ok(Metered::new(stream, meter))
}

fn read_head(file: &mut impl Read, head: &mut [u8]) -> io::Result<usize> {
    let mut len = 0;
    while len < head.len() {
        match file.read(&mut head[len..]) {
            Ok(0) => break,
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(len)
}

/// Decodes a zstd stream of any number of frames, skipping skippable
/// frames (zstd:chunked layers carry their table of contents in them).
///
/// Decodes one block (at most 128 KiB) at a time, so the output is metered
/// as it is produced; the window is capped at ruzstd's default (128 MiB).
pub(crate) struct ZstdReader<R> {
    source: R,
    decoder: FrameDecoder,
    in_frame: bool,
}

impl<R> std::fmt::Debug for ZstdReader<R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ZstdReader")
            .field("in_frame", &self.in_frame)
            .finish_non_exhaustive()
    }
}

impl<R: BufRead> ZstdReader<R> {
    pub(crate) fn new(source: R) -> Self {
        Self {
            source,
            decoder: FrameDecoder::new(),
            in_frame: false,
        }
    }
}

impl<R: BufRead> Read for ZstdReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if self.in_frame {
                let d = &mut self.decoder;
                while d.can_collect() == 0 && !d.is_finished() {
                    d.decode_blocks(&mut self.source, BlockDecodingStrategy::UptoBlocks(1))
                        .map_err(io::Error::other)?;
                }
                let n = d.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                self.in_frame = false;
            }
            if self.source.fill_buf()?.is_empty() {
                return Ok(0);
            }
            match self.decoder.reset(&mut self.source) {
                Ok(()) => self.in_frame = true,
                Err(FrameDecoderError::ReadFrameHeaderError(ReadFrameHeaderError::SkipFrame {
                    length,
                    ..
                })) => {
                    let skipped = io::copy(
                        &mut (&mut self.source).take(u64::from(length)),
                        &mut io::sink(),
                    )?;
                    if skipped != u64::from(length) {
                        return Err(io::Error::new(
                            io::ErrorKind::UnexpectedEof,
                            "zstd skippable frame is truncated",
                        ));
                    }
                }
                Err(e) => return Err(io::Error::other(e)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruzstd::encoding::{CompressionLevel, compress_to_vec};

    #[test]
    fn media_types() {
        use Compression::*;
        for (mt, c) in [
            ("application/vnd.oci.image.layer.v1.tar", Some(None)),
            ("application/vnd.oci.image.layer.v1.tar+gzip", Some(Gzip)),
            ("application/vnd.oci.image.layer.v1.tar+zstd", Some(Zstd)),
            (
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip",
                Some(Gzip),
            ),
            (
                "application/vnd.docker.image.rootfs.diff.tar.gzip",
                Some(Gzip),
            ),
            (
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                Some(Gzip),
            ),
            ("application/vnd.docker.image.rootfs.diff.tar", Some(None)),
            (
                "application/vnd.oci.image.layer.v1.tar+encrypted",
                Option::None,
            ),
            ("application/vnd.oci.image.config.v1+json", Option::None),
            ("application/octet-stream", Option::None),
            ("", Option::None),
        ] {
            assert_eq!(Compression::from_media_type(mt), c, "{mt}");
        }
    }

    #[test]
    fn magic_bytes() {
        assert_eq!(
            Compression::from_magic(&[0x1f, 0x8b, 8]),
            Ok(Compression::Gzip)
        );
        assert_eq!(
            Compression::from_magic(&[0x28, 0xb5, 0x2f, 0xfd]),
            Ok(Compression::Zstd)
        );
        assert_eq!(Compression::from_magic(b"ui/index"), Ok(Compression::None));
        assert_eq!(Compression::from_magic(b""), Ok(Compression::None));
        assert_eq!(Compression::from_magic(b"BZh9"), Err("bzip2"));
        assert_eq!(
            Compression::from_magic(&[0xfd, b'7', b'z', b'X', b'Z', 0]),
            Err("xz")
        );
    }

    fn zstd_decode(bytes: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        ZstdReader::new(bytes).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn zstd_multi_frame_and_skippable() {
        let a = compress_to_vec(&b"hello "[..], CompressionLevel::Fastest);
        let b = compress_to_vec(&vec![b'x'; 300_000][..], CompressionLevel::Fastest);
        let mut stream = a.clone();
        // A skippable frame: magic 0x184D2A50, little-endian length, payload.
        stream.extend_from_slice(&0x184D_2A50u32.to_le_bytes());
        stream.extend_from_slice(&3u32.to_le_bytes());
        stream.extend_from_slice(b"toc");
        stream.extend_from_slice(&b);
        let out = zstd_decode(&stream).unwrap();
        assert_eq!(&out[..6], b"hello ");
        assert_eq!(out.len(), 6 + 300_000);
        assert!(zstd_decode(&[]).unwrap().is_empty());
    }

    #[test]
    fn zstd_garbage_is_an_error() {
        assert!(zstd_decode(b"not zstd at all").is_err());
        let mut truncated = compress_to_vec(&vec![1u8; 100_000][..], CompressionLevel::Fastest);
        truncated.truncate(truncated.len() / 2);
        assert!(zstd_decode(&truncated).is_err());
        let mut skip = 0x184D_2A50u32.to_le_bytes().to_vec();
        skip.extend_from_slice(&10u32.to_le_bytes());
        skip.extend_from_slice(b"abc");
        assert!(zstd_decode(&skip).is_err());
    }
}
