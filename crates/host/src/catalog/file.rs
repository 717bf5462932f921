//! Catalog files: dockhand's JSON format (`docs/catalog.schema.json`) and
//! Docker's `extensions.txt` (`org/repo[:tag]` a line, `#` comments, no tag
//! meaning the newest). Every problem is reported with its line, not only the
//! first.

use std::path::{Path, PathBuf};

use dockhand_oci::Reference;
use dockhand_spec::Category;
use serde_json::value::RawValue;

use super::problem::CatalogProblem;
pub use super::problem::EntryReferenceError;
use crate::line::line_of;

/// One listed extension.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileEntry {
    /// The repository, with the tag and/or digest it is pinned to, if any.
    pub reference: Reference,
    /// Shown instead of the image's labels, when given.
    pub overrides: Overrides,
    /// Its line in the file.
    pub line: usize,
}

/// What a catalog file may say instead of the image's labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    /// `org.opencontainers.image.title`.
    pub title: Option<String>,
    /// `org.opencontainers.image.vendor`.
    pub vendor: Option<String>,
    /// `org.opencontainers.image.description`.
    pub description: Option<String>,
    /// `com.docker.extension.categories`.
    pub categories: Option<Vec<String>>,
}

/// A catalog file, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogFile {
    /// The file.
    pub path: PathBuf,
    /// Its `name`, when it has one (JSON only).
    pub name: Option<String>,
    /// The entries, in file order.
    pub entries: Vec<FileEntry>,
}

/// Why a catalog file cannot be used: every problem, each with its line.
#[derive(Debug, thiserror::Error)]
pub enum CatalogFileError {
    /// The file cannot be read.
    #[error("cannot read the catalog file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Lines are wrong.
    #[error("{}", problems_text(path, problems))]
    Invalid {
        /// The file.
        path: PathBuf,
        /// `(line, problem)`, in file order.
        problems: Vec<(usize, CatalogProblem)>,
    },
}

fn problems_text(path: &Path, problems: &[(usize, CatalogProblem)]) -> String {
    let lines: Vec<String> = problems
        .iter()
        .map(|(line, m)| format!("{}:{line}: {m}", path.display()))
        .collect();
    format!(
        "{}\n{} problem{} in the catalog file {}: fix {} and try again",
        lines.join("\n"),
        problems.len(),
        if problems.len() == 1 { "" } else { "s" },
        path.display(),
        if problems.len() == 1 { "it" } else { "them" },
    )
}

/// The largest catalog file read.
const MAX_FILE_BYTES: u64 = 8 * 1024 * 1024;

impl CatalogFile {
    /// Reads `path`: JSON when it ends in `.json` or starts with `{`, else
    /// `extensions.txt`.
    pub fn read(path: &Path) -> Result<Self, CatalogFileError> {
        let read_err = |source| CatalogFileError::Read {
            path: path.to_path_buf(),
            source,
        };
        let meta = fs_err::metadata(path).map_err(read_err)?;
        if meta.len() > MAX_FILE_BYTES {
            return Err(CatalogFileError::Invalid {
                path: path.to_path_buf(),
                problems: vec![(
                    1,
                    CatalogProblem::TooLarge {
                        limit: MAX_FILE_BYTES,
                    },
                )],
            });
        }
        let text = fs_err::read_to_string(path).map_err(read_err)?;
        Self::parse(path, &text)
    }

    /// Parses `text` as the file `path`.
    pub fn parse(path: &Path, text: &str) -> Result<Self, CatalogFileError> {
        let json =
            path.extension().is_some_and(|e| e == "json") || text.trim_start().starts_with('{');
        let (name, entries, problems) = if json {
            parse_json(text)
        } else {
            let (entries, problems) = parse_txt(text);
            (None, entries, problems)
        };
        if problems.is_empty() {
            Ok(Self {
                path: path.to_path_buf(),
                name,
                entries,
            })
        } else {
            Err(CatalogFileError::Invalid {
                path: path.to_path_buf(),
                problems,
            })
        }
    }
}

/// Parses one reference as catalogs and allow-lists write them.
pub fn parse_reference(raw: &str) -> Result<Reference, EntryReferenceError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(EntryReferenceError::Empty);
    }
    Reference::parse_loose(raw).map_err(|error| EntryReferenceError::Malformed { error })
}

fn parse_txt(text: &str) -> (Vec<FileEntry>, Vec<(usize, CatalogProblem)>) {
    let mut entries: Vec<FileEntry> = Vec::new();
    let mut problems = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let content = line.split('#').next().unwrap_or("").trim();
        if content.is_empty() {
            continue;
        }
        if content.split_whitespace().count() > 1 {
            problems.push((
                line_no,
                CatalogProblem::MoreThanOneWord {
                    content: content.to_owned(),
                },
            ));
            continue;
        }
        match parse_reference(content) {
            Ok(reference) => {
                if let Some(first) = entries.iter().find(|e| e.reference == reference) {
                    problems.push((
                        line_no,
                        CatalogProblem::Duplicate {
                            reference: content.to_owned(),
                            first: first.line,
                        },
                    ));
                    continue;
                }
                entries.push(FileEntry {
                    reference,
                    overrides: Overrides::default(),
                    line: line_no,
                });
            }
            Err(m) => problems.push((line_no, CatalogProblem::Reference(m))),
        }
    }
    (entries, problems)
}

type Parsed = (Option<String>, Vec<FileEntry>, Vec<(usize, CatalogProblem)>);

fn parse_json(text: &str) -> Parsed {
    let mut problems = Vec::new();
    let offset_of = |raw: &RawValue| raw.get().as_ptr() as usize - text.as_ptr() as usize;
    let doc: std::collections::BTreeMap<String, &RawValue> = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            problems.push((e.line().max(1), CatalogProblem::NotJson { error: e }));
            return (None, Vec::new(), problems);
        }
    };
    for (key, value) in &doc {
        if !matches!(key.as_str(), "extensions" | "name" | "$schema" | "version") {
            problems.push((
                line_of(text, offset_of(value)),
                CatalogProblem::UnknownKey { key: key.clone() },
            ));
        }
    }
    let text_of = |key: &str| doc.get(key).map(|r| (r.get(), line_of(text, offset_of(r))));
    if let Some((v, line)) = text_of("version")
        && v.trim() != "1"
    {
        problems.push((
            line,
            CatalogProblem::Version {
                version: v.to_owned(),
            },
        ));
    }
    let name = match text_of("name") {
        None => None,
        Some((v, line)) => match serde_json::from_str::<String>(v) {
            Ok(s) => Some(s),
            Err(_) => {
                problems.push((line, CatalogProblem::NameNotString));
                None
            }
        },
    };
    let Some(list) = doc.get("extensions") else {
        problems.push((1, CatalogProblem::NoExtensions));
        return (name, Vec::new(), problems);
    };
    let items: Vec<&RawValue> = match serde_json::from_str(list.get()) {
        Ok(items) => items,
        Err(_) => {
            problems.push((
                line_of(text, offset_of(list)),
                CatalogProblem::ExtensionsNotArray,
            ));
            return (name, Vec::new(), problems);
        }
    };
    let mut entries: Vec<FileEntry> = Vec::new();
    for item in items {
        let line = line_of(text, offset_of(item));
        match parse_json_entry(text, item, &offset_of) {
            Ok(mut entry) => {
                entry.line = line;
                if let Some(first) = entries.iter().find(|e| e.reference == entry.reference) {
                    problems.push((
                        line,
                        CatalogProblem::Duplicate {
                            reference: entry.reference.to_string(),
                            first: first.line,
                        },
                    ));
                    continue;
                }
                entries.push(entry);
            }
            Err(mut found) => problems.append(&mut found),
        }
    }
    (name, entries, problems)
}

fn parse_json_entry(
    text: &str,
    item: &RawValue,
    offset_of: &dyn Fn(&RawValue) -> usize,
) -> Result<FileEntry, Vec<(usize, CatalogProblem)>> {
    let line = line_of(text, offset_of(item));
    let fields: std::collections::BTreeMap<String, &RawValue> = serde_json::from_str(item.get())
        .map_err(|_| vec![(line, CatalogProblem::EntryNotObject)])?;
    let mut problems = Vec::new();
    let mut reference = None;
    let mut overrides = Overrides::default();
    for (key, value) in &fields {
        let at = line_of(text, offset_of(value));
        let string = || serde_json::from_str::<String>(value.get()).ok();
        match key.as_str() {
            "reference" => match string() {
                Some(s) => match parse_reference(&s) {
                    Ok(r) => reference = Some(r),
                    Err(m) => problems.push((at, CatalogProblem::Reference(m))),
                },
                None => problems.push((
                    at,
                    CatalogProblem::NotString {
                        key: "reference".to_owned(),
                    },
                )),
            },
            "title" | "vendor" | "description" => match string() {
                Some(s) => {
                    let slot = match key.as_str() {
                        "title" => &mut overrides.title,
                        "vendor" => &mut overrides.vendor,
                        _ => &mut overrides.description,
                    };
                    *slot = Some(s);
                }
                None => problems.push((at, CatalogProblem::NotString { key: key.clone() })),
            },
            "categories" => match serde_json::from_str::<Vec<String>>(value.get()) {
                Ok(list) => {
                    for c in &list {
                        if !Category::KNOWN.contains(&c.as_str()) {
                            problems.push((
                                at,
                                CatalogProblem::UnknownCategory {
                                    category: c.clone(),
                                },
                            ));
                        }
                    }
                    overrides.categories = Some(list);
                }
                Err(_) => problems.push((at, CatalogProblem::CategoriesNotStrings)),
            },
            other => problems.push((
                at,
                CatalogProblem::UnknownEntryKey {
                    key: other.to_owned(),
                },
            )),
        }
    }
    match reference {
        Some(reference) if problems.is_empty() => Ok(FileEntry {
            reference,
            overrides,
            line,
        }),
        None if !fields.contains_key("reference") => {
            problems.push((line, CatalogProblem::NoReference));
            Err(problems)
        }
        _ => Err(problems),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Why the file `path` with `text` is refused, and the line of each
    /// problem in the order reported.
    fn refused(path: &str, text: &str) -> (CatalogFileError, Vec<usize>) {
        let e = CatalogFile::parse(Path::new(path), text).unwrap_err();
        let CatalogFileError::Invalid { problems, .. } = &e else {
            panic!("{e}")
        };
        let lines = problems.iter().map(|p| p.0).collect();
        (e, lines)
    }

    #[test]
    fn extensions_txt() {
        let f = CatalogFile::parse(
            Path::new("extensions.txt"),
            "# approved\nacme/ext\n\n  acme/other:1.2.0  # pinned\n127.0.0.1:5000/x/y@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
        )
        .unwrap();
        assert_eq!(f.entries.len(), 3);
        assert_eq!(f.entries[0].reference.to_string(), "docker.io/acme/ext");
        assert_eq!(f.entries[1].reference.tag(), Some("1.2.0"));
        assert_eq!(f.entries[1].line, 4);
        assert!(f.entries[2].reference.digest().is_some());
    }

    #[test]
    fn every_bad_line_is_reported() {
        let (e, lines) = refused(
            "/c/extensions.txt",
            "acme/ext\nAcme/Bad\nacme/ext\nacme/x:bad tag\nacme/y@sha256:12\n",
        );
        assert_eq!(lines, [2, 3, 4, 5], "{e}");
        assert!(
            e.to_string()
                .contains("/c/extensions.txt:3: `acme/ext` is listed already on line 1")
        );
    }

    #[test]
    fn json_entries_and_lines() {
        let text = r#"{
  "name": "Team",
  "extensions": [
    {"reference": "127.0.0.1:5000/acme/ext"},
    {
      "reference": "acme/other:1.0.0",
      "title": "Other",
      "categories": ["utility-tools"]
    }
  ]
}"#;
        let f = CatalogFile::parse(Path::new("team.json"), text).unwrap();
        assert_eq!(f.name.as_deref(), Some("Team"));
        assert_eq!(f.entries[0].line, 4);
        assert_eq!(f.entries[1].line, 5);
        assert_eq!(f.entries[1].overrides.title.as_deref(), Some("Other"));
    }

    #[test]
    fn json_problems_each_with_a_line() {
        let text = r#"{
  "extensions": [
    {"reference": "acme/ok"},
    {"reference": "NOT OK"},
    {"title": "no reference"},
    {"reference": "acme/c", "categories": ["nope"]},
    {"reference": "acme/d",
     "colour": "blue"},
    "acme/e"
  ],
  "extra": 1
}"#;
        let (e, mut lines) = refused("t.json", text);
        lines.sort();
        assert_eq!(lines, [4, 5, 6, 8, 9, 11], "{e}");
    }

    #[test]
    fn the_json_schema_matches_the_parser() {
        let schema: serde_json::Value =
            serde_json::from_str(include_str!("../../../../docs/catalog.schema.json")).unwrap();
        let entry = &schema["$defs"]["entry"]["properties"];
        let keys: Vec<&str> = entry
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            ["reference", "title", "vendor", "description", "categories"]
        );
        let categories: Vec<&str> = entry["categories"]["items"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(categories, Category::KNOWN);
    }

    #[test]
    fn json_syntax_error_has_a_line() {
        let e = CatalogFile::parse(
            Path::new("t.json"),
            "{\n  \"extensions\": [\n    {,}\n  ]\n}",
        )
        .unwrap_err();
        assert!(
            e.to_string().starts_with("t.json:3: not a JSON object"),
            "{e}"
        );
    }
}
