//! The well-behaved distribution API: the token endpoint, auth challenges,
//! manifests, blobs, uploads and mounts, tag lists (paged with `Link` when
//! the state asks for it).

use std::net::SocketAddr;

use base64::Engine as _;
use dockhand_oci::Digest;

use super::wire::{Request, Response};
use super::{Auth, State, TOKEN};

/// The well-behaved registry.
pub(super) fn route(req: &Request, s: &mut State, addr: SocketAddr) -> Response {
    if req.path() == "/token" {
        return token(req, s);
    }
    if let Some(challenge) = check_auth(req, s, addr) {
        return challenge;
    }
    let path = req.path();
    if path == "/v2/" {
        return Response::new(200).json(serde_json::json!({}));
    }
    let Some(rest) = path.strip_prefix("/v2/") else {
        return Response::new(404);
    };
    for marker in ["/manifests/", "/blobs/uploads/", "/blobs/", "/tags/list"] {
        if let Some(i) = rest.find(marker) {
            let repo = rest[..i].to_owned();
            let tail = rest[i + marker.len()..].to_owned();
            return match marker {
                "/manifests/" => manifests(req, s, &repo, &tail),
                "/blobs/uploads/" => uploads(req, s, &repo, &tail, addr),
                "/blobs/" => blobs(req, s, &repo, &tail),
                _ => tags(req, s, &repo),
            };
        }
    }
    Response::new(404)
}

fn check_auth(req: &Request, s: &State, addr: SocketAddr) -> Option<Response> {
    let got = req.header("authorization");
    match &s.auth {
        Auth::None => None,
        Auth::Bearer { .. } => {
            if got == Some(&format!("Bearer {TOKEN}")) {
                return None;
            }
            let repo = req
                .path()
                .strip_prefix("/v2/")
                .and_then(|r| r.split("/manifests/").next())
                .unwrap_or("");
            Some(
                Response::error(401, "UNAUTHORIZED", "authentication required").header(
                    "WWW-Authenticate",
                    format!(
                        r#"Bearer realm="http://{addr}/token",service="fake",scope="repository:{repo}:pull""#
                    ),
                ),
            )
        }
        Auth::Basic { user, pass } => {
            let want = format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
            );
            if got == Some(want.as_str()) {
                return None;
            }
            Some(
                Response::error(401, "UNAUTHORIZED", "authentication required")
                    .header("WWW-Authenticate", r#"Basic realm="fake""#),
            )
        }
    }
}

fn token(req: &Request, s: &State) -> Response {
    if req.method == "POST" {
        // OAuth2 with a refresh token: the basic password is the refresh token.
        let form = Request {
            target: format!("/?{}", String::from_utf8_lossy(&req.body)),
            ..req.clone()
        };
        let ok = matches!(&s.auth, Auth::Bearer { basic: Some((_, p)) }
            if form.query("refresh_token").as_deref() == Some(p.as_str())
                && form.query("grant_type").as_deref() == Some("refresh_token"));
        if !ok {
            return Response::error(401, "UNAUTHORIZED", "bad refresh token");
        }
        return Response::new(200).json(serde_json::json!({"access_token": TOKEN}));
    }
    if let Auth::Bearer {
        basic: Some((u, p)),
    } = &s.auth
    {
        let want = format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{u}:{p}"))
        );
        if req.header("authorization") != Some(want.as_str()) {
            return Response::error(401, "UNAUTHORIZED", "bad credentials");
        }
    }
    Response::new(200).json(serde_json::json!({"access_token": TOKEN, "expires_in": 300}))
}

fn manifests(req: &Request, s: &mut State, repo: &str, reference: &str) -> Response {
    match req.method.as_str() {
        "GET" | "HEAD" => match s.manifests.get(&(repo.to_owned(), reference.to_owned())) {
            Some((mt, bytes)) => Response::new(200)
                .header("Content-Type", mt.clone())
                .header(
                    "Docker-Content-Digest",
                    Digest::sha256_of(bytes).to_string(),
                )
                .body(bytes.clone()),
            None => Response::error(404, "MANIFEST_UNKNOWN", "manifest unknown"),
        },
        "PUT" => {
            let mt = req.header("content-type").unwrap_or("").to_owned();
            let d = Digest::sha256_of(&req.body);
            for r in [reference.to_owned(), d.to_string()] {
                s.manifests
                    .insert((repo.to_owned(), r), (mt.clone(), req.body.clone()));
            }
            if !reference.starts_with("sha256:") {
                s.tags
                    .entry(repo.to_owned())
                    .or_default()
                    .push(reference.to_owned());
            }
            Response::new(201)
                .header("Docker-Content-Digest", d.to_string())
                .header("Location", format!("/v2/{repo}/manifests/{d}"))
        }
        _ => Response::new(405),
    }
}

fn blobs(req: &Request, s: &State, repo: &str, digest: &str) -> Response {
    match s.blobs.get(&(repo.to_owned(), digest.to_owned())) {
        Some(bytes) if req.method == "GET" || req.method == "HEAD" => Response::new(200)
            .header("Content-Type", "application/octet-stream")
            .header("Docker-Content-Digest", digest)
            .body(bytes.clone()),
        _ => Response::error(404, "BLOB_UNKNOWN", "blob unknown to registry"),
    }
}

fn uploads(req: &Request, s: &mut State, repo: &str, tail: &str, addr: SocketAddr) -> Response {
    match req.method.as_str() {
        "POST" => {
            if let (Some(d), Some(from)) = (req.query("mount"), req.query("from"))
                && !s.refuse_mounts
                && let Some(b) = s.blobs.get(&(from, d.clone())).cloned()
            {
                s.blobs.insert((repo.to_owned(), d.clone()), b);
                return Response::new(201)
                    .header("Location", format!("/v2/{repo}/blobs/{d}"))
                    .header("Docker-Content-Digest", d);
            }
            s.uploads += 1;
            let loc = format!("/v2/{repo}/blobs/uploads/u{}?_state=x", s.uploads);
            let loc = if s.absolute_locations {
                format!("http://{addr}{loc}")
            } else {
                loc
            };
            Response::new(202).header("Location", loc)
        }
        "PUT" if !tail.is_empty() => {
            let Some(d) = req.query("digest") else {
                return Response::error(400, "DIGEST_INVALID", "no digest");
            };
            if req.query("_state").is_none() {
                return Response::error(400, "BLOB_UPLOAD_INVALID", "lost the upload state");
            }
            if Digest::sha256_of(&req.body).to_string() != d {
                return Response::error(400, "DIGEST_INVALID", "digest mismatch");
            }
            s.blobs
                .insert((repo.to_owned(), d.clone()), req.body.clone());
            Response::new(201)
                .header("Location", format!("/v2/{repo}/blobs/{d}"))
                .header("Docker-Content-Digest", d)
        }
        _ => Response::new(405),
    }
}

fn tags(req: &Request, s: &State, repo: &str) -> Response {
    let Some(all) = s.tags.get(repo) else {
        return Response::error(404, "NAME_UNKNOWN", "repository name not known to registry");
    };
    let Some(size) = s.page_size else {
        return Response::new(200).json(serde_json::json!({"name": repo, "tags": all}));
    };
    let start = match req.query("last") {
        Some(last) => all
            .iter()
            .position(|t| *t == last)
            .map_or(all.len(), |i| i + 1),
        None => 0,
    };
    let page: Vec<_> = all.iter().skip(start).take(size).cloned().collect();
    let mut resp = Response::new(200).json(serde_json::json!({"name": repo, "tags": page}));
    if start + size < all.len()
        && let Some(last) = page.last()
    {
        resp = resp.header(
            "Link",
            format!(r#"</v2/{repo}/tags/list?last={last}&n={size}>; rel="next""#),
        );
    }
    resp
}
