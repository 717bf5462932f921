//! Image labels as a Dockerfile sets them: the `LABEL` instructions of the
//! final build stage (or a named one), with the builder's quote removal and
//! `ARG`/`ENV` expansion.
//!
//! This follows the classic builder's word rules: inside double quotes a
//! backslash escapes only `"`, `$` and the escape character (so `\/` and `\v`
//! stay as written); outside quotes it escapes any character; single quotes
//! are literal. Continuation lines keep their indentation. Labels and `ENV`
//! are inherited from an earlier stage named in `FROM`; global `ARG`s are
//! visible in a stage only when it declares them again.

use std::collections::BTreeMap;

use crate::labels::Labels;

/// What the final (or chosen) stage sets.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DockerfileLabels {
    /// The labels, last one wins.
    pub labels: Labels,
    /// The stage's base (`FROM` image or earlier stage name).
    pub base: String,
    /// Label keys set more than once (the later value won).
    pub duplicates: Vec<String>,
    /// Variables a label used that had no value (expanded to empty), with the label.
    pub unset_variables: Vec<(String, String)>,
}

/// Why labels could not be read from a Dockerfile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DockerfileError {
    /// No `FROM` instruction.
    #[error("the Dockerfile has no FROM instruction")]
    NoStage,
    /// The requested stage does not exist.
    #[error("the Dockerfile has no stage named `{0}`")]
    NoSuchStage(String),
    /// A malformed instruction.
    #[error("line {line}: {message}")]
    Instruction {
        /// 1-based line where the instruction starts.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

#[derive(Debug, Clone, Default)]
struct Stage {
    name: Option<String>,
    base: String,
    env: BTreeMap<String, String>,
    args: BTreeMap<String, Option<String>>,
    labels: BTreeMap<String, String>,
    duplicates: Vec<String>,
    unset: Vec<(String, String)>,
}

impl Stage {
    fn lookup(&self, key: &str) -> Option<String> {
        self.env
            .get(key)
            .cloned()
            .or_else(|| self.args.get(key).cloned().flatten())
    }
}

/// Reads the labels of the final stage, or of `target` when given.
/// `build_args` play the part of `--build-arg`.
pub fn labels_from_dockerfile(
    text: &str,
    build_args: &BTreeMap<String, String>,
    target: Option<&str>,
) -> Result<DockerfileLabels, DockerfileError> {
    let escape = escape_directive(text);
    let mut global_args: BTreeMap<String, Option<String>> = BTreeMap::new();
    let mut stages: Vec<Stage> = Vec::new();
    for (line, instruction, rest) in logical_lines(text, escape) {
        let err = |message: String| DockerfileError::Instruction { line, message };
        match instruction.as_str() {
            "FROM" => {
                let words: Vec<String> = split_words(&rest, escape)
                    .into_iter()
                    .filter(|w| !w.starts_with("--"))
                    .collect();
                let Some(image) = words.first() else {
                    return Err(err("FROM needs an image".to_owned()));
                };
                let global_lookup = |k: &str| global_args.get(k).cloned().flatten();
                let (base, _) = process_word(image, escape, &global_lookup);
                let name = match (words.get(1), words.get(2)) {
                    (Some(kw), Some(n)) if kw.eq_ignore_ascii_case("as") => Some(n.to_lowercase()),
                    _ => None,
                };
                let parent = stages
                    .iter()
                    .find(|s| s.name.as_deref() == Some(&base.to_lowercase()));
                let mut stage = Stage {
                    name,
                    base: base.clone(),
                    ..Default::default()
                };
                if let Some(parent) = parent {
                    stage.env = parent.env.clone();
                    stage.labels = parent.labels.clone();
                    stage.unset = parent.unset.clone();
                }
                stages.push(stage);
            }
            "ARG" => {
                for word in split_words(&rest, escape) {
                    let (name, default) = match word.split_once('=') {
                        Some((n, d)) => (n.to_owned(), Some(d.to_owned())),
                        None => (word.clone(), None),
                    };
                    let current = stages.last();
                    let lookup = |k: &str| match current {
                        Some(stage) => stage.lookup(k),
                        None => global_args.get(k).cloned().flatten(),
                    };
                    let default = default.map(|d| process_word(&d, escape, &lookup).0);
                    // A stage re-declaring a global ARG gets its value.
                    let inherited = current.and_then(|_| global_args.get(&name).cloned().flatten());
                    let value = build_args.get(&name).cloned().or(default).or(inherited);
                    match stages.last_mut() {
                        Some(stage) => {
                            stage.args.insert(name, value);
                        }
                        None => {
                            global_args.insert(name, value);
                        }
                    }
                }
            }
            "ENV" => {
                let Some(stage) = stages.last_mut() else {
                    return Err(err("ENV before the first FROM".to_owned()));
                };
                for (k, v) in name_values(&rest, escape).map_err(err)? {
                    let lookup = |key: &str| stage.lookup(key);
                    let key = process_word(&k, escape, &lookup).0;
                    let value = process_word(&v, escape, &lookup).0;
                    stage.env.insert(key, value);
                }
            }
            "LABEL" => {
                let Some(stage) = stages.last_mut() else {
                    return Err(err("LABEL before the first FROM".to_owned()));
                };
                for (k, v) in name_values(&rest, escape).map_err(err)? {
                    let lookup = |key: &str| stage.lookup(key);
                    let (key, _) = process_word(&k, escape, &lookup);
                    let (value, unset) = process_word(&v, escape, &lookup);
                    for var in unset {
                        stage.unset.push((key.clone(), var));
                    }
                    if stage.labels.insert(key.clone(), value).is_some() {
                        stage.duplicates.push(key);
                    }
                }
            }
            _ => {}
        }
    }
    let stage = match target {
        Some(t) => stages
            .into_iter()
            .find(|s| s.name.as_deref() == Some(&t.to_lowercase()))
            .ok_or_else(|| DockerfileError::NoSuchStage(t.to_owned()))?,
        None => stages.pop().ok_or(DockerfileError::NoStage)?,
    };
    Ok(DockerfileLabels {
        labels: Labels(stage.labels),
        base: stage.base,
        duplicates: stage.duplicates,
        unset_variables: stage.unset,
    })
}

/// The `# escape=` parser directive, `\` by default.
fn escape_directive(text: &str) -> char {
    for line in text.lines() {
        let t = line.trim();
        let Some(directive) = t.strip_prefix('#') else {
            break;
        };
        let directive = directive.trim();
        if let Some((k, v)) = directive.split_once('=') {
            if k.trim().eq_ignore_ascii_case("escape") {
                return v.trim().chars().next().unwrap_or('\\');
            }
            continue;
        }
        break;
    }
    '\\'
}

/// Joins continuation lines and drops comments: `(first line, INSTRUCTION, rest)`.
fn logical_lines(text: &str, escape: char) -> Vec<(usize, String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(usize, String)> = None;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.strip_suffix('\r').unwrap_or(raw);
        let trimmed = line.trim_start();
        if trimmed.starts_with('#') {
            continue;
        }
        if current.is_none() && trimmed.is_empty() {
            continue;
        }
        let (body, continues) = strip_continuation(line, escape);
        match &mut current {
            // An empty line inside a continued instruction is dropped; a line
            // of white space ending in the escape keeps its white space.
            Some(_) if trimmed.is_empty() => {}
            Some((_, buf)) => buf.push_str(body),
            None => current = Some((i + 1, body.trim_start().to_owned())),
        }
        if !continues && let Some((n, buf)) = current.take() {
            push_instruction(&mut out, n, &buf);
        }
    }
    if let Some((n, buf)) = current.take() {
        push_instruction(&mut out, n, &buf);
    }
    out
}

fn push_instruction(out: &mut Vec<(usize, String, String)>, line: usize, buf: &str) {
    let buf = buf.trim();
    if buf.is_empty() {
        return;
    }
    let (word, rest) = buf.split_once(char::is_whitespace).unwrap_or((buf, ""));
    out.push((line, word.to_uppercase(), rest.trim_start().to_owned()));
}

/// `(line without the trailing escape, whether it continues)`.
fn strip_continuation(line: &str, escape: char) -> (&str, bool) {
    let t = line.trim_end_matches([' ', '\t']);
    match t.strip_suffix(escape) {
        Some(body) => (body, true),
        None => (line, false),
    }
}

/// Splits on white space outside quotes, keeping quotes and escapes in the words.
fn split_words(s: &str, escape: char) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == escape && quote != Some('\'') {
            word.push(c);
            if let Some(next) = chars.next() {
                word.push(next);
            }
            continue;
        }
        match quote {
            Some(q) if c == q => {
                quote = None;
                word.push(c);
            }
            Some(_) => word.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                word.push(c);
            }
            None if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            None => word.push(c),
        }
    }
    if !word.is_empty() {
        words.push(word);
    }
    words
}

/// `k=v k2=v2`, or the legacy `k value with spaces`.
fn name_values(rest: &str, escape: char) -> Result<Vec<(String, String)>, String> {
    let words = split_words(rest, escape);
    let Some(first) = words.first() else {
        return Err("the instruction needs at least one key=value pair".to_owned());
    };
    if !first.contains('=') {
        let (key, value) = rest
            .trim()
            .split_once(char::is_whitespace)
            .ok_or_else(|| format!("`{first}` has no value: write {first}=VALUE"))?;
        return Ok(vec![(key.to_owned(), value.trim().to_owned())]);
    }
    words
        .iter()
        .map(|w| {
            w.split_once('=')
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .ok_or_else(|| format!("`{w}` is not a key=value pair"))
        })
        .collect()
}

/// Quote removal and variable expansion of one word. Returns the value and
/// the names of variables that had no value.
fn process_word(
    word: &str,
    escape: char,
    lookup: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<String>) {
    let mut out = String::new();
    let mut unset = Vec::new();
    let chars: Vec<char> = word.chars().collect();
    let mut i = 0;
    let mut quote: Option<char> = None;
    while i < chars.len() {
        let c = chars[i];
        match quote {
            Some('\'') => {
                if c == '\'' {
                    quote = None;
                } else {
                    out.push(c);
                }
                i += 1;
            }
            Some(_) => {
                if c == '"' {
                    quote = None;
                    i += 1;
                } else if c == escape {
                    match chars.get(i + 1) {
                        Some(&n) if n == '"' || n == '$' || n == escape => {
                            out.push(n);
                            i += 2;
                        }
                        Some(_) => {
                            out.push(c);
                            i += 1;
                        }
                        None => i += 1,
                    }
                } else if c == '$' {
                    i = expand(&chars, i, lookup, &mut out, &mut unset);
                } else {
                    out.push(c);
                    i += 1;
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    i += 1;
                } else if c == escape {
                    if let Some(&n) = chars.get(i + 1) {
                        out.push(n);
                    }
                    i += 2;
                } else if c == '$' {
                    i = expand(&chars, i, lookup, &mut out, &mut unset);
                } else {
                    out.push(c);
                    i += 1;
                }
            }
        }
    }
    (out, unset)
}

/// Expands `$NAME` or `${NAME…}` starting at `chars[start] == '$'`; returns
/// the index after it.
fn expand(
    chars: &[char],
    start: usize,
    lookup: &dyn Fn(&str) -> Option<String>,
    out: &mut String,
    unset: &mut Vec<String>,
) -> usize {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut i = start + 1;
    if chars.get(i) == Some(&'{') {
        let Some(close) = chars[i..].iter().position(|&c| c == '}').map(|p| p + i) else {
            out.extend(&chars[start..]);
            return chars.len();
        };
        let inner: String = chars[i + 1..close].iter().collect();
        let name_end = inner.find(|c: char| !is_name(c)).unwrap_or(inner.len());
        let (name, modifier) = inner.split_at(name_end);
        let value = lookup(name);
        let set_nonempty = value.as_deref().is_some_and(|v| !v.is_empty());
        let resolved = if let Some(word) = modifier.strip_prefix(":-") {
            if set_nonempty {
                value.unwrap_or_default()
            } else {
                word.to_owned()
            }
        } else if let Some(word) = modifier.strip_prefix('-') {
            value.unwrap_or_else(|| word.to_owned())
        } else if let Some(word) = modifier.strip_prefix(":+") {
            if set_nonempty {
                word.to_owned()
            } else {
                String::new()
            }
        } else if let Some(word) = modifier.strip_prefix('+') {
            if value.is_some() {
                word.to_owned()
            } else {
                String::new()
            }
        } else {
            if value.is_none() {
                unset.push(name.to_owned());
            }
            value.unwrap_or_default()
        };
        out.push_str(&resolved);
        return close + 1;
    }
    let name_len = chars[i..].iter().take_while(|&&c| is_name(c)).count();
    if name_len == 0 {
        out.push('$');
        return i;
    }
    let name: String = chars[i..i + name_len].iter().collect();
    i += name_len;
    match lookup(&name) {
        Some(v) => out.push_str(&v),
        None => unset.push(name),
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(text: &str) -> DockerfileLabels {
        labels_from_dockerfile(text, &BTreeMap::new(), None).unwrap()
    }

    #[test]
    fn final_stage_labels_with_quotes_and_escapes() {
        let d = labels(
            "FROM golang AS build\nLABEL a=build\nFROM scratch\nLABEL t=\"My \\\"Ext\\\"\" \\\n  u='it''s' \\\n  j=\"[{\\\"url\\\": \\\"https:\\/\\/x\\\"}]\"\n",
        );
        assert_eq!(d.labels.get("a"), None);
        assert_eq!(d.labels.get("t"), Some("My \"Ext\""));
        assert_eq!(d.labels.get("u"), Some("its"));
        assert_eq!(d.labels.get("j"), Some("[{\"url\": \"https:\\/\\/x\"}]"));
        assert_eq!(d.base, "scratch");
    }

    #[test]
    fn args_env_and_inheritance() {
        let text = "ARG VERSION=1.0\nARG GLOBAL=g\nFROM scratch AS base\nARG VERSION\nENV NAME=ext\nLABEL v=\"$VERSION\" n=${NAME} g=\"${GLOBAL}\" d=${MISSING:-dflt}\nFROM base\nLABEL x='$NAME'\n";
        let d = labels(text);
        assert_eq!(d.labels.get("v"), Some("1.0"));
        assert_eq!(d.labels.get("n"), Some("ext"));
        assert_eq!(d.labels.get("g"), Some(""));
        assert_eq!(d.labels.get("d"), Some("dflt"));
        assert_eq!(d.labels.get("x"), Some("$NAME"));
        assert_eq!(
            d.unset_variables,
            vec![("g".to_owned(), "GLOBAL".to_owned())]
        );
        let args = BTreeMap::from([("VERSION".to_owned(), "2.0".to_owned())]);
        let d = labels_from_dockerfile(text, &args, Some("base")).unwrap();
        assert_eq!(d.labels.get("v"), Some("2.0"));
    }

    #[test]
    fn duplicates_last_wins_and_legacy_form() {
        let d = labels("FROM scratch\nLABEL a=1\nLABEL a=2\nLABEL legacy value with spaces\n");
        assert_eq!(d.labels.get("a"), Some("2"));
        assert_eq!(d.duplicates, vec!["a"]);
        assert_eq!(d.labels.get("legacy"), Some("value with spaces"));
    }

    #[test]
    fn quotes_inside_values_split_like_docker() {
        // From alfresco's Dockerfile: the inner quotes end and reopen the string.
        let d =
            labels("FROM scratch\nLABEL d=\"<p>x</p> \\\n    <h2 id=\"-f\">y</h2> \\\n    \"\n");
        assert_eq!(
            d.labels.get("d"),
            Some("<p>x</p>     <h2 id=-f>y</h2>     ")
        );
    }

    #[test]
    fn escape_directive_and_errors() {
        let d = labels("# escape=`\nFROM scratch\nLABEL a=\"x`\"y\" `\n b=2\n");
        assert_eq!(d.labels.get("a"), Some("x\"y"));
        assert_eq!(d.labels.get("b"), Some("2"));
        assert_eq!(
            labels_from_dockerfile("LABEL a=1\n", &BTreeMap::new(), None),
            Err(DockerfileError::Instruction {
                line: 1,
                message: "LABEL before the first FROM".into()
            })
        );
        assert_eq!(
            labels_from_dockerfile("", &BTreeMap::new(), None),
            Err(DockerfileError::NoStage)
        );
    }
}
