//! `expose` entries written as `HOST:CONTAINER`.
//!
//! `expose` opens a container port to the project's other services and never
//! publishes anything on the host, so its format is `PORT[/PROTOCOL]` (or a
//! range). Published extensions write `expose: ["5317:4317"]` all the same
//! (an observability extension's jaeger service does): compose v2 used to
//! take the container port and ignore the rest, which is what such files
//! were tested with; docker-compose v1 refuses the file, and compose v5
//! stops at container creation (`invalid start port '5317:4317'`). dockhand
//! runs them as they ran: the entry becomes its container part (`4317`).
//! A file without such an entry is left exactly as it is.

use serde_norway::Value;

/// The compose file `text` with every `expose` entry of the form
/// `[HOST_IP:]HOST:CONTAINER[/PROTOCOL]` cut to `CONTAINER[/PROTOCOL]`, or
/// `None` when it has none (or does not parse: compose will say why).
/// The rewritten file is YAML with anchors and merge keys resolved, as
/// compose reads them.
pub fn normalize_expose(text: &str) -> Option<String> {
    let mut doc: Value = serde_norway::from_str(text).ok()?;
    doc.apply_merge().ok()?;
    let services = doc.get_mut("services")?.as_mapping_mut()?;
    let mut changed = false;
    for (_, service) in services.iter_mut() {
        let Some(expose) = service
            .as_mapping_mut()
            .and_then(|s| s.get_mut("expose"))
            .and_then(Value::as_sequence_mut)
        else {
            continue;
        };
        for entry in expose.iter_mut() {
            if let Value::String(s) = entry
                && let Some((_, container)) = s.rsplit_once(':')
                && !container.is_empty()
            {
                *entry = Value::String(container.to_owned());
                changed = true;
            }
        }
    }
    if !changed {
        return None;
    }
    serde_norway::to_string(&doc).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expose_of(text: &str, service: &str) -> Vec<String> {
        let v: Value = serde_norway::from_str(text).unwrap();
        v["services"][service]["expose"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|e| match e {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => panic!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn host_parts_of_expose_entries_are_dropped() {
        let text = "services:\n  jaeger:\n    image: j\n    expose:\n    - 5317:4317\n    - \"127.0.0.1:9000:9000/udp\"\n    - '8080'\n    - 9090\n    ports:\n    - 17686:16686\n  db:\n    image: d\n    expose: ['5432']\nvolumes:\n  data: {}\n";
        let out = normalize_expose(text).expect("rewritten");
        assert_eq!(
            expose_of(&out, "jaeger"),
            vec!["4317", "9000/udp", "8080", "9090"]
        );
        assert_eq!(expose_of(&out, "db"), vec!["5432"]);
        // Everything else is kept: ports (a real mapping), other keys.
        let v: Value = serde_norway::from_str(&out).unwrap();
        assert_eq!(v["services"]["jaeger"]["ports"][0], "17686:16686");
        assert!(v["volumes"]["data"].is_mapping());
    }

    #[test]
    fn files_without_such_entries_are_left_alone() {
        for text in [
            "services:\n  a:\n    image: x\n    expose: ['80', 443]\n",
            "services:\n  a:\n    image: x\n",
            "not: [valid",
            "services: 3\n",
        ] {
            assert_eq!(normalize_expose(text), None, "{text}");
        }
    }

    #[test]
    fn anchors_and_merge_keys_are_resolved() {
        let text = "x-common: &common\n  image: x\n  expose: ['1:2']\nservices:\n  a:\n    <<: *common\n    command: [run]\n";
        let out = normalize_expose(text).expect("rewritten");
        let v: Value = serde_norway::from_str(&out).unwrap();
        assert_eq!(v["services"]["a"]["image"], "x");
        assert_eq!(v["services"]["a"]["command"][0], "run");
        assert_eq!(expose_of(&out, "a"), vec!["2"]);
    }
}
