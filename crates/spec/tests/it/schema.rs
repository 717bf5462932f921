//! `docs/metadata.schema.json` and the typed model (`Metadata::from_slice`)
//! accept exactly the same documents: every corpus metadata.json, a table of
//! hostile documents, and every mutation of a document that sets every field.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dockhand_spec::Metadata;
use jsonschema::Validator;
use serde_json::{Value, json};

use crate::corpus;

fn schema_path() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/metadata.schema.json")
}

fn schema() -> Value {
    let text = fs_err::read_to_string(schema_path()).expect("docs/metadata.schema.json reads");
    serde_json::from_str(&text).expect("docs/metadata.schema.json is valid JSON")
}

fn validator() -> Validator {
    jsonschema::validator_for(&schema()).expect("the schema compiles against its metaschema")
}

/// Whether the schema and the model agree on `text`; on disagreement, a
/// report naming the document and what each side said.
fn disagreement(v: &Validator, name: &str, text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let json = std::str::from_utf8(bytes)
        .ok()
        .map(|t| t.strip_prefix('\u{feff}').unwrap_or(t))
        .and_then(|t| serde_json::from_str::<Value>(t).ok());
    let Some(json) = json else {
        return Some(format!("{name}: not JSON at all:\n{text}"));
    };
    let schema_ok = v.is_valid(&json);
    let model = Metadata::from_slice(bytes);
    if schema_ok == model.is_ok() {
        return None;
    }
    let schema_errors: Vec<String> = v
        .iter_errors(&json)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    Some(format!(
        "{name}: schema says {}, Metadata::from_slice says {}\n  document: {}\n  schema errors: {schema_errors:?}\n  model: {:?}",
        if schema_ok { "valid" } else { "invalid" },
        if model.is_ok() { "valid" } else { "invalid" },
        serde_json::to_string(&json).expect("serializes"),
        model.err(),
    ))
}

#[test]
fn schema_file_is_a_draft_2020_12_schema() {
    let s = schema();
    assert_eq!(
        s["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "$schema names draft 2020-12"
    );
    assert!(
        s["$id"]
            .as_str()
            .is_some_and(|id| id.ends_with("metadata.schema.json"))
    );
    assert!(s["title"].as_str().is_some_and(|t| !t.is_empty()));
    // Compiles, which also validates it against the 2020-12 metaschema.
    let v = validator();
    // Unknown fields are kept by the model, so nothing may forbid them.
    fn no_closed_objects(v: &Value, at: &str) {
        match v {
            Value::Object(map) => {
                for key in ["additionalProperties", "unevaluatedProperties"] {
                    assert!(
                        map.get(key) != Some(&Value::Bool(false)),
                        "{key}: false at {at}"
                    );
                }
                for (k, child) in map {
                    no_closed_objects(child, &format!("{at}/{k}"));
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    no_closed_objects(child, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }
    no_closed_objects(&s, "");
    // Its own examples are valid metadata.json files.
    for ex in s["examples"].as_array().expect("examples") {
        assert!(v.is_valid(ex));
        Metadata::from_value(ex.clone()).expect("example parses");
    }
}

#[test]
fn every_corpus_metadata_is_accepted_by_both() {
    let Some(dir) = corpus::dir("every_corpus_metadata_is_accepted_by_both") else {
        return;
    };
    let v = validator();
    let mut checked = 0;
    let mut failures = Vec::new();
    for entry in corpus::entries(&dir) {
        let name = corpus::name(&entry);
        let bytes = fs_err::read(entry.join("metadata.json")).expect("metadata.json reads");
        let text = String::from_utf8(bytes).expect("corpus metadata.json is UTF-8");
        let json: Value = serde_json::from_str(text.trim_start_matches('\u{feff}'))
            .expect("corpus metadata.json is JSON");
        if !v.is_valid(&json) {
            let errors: Vec<String> = v.iter_errors(&json).map(|e| e.to_string()).collect();
            failures.push(format!("{name}: schema rejects it: {errors:?}"));
        }
        if let Err(e) = Metadata::from_slice(text.as_bytes()) {
            failures.push(format!("{name}: Metadata::from_slice rejects it: {e}"));
        }
        checked += 1;
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert_eq!(checked, 41);
}

/// `(what, document, accepted)`: hostile and edge-case documents, with what
/// both the schema and the model must say about each.
const TABLE: &[(&str, &str, bool)] = &[
    ("empty object", "{}", true),
    ("top-level array", "[]", false),
    (
        "top-level array of an object",
        r#"[{"icon":"a.svg"}]"#,
        false,
    ),
    ("top-level null", "null", false),
    ("top-level string", r#""metadata""#, false),
    ("top-level number", "42", false),
    ("icon a number", r#"{"icon": 1}"#, false),
    ("icon an object", r#"{"icon": {"path": "a.svg"}}"#, false),
    ("icon null", r#"{"icon": null}"#, true),
    ("icon empty", r#"{"icon": ""}"#, true),
    ("ui a string", r#"{"ui": "ui"}"#, false),
    ("ui an array", r#"{"ui": []}"#, false),
    ("ui null", r#"{"ui": null}"#, true),
    ("ui empty", r#"{"ui": {}}"#, true),
    (
        "dashboard-tab without title",
        r#"{"ui": {"dashboard-tab": {"root": "/ui", "src": "index.html"}}}"#,
        false,
    ),
    (
        "dashboard-tab without root",
        r#"{"ui": {"dashboard-tab": {"title": "T", "src": "index.html"}}}"#,
        false,
    ),
    (
        "dashboard-tab without src",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": "/ui"}}}"#,
        false,
    ),
    (
        "dashboard-tab empty",
        r#"{"ui": {"dashboard-tab": {}}}"#,
        false,
    ),
    (
        "dashboard-tab null",
        r#"{"ui": {"dashboard-tab": null}}"#,
        true,
    ),
    (
        "dashboard-tab as a sequence",
        r#"{"ui": {"dashboard-tab": ["T", "/ui", "index.html"]}}"#,
        false,
    ),
    (
        "title null",
        r#"{"ui": {"dashboard-tab": {"title": null, "root": "/ui", "src": "index.html"}}}"#,
        false,
    ),
    (
        "title a number",
        r#"{"ui": {"dashboard-tab": {"title": 7, "root": "/ui", "src": "index.html"}}}"#,
        false,
    ),
    (
        "root an array",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": ["/ui"], "src": "index.html"}}}"#,
        false,
    ),
    (
        "src a bool",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": "/ui", "src": true}}}"#,
        false,
    ),
    (
        "empty tab strings (a validation error, not a shape error)",
        r#"{"ui": {"dashboard-tab": {"title": "", "root": "", "src": ""}}}"#,
        true,
    ),
    (
        "legacy backend socket a number",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": "/ui", "src": "i.html", "backend": {"socket": 1}}}}"#,
        false,
    ),
    (
        "legacy backend a string",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": "/ui", "src": "i.html", "backend": "b.sock"}}}"#,
        false,
    ),
    (
        "legacy backend tcp a number",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": "/ui", "src": "i.html", "backend": {"tcp": 9000}}}}"#,
        true,
    ),
    (
        "legacy backend tcp an object",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": "/ui", "src": "i.html", "backend": {"tcp": {"port": 9000}}}}}"#,
        true,
    ),
    (
        "legacy backend null members",
        r#"{"ui": {"dashboard-tab": {"title": "T", "root": "/ui", "src": "i.html", "backend": {"socket": null, "tcp": null}}}}"#,
        true,
    ),
    ("vm a string", r#"{"vm": "${DESKTOP_PLUGIN_IMAGE}"}"#, false),
    ("vm empty (DH120, not a shape error)", r#"{"vm": {}}"#, true),
    ("vm null", r#"{"vm": null}"#, true),
    (
        "vm with image and composefile (DH125, not a shape error)",
        r#"{"vm": {"image": "a", "composefile": "c.yaml"}}"#,
        true,
    ),
    ("vm.image a number", r#"{"vm": {"image": 3}}"#, false),
    (
        "vm.composefile an array",
        r#"{"vm": {"composefile": ["a.yaml", "b.yaml"]}}"#,
        false,
    ),
    (
        "vm.exposes a string",
        r#"{"vm": {"image": "a", "exposes": "ext.sock"}}"#,
        false,
    ),
    (
        "vm.exposes.socket an array",
        r#"{"vm": {"image": "a", "exposes": {"socket": ["ext.sock"]}}}"#,
        false,
    ),
    (
        "vm members null",
        r#"{"vm": {"image": null, "composefile": null, "exposes": {"socket": null}}}"#,
        true,
    ),
    ("host a list", r#"{"host": [{"linux": []}]}"#, false),
    ("host empty", r#"{"host": {}}"#, true),
    ("host null", r#"{"host": null}"#, true),
    (
        "host.binaries an object instead of an array",
        r#"{"host": {"binaries": {"linux": [{"path": "/linux/tool"}]}}}"#,
        false,
    ),
    (
        "host.binaries null",
        r#"{"host": {"binaries": null}}"#,
        true,
    ),
    ("host.binaries empty", r#"{"host": {"binaries": []}}"#, true),
    (
        "host.binaries item null",
        r#"{"host": {"binaries": [null]}}"#,
        false,
    ),
    (
        "host.binaries item a string",
        r#"{"host": {"binaries": ["/linux/tool"]}}"#,
        false,
    ),
    (
        "host.binaries item empty",
        r#"{"host": {"binaries": [{}]}}"#,
        true,
    ),
    (
        "linux an object instead of an array",
        r#"{"host": {"binaries": [{"linux": {"path": "/linux/tool"}}]}}"#,
        false,
    ),
    (
        "linux null",
        r#"{"host": {"binaries": [{"linux": null, "darwin": null, "windows": null}]}}"#,
        true,
    ),
    (
        "binary entry a bare string",
        r#"{"host": {"binaries": [{"linux": ["/linux/tool"]}]}}"#,
        false,
    ),
    (
        "binary path a number",
        r#"{"host": {"binaries": [{"darwin": [{"path": 1}]}]}}"#,
        false,
    ),
    (
        "binary path null",
        r#"{"host": {"binaries": [{"windows": [{"path": null}]}]}}"#,
        false,
    ),
    (
        "binary path missing",
        r#"{"host": {"binaries": [{"linux": [{"name": "tool"}]}]}}"#,
        false,
    ),
    (
        "unknown OS key of any shape (DH132)",
        r#"{"host": {"binaries": [{"freebsd": 12, "linux": [{"path": "/l"}]}]}}"#,
        true,
    ),
    (
        "pre-GA name and provider",
        r#"{"name": "x", "provider": "y", "ui": {"dashboard-tab": {"title": "T", "root": "ui", "src": "index.html"}}}"#,
        true,
    ),
    (
        "misspelt and differently cased known fields are unknown fields",
        r#"{"UI": 5, "Icon": [], "ui": {"dashboard_tab": "x"}, "vm": {"Image": 1}}"#,
        true,
    ),
    (
        "unknown fields at every level",
        r#"{
            "x": {"deep": [1, null]},
            "ui": {"x": 1, "dashboard-tab": {"title": "T", "root": "/ui", "src": "i.html", "x": null,
                   "backend": {"socket": "s.sock", "x": false}}},
            "vm": {"image": "i", "x": [], "exposes": {"socket": "s.sock", "x": "y"}},
            "host": {"x": 2, "binaries": [{"x": {}, "linux": [{"path": "/l", "x": 1, "mode": "0755"}]}]}
        }"#,
        true,
    ),
];

#[test]
fn schema_and_model_agree_on_hostile_documents() {
    let v = validator();
    let mut failures = Vec::new();
    for (name, text, accepted) in TABLE {
        if let Some(d) = disagreement(&v, name, text) {
            failures.push(d);
            continue;
        }
        let model_ok = Metadata::from_slice(text.as_bytes()).is_ok();
        if model_ok != *accepted {
            failures.push(format!(
                "{name}: both say {}, the table expects {}\n  document: {text}",
                if model_ok { "valid" } else { "invalid" },
                if *accepted { "valid" } else { "invalid" },
            ));
        }
    }
    assert!(TABLE.len() >= 15);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A document that sets every field the model knows, each array with one item.
fn full_document() -> Value {
    json!({
        "icon": "docker.svg",
        "ui": {"dashboard-tab": {
            "title": "My Ext", "root": "/ui", "src": "index.html",
            "backend": {"socket": "ext.sock", "tcp": "9000"}
        }},
        "vm": {
            "image": "${DESKTOP_PLUGIN_IMAGE}", "composefile": "docker-compose.yaml",
            "exposes": {"socket": "ext.sock"}
        },
        "host": {"binaries": [{
            "darwin": [{"path": "/darwin/tool"}],
            "windows": [{"path": "/windows/tool.exe"}],
            "linux": [{"path": "/linux/tool"}]
        }]}
    })
}

/// Field paths of a document: `/ui/dashboard-tab/title`, `/host/binaries/*`.
fn document_paths(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let p = format!("{at}/{k}");
                out.insert(p.clone());
                document_paths(child, &p, out);
            }
        }
        Value::Array(items) => {
            let p = format!("{at}/*");
            out.insert(p.clone());
            for child in items {
                document_paths(child, &p, out);
            }
        }
        _ => {}
    }
}

/// Field paths the schema describes, following `$ref`s into `$defs`.
fn schema_paths(root: &Value, node: &Value, at: &str, out: &mut BTreeSet<String>) {
    if let Some(r) = node.get("$ref").and_then(Value::as_str) {
        let target = root
            .pointer(r.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("$ref {r} resolves"));
        schema_paths(root, target, at, out);
    }
    if let Some(props) = node.get("properties").and_then(Value::as_object) {
        for (k, child) in props {
            let p = format!("{at}/{k}");
            out.insert(p.clone());
            schema_paths(root, child, &p, out);
        }
    }
    if let Some(items) = node.get("items") {
        let p = format!("{at}/*");
        out.insert(p.clone());
        schema_paths(root, items, &p, out);
    }
}

#[test]
fn schema_describes_exactly_the_fields_of_the_model() {
    let doc = full_document();
    let meta = Metadata::from_value(doc.clone()).expect("the full document parses");
    assert_eq!(
        meta.unknown_fields(),
        Vec::<String>::new(),
        "every field of the full document is known to the model"
    );
    // The model writes back every field it knows.
    assert_eq!(serde_json::to_value(&meta).expect("serializes"), doc);
    let mut from_doc = BTreeSet::new();
    document_paths(&doc, "", &mut from_doc);
    let s = schema();
    let mut from_schema = BTreeSet::new();
    schema_paths(&s, &s, "", &mut from_schema);
    assert_eq!(from_schema, from_doc);
}

/// Every way to break one value of `doc`: remove it, null it, give it each
/// JSON type, add an unknown member to an object.
fn mutations(doc: &Value) -> Vec<(String, Value)> {
    let replacements = [
        json!(null),
        json!(true),
        json!(1),
        json!(-2.5),
        json!("s"),
        json!(""),
        json!([]),
        json!(["s"]),
        json!({}),
        json!({"path": "/p"}),
    ];
    let mut pointers = Vec::new();
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, child) in map {
                    let p = format!("{at}/{k}");
                    out.push(p.clone());
                    walk(child, p, out);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let p = format!("{at}/{i}");
                    out.push(p.clone());
                    walk(child, p, out);
                }
            }
            _ => {}
        }
    }
    walk(doc, String::new(), &mut pointers);
    let mut out = Vec::new();
    for p in &pointers {
        let (parent, last) = p.rsplit_once('/').expect("pointer has a parent");
        let mut removed = doc.clone();
        match removed.pointer_mut(parent).expect("parent exists") {
            Value::Object(m) => {
                m.remove(last);
            }
            Value::Array(a) => {
                a.remove(last.parse::<usize>().expect("index"));
            }
            _ => unreachable!(),
        }
        out.push((format!("remove {p}"), removed));
        for r in &replacements {
            let mut changed = doc.clone();
            *changed.pointer_mut(p).expect("pointer exists") = r.clone();
            out.push((format!("{p} = {r}"), changed));
        }
    }
    for p in std::iter::once(String::new()).chain(pointers) {
        let mut extended = doc.clone();
        if let Some(Value::Object(m)) = extended.pointer_mut(&p) {
            m.insert("x-unknown".to_owned(), json!({"any": [1, null]}));
            out.push((format!("unknown member in {p:?}"), extended));
        }
    }
    out
}

#[test]
fn schema_and_model_agree_on_every_mutation_of_a_full_document() {
    let v = validator();
    let docs = [
        full_document(),
        json!({"host": {"binaries": [{"linux": [{"path": "/l"}]}, {"windows": [{"path": "/w"}]}]}}),
    ];
    let mut failures = Vec::new();
    let mut checked = 0;
    for doc in &docs {
        for (what, changed) in mutations(doc) {
            let text = serde_json::to_string(&changed).expect("serializes");
            if let Some(d) = disagreement(&v, &what, &text) {
                failures.push(d);
            }
            checked += 1;
        }
    }
    assert!(checked > 200, "only {checked} mutations");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
