//! The Dockerfile label reader reproduces what `docker build` put into the
//! corpus images' labels, from the LABEL instructions as written.

use std::collections::BTreeMap;

use dockhand_spec::{Labels, labels_from_dockerfile};

use crate::corpus;

#[test]
fn raw_label_instructions_give_the_built_labels() {
    let Some(dir) = corpus::dir("raw_label_instructions_give_the_built_labels") else {
        return;
    };
    let mut checked = 0;
    let mut mismatches = Vec::new();
    for entry in corpus::entries(&dir) {
        let raw = fs_err::read_to_string(entry.join("labels.raw.txt")).expect("labels.raw.txt");
        let built: Labels = serde_json::from_str(
            &fs_err::read_to_string(entry.join("labels.json")).expect("labels.json"),
        )
        .expect("labels.json parses");
        let text = format!("FROM scratch\n{raw}\n");
        let got = labels_from_dockerfile(&text, &BTreeMap::new(), None).expect("parses");
        checked += 1;
        // Labels built from ARGs the raw LABEL lines do not declare cannot match.
        let from_args: Vec<&str> = got
            .unset_variables
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        for (k, v) in built
            .0
            .iter()
            .filter(|(k, _)| !from_args.contains(&k.as_str()))
        {
            if got.labels.get(k) != Some(v.as_str()) {
                mismatches.push(format!(
                    "{}: {k}\n  want {v:?}\n  got  {:?}",
                    corpus::name(&entry),
                    got.labels.get(k)
                ));
            }
        }
    }
    assert_eq!(checked, 41);
    for m in &mismatches {
        eprintln!("{m}");
    }
    assert!(mismatches.is_empty(), "{} mismatches", mismatches.len());
}
