//! The content store: blob writes that never leave partial or wrong content
//! under a final name, concurrent writers, names, garbage collection, and
//! that skopeo reads what the store writes.

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use dockhand_oci::Digest;
use dockhand_oci::store::{
    DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, DOCKHAND_REF, Descriptor, GcReport, OCI_INDEX,
    OCI_MANIFEST, REF_NAME, Store, StoreError, oci_ref_name,
};
use dockhand_testkit::command::output_ok;
use serde_json::json;

/// A new empty directory under the system temp dir, removed when dropped;
/// `tag` names the test in its name.
fn temp_dir(tag: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("dockhand-it-store-{tag}-"))
        .tempdir()
        .expect("test fixture")
}

/// A store opened in a new [`temp_dir`], with the directory (keep it alive
/// as long as the store).
fn temp_store(tag: &str) -> (tempfile::TempDir, Store) {
    let tmp = temp_dir(tag);
    let store = Store::open(tmp.path()).expect("test fixture");
    (tmp, store)
}

fn ingest_files(dir: &Path) -> Vec<PathBuf> {
    fs_err::read_dir(dir.join("ingest"))
        .expect("test fixture")
        .map(|e| e.expect("test fixture").path())
        .collect()
}

fn put_json(store: &Store, v: &serde_json::Value) -> Descriptor {
    let bytes = serde_json::to_vec(v).expect("test fixture");
    let digest = store.put_bytes(&bytes).expect("test fixture");
    let media_type = v["mediaType"].as_str().unwrap_or(OCI_MANIFEST);
    Descriptor::new(media_type, digest, bytes.len() as u64)
}

fn desc_json(d: &Descriptor) -> serde_json::Value {
    serde_json::to_value(d).expect("test fixture")
}

#[test]
fn round_trip_survives_reopen() {
    let (tmp, store) = temp_store("roundtrip");
    let small = store.put_bytes(b"small").unwrap();
    let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
    let big_digest = Digest::sha256_of(&big);
    let n = store
        .write_blob(&big_digest, &big[..], Some(big.len() as u64))
        .unwrap();
    assert_eq!(n, big.len() as u64);

    let store = Store::open(tmp.path()).unwrap();
    assert_eq!(store.read_blob(&small, 100).unwrap(), b"small");
    let mut back = Vec::new();
    store
        .open_blob(&big_digest)
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(back, big);
    assert_eq!(
        store.blob_path(&big_digest),
        tmp.path().join("blobs/sha256").join(big_digest.hex())
    );
    store.verify_blob(&big_digest).unwrap();
    assert!(ingest_files(tmp.path()).is_empty());
}

#[test]
fn wrong_digest_is_rejected_and_nothing_left() {
    let (tmp, store) = temp_store("wrongdigest");
    let expected = Digest::sha256_of(b"what the registry promised");
    let err = store
        .write_blob(&expected, &b"what the registry sent....."[..], None)
        .unwrap_err();
    let actual = Digest::sha256_of(b"what the registry sent.....");
    assert!(matches!(err, StoreError::DigestMismatch { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains(&expected.to_string()) && msg.contains(&actual.to_string()),
        "{msg}"
    );
    assert!(!store.has_blob(&expected) && !store.has_blob(&actual));
    assert!(!store.blob_path(&expected).exists());
    assert!(ingest_files(tmp.path()).is_empty());
}

#[test]
fn oversize_stream_is_rejected_early() {
    let (tmp, store) = temp_store("oversize");
    let digest = Digest::sha256_of(b"0123456789");
    let mut w = store.begin_blob(&digest, Some(10)).unwrap();
    w.write(b"01234567").unwrap();
    let err = w.write(b"89ab").unwrap_err();
    assert!(
        matches!(err, StoreError::BlobTooLong { expected: 10, .. }),
        "{err}"
    );
    assert_eq!(w.written(), 8, "the excess was not taken");
    assert!(w.write(b"").is_err(), "the writer stays failed");
    assert!(matches!(w.commit(), Err(StoreError::BlobTooLong { .. })));
    assert!(!store.has_blob(&digest));
    assert!(ingest_files(tmp.path()).is_empty());

    // An endless source is cut off at the announced size, not read to the end.
    let err = store
        .write_blob(&digest, io::repeat(b'x'), Some(10))
        .unwrap_err();
    assert!(matches!(err, StoreError::BlobTooLong { .. }), "{err}");
    assert!(ingest_files(tmp.path()).is_empty());
}

#[test]
fn dropped_writer_and_killed_writer_leave_no_blob() {
    let (tmp, store) = temp_store("dropped");
    let content = vec![7u8; 200_000];
    let digest = Digest::sha256_of(&content);

    let mut w = store
        .begin_blob(&digest, Some(content.len() as u64))
        .unwrap();
    w.write(&content[..100_000]).unwrap();
    assert_eq!(ingest_files(tmp.path()).len(), 1, "bytes go to a temp file");
    drop(w);
    assert!(ingest_files(tmp.path()).is_empty());
    assert!(!store.blob_path(&digest).exists());

    // A killed process leaves a half-written temp file nobody holds locked.
    let stray = tmp
        .path()
        .join("ingest")
        .join(format!("{}.999.0.0.tmp", digest.hex()));
    fs_err::write(&stray, &content[..100_000]).unwrap();
    let store = Store::open(tmp.path()).unwrap();
    assert!(!store.has_blob(&digest));
    assert!(!store.blob_path(&digest).exists());

    // gc removes the stray file but not the temp file of a live writer.
    let mut live = store
        .begin_blob(&digest, Some(content.len() as u64))
        .unwrap();
    live.write(&content[..50_000]).unwrap();
    let report = store.gc(&[]).unwrap();
    assert_eq!(report.temp_files_removed, 1, "{report:?}");
    assert!(!stray.exists());
    assert_eq!(ingest_files(tmp.path()).len(), 1);
    live.write(&content[50_000..]).unwrap();
    assert_eq!(live.commit().unwrap(), content.len() as u64);
    store.verify_blob(&digest).unwrap();
    assert!(ingest_files(tmp.path()).is_empty());
}

#[test]
fn concurrent_writers_of_one_blob_all_succeed() {
    let (tmp, store) = temp_store("concurrent");
    let content: Arc<Vec<u8>> = Arc::new((0..1_000_000u32).map(|i| (i * 7) as u8).collect());
    let digest = Digest::sha256_of(&content);
    let threads: Vec<_> = (0..8)
        .map(|i| {
            // Each thread opens its own handle, as another process would.
            let store = Store::open(tmp.path()).unwrap();
            let (content, digest) = (Arc::clone(&content), digest.clone());
            std::thread::spawn(move || {
                let mut w = store
                    .begin_blob(&digest, Some(content.len() as u64))
                    .unwrap();
                for chunk in content.chunks(10_000 + i * 1000) {
                    w.write(chunk).unwrap();
                }
                let size = w.commit().unwrap();
                store.tag(
                    &format!("example.com/t/n{i}:1"),
                    &Descriptor::new("application/octet-stream", digest, size),
                )
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap().unwrap();
    }
    store.verify_blob(&digest).unwrap();
    assert_eq!(store.names().unwrap().len(), 8, "no index update was lost");
    assert!(ingest_files(tmp.path()).is_empty());
}

/// A tiny image: `(manifest, config, layer)` descriptors, with platform.
fn small_image(store: &Store, seed: &str) -> (Descriptor, Descriptor, Descriptor) {
    let layer_bytes = format!("layer {seed}").into_bytes();
    let layer = Descriptor::new(
        "application/vnd.oci.image.layer.v1.tar",
        store.put_bytes(&layer_bytes).expect("test fixture"),
        layer_bytes.len() as u64,
    );
    let config = put_json(
        store,
        &json!({"architecture": "amd64", "os": "linux", "seed": seed}),
    );
    let config = Descriptor::new(
        "application/vnd.oci.image.config.v1+json",
        config.digest,
        config.size,
    );
    let manifest = put_json(
        store,
        &json!({"schemaVersion": 2, "mediaType": OCI_MANIFEST,
            "config": desc_json(&config), "layers": [desc_json(&layer)]}),
    );
    (manifest, config, layer)
}

#[test]
fn gc_keeps_what_is_reachable_and_removes_the_rest() {
    let (tmp, store) = temp_store("gc");
    let (m1, c1, l1) = small_image(&store, "amd64");
    let (m2, c2, l2) = small_image(&store, "arm64");
    let index = put_json(
        &store,
        &json!({"schemaVersion": 2, "mediaType": OCI_INDEX,
            "manifests": [desc_json(&m1), desc_json(&m2)]}),
    );
    // A Docker-format image kept only by an extra root.
    let dl = store.put_bytes(b"docker layer").unwrap();
    let dm = put_json(
        &store,
        &json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST,
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": c1.digest.to_string(), "size": c1.size},
            "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "digest": dl.to_string(), "size": 12}]}),
    );
    let dlist = put_json(
        &store,
        &json!({"schemaVersion": 2, "mediaType": DOCKER_MANIFEST_LIST, "manifests": [desc_json(&dm)]}),
    );
    // Unreachable: an old image and a loose blob.
    let (old_m, old_c, old_l) = small_image(&store, "old");
    let loose = store.put_bytes(b"loose").unwrap();
    let foreign = tmp.path().join("blobs/sha256/not-a-digest");
    fs_err::write(&foreign, "someone else's file").unwrap();

    store.tag("127.0.0.1:5000/acme/ext:1.0.0", &index).unwrap();
    let report = store.gc(std::slice::from_ref(&dlist.digest)).unwrap();
    let freed: u64 = [&old_m, &old_c, &old_l].iter().map(|d| d.size).sum::<u64>() + 5;
    assert_eq!(
        report,
        GcReport {
            blobs_removed: 4,
            bytes_freed: freed,
            blobs_kept: 10,
            temp_files_removed: 0
        }
    );
    for d in [&m1, &c1, &l1, &m2, &c2, &l2, &index, &dm, &dlist] {
        assert!(store.has_blob(&d.digest), "{:?} kept", d.digest);
    }
    assert!(store.has_blob(&dl));
    for d in [&old_m.digest, &old_c.digest, &old_l.digest, &loose] {
        assert!(!store.has_blob(d), "{d:?} removed");
    }
    assert!(foreign.exists(), "files that are not blobs are left alone");

    // A referenced child that is missing is not an error.
    fs_err::remove_file(store.blob_path(&l2.digest)).unwrap();
    assert_eq!(
        store
            .gc(std::slice::from_ref(&dlist.digest))
            .unwrap()
            .blobs_removed,
        0
    );

    assert!(store.untag("127.0.0.1:5000/acme/ext:1.0.0").unwrap());
    let report = store.gc(&[]).unwrap();
    assert_eq!(
        (report.blobs_removed, report.blobs_kept),
        (9, 0),
        "{report:?}"
    );
}

#[test]
fn gc_survives_cycles() {
    let (_tmp, store) = temp_store("cycle");
    // Content cannot reference its own hash, but a damaged or crafted store
    // can hold such files: write them under chosen names directly.
    let a = Digest::sha256_of(b"name a");
    let b = Digest::sha256_of(b"name b");
    let write = |at: &Digest, refs: &[&Digest]| {
        let manifests: Vec<_> = refs
            .iter()
            .map(|d| json!({"mediaType": OCI_INDEX, "digest": d.to_string(), "size": 1}))
            .collect();
        let bytes = serde_json::to_vec(
            &json!({"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": manifests}),
        )
        .unwrap();
        fs_err::write(store.blob_path(at), &bytes).unwrap();
        Descriptor::new(OCI_INDEX, at.clone(), bytes.len() as u64)
    };
    let self_ref = Digest::sha256_of(b"name self");
    let own = write(&self_ref, &[&self_ref]);
    let da = write(&a, &[&b, &a]);
    write(&b, &[&a]);
    let orphan = store.put_bytes(b"orphan").unwrap();
    store.tag("self", &own).unwrap();
    store.tag("ab", &da).unwrap();
    let report = store.gc(&[]).unwrap();
    assert_eq!(
        (report.blobs_removed, report.blobs_kept),
        (1, 3),
        "{report:?}"
    );
    assert!(!store.has_blob(&orphan));
    assert!(store.has_blob(&a) && store.has_blob(&b) && store.has_blob(&self_ref));
}

/// Runs skopeo, or says why the test skips (failing when the environment is
/// required).
fn skopeo(test: &str) -> Option<()> {
    dockhand_testkit::env::require_program(test, "skopeo", "skopeo is not installed").then_some(())
}

fn run_skopeo(args: &[&str]) -> Vec<u8> {
    output_ok(Command::new("skopeo").args(args)).stdout
}

/// A valid one-layer image: a gzipped tar holding `hello`, its config, its manifest.
fn valid_image(store: &Store) -> (Descriptor, Vec<u8>) {
    let mut tar = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(6);
    header.set_mode(0o644);
    header.set_cksum();
    tar.append_data(&mut header, "hello", &b"hello\n"[..])
        .expect("test fixture");
    let tar = tar.into_inner().expect("test fixture");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&tar).expect("test fixture");
    let gz = gz.finish().expect("test fixture");
    let layer = Descriptor::new(
        "application/vnd.oci.image.layer.v1.tar+gzip",
        store.put_bytes(&gz).expect("test fixture"),
        gz.len() as u64,
    );
    let config = serde_json::to_vec(&json!({
        "architecture": "amd64", "os": "linux", "config": {},
        "rootfs": {"type": "layers", "diff_ids": [Digest::sha256_of(&tar).to_string()]}
    }))
    .expect("test fixture");
    let config = Descriptor::new(
        "application/vnd.oci.image.config.v1+json",
        store.put_bytes(&config).expect("test fixture"),
        config.len() as u64,
    );
    let manifest = serde_json::to_vec(&json!({
        "schemaVersion": 2, "mediaType": OCI_MANIFEST,
        "config": desc_json(&config), "layers": [desc_json(&layer)]
    }))
    .expect("test fixture");
    let desc = Descriptor::new(
        OCI_MANIFEST,
        store.put_bytes(&manifest).expect("test fixture"),
        manifest.len() as u64,
    );
    (desc, manifest)
}

#[test]
fn skopeo_reads_and_writes_the_store() {
    let test = "skopeo_reads_and_writes_the_store";
    if skopeo(test).is_none() {
        return;
    }
    let tmp = temp_dir("skopeo");
    let dir = tmp.path().join("store");
    let store = Store::open(&dir).unwrap();
    let (desc, manifest) = valid_image(&store);
    let full = "127.0.0.1:5000/acme/ext:1.0.0";
    let odd = "a__b/ext:_1";
    store.tag(full, &desc).unwrap();
    store.tag(odd, &desc).unwrap();
    let d = dir.to_str().unwrap();

    // A full reference is addressable as it is.
    let raw = run_skopeo(&["inspect", "--raw", &format!("oci:{d}:{full}")]);
    assert_eq!(raw, manifest);
    let other = tmp.path().join("other");
    let o = other.to_str().unwrap();
    run_skopeo(&[
        "copy",
        "--insecure-policy",
        "--quiet",
        &format!("oci:{d}:{full}"),
        &format!("oci:{o}:x"),
    ]);
    let raw = run_skopeo(&["inspect", "--raw", &format!("oci:{o}:x")]);
    assert_eq!(raw, manifest);

    // A name outside the ref-name grammar is addressable by its alias.
    let alias = oci_ref_name(odd);
    assert_ne!(alias, odd);
    let resolved = store.resolve(odd).unwrap().unwrap();
    assert_eq!(resolved.annotations[REF_NAME], alias);
    assert_eq!(resolved.annotations[DOCKHAND_REF], odd);
    let raw = run_skopeo(&["inspect", "--raw", &format!("oci:{d}:{alias}")]);
    assert_eq!(raw, manifest);

    // What skopeo writes into the store, the store reads.
    run_skopeo(&[
        "copy",
        "--insecure-policy",
        "--quiet",
        &format!("oci:{o}:x"),
        &format!("oci:{d}:copied:2"),
    ]);
    let store = Store::open(&dir).unwrap();
    assert_eq!(
        store.resolve("copied:2").unwrap().unwrap().digest,
        desc.digest
    );
    assert_eq!(store.resolve(full).unwrap().unwrap().digest, desc.digest);
    let report = store.gc(&[]).unwrap();
    assert_eq!(
        (report.blobs_removed, report.blobs_kept),
        (0, 3),
        "{report:?}"
    );
}
