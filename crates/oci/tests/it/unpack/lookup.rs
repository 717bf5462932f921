//! `find_file_top_down` and `lookup_top_down`.

use super::*;

// ---------------------------------------------------------------- find_file_top_down

/// A layer whose blob does not exist: reading it is an error, so a lookup
/// that succeeds proves it never touched it.
fn unreadable(f: &mut Fixture) -> LayerInput {
    let mut l = f.blob(b"", TAR_GZIP);
    fs_err::remove_file(&l.path).expect("remove blob");
    l.path = f.blobs.join("missing");
    f.count -= 1;
    l
}

#[test]
fn lookup_reads_only_the_top_layer_when_it_has_the_file() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let top = f.blob(
        &gzip(&Layer::new().file("./metadata.json", b"{\"v\":2}").tar()),
        TAR_GZIP,
    );
    let layers = [bottom.clone(), top];
    let found = find_file_top_down(&layers, "metadata.json", 1 << 20).unwrap();
    assert_eq!(found, Some((b"{\"v\":2}".to_vec(), 1)));
    let lookup = lookup_top_down(&layers, "/metadata.json", 1 << 20, &Limits::default()).unwrap();
    assert_eq!(lookup.layers_read, [1]);
    // Reading the bottom layer really would fail.
    assert!(matches!(
        find_file_top_down(&[bottom], "metadata.json", 1 << 20),
        Err(UnpackError::Open { .. })
    ));
}

#[test]
fn lookup_returns_none_when_an_upper_layer_whiteouts_the_file() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let with = f.plain(Layer::new().file("metadata.json", b"{}"));
    let whiteout = f.plain(Layer::new().file(".wh.metadata.json", b""));
    let layers = [bottom, with, whiteout];
    assert_eq!(
        find_file_top_down(&layers, "metadata.json", 1024).unwrap(),
        None
    );
    let lookup = lookup_top_down(&layers, "metadata.json", 1024, &Limits::default()).unwrap();
    assert_eq!(lookup.outcome, Outcome::Deleted { layer: 2 });
    assert_eq!(lookup.layers_read, [2]);
}

#[test]
fn lookup_respects_opaque_and_deleted_parents() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let opaque = f.plain(Layer::new().dir("ui").file("ui/.wh..wh..opq", b""));
    let lookup = lookup_top_down(
        &[bottom.clone(), opaque],
        "ui/icon.svg",
        1024,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(lookup.outcome, Outcome::Deleted { layer: 1 });

    let parent_gone = f.plain(Layer::new().file(".wh.ui", b""));
    assert_eq!(
        find_file_top_down(&[bottom.clone(), parent_gone], "ui/icon.svg", 1024).unwrap(),
        None
    );
    let parent_is_file = f.plain(Layer::new().file("ui", b"x"));
    assert_eq!(
        find_file_top_down(&[bottom, parent_is_file], "ui/icon.svg", 1024).unwrap(),
        None
    );
}

#[test]
fn lookup_goes_down_until_a_layer_decides() {
    let (_f, [l0, l1, l2, l3]) = Fixture::with([
        Layer::new().file("metadata.json", b"zero"),
        Layer::new().file("metadata.json", b"one").file("ui/x", b""),
        Layer::new().file("ui/y", b""),
        Layer::new().file("other", b""),
    ]);
    let lookup = lookup_top_down(
        &[l0.clone(), l1, l2, l3],
        "metadata.json",
        1024,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(
        lookup.outcome,
        Outcome::Found {
            bytes: b"one".to_vec(),
            layer: 1
        }
    );
    assert_eq!(lookup.layers_read, [3, 2, 1]);

    let absent = lookup_top_down(&[l0], "nope.json", 1024, &Limits::default()).unwrap();
    assert_eq!(absent.outcome, Outcome::Absent);
    assert_eq!(absent.layers_read, [0]);
}

#[test]
fn lookup_finds_a_file_its_own_layer_also_whiteouts() {
    let mut f = Fixture::new();
    let bottom = unreadable(&mut f);
    let top = f.plain(
        Layer::new()
            .file(".wh..wh..opq", b"")
            .file("metadata.json", b"{}"),
    );
    assert_eq!(
        find_file_top_down(&[bottom, top], "metadata.json", 1024).unwrap(),
        Some((b"{}".to_vec(), 1))
    );
}

#[test]
fn lookup_refuses_big_files_dirs_and_hostile_layers() {
    let (mut f, [big]) = Fixture::with([Layer::new().file("metadata.json", &[b' '; 2048])]);
    assert_refused!(
        find_file_top_down(&[big], "metadata.json", 1024),
        UnpackError::FileTooLarge {
            size: 2048,
            limit: 1024,
            ..
        }
    );

    let dir = f.plain(Layer::new().dir("metadata.json"));
    assert_refused!(
        find_file_top_down(&[dir], "metadata.json", 1024),
        UnpackError::NotRegularFile {
            kind: "directory",
            ..
        }
    );

    let hostile = f.plain(
        Layer::new()
            .raw_file(b"../evil", b"")
            .file("metadata.json", b"{}"),
    );
    assert_refused!(
        find_file_top_down(&[hostile], "metadata.json", 1024),
        UnpackError::UnsafePath { .. }
    );

    assert_refused!(
        find_file_top_down(&[], "../metadata.json", 1024),
        UnpackError::Selection(_)
    );
    f.assert_nothing_outside();
}

#[test]
fn lookup_reads_zstd_layers() {
    let mut f = Fixture::new();
    let l = f.blob(&zstd(&simple_tar()), TAR_ZSTD);
    let (bytes, layer) = find_file_top_down(&[l], "metadata.json", 1024)
        .unwrap()
        .unwrap();
    assert_eq!(bytes, b"{\"icon\":\"x.svg\"}");
    assert_eq!(layer, 0);
}

#[test]
fn report_counts() {
    let mut f = Fixture::new();
    let l = f.blob(
        &gzip(
            &Layer::new()
                .dir("ui")
                .file("ui/a", b"12345")
                .symlink("ui/b", "a")
                .special("ui/c", EntryType::Fifo)
                .file_mode("ui/d", b"1", 0o4755)
                .tar(),
        ),
        TAR_GZIP,
    );
    let report = f.unpack(&[l], &ui_and_metadata()).unwrap();
    assert_eq!(
        report,
        UnpackReport {
            files: 2,
            dirs: 1,
            symlinks: 1,
            bytes: 6,
            skipped_special: 1,
            stripped_setid: 1,
            layers_read: 1,
        }
    );
    let mut s = String::new();
    fs_err::File::open(f.staging.join("ui/b"))
        .unwrap()
        .read_to_string(&mut s)
        .unwrap();
    assert_eq!(s, "12345");
}
