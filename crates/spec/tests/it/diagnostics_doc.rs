//! `docs/diagnostics.md` lists every diagnostic code with its exact title and
//! severity, under its group, and names no code that does not exist.

use std::collections::BTreeSet;
use std::path::PathBuf;

use dockhand_spec::{Class, Code};

fn doc() -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/diagnostics.md");
    fs_err::read_to_string(path).expect("docs/diagnostics.md reads")
}

/// Every `DHnnn` (exactly three digits, not part of a longer word) in `text`.
fn mentioned_codes(text: &str) -> BTreeSet<u16> {
    let bytes = text.as_bytes();
    let mut out = BTreeSet::new();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for (i, _) in text.match_indices("DH") {
        let digits = &bytes[i + 2..(i + 5).min(bytes.len())];
        let before_ok = i == 0 || !word(bytes[i - 1]);
        let after_ok = bytes.get(i + 5).is_none_or(|b| !b.is_ascii_digit());
        if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) && before_ok && after_ok {
            let n = std::str::from_utf8(digits)
                .ok()
                .and_then(|d| d.parse().ok())
                .expect("three digits");
            out.insert(n);
        }
    }
    out
}

/// One `### DHnnn — title` entry: its group digit, title and severity line.
#[derive(Debug)]
struct Entry {
    number: u16,
    group: Option<char>,
    title: String,
    severity: Option<String>,
}

fn entries(text: &str) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut group = None;
    for line in text.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            // `## DH1xx — metadata.json fields`
            group = h.strip_prefix("DH").and_then(|g| g.chars().next());
        } else if let Some(h) = line.strip_prefix("### DH") {
            let (num, title) = h
                .split_once(" — ")
                .unwrap_or_else(|| panic!("heading `{line}` is `### DHnnn — title`"));
            out.push(Entry {
                number: num
                    .parse()
                    .unwrap_or_else(|_| panic!("heading `{line}` has a number")),
                group,
                title: title.to_owned(),
                severity: None,
            });
        } else if let Some(sev) = line.strip_prefix("- **Severity:** ") {
            let entry = out.last_mut().expect("a severity line follows a heading");
            assert!(
                entry.severity.is_none(),
                "DH{:03} has two severity lines",
                entry.number
            );
            entry.severity = Some(sev.trim().to_owned());
        }
    }
    out
}

#[test]
fn every_code_is_documented_with_its_title_and_severity() {
    let text = doc();
    let entries = entries(&text);
    let mut problems = Vec::new();
    for code in Code::ALL {
        let found: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.number == code.number())
            .collect();
        let [entry] = found.as_slice() else {
            problems.push(format!("{code}: {} headings, want 1", found.len()));
            continue;
        };
        if entry.title != code.title() {
            problems.push(format!(
                "{code}: title `{}`, want `{}`",
                entry.title,
                code.title()
            ));
        }
        if entry.severity.as_deref() != Some(code.severity().as_str()) {
            problems.push(format!(
                "{code}: severity {:?}, want {}",
                entry.severity,
                code.severity().as_str()
            ));
        }
        let want_group = char::from(b'0' + (code.number() / 100) as u8);
        if entry.group != Some(want_group) {
            problems.push(format!(
                "{code}: under group DH{:?}xx, want DH{want_group}xx",
                entry.group
            ));
        }
    }
    let numbers: Vec<u16> = entries.iter().map(|e| e.number).collect();
    let mut sorted = numbers.clone();
    sorted.sort_unstable();
    if numbers != sorted {
        problems.push(format!("entries are not in number order: {numbers:?}"));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_doc_names_no_code_that_does_not_exist() {
    let text = doc();
    let known: BTreeSet<u16> = Code::ALL.iter().map(|c| c.number()).collect();
    let unknown: Vec<String> = mentioned_codes(&text)
        .difference(&known)
        .map(|n| format!("DH{n:03}"))
        .collect();
    assert!(unknown.is_empty(), "unknown codes in the doc: {unknown:?}");
    // The schema's descriptions refer to codes too.
    let schema = fs_err::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/metadata.schema.json"),
    )
    .expect("docs/metadata.schema.json reads");
    let unknown: Vec<u16> = mentioned_codes(&schema)
        .difference(&known)
        .copied()
        .collect();
    assert!(
        unknown.is_empty(),
        "unknown codes in the schema: {unknown:?}"
    );
    // Headings too, which the scan above already covers; this keeps the
    // heading parser honest.
    for e in entries(&text) {
        assert!(known.contains(&e.number), "heading DH{:03}", e.number);
    }
}

#[test]
fn the_class_table_lists_the_codes_of_each_class() {
    let text = doc();
    let row = |class: Class| {
        let start = format!("| {} | ", class.as_str());
        let line = text
            .lines()
            .find(|l| l.starts_with(&start))
            .unwrap_or_else(|| panic!("a `{start}` row in the class table"));
        // The codes cell only: the others name codes as examples.
        let cell = line.split(" | ").nth(1).expect("a codes cell");
        mentioned_codes(cell)
    };
    let of = |class: Class| -> BTreeSet<u16> {
        Code::ALL
            .iter()
            .filter(|c| c.class() == class)
            .map(|c| c.number())
            .collect()
    };
    assert_eq!(row(Class::Marketplace), of(Class::Marketplace));
    assert_eq!(row(Class::ApiVersion), of(Class::ApiVersion));
    // Format: every code outside DH2xx, and those the row names inside it.
    let named = row(Class::Format);
    let format_in_2xx: BTreeSet<u16> = of(Class::Format)
        .into_iter()
        .filter(|n| n / 100 == 2)
        .collect();
    assert_eq!(named, format_in_2xx);
    assert!(
        of(Class::Format)
            .iter()
            .all(|n| n / 100 != 2 || named.contains(n))
    );
}

#[test]
fn the_code_scanner_finds_codes_and_only_codes() {
    let found = mentioned_codes("DH001, (DH120) DH0xx xDH101 DH1234 `DH404`.");
    assert_eq!(found, BTreeSet::from([1, 120, 404]));
}
