//! The local reading of a compose file: what `compose config` would make of
//! it, as far as dockhand can tell without compose. YAML merge keys (`<<`,
//! chained and in lists) are resolved, tags dropped, and every string value
//! interpolated with the environment dockhand gives compose. The result has
//! the shape of compose's normalized model, so the facts are read from it by
//! the same code ([`super::ComposeFacts::from_model`]).
//!
//! It also finds what dockhand refuses before compose ever runs, because
//! compose would read other files for it: `env_file`, `label_file`,
//! `extends.file` and a top-level `include`. (A `build` section is not
//! refused: compose runs with `--no-build`, so it never builds; a service
//! with no image is an error of its own.)

use serde_json::{Map, Value};
use serde_norway::Value as Yaml;

use super::interpolate::interpolate;
use super::{ComposeError, Refusal, RefusalKind, shape};

/// How deep merge keys may chain (`<<` of a mapping with its own `<<`).
const MAX_MERGE_DEPTH: usize = 64;

/// Parses `text`, resolves merge keys, follows `extends` within the file
/// and interpolates with `env`.
pub(super) fn read(
    text: &str,
    env: &[(String, String)],
) -> Result<(Value, Vec<Refusal>), ComposeError> {
    let mut doc = parse_plain(text)?;
    let refused = refusals(&doc);
    follow_extends(&mut doc);
    if let Value::Object(top) = &mut doc {
        for (key, value) in top.iter_mut() {
            // Extension fields are not compose's: it does not interpolate them.
            if key.starts_with("x-") {
                continue;
            }
            interpolate_all(value, &format!("/{}", escape(key)), env)?;
        }
    }
    Ok((doc, refused))
}

/// YAML text as a JSON value, merge keys resolved, nothing interpolated
/// (docker-compose v1's `config` output is read this way).
pub(super) fn parse_plain(text: &str) -> Result<Value, ComposeError> {
    let doc: Yaml = serde_norway::from_str(text).map_err(|e| {
        let loc = e.location();
        ComposeError::Syntax {
            line: loc.as_ref().map(|l| l.line()),
            column: loc.as_ref().map(|l| l.column()),
            message: strip_location(&e.to_string()),
        }
    })?;
    to_json(doc, "")
}

/// How many services one `extends` chain may pass through.
const MAX_EXTENDS: usize = 16;

/// A service that `extends` another of the same file gets that service's
/// keys: its own win, lists are joined (as compose merges `volumes`,
/// `cap_add`, `devices`…), mappings merged. A chain too long or a loop stops
/// where it is (compose refuses those files anyway).
fn follow_extends(doc: &mut Value) {
    let Some(Value::Object(services)) = doc.get("services") else {
        return;
    };
    let original = services.clone();
    let mut resolved = Map::new();
    for (name, svc) in &original {
        let mut current = svc.clone();
        let mut seen = vec![name.clone()];
        while let Some(base) = extends_target(&current) {
            if seen.contains(&base) || seen.len() > MAX_EXTENDS {
                break;
            }
            let Some(parent) = original.get(&base) else {
                break;
            };
            seen.push(base);
            let next = extends_target(parent);
            let mut merged = parent.clone();
            merge_into(&mut merged, &current);
            match (&mut merged, next) {
                (Value::Object(m), Some(n)) => {
                    m.insert("extends".into(), Value::String(n));
                }
                (Value::Object(m), None) => {
                    m.remove("extends");
                }
                _ => break,
            }
            current = merged;
        }
        resolved.insert(name.clone(), current);
    }
    if let Some(Value::Object(services)) = doc.get_mut("services") {
        *services = resolved;
    }
}

/// The service an `extends` within the file names (`extends: b`,
/// `extends: {service: b}` without `file`).
fn extends_target(svc: &Value) -> Option<String> {
    match svc.get("extends")? {
        Value::String(s) => Some(s.clone()),
        Value::Object(m) if m.get("file").is_none() => {
            m.get("service").and_then(Value::as_str).map(str::to_owned)
        }
        _ => None,
    }
}

fn merge_into(base: &mut Value, own: &Value) {
    match (base, own) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(existing) => merge_into(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(b), Value::Array(o)) => b.extend(o.iter().cloned()),
        (b, o) => *b = o.clone(),
    }
}

fn strip_location(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// A JSON pointer token.
pub(super) fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// YAML to JSON with merge keys resolved: a key is a scalar's text, a tag is
/// dropped (its value kept).
fn to_json(value: Yaml, pointer: &str) -> Result<Value, ComposeError> {
    Ok(match value {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            serde_json::from_str(&n.to_string()).unwrap_or_else(|_| Value::String(n.to_string()))
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| to_json(v, &format!("{pointer}/{i}")))
                .collect::<Result<_, _>>()?,
        ),
        Yaml::Mapping(m) => Value::Object(mapping(m, pointer)?),
        Yaml::Tagged(t) => to_json(t.value, pointer)?,
    })
}

fn key_text(k: &Yaml) -> Option<String> {
    match k {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        Yaml::Null => Some("null".to_owned()),
        Yaml::Tagged(t) => key_text(&t.value),
        _ => None,
    }
}

/// A mapping's entries, with `<<` merged in: explicit keys win, then the
/// merged mappings in order (the first one that has a key gives it), each
/// with its own `<<` resolved first.
fn mapping(m: serde_norway::Mapping, pointer: &str) -> Result<Map<String, Value>, ComposeError> {
    let mut out = Map::new();
    for (k, v) in resolve(m, pointer, 0)? {
        let child = format!("{pointer}/{}", escape(&k));
        out.insert(k, to_json(v, &child)?);
    }
    Ok(out)
}

fn resolve(
    m: serde_norway::Mapping,
    pointer: &str,
    depth: usize,
) -> Result<Vec<(String, Yaml)>, ComposeError> {
    if depth > MAX_MERGE_DEPTH {
        return Err(shape(pointer, "merge keys (`<<`) nest too deeply"));
    }
    let bad = || shape(pointer, "a merge key (`<<`) must name mappings");
    let mut own: Vec<(String, Yaml)> = Vec::new();
    let mut sources: Vec<serde_norway::Mapping> = Vec::new();
    for (k, v) in m {
        let Some(key) = key_text(&k) else {
            return Err(shape(pointer, "a mapping key must be a scalar"));
        };
        if key != "<<" {
            own.push((key, v));
            continue;
        }
        match v {
            Yaml::Mapping(m) => sources.push(m),
            Yaml::Sequence(items) => {
                for i in items {
                    match i {
                        Yaml::Mapping(m) => sources.push(m),
                        Yaml::Tagged(t) => match t.value {
                            Yaml::Mapping(m) => sources.push(m),
                            _ => return Err(bad()),
                        },
                        _ => return Err(bad()),
                    }
                }
            }
            Yaml::Tagged(t) => match t.value {
                Yaml::Mapping(m) => sources.push(m),
                _ => return Err(bad()),
            },
            _ => return Err(bad()),
        }
    }
    for source in sources {
        for (k, v) in resolve(source, pointer, depth + 1)? {
            if !own.iter().any(|(o, _)| *o == k) {
                own.push((k, v));
            }
        }
    }
    Ok(own)
}

fn interpolate_all(
    value: &mut Value,
    pointer: &str,
    env: &[(String, String)],
) -> Result<(), ComposeError> {
    match value {
        Value::String(s) => {
            *s = interpolate(s, env).map_err(|error| ComposeError::Interpolation {
                pointer: pointer.to_owned(),
                error,
            })?;
        }
        Value::Array(items) => {
            for (i, v) in items.iter_mut().enumerate() {
                interpolate_all(v, &format!("{pointer}/{i}"), env)?;
            }
        }
        Value::Object(m) => {
            for (k, v) in m.iter_mut() {
                interpolate_all(v, &format!("{pointer}/{}", escape(k)), env)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// What dockhand refuses in the file as written (merge keys resolved).
fn refusals(doc: &Value) -> Vec<Refusal> {
    let mut out = Vec::new();
    if doc.get("include").is_some() {
        out.push(Refusal {
            kind: RefusalKind::OtherFiles,
            pointer: "/include".to_owned(),
            message: "the compose file includes other compose files (`include`): dockhand runs the extension's one file; put the services in it".to_owned(),
        });
    }
    let Some(Value::Object(services)) = doc.get("services") else {
        return out;
    };
    for (name, svc) in services {
        let base = format!("/services/{}", escape(name));
        for key in ["env_file", "label_file"] {
            if let Some(v) = svc.get(key) {
                out.push(Refusal {
                    kind: RefusalKind::OtherFiles,
                    pointer: format!("{base}/{key}"),
                    message: format!(
                        "service `{name}` reads {key} {}: compose would read that file on this host; put the values in the compose file",
                        super::text_of(v)
                    ),
                });
            }
        }
        if let Some(file) = svc.get("extends").and_then(|e| e.get("file")) {
            out.push(Refusal {
                kind: RefusalKind::OtherFiles,
                pointer: format!("{base}/extends/file"),
                message: format!(
                    "service `{name}` extends a service of another file ({}): compose would read that file on this host; put the service in the compose file",
                    super::text_of(file)
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        vec![("HOME".into(), "/home/u".into())]
    }

    #[test]
    fn merge_keys_resolve_chained_and_in_lists() {
        let text = r#"
x-a: &a
  privileged: true
  image: from-a
x-b: &b
  <<: *a
  pid: host
x-c: &c
  network_mode: host
  image: from-c
services:
  s:
    <<: [*b, *c]
    image: own
  t:
    <<: [*c, *a]
  u:
    <<: [*b, *c]
"#;
        let (doc, refused) = read(text, &env()).unwrap();
        assert!(refused.is_empty());
        let s = &doc["services"]["s"];
        assert_eq!(s["privileged"], true);
        assert_eq!(s["pid"], "host");
        assert_eq!(s["network_mode"], "host");
        assert_eq!(s["image"], "own");
        assert!(s.get("<<").is_none());
        // The first mapping of a list wins.
        assert_eq!(doc["services"]["t"]["image"], "from-c");
        // `b` is resolved (with `a`) before `c` is looked at.
        assert_eq!(doc["services"]["u"]["image"], "from-a");
    }

    #[test]
    fn strings_are_interpolated_but_not_extension_fields() {
        let text = "x-note: ${NOPE:?not interpolated}\nservices:\n  s:\n    image: busybox\n    network_mode: ${X:-host}\n    volumes: [\"$HOME/.kube:/k\"]\n";
        let (doc, _) = read(text, &env()).unwrap();
        assert_eq!(doc["services"]["s"]["network_mode"], "host");
        assert_eq!(doc["services"]["s"]["volumes"][0], "/home/u/.kube:/k");
        let e = read("services:\n  s:\n    image: ${IMG:?set it}\n", &env()).unwrap_err();
        assert!(
            matches!(&e, ComposeError::Interpolation { pointer, .. } if pointer == "/services/s/image"),
            "{e:?}"
        );
    }

    #[test]
    fn other_files_are_refused() {
        let text = r#"
x-e: &e
  env_file: /home/u/.aws/credentials
include: [other.yaml]
services:
  s:
    <<: *e
    image: x
    build: .
    label_file: ./l
    extends: {file: /etc/other.yaml, service: x}
"#;
        let (_, refused) = read(text, &env()).unwrap();
        let pointers: Vec<&str> = refused.iter().map(|r| r.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/include",
                "/services/s/env_file",
                "/services/s/label_file",
                "/services/s/extends/file"
            ]
        );
        assert!(refused[1].message.contains("/home/u/.aws/credentials"));
    }

    #[test]
    fn extends_within_the_file_is_followed() {
        let text = r#"
services:
  base:
    image: x
    privileged: "on"
    volumes: ["/:/host"]
  a:
    extends: base
    volumes: ["/etc:/etc"]
  b:
    extends: {service: a}
  loop1: {extends: loop2, image: y}
  loop2: {extends: loop1}
"#;
        let (doc, _) = read(text, &env()).unwrap();
        let b = &doc["services"]["b"];
        assert_eq!(b["privileged"], "on");
        assert_eq!(b["volumes"].as_array().unwrap().len(), 2);
        assert!(b.get("extends").is_none());
        assert_eq!(doc["services"]["loop2"]["image"], "y");
    }

    #[test]
    fn bad_merges_are_shape_errors() {
        assert!(matches!(
            read("services:\n  s:\n    <<: 3\n", &env()).unwrap_err(),
            ComposeError::Shape { .. }
        ));
    }
}
