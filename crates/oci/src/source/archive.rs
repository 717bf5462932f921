//! `docker save` tars, OCI layout tars and OCI layout directories in and out
//! of the content store.
//!
//! A tar is read in two passes: the first hashes every entry and reads the
//! small documents (`manifest.json`, `index.json`), the second copies the
//! blobs that are needed into the store, each verified against its digest.

use std::collections::{BTreeMap, HashSet};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::digest::{Algorithm, Digest, Hasher};
use crate::image::{Descriptor, ImageIndex, ImageManifest, media, to_canonical_json};
use crate::store::Store;

use super::{ResolvedImage, SourceError};

/// Documents in an archive larger than this are refused.
const DOC_MAX: u64 = 4 * 1024 * 1024;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SaveManifest {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

fn open_tar(path: &Path) -> Result<tar::Archive<Box<dyn Read>>, SourceError> {
    let mut file = fs_err::File::open(path).map_err(SourceError::io(path))?;
    let mut magic = [0u8; 2];
    let n = file.read(&mut magic).map_err(SourceError::io(path))?;
    let file = fs_err::File::open(path).map_err(SourceError::io(path))?;
    let reader: Box<dyn Read> = if n == 2 && magic == [0x1f, 0x8b] {
        Box::new(flate2::read::GzDecoder::new(std::io::BufReader::new(file)))
    } else {
        Box::new(std::io::BufReader::new(file))
    };
    Ok(tar::Archive::new(reader))
}

fn normal(path: &Path) -> String {
    path.to_string_lossy().trim_start_matches("./").to_owned()
}

struct Scan {
    /// entry path → (digest, size)
    hashes: BTreeMap<String, (Digest, u64)>,
    docs: BTreeMap<String, Vec<u8>>,
}

/// Pass 1: hash every regular entry; keep the small top-level documents.
fn scan(path: &Path) -> Result<Scan, SourceError> {
    let mut archive = open_tar(path)?;
    let mut scan = Scan {
        hashes: BTreeMap::new(),
        docs: BTreeMap::new(),
    };
    for entry in archive.entries().map_err(SourceError::io(path))? {
        let mut entry = entry.map_err(SourceError::io(path))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let name = normal(&entry.path().map_err(SourceError::io(path))?);
        let keep = matches!(name.as_str(), "manifest.json" | "index.json" | "oci-layout");
        let mut hasher = Hasher::new(Algorithm::Sha256);
        let mut doc = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            let n = entry.read(&mut buf).map_err(SourceError::io(path))?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
            if keep && (doc.len() as u64) < DOC_MAX {
                doc.extend_from_slice(&buf[..n]);
            }
        }
        let size = hasher.len();
        scan.hashes.insert(name.clone(), (hasher.finish(), size));
        if keep {
            scan.docs.insert(name, doc);
        }
    }
    Ok(scan)
}

/// Pass 2: copy the named entries into the store.
fn copy_entries(
    path: &Path,
    store: &Store,
    wanted: &BTreeMap<String, Digest>,
) -> Result<(), SourceError> {
    let mut archive = open_tar(path)?;
    for entry in archive.entries().map_err(SourceError::io(path))? {
        let entry = entry.map_err(SourceError::io(path))?;
        let name = normal(&entry.path().map_err(SourceError::io(path))?);
        let Some(digest) = wanted.get(&name) else {
            continue;
        };
        if store.has_blob(digest) {
            continue;
        }
        let size = entry.header().size().map_err(SourceError::io(path))?;
        store.write_blob(digest, entry, Some(size))?;
    }
    Ok(())
}

/// Imports every image of a `docker save` tar or an OCI layout tar into
/// `store`, tagging each by its name in the archive (or `name` when given
/// and the archive holds one image). Returns the names and descriptors.
pub fn import_archive(
    store: &Store,
    path: &Path,
    name: Option<&str>,
) -> Result<Vec<(String, Descriptor)>, SourceError> {
    let scan = scan(path)?;
    if scan.docs.contains_key("index.json") && scan.docs.contains_key("oci-layout") {
        return import_oci_tar(store, path, &scan, name);
    }
    let Some(doc) = scan.docs.get("manifest.json") else {
        return Err(SourceError::NotAnArchive(path.to_path_buf()));
    };
    let entries: Vec<SaveManifest> =
        serde_json::from_slice(doc).map_err(SourceError::bad_document(
            format_args!("{}:manifest.json", path.display()),
            "docker save manifest",
        ))?;
    let lookup = |entry: &str| {
        scan.hashes
            .get(entry)
            .cloned()
            .ok_or_else(|| SourceError::MissingEntry {
                archive: path.to_path_buf(),
                entry: entry.to_owned(),
            })
    };
    let mut wanted = BTreeMap::new();
    let mut out = Vec::new();
    let mut manifests = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let (config_digest, config_size) = lookup(&entry.config)?;
        wanted.insert(entry.config.clone(), config_digest.clone());
        let mut layers = Vec::new();
        for layer in &entry.layers {
            let (digest, size) = lookup(layer)?;
            wanted.insert(layer.clone(), digest.clone());
            layers.push(Descriptor::new(media::OCI_LAYER_TAR, digest, size));
        }
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(media::OCI_MANIFEST.to_owned()),
            config: Descriptor::new(media::OCI_CONFIG, config_digest, config_size),
            layers,
            annotations: BTreeMap::new(),
            extra: Default::default(),
        };
        let tags = entry.repo_tags.clone().unwrap_or_default();
        let names: Vec<String> = match (name, entries.len()) {
            (Some(n), 1) => vec![n.to_owned()],
            _ if tags.is_empty() => vec![format!("{}#{i}", path.display())],
            _ => tags,
        };
        manifests.push((names, to_canonical_json(&manifest)?));
    }
    copy_entries(path, store, &wanted)?;
    for (names, bytes) in manifests {
        let digest = store.put_bytes(&bytes)?;
        let desc = Descriptor::new(media::OCI_MANIFEST, digest, bytes.len() as u64);
        for n in names {
            store.tag(&n, &desc)?;
            out.push((n, desc.clone()));
        }
    }
    Ok(out)
}

fn import_oci_tar(
    store: &Store,
    path: &Path,
    scan: &Scan,
    name: Option<&str>,
) -> Result<Vec<(String, Descriptor)>, SourceError> {
    let index: ImageIndex =
        serde_json::from_slice(&scan.docs["index.json"]).map_err(SourceError::bad_document(
            format_args!("{}:index.json", path.display()),
            "OCI image index",
        ))?;
    // Every blob is named by its digest: take them all, verified.
    let mut wanted = BTreeMap::new();
    for (entry, (digest, _)) in &scan.hashes {
        if let Some(hex) = entry.strip_prefix("blobs/sha256/") {
            if hex != digest.hex() {
                return Err(SourceError::BadDocument {
                    what: format!("{}:{entry}", path.display()),
                    kind: "blob",
                    message: format!("its content hashes to {digest}: the archive is damaged"),
                });
            }
            wanted.insert(entry.clone(), digest.clone());
        }
    }
    copy_entries(path, store, &wanted)?;
    tag_index_entries(store, &index, name, &path.display().to_string())
}

fn tag_index_entries(
    store: &Store,
    index: &ImageIndex,
    name: Option<&str>,
    source: &str,
) -> Result<Vec<(String, Descriptor)>, SourceError> {
    let mut out = Vec::new();
    for (i, d) in index.manifests.iter().enumerate() {
        if !store.has_blob(&d.digest) {
            return Err(SourceError::MissingEntry {
                archive: PathBuf::from(source),
                entry: format!("blobs/sha256/{}", d.digest.hex()),
            });
        }
        let own = d
            .annotations
            .get("io.containerd.image.name")
            .or_else(|| d.annotations.get(crate::store::DOCKHAND_REF))
            .or_else(|| d.annotations.get(crate::image::REF_NAME))
            .cloned();
        let n = match (name, index.manifests.len()) {
            (Some(n), 1) => n.to_owned(),
            _ => own.unwrap_or_else(|| format!("{source}#{i}")),
        };
        let clean = Descriptor {
            annotations: BTreeMap::new(),
            ..d.clone()
        };
        store.tag(&n, &clean)?;
        out.push((n, clean));
    }
    Ok(out)
}

/// Copies an image of an OCI layout directory (every blob reachable from
/// `tag`, or from every entry when `tag` is `None`) into `store`.
pub fn import_layout(
    store: &Store,
    dir: &Path,
    tag: Option<&str>,
    name: Option<&str>,
) -> Result<Vec<(String, Descriptor)>, SourceError> {
    let src = Store::open(dir)?;
    let tops: Vec<(String, Descriptor)> = match tag {
        Some(t) => {
            // The name as written, else as a normalised reference (`x/y:1` → `docker.io/x/y:1`).
            let normal = crate::Reference::parse(t).map(|r| r.to_string()).ok();
            let found = match src.resolve(t)? {
                Some(d) => Some(d),
                None => match &normal {
                    Some(n) => src.resolve(n)?,
                    None => None,
                },
            };
            let d = found.ok_or_else(|| SourceError::NoSuchName {
                source_name: dir.display().to_string(),
                name: t.to_owned(),
                hint: names_hint(&src),
            })?;
            vec![(name.unwrap_or(t).to_owned(), d)]
        }
        None => src.names()?,
    };
    if tops.is_empty() {
        return Err(SourceError::NoSuchName {
            source_name: dir.display().to_string(),
            name: tag.unwrap_or("any image").to_owned(),
            hint: "the layout is empty".to_owned(),
        });
    }
    let mut out = Vec::new();
    for (n, top) in tops {
        copy_reachable(&src, store, &top, &mut HashSet::new(), 0)?;
        let clean = Descriptor {
            annotations: BTreeMap::new(),
            ..top
        };
        let n = match (name, tag) {
            (Some(given), None) => given.to_owned(),
            _ => n,
        };
        store.tag(&n, &clean)?;
        out.push((n, clean));
    }
    Ok(out)
}

fn names_hint(src: &Store) -> String {
    match src.names() {
        Ok(names) if !names.is_empty() => {
            format!(
                "it has {}",
                names
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
        _ => "it names no image".to_owned(),
    }
}

fn copy_blob(src: &Store, dst: &Store, d: &Descriptor) -> Result<(), SourceError> {
    if dst.has_blob(&d.digest) {
        return Ok(());
    }
    let file = src.open_blob(&d.digest)?;
    dst.write_blob(&d.digest, file, Some(d.size))?;
    Ok(())
}

fn copy_reachable(
    src: &Store,
    dst: &Store,
    d: &Descriptor,
    seen: &mut HashSet<Digest>,
    depth: usize,
) -> Result<(), SourceError> {
    if depth > 8 {
        return Err(SourceError::IndexLoop(d.digest.clone()));
    }
    if !seen.insert(d.digest.clone()) {
        return Ok(());
    }
    copy_blob(src, dst, d)?;
    let bytes = src.read_blob(&d.digest, DOC_MAX)?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
    if value.get("manifests").is_some() {
        let index: ImageIndex = serde_json::from_value(value)
            .map_err(SourceError::bad_document(&d.digest, "image index"))?;
        for child in &index.manifests {
            copy_reachable(src, dst, child, seen, depth + 1)?;
        }
    } else if value.get("config").is_some() {
        let manifest: ImageManifest = serde_json::from_value(value)
            .map_err(SourceError::bad_document(&d.digest, "image manifest"))?;
        copy_blob(src, dst, &manifest.config)?;
        for layer in &manifest.layers {
            copy_blob(src, dst, layer)?;
        }
    }
    Ok(())
}

/// Writes one platform's image as a `docker save` tar that any Docker engine
/// loads (`docker load`), tagged `repo_tag`.
pub fn export_docker_archive(
    store: &Store,
    image: &ResolvedImage,
    repo_tag: &str,
    dest: &Path,
) -> Result<(), SourceError> {
    let file = fs_err::File::create(dest).map_err(SourceError::io(dest))?;
    let mut builder = tar::Builder::new(std::io::BufWriter::new(file));
    builder.mode(tar::HeaderMode::Deterministic);
    let blob_name = |d: &Digest| format!("blobs/sha256/{}", d.hex());
    let mut append = |name: &str, d: &Descriptor| -> Result<(), SourceError> {
        let mut header = tar::Header::new_ustar();
        header.set_size(d.size);
        header.set_mode(0o644);
        let blob = store.open_blob(&d.digest)?;
        builder
            .append_data(&mut header, name, blob)
            .map_err(SourceError::io(dest))
    };
    append(
        &blob_name(&image.manifest.config.digest),
        &image.manifest.config,
    )?;
    let mut layers = Vec::new();
    for layer in &image.manifest.layers {
        append(&blob_name(&layer.digest), layer)?;
        layers.push(blob_name(&layer.digest));
    }
    let manifest = serde_json::json!([{
        "Config": blob_name(&image.manifest.config.digest),
        "RepoTags": [repo_tag],
        "Layers": layers,
    }]);
    // A `Value` always serializes (compact, as `to_vec`).
    let bytes = manifest.to_string().into_bytes();
    let mut header = tar::Header::new_ustar();
    header.set_size(bytes.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, "manifest.json", bytes.as_slice())
        .map_err(SourceError::io(dest))?;
    let mut inner = builder.into_inner().map_err(SourceError::io(dest))?;
    inner.flush().map_err(SourceError::io(dest))?;
    Ok(())
}
