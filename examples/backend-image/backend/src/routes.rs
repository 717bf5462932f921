//! What the backend answers, by method and path.
//!
//! | route | answer |
//! |---|---|
//! | `GET /hello` | 200 `{"message":"hello from the backend","version":"<crate version>"}` |
//! | `POST`/`PUT`/`PATCH /echo` | 200 with the request body, byte for byte, under the request's `Content-Type` (`application/octet-stream` without one); `X-Echo-Method` names the method |
//! | any method `/status/<code>` | `<code>` (200–599) with `{"status":<code>,"reason":"..."}` (no body for 204 and 304) |
//! | `GET /healthz` | 200 `ok` (text/plain) |
//! | `GET /engine/version` | the Docker Engine's `/version` answer, through the engine socket; 502 when it is unreachable |
//! | anything else | 404 `{"error":"not found","method":"...","path":"..."}`; a known path with another method gets 405 |
//!
//! `HEAD` is answered like `GET`, without the body.

use std::path::PathBuf;

use crate::engine;
use crate::http::{Request, Response, reason};
use crate::json;

pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// What the routes need from the outside.
#[derive(Debug, Clone)]
pub struct Context {
    /// The Docker Engine socket, for `/engine/version`.
    pub docker_socket: PathBuf,
}

/// Answers one request.
pub fn handle(ctx: &Context, req: &Request) -> Response {
    let head = &req.head;
    let method = head.method.as_str();
    let path = head.path();
    let get = matches!(method, "GET" | "HEAD");
    match path {
        "/hello" if get => hello(),
        "/healthz" if get => Response::text(200, "ok"),
        "/engine/version" if get => engine_version(ctx),
        "/hello" | "/healthz" | "/engine/version" => not_allowed("GET, HEAD"),
        "/echo" if matches!(method, "POST" | "PUT" | "PATCH") => echo(req),
        "/echo" => not_allowed("POST, PUT, PATCH"),
        _ => match path.strip_prefix("/status/") {
            Some(code) => status(code),
            None => not_found(method, path),
        },
    }
}

fn hello() -> Response {
    Response::json(
        200,
        json::object([
            ("message", json::string("hello from the backend")),
            ("version", json::string(VERSION)),
        ]),
    )
}

fn echo(req: &Request) -> Response {
    let content_type = req
        .head
        .header("content-type")
        .unwrap_or("application/octet-stream");
    Response::new(200, content_type, req.body.clone())
        .with_header("X-Echo-Method", &req.head.method)
}

fn status(code: &str) -> Response {
    let valid = code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit());
    match code.parse::<u16>() {
        Ok(status @ 200..=599) if valid => Response::json(
            status,
            json::object([
                ("status", status.to_string()),
                ("reason", json::string(reason(status))),
            ]),
        ),
        _ => error(400, "the status code must be a number from 200 to 599"),
    }
}

fn engine_version(ctx: &Context) -> Response {
    match engine::get(&ctx.docker_socket, "/version") {
        Ok(answer) => Response::new(
            answer.status,
            answer.content_type.as_deref().unwrap_or("application/json"),
            answer.body,
        ),
        Err(err) => error(
            502,
            &format!(
                "cannot reach the docker engine at {}: {err}",
                ctx.docker_socket.display()
            ),
        ),
    }
}

fn not_allowed(allow: &str) -> Response {
    error(405, "method not allowed").with_header("Allow", allow)
}

fn not_found(method: &str, path: &str) -> Response {
    Response::json(
        404,
        json::object([
            ("error", json::string("not found")),
            ("method", json::string(method)),
            ("path", json::string(path)),
        ]),
    )
}

/// A JSON error answer: `{"error": message}`.
pub fn error(status: u16, message: &str) -> Response {
    Response::json(status, json::object([("error", json::string(message))]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::http::{Head, Version};

    fn ctx() -> Context {
        Context {
            docker_socket: PathBuf::from("/nonexistent/docker.sock"),
        }
    }

    fn call(method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Response {
        let req = Request {
            head: Head {
                method: method.to_owned(),
                target: target.to_owned(),
                version: Version::Http11,
                headers: headers
                    .iter()
                    .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                    .collect(),
            },
            body: body.to_vec(),
        };
        handle(&ctx(), &req)
    }

    fn body(response: &Response) -> &str {
        std::str::from_utf8(&response.body).expect("utf-8 body")
    }

    fn header<'a>(response: &'a Response, name: &str) -> Option<&'a str> {
        response
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    #[test]
    fn hello_names_the_version() {
        let response = call("GET", "/hello?x", &[], b"");
        assert_eq!(response.status, 200);
        assert_eq!(
            body(&response),
            format!(r#"{{"message":"hello from the backend","version":"{VERSION}"}}"#)
        );
        assert_eq!(header(&response, "content-type"), Some("application/json"));
    }

    #[test]
    fn echo_returns_body_and_content_type() {
        let response = call(
            "POST",
            "/echo",
            &[("Content-Type", "application/json")],
            br#"{"a":1}"#,
        );
        assert_eq!(response.status, 200);
        assert_eq!(body(&response), r#"{"a":1}"#);
        assert_eq!(header(&response, "content-type"), Some("application/json"));
        assert_eq!(header(&response, "x-echo-method"), Some("POST"));

        let response = call("PUT", "/echo", &[], b"\x00\x01");
        assert_eq!(response.body, b"\x00\x01");
        assert_eq!(
            header(&response, "content-type"),
            Some("application/octet-stream")
        );
    }

    #[test]
    fn status_answers_with_the_code() {
        let response = call("GET", "/status/418", &[], b"");
        assert_eq!(response.status, 418);
        assert_eq!(body(&response), r#"{"status":418,"reason":"I'm a teapot"}"#);
        assert_eq!(call("POST", "/status/503", &[], b"x").status, 503);
        for bad in [
            "/status/",
            "/status/99",
            "/status/600",
            "/status/+20",
            "/status/2000",
        ] {
            assert_eq!(call("GET", bad, &[], b"").status, 400, "{bad}");
        }
    }

    #[test]
    fn healthz_says_ok() {
        let response = call("GET", "/healthz", &[], b"");
        assert_eq!((response.status, body(&response)), (200, "ok"));
    }

    #[test]
    fn unknown_paths_and_wrong_methods() {
        let response = call("GET", "/nope", &[], b"");
        assert_eq!(response.status, 404);
        assert_eq!(
            body(&response),
            r#"{"error":"not found","method":"GET","path":"/nope"}"#
        );
        let response = call("DELETE", "/hello", &[], b"");
        assert_eq!(response.status, 405);
        assert_eq!(header(&response, "allow"), Some("GET, HEAD"));
        assert_eq!(call("GET", "/echo", &[], b"").status, 405);
        assert_eq!(call("get", "/hello", &[], b"").status, 405);
    }

    #[test]
    fn engine_version_reports_an_unreachable_engine() {
        let response = call("GET", "/engine/version", &[], b"");
        assert_eq!(response.status, 502);
        assert!(body(&response).contains("/nonexistent/docker.sock"));
    }
}
