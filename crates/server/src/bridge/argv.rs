//! Docker Desktop's argument handling for `docker.cli.exec(cmd, args)`.
//!
//! Docker Desktop joins `cmd` and `args` with spaces and splits the result
//! again with shell quoting rules, so extensions pass
//! `["--format", "\"{{json .}}\""]` and expect the quotes to be gone. This
//! module does the same splitting — POSIX word splitting and quote removal —
//! and nothing else a shell does:
//!
//! - words are separated by unquoted spaces, tabs and newlines;
//! - `'…'` keeps everything literally up to the next `'`;
//! - `"…"` keeps everything literally except `\` before `"`, `\`, `$`,
//!   `` ` `` (the backslash is removed) and `\` + newline (both removed);
//! - an unquoted `\` keeps the next character literally (`\` + newline is
//!   removed);
//! - no expansion of any kind: `$HOME`, `${X}`, `$(…)`, `` `…` ``, `*`, `?`,
//!   `[…]`, `~`, `{a,b}` stay as written;
//! - operators (`;`, `|`, `&`, `&&`, `<`, `>`, `(`, `)`) and `#` are ordinary
//!   characters of a word: `a;b` is one word `a;b`, and `;` alone is a word.
//!
//! That is for a collected exec only. With `options.stream` (and the v0
//! spawn functions) Docker Desktop passes each argument as one argv element,
//! verbatim, and extensions rely on it: `exec('stats', ['--format',
//! '{{json .}}'], {stream})` ([`ArgMode`]).
//!
//! Unbalanced quotes and a trailing unquoted backslash are errors.

/// Why a command line cannot be split.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgvError {
    /// A `'` without its closing `'`.
    #[error(
        "unbalanced single quote in the command line `{0}`: close it, or escape it with a backslash"
    )]
    UnclosedSingle(String),
    /// A `"` without its closing `"`.
    #[error(
        "unbalanced double quote in the command line `{0}`: close it, or escape it with a backslash"
    )]
    UnclosedDouble(String),
    /// A `\` at the very end.
    #[error("the command line `{0}` ends with a backslash that escapes nothing: remove it")]
    TrailingBackslash(String),
    /// Nothing to run.
    #[error("the command line is empty: give a command")]
    Empty,
}

/// How an exec's arguments become argv, as Docker Desktop does it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgMode {
    /// A collected exec: `cmd` and `args` joined and split again with shell
    /// quoting rules ([`split_command`]).
    ShellWords,
    /// A streaming exec (`options.stream`, the v0 spawn functions): each
    /// argument is one argv element as given (docker/extensions-sdk#303);
    /// `cmd` is split at whitespace only ([`verbatim_command`]).
    Verbatim,
}

impl ArgMode {
    /// `cmd` followed by `args`, as this mode makes them.
    pub fn command(self, cmd: &str, args: &[String]) -> Result<Vec<String>, ArgvError> {
        match self {
            Self::ShellWords => split_command(cmd, args),
            Self::Verbatim => verbatim_command(cmd, args),
        }
    }

    /// `args` alone (after a program named apart), as this mode makes them.
    pub fn args(self, args: &[String]) -> Result<Vec<String>, ArgvError> {
        match self {
            Self::ShellWords => split_words(&args.join(" ")),
            Self::Verbatim => Ok(args.to_vec()),
        }
    }
}

/// `cmd`'s words (split at whitespace, quotes kept: a command name or a
/// subcommand never needs them) followed by every argument unchanged.
pub fn verbatim_command(cmd: &str, args: &[String]) -> Result<Vec<String>, ArgvError> {
    let mut words: Vec<String> = cmd.split_whitespace().map(str::to_owned).collect();
    if words.is_empty() {
        return Err(ArgvError::Empty);
    }
    words.extend(args.iter().cloned());
    Ok(words)
}

/// Joins `cmd` and `args` with spaces and splits the result into words
/// (see the module docs).
pub fn split_command(cmd: &str, args: &[String]) -> Result<Vec<String>, ArgvError> {
    let mut line =
        String::with_capacity(cmd.len() + args.iter().map(|a| a.len() + 1).sum::<usize>());
    line.push_str(cmd);
    for a in args {
        line.push(' ');
        line.push_str(a);
    }
    let words = split_words(&line)?;
    if words.is_empty() {
        return Err(ArgvError::Empty);
    }
    Ok(words)
}

/// Splits `line` into words with POSIX quote removal and no expansion.
pub fn split_words(line: &str) -> Result<Vec<String>, ArgvError> {
    let mut words = Vec::new();
    // The word being built; `None` between words (so `''` makes an empty word).
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(w) = word.take() {
                    words.push(w);
                }
            }
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => return Err(ArgvError::UnclosedSingle(line.to_owned())),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => w.push(c),
                            Some('\n') => {}
                            Some(c) => {
                                w.push('\\');
                                w.push(c);
                            }
                            None => return Err(ArgvError::UnclosedDouble(line.to_owned())),
                        },
                        Some(c) => w.push(c),
                        None => return Err(ArgvError::UnclosedDouble(line.to_owned())),
                    }
                }
            }
            '\\' => match chars.next() {
                // Line continuation: removed, and does not start a word.
                Some('\n') => {}
                Some(c) => word.get_or_insert_with(String::new).push(c),
                None => return Err(ArgvError::TrailingBackslash(line.to_owned())),
            },
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(w) = word {
        words.push(w);
    }
    Ok(words)
}

/// Writes `argv` as one line a POSIX shell would split back into the same
/// words (for the `cmd` field of an exec result and for messages).
pub fn display(argv: &[String]) -> String {
    argv.iter().map(|w| quote(w)).collect::<Vec<_>>().join(" ")
}

fn quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '-' | '_' | '.' | '/' | ':' | '=' | ',' | '+' | '@' | '%')
        });
    if plain {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r#"'\''"#))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        split_words(line).unwrap()
    }

    fn v(words: &[&str]) -> Vec<String> {
        words.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn docker_desktop_format_argument() {
        let argv = split_command("ps", &v(&["--format", r#""{{json .}}""#])).unwrap();
        assert_eq!(argv, v(&["ps", "--format", "{{json .}}"]));
        let argv = split_command("image", &v(&["ls", "--format", "'{{.Repository}}'"])).unwrap();
        assert_eq!(argv, v(&["image", "ls", "--format", "{{.Repository}}"]));
    }

    #[test]
    fn joined_arguments_split_on_spaces_like_docker_desktop() {
        // Docker Desktop joins with spaces: an argument with a space becomes two.
        let argv = split_command("run", &v(&["--name", "a b"])).unwrap();
        assert_eq!(argv, v(&["run", "--name", "a", "b"]));
        // Several spaces, tabs and newlines separate words once.
        assert_eq!(words("  a \t b\n\nc  "), v(&["a", "b", "c"]));
        assert!(words("   ").is_empty());
        assert_eq!(split_command(" ", &[]), Err(ArgvError::Empty));
    }

    #[test]
    fn quote_removal() {
        assert_eq!(words(r#"a"b c"d"#), v(&["ab cd"]));
        assert_eq!(words("'a b'c"), v(&["a bc"]));
        assert_eq!(words(r#"'' "" x"#), v(&["", "", "x"]));
        assert_eq!(words(r#"a'' b"#), v(&["a", "b"]));
        assert_eq!(words(r#""it's""#), v(&["it's"]));
        assert_eq!(words(r#"'say "hi"'"#), v(&[r#"say "hi""#]));
    }

    #[test]
    fn backslashes() {
        // Outside quotes: the next character, literally.
        assert_eq!(words(r"a\ b"), v(&["a b"]));
        assert_eq!(words(r#"\"x\""#), v(&[r#""x""#]));
        assert_eq!(words(r"\\"), v(&[r"\"]));
        assert_eq!(words(r"\$HOME"), v(&["$HOME"]));
        assert_eq!(words("a\\\nb"), v(&["ab"]));
        // Inside double quotes: only before " \ $ ` (and newline).
        assert_eq!(words(r#""a\"b""#), v(&[r#"a"b"#]));
        assert_eq!(words(r#""a\\b""#), v(&[r"a\b"]));
        assert_eq!(words(r#""\$x \`y\`""#), v(&["$x `y`"]));
        assert_eq!(words(r#""a\nb""#), v(&[r"a\nb"]));
        assert_eq!(words("\"a\\\nb\""), v(&["ab"]));
        // Inside single quotes: nothing is special.
        assert_eq!(words(r"'a\b\'"), v(&[r"a\b\"]));
    }

    #[test]
    fn nothing_is_expanded() {
        assert_eq!(
            words(r#"$HOME ${HOME} ~ ~/x * ?.txt [ab] {a,b} "$HOME" $((1+1))"#),
            v(&[
                "$HOME", "${HOME}", "~", "~/x", "*", "?.txt", "[ab]", "{a,b}", "$HOME", "$((1+1))"
            ])
        );
    }

    #[test]
    fn hostile_inputs_stay_literal_words() {
        assert_eq!(
            split_command("ps", &v(&["; rm -rf /"])).unwrap(),
            v(&["ps", ";", "rm", "-rf", "/"])
        );
        assert_eq!(words("a;b"), v(&["a;b"]));
        assert_eq!(words("$(id)"), v(&["$(id)"]));
        assert_eq!(words("`id`"), v(&["`id`"]));
        assert_eq!(words(r#""$(id)""#), v(&["$(id)"]));
        assert_eq!(
            words("a|b && c || d & e > f < g 2>&1"),
            v(&[
                "a|b", "&&", "c", "||", "d", "&", "e", ">", "f", "<", "g", "2>&1"
            ])
        );
        assert_eq!(
            words("(x) # not a comment"),
            v(&["(x)", "#", "not", "a", "comment"])
        );
        assert_eq!(words("x#y"), v(&["x#y"]));
    }

    #[test]
    fn unbalanced_quotes_are_errors() {
        assert!(matches!(
            split_words("'abc"),
            Err(ArgvError::UnclosedSingle(_))
        ));
        assert!(matches!(
            split_words(r#"a "b"#),
            Err(ArgvError::UnclosedDouble(_))
        ));
        assert!(matches!(
            split_words(r#""a\""#),
            Err(ArgvError::UnclosedDouble(_))
        ));
        assert!(matches!(
            split_words(r"a\"),
            Err(ArgvError::TrailingBackslash(_))
        ));
        let e = split_command("ps", &v(&["--format", "\"{{json .}}"])).unwrap_err();
        assert!(e.to_string().contains("unbalanced double quote"), "{e}");
    }

    #[test]
    fn unicode_passes_through() {
        assert_eq!(words("héllo 'wörld ✓'"), v(&["héllo", "wörld ✓"]));
    }

    #[test]
    fn display_round_trips() {
        for argv in [
            v(&["docker", "ps", "--format", "{{json .}}"]),
            v(&["a b", "", "it's", "$(id)", ";", "x\"y", "plain-1.2:3/x=y"]),
        ] {
            assert_eq!(split_words(&display(&argv)).unwrap(), argv);
        }
        assert_eq!(display(&v(&["docker", "ps"])), "docker ps");
    }

    #[test]
    fn verbatim_keeps_every_argument_whole() {
        let args = v(&["--format", "{{json .}}", "\"q\"", "a b", "\"open", ""]);
        assert_eq!(
            ArgMode::Verbatim.command("stats", &args).unwrap(),
            v(&[
                "stats",
                "--format",
                "{{json .}}",
                "\"q\"",
                "a b",
                "\"open",
                ""
            ])
        );
        // The command itself splits at whitespace (a subcommand path), nothing else.
        assert_eq!(
            ArgMode::Verbatim.command(" compose  ls ", &[]).unwrap(),
            v(&["compose", "ls"])
        );
        assert_eq!(ArgMode::Verbatim.command(" ", &args), Err(ArgvError::Empty));
        assert_eq!(ArgMode::Verbatim.args(&args).unwrap(), args);
        // The collected mode still removes quotes.
        assert_eq!(
            ArgMode::ShellWords
                .command("ps", &v(&["--format", "\"{{json .}}\""]))
                .unwrap(),
            v(&["ps", "--format", "{{json .}}"])
        );
        assert_eq!(
            ArgMode::ShellWords.args(&v(&["'a b'", "c"])).unwrap(),
            v(&["a b", "c"])
        );
    }
}
