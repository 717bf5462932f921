//! Compose's variable interpolation, for the local reading of a compose file
//! (when no compose CLI is there to normalize it): `$$`, `$VAR`, `${VAR}`,
//! `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR?error}`,
//! `${VAR:+replacement}` and `${VAR+replacement}`, defaults nested.
//!
//! Variables come only from the environment the caller gives, which is the
//! one dockhand gives compose itself: never the user's own.

/// How deep `${A:-${B:-${C}}}` may nest.
const MAX_DEPTH: usize = 16;

/// Why a value cannot be interpolated; each names the whole value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InterpolationError {
    /// Defaults nest deeper than `MAX_DEPTH` levels.
    #[error("`{text}` nests variables too deeply")]
    TooDeep {
        /// The value (or the nested part of it).
        text: String,
    },
    /// A `${` is never closed.
    #[error("`{text}` has a `${{` without its `}}`")]
    Unclosed {
        /// The value.
        text: String,
    },
    /// `${…}` holds no valid name or an unknown operator.
    #[error("`{text}` has an invalid variable `${{{body}}}`")]
    InvalidVariable {
        /// The value.
        text: String,
        /// What is between the braces.
        body: String,
    },
    /// `${VAR:?message}` or `${VAR?message}` with the variable not set.
    #[error(
        "`{text}` requires variable {name}, which dockhand does not set{}",
        if message.is_empty() { String::new() } else { format!(" ({message})") }
    )]
    Required {
        /// The value.
        text: String,
        /// The variable.
        name: String,
        /// The author's message (may be empty).
        message: String,
    },
}

/// `text` with its variables replaced from `env` (an unset variable is
/// empty, as in compose); `Err` says what is malformed.
pub fn interpolate(text: &str, env: &[(String, String)]) -> Result<String, InterpolationError> {
    expand(text, env, 0)
}

fn lookup<'a>(env: &'a [(String, String)], name: &str) -> Option<&'a str> {
    env.iter()
        .rev()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

fn expand(
    text: &str,
    env: &[(String, String)],
    depth: usize,
) -> Result<String, InterpolationError> {
    if depth > MAX_DEPTH {
        return Err(InterpolationError::TooDeep {
            text: text.to_owned(),
        });
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        match after.chars().next() {
            Some('$') => {
                out.push('$');
                rest = &after[1..];
            }
            Some('{') => {
                let body_start = &after[1..];
                let end =
                    closing_brace(body_start).ok_or_else(|| InterpolationError::Unclosed {
                        text: text.to_owned(),
                    })?;
                let body = &body_start[..end];
                out.push_str(&braced(body, text, env, depth)?);
                rest = &body_start[end + 1..];
            }
            Some(c) if is_name_start(c) => {
                let len = after
                    .char_indices()
                    .find(|(_, c)| !is_name_char(*c))
                    .map_or(after.len(), |(i, _)| i);
                out.push_str(lookup(env, &after[..len]).unwrap_or_default());
                rest = &after[len..];
            }
            // A lone `$` stays as it is.
            _ => {
                out.push('$');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Ok(out)
}

/// The index of the `}` that closes a `${` whose body starts `s`.
fn closing_brace(s: &str) -> Option<usize> {
    let mut depth = 0usize;
    let mut chars = s.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '$' if chars.peek().is_some_and(|(_, n)| *n == '{') => {
                depth += 1;
                chars.next();
            }
            '}' if depth == 0 => return Some(i),
            '}' => depth -= 1,
            _ => {}
        }
    }
    None
}

fn braced(
    body: &str,
    whole: &str,
    env: &[(String, String)],
    depth: usize,
) -> Result<String, InterpolationError> {
    let invalid = || InterpolationError::InvalidVariable {
        text: whole.to_owned(),
        body: body.to_owned(),
    };
    let len = body
        .char_indices()
        .find(|(_, c)| !is_name_char(*c))
        .map_or(body.len(), |(i, _)| i);
    let (name, op) = body.split_at(len);
    if name.is_empty() || !name.starts_with(is_name_start) {
        return Err(invalid());
    }
    let value = lookup(env, name);
    let set_and_not_empty = value.is_some_and(|v| !v.is_empty());
    let value = value.unwrap_or_default().to_owned();
    let arg = |s: &str| expand(s, env, depth + 1);
    if op.is_empty() {
        return Ok(value);
    }
    if let Some(d) = op.strip_prefix(":-") {
        return if set_and_not_empty { Ok(value) } else { arg(d) };
    }
    if let Some(d) = op.strip_prefix('-') {
        return if lookup(env, name).is_some() {
            Ok(value)
        } else {
            arg(d)
        };
    }
    if let Some(r) = op.strip_prefix(":+") {
        return if set_and_not_empty {
            arg(r)
        } else {
            Ok(String::new())
        };
    }
    if let Some(r) = op.strip_prefix('+') {
        return if lookup(env, name).is_some() {
            arg(r)
        } else {
            Ok(String::new())
        };
    }
    let (required, message) = if let Some(m) = op.strip_prefix(":?") {
        (set_and_not_empty, m)
    } else if let Some(m) = op.strip_prefix('?') {
        (lookup(env, name).is_some(), m)
    } else {
        return Err(invalid());
    };
    if required {
        Ok(value)
    } else {
        Err(InterpolationError::Required {
            text: whole.to_owned(),
            name: name.to_owned(),
            message: message.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env() -> Vec<(String, String)> {
        vec![
            ("HOME".into(), "/home/u".into()),
            ("EMPTY".into(), String::new()),
        ]
    }

    #[test]
    fn forms() {
        let e = env();
        for (text, want) in [
            ("$HOME/.kube", "/home/u/.kube"),
            ("${HOME}x", "/home/ux"),
            ("${X:-host}", "host"),
            ("${EMPTY:-host}", "host"),
            ("${EMPTY-host}", ""),
            ("${X-host}", "host"),
            ("${X:-${Y:-${HOME}}}", "/home/u"),
            ("${HOME:+set}", "set"),
            ("${X:+set}", ""),
            ("${EMPTY+set}", "set"),
            ("$$HOME $", "$HOME $"),
            ("$UNSET.", "."),
            ("a$1b", "a$1b"),
        ] {
            assert_eq!(interpolate(text, &e).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn errors() {
        let e = env();
        assert!(
            interpolate("${X:?needed}", &e)
                .unwrap_err()
                .to_string()
                .contains("needed")
        );
        assert!(interpolate("${EMPTY?x}", &e).is_ok());
        for bad in ["${HOME", "${}", "${1A}", "${A*B}"] {
            assert!(interpolate(bad, &e).is_err(), "{bad}");
        }
        let deep = format!("{}x{}", "${A:-".repeat(40), "}".repeat(40));
        assert!(interpolate(&deep, &e).is_err());
    }
}
