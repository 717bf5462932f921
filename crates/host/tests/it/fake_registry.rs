//! A tiny in-process registry (std TCP, one request per connection) serving
//! fixed answers, logging every request, and able to lie: enough of the
//! distribution API for the catalog and allow-list tests.
#![allow(clippy::unwrap_used)] // test helpers

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use dockhand_oci::Digest;

/// One canned answer.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub content_type: String,
    pub body: Vec<u8>,
    pub headers: Vec<(String, String)>,
}

/// The registry.
#[derive(Debug, Clone)]
pub struct FakeRegistry {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    log: Arc<Mutex<Vec<String>>>,
    tags: Arc<Mutex<BTreeMap<String, Vec<String>>>>,
}

impl FakeRegistry {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let fake = Self {
            addr,
            answers: Arc::default(),
            log: Arc::default(),
            tags: Arc::default(),
        };
        let me = fake.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let me = me.clone();
                std::thread::spawn(move || me.serve(stream));
            }
        });
        fake
    }

    fn serve(&self, mut stream: std::net::TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut first = String::new();
        if reader.read_line(&mut first).is_err() {
            return;
        }
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                break;
            }
        }
        let mut parts = first.split_whitespace();
        let method = parts.next().unwrap_or("").to_owned();
        let target = parts.next().unwrap_or("").to_owned();
        self.log.lock().unwrap().push(format!("{method} {target}"));
        let path = target.split('?').next().unwrap_or("").to_owned();
        let answer = self.answer(&path, &target);
        let mut head = format!(
            "HTTP/1.1 {} X\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            answer.status,
            answer.content_type,
            answer.body.len()
        );
        for (k, v) in &answer.headers {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes());
        if method != "HEAD" {
            let _ = stream.write_all(&answer.body);
        }
    }

    fn answer(&self, path: &str, target: &str) -> Answer {
        if path == "/v2/" {
            return json(200, b"{}".to_vec());
        }
        let answers = self.answers.lock().unwrap();
        if let Some(a) = answers.get(target).or_else(|| answers.get(path)) {
            return a.clone();
        }
        if let Some(repo) = path
            .strip_prefix("/v2/")
            .and_then(|p| p.strip_suffix("/tags/list"))
            && let Some(tags) = self.tags.lock().unwrap().get(repo)
        {
            let body = serde_json::json!({"name": repo, "tags": tags});
            return json(200, body.to_string().into_bytes());
        }
        json(
            404,
            br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"unknown"}]}"#.to_vec(),
        )
    }

    /// Answers `path` (or `path?query`) with `answer`.
    pub fn set(&self, path: &str, answer: Answer) {
        self.answers.lock().unwrap().insert(path.to_owned(), answer);
    }

    /// The requests so far (`METHOD target`), and forgets them.
    pub fn take_log(&self) -> Vec<String> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// Publishes a single-platform image `repo:tag` with `labels` and one
    /// (not really a tar) layer; returns the manifest's digest.
    pub fn image(&self, repo: &str, tag: &str, labels: &[(&str, &str)]) -> Digest {
        let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
        let config = serde_json::to_vec(&serde_json::json!({
            "architecture": "amd64",
            "os": "linux",
            "config": {"Labels": labels},
            "rootfs": {"type": "layers", "diff_ids": []}
        }))
        .unwrap();
        let layer = format!("layer of {repo}:{tag}").into_bytes();
        let (cd, ld) = (Digest::sha256_of(&config), Digest::sha256_of(&layer));
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": cd.to_string(), "size": config.len()},
            "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": ld.to_string(), "size": layer.len()}]
        }))
        .unwrap();
        let md = Digest::sha256_of(&manifest);
        self.set(&format!("/v2/{repo}/blobs/{cd}"), blob(config));
        self.set(&format!("/v2/{repo}/blobs/{ld}"), blob(layer));
        let m = manifest_answer(manifest, &md);
        self.set(&format!("/v2/{repo}/manifests/{tag}"), m.clone());
        self.set(&format!("/v2/{repo}/manifests/{md}"), m);
        self.tags
            .lock()
            .unwrap()
            .entry(repo.to_owned())
            .or_default()
            .push(tag.to_owned());
        md
    }

    /// Makes `repo@digest` answer with the manifest of `repo:tag` (a
    /// registry that serves something else than what was asked).
    pub fn lie(&self, repo: &str, digest: &Digest, tag: &str) {
        let real = self
            .answers
            .lock()
            .unwrap()
            .get(&format!("/v2/{repo}/manifests/{tag}"))
            .cloned()
            .unwrap();
        let mut fake = real;
        fake.headers.retain(|(k, _)| k != "Docker-Content-Digest");
        self.set(&format!("/v2/{repo}/manifests/{digest}"), fake);
    }
}

pub fn json(status: u16, body: Vec<u8>) -> Answer {
    Answer {
        status,
        content_type: "application/json".into(),
        body,
        headers: vec![],
    }
}

fn blob(body: Vec<u8>) -> Answer {
    Answer {
        status: 200,
        content_type: "application/octet-stream".into(),
        body,
        headers: vec![],
    }
}

fn manifest_answer(body: Vec<u8>, digest: &Digest) -> Answer {
    Answer {
        status: 200,
        content_type: "application/vnd.oci.image.manifest.v1+json".into(),
        body,
        headers: vec![("Docker-Content-Digest".into(), digest.to_string())],
    }
}
