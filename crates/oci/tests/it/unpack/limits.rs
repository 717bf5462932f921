//! Compression and limits.

use super::*;

// ---------------------------------------------------------------- compression

#[test]
fn gzip_zstd_and_plain_layers() {
    for (bytes, media_type) in [
        (gzip(&simple_tar()), TAR_GZIP),
        (gzip(&simple_tar()), DOCKER_GZIP),
        (zstd(&simple_tar()), TAR_ZSTD),
        (simple_tar(), TAR),
    ] {
        let mut f = Fixture::new();
        let l = f.blob(&bytes, media_type);
        f.unpack(&[l], &ui_and_metadata()).unwrap();
        assert_eq!(
            f.tree(),
            ["metadata.json", "ui/", "ui/index.html"],
            "{media_type}"
        );
        assert_eq!(f.read("ui/index.html"), b"<html>");
    }
}

#[test]
fn magic_bytes_win_over_the_media_type() {
    for (bytes, media_type) in [
        (gzip(&simple_tar()), TAR),
        (simple_tar(), TAR_GZIP),
        (zstd(&simple_tar()), DOCKER_GZIP),
        (gzip(&simple_tar()), TAR_ZSTD),
    ] {
        let mut f = Fixture::new();
        let l = f.blob(&bytes, media_type);
        f.unpack(&[l], &ui_and_metadata()).unwrap();
        assert_eq!(f.read("metadata.json"), b"{\"icon\":\"x.svg\"}");
    }
}

#[test]
fn unknown_media_type_is_refused() {
    let mut f = Fixture::new();
    let l = f.blob(
        &simple_tar(),
        "application/vnd.oci.image.layer.v1.tar+encrypted",
    );
    assert_refused!(
        f.unpack(&[l], &ui_and_metadata()),
        UnpackError::UnsupportedMediaType { .. }
    );
}

#[test]
fn corrupt_layer_is_an_error_naming_the_layer() {
    let mut f = Fixture::new();
    let mut bytes = gzip(&simple_tar());
    let n = bytes.len();
    bytes.truncate(n / 2);
    let l = f.blob(&bytes, TAR_GZIP);
    assert_refused!(
        f.unpack(std::slice::from_ref(&l), &ui_and_metadata()),
        UnpackError::Read { layer, .. } if *layer == l.digest
    );
}

// ---------------------------------------------------------------- limits

/// A gzip stream of many members: the tar header of one `size`-byte file
/// `name`, then `chunks` members of 1 MiB of zeros each. It stays small on
/// disk and expands to `chunks` MiB.
fn gzip_bomb(name: &str, size: u64, chunks: usize) -> Vec<u8> {
    let mut h = header(name.as_bytes(), EntryType::Regular, size, 0o644);
    h.set_cksum();
    let mut out = gzip(h.as_bytes());
    let zeros = gzip(&vec![0u8; 1 << 20]);
    for _ in 0..chunks {
        out.extend_from_slice(&zeros);
    }
    out
}

const MIB: u64 = 1 << 20;

#[test]
fn gzip_bomb_stops_at_the_layer_limit() {
    let mut f = Fixture::new();
    let bomb = gzip_bomb("ui/bomb.bin", 100 * MIB, 100);
    assert!(bomb.len() < 1 << 20, "the bomb is {} bytes", bomb.len());
    let l = f.blob(&bomb, TAR_GZIP);
    let limits = Limits {
        max_layer_bytes: 10 * MIB,
        max_file_bytes: 512 * MIB,
        ..Limits::default()
    };
    assert_refused!(
        f.unpack_with(std::slice::from_ref(&l), &ui_and_metadata(), &limits),
        UnpackError::LayerTooLarge { layer, limit, at: dockhand_oci::unpack::At::Entry(e) }
            if *layer == l.digest && *limit == 10 * MIB && e == "ui/bomb.bin"
    );
    let written = fs_err::metadata(f.staging.join("ui/bomb.bin")).map_or(0, |m| m.len());
    assert!(written <= 10 * MIB, "{written} bytes written");
}

#[test]
fn gzip_bomb_in_a_skipped_entry_is_stopped_too() {
    let mut f = Fixture::new();
    let l = f.blob(&gzip_bomb("usr/lib/huge", 100 * MIB, 100), DOCKER_GZIP);
    let limits = Limits {
        max_layer_bytes: 10 * MIB,
        ..Limits::default()
    };
    assert_refused!(
        f.unpack_with(&[l], &ui_and_metadata(), &limits),
        UnpackError::LayerTooLarge { .. }
    );
    assert!(f.tree().is_empty());
}

#[test]
fn the_total_limit_spans_layers() {
    let mut f = Fixture::new();
    let data = vec![7u8; 6 * MIB as usize];
    let l1 = f.plain(Layer::new().file("ui/one", &data));
    let l2 = f.plain(Layer::new().file("other/two", &data));
    let limits = Limits {
        max_layer_bytes: 8 * MIB,
        max_total_bytes: 10 * MIB,
        ..Limits::default()
    };
    assert_refused!(
        f.unpack_with(&[l1, l2.clone()], &ui_and_metadata(), &limits),
        UnpackError::TotalTooLarge { layer, limit, .. }
            if *layer == l2.digest && *limit == 10 * MIB
    );
}

#[test]
fn the_total_limit_applies_to_files_written() {
    let mut f = Fixture::new();
    let data = vec![7u8; 6 * MIB as usize];
    let l1 = f.plain(Layer::new().file("ui/one", &data));
    let l2 = f.plain(
        Layer::new()
            .file("ui/two", &data)
            .hardlink("ui/three", "ui/one"),
    );
    let limits = Limits {
        max_total_bytes: 16 * MIB,
        ..Limits::default()
    };
    assert_refused!(
        f.unpack_with(&[l1, l2.clone()], &ui_and_metadata(), &limits),
        UnpackError::FilesTooLarge { layer, entry, total, limit }
            if *layer == l2.digest && entry == "ui/three" && *total == 18 * MIB && *limit == 16 * MIB
    );
}

#[test]
fn a_file_over_the_single_file_cap_is_refused_before_writing() {
    let (f, [l]) = Fixture::with([Layer::new()
        .file("ui/small", b"ok")
        .file("ui/big", &vec![1u8; 2 * MIB as usize])]);
    let limits = Limits {
        max_file_bytes: MIB,
        ..Limits::default()
    };
    assert_refused!(
        f.unpack_with(std::slice::from_ref(&l), &ui_and_metadata(), &limits),
        UnpackError::FileTooLarge { entry, size, limit, what, layer }
            if entry == "ui/big" && *size == 2 * MIB && *limit == MIB
                && *what == "a single file" && *layer == l.digest
    );
    assert_eq!(f.tree(), ["ui/", "ui/small"]);
}

#[test]
fn metadata_json_has_its_own_cap() {
    let (f, [l]) = Fixture::with([Layer::new().file("metadata.json", &vec![b' '; 4096])]);
    let limits = Limits {
        max_metadata_bytes: 1024,
        ..Limits::default()
    };
    assert_refused!(
        f.unpack_with(&[l], &ui_and_metadata(), &limits),
        UnpackError::FileTooLarge { what, limit: 1024, .. } if *what == "metadata.json"
    );
}

#[test]
fn too_many_entries_is_refused() {
    let mut f = Fixture::new();
    let mut layer = Layer::new();
    for i in 0..11 {
        layer = layer.file(&format!("other/{i}"), b"");
    }
    let l = f.plain(layer);
    let limits = Limits {
        max_entries_per_layer: 10,
        ..Limits::default()
    };
    assert_refused!(
        f.unpack_with(&[l], &ui_and_metadata(), &limits),
        UnpackError::TooManyEntries { entry, limit: 10, .. } if entry == "other/10"
    );
}
