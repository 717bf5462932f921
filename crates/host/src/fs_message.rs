//! One path per message: file calls go through `fs_err`, whose errors read
//! "failed to open file `/x`: No such file or directory (os error 2)". An
//! error that already names the path ("cannot read the catalog file /x: …")
//! would name it twice once its source is shown, so the edges that show a
//! message to a person (the CLI's error line, the dashboard's JSON
//! `message`) pass it through [`without_repeated_paths`].

use std::borrow::Cow;

/// Where fs_err's phrase starts.
const PHRASE: &str = "failed to ";

/// `text` without each fs_err phrase ("failed to open file `/x`: ") whose
/// paths the text has already named before it; the operating system's
/// reason after the phrase stays. A phrase naming a path not said before is
/// kept whole: it is then the only place the path appears.
pub fn without_repeated_paths(text: &str) -> Cow<'_, str> {
    let mut out = String::new();
    let mut done = 0;
    let mut from = 0;
    while let Some(found) = text[from..].find(PHRASE) {
        let start = from + found;
        from = start + PHRASE.len();
        let Some((end, paths)) = phrase_end(text, from) else {
            continue;
        };
        let before = &text[..start];
        if paths.iter().all(|p| named_in(before, p)) {
            out.push_str(&text[done..start]);
            done = end;
            from = end;
        }
    }
    if done == 0 {
        return Cow::Borrowed(text);
    }
    out.push_str(&text[done..]);
    Cow::Owned(out)
}

/// The end of a phrase whose words start at `at` ("open file `/x`: ", "copy
/// file from `/a` to `/b`: ") and the paths it quotes; `None` when the text
/// at `at` is not one.
fn phrase_end(text: &str, at: usize) -> Option<(usize, Vec<&str>)> {
    let mut paths = Vec::new();
    let mut i = at;
    loop {
        let rest = &text[i..];
        let words = rest.find('`')?;
        if !rest[..words]
            .chars()
            .all(|c| c.is_ascii_lowercase() || c == ' ')
        {
            return None;
        }
        let open = i + words + 1;
        let close = open + text[open..].find('`')?;
        paths.push(&text[open..close]);
        let after = &text[close + 1..];
        if let Some(stripped) = after.strip_prefix(": ") {
            return Some((text.len() - stripped.len(), paths));
        }
        if !after.starts_with(' ') {
            return None;
        }
        i = close + 1;
    }
}

/// Whether `text` names `path` whole (not as the start of a longer path).
fn named_in(text: &str, path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    text.match_indices(path).any(|(i, _)| {
        let next = text[i + path.len()..].chars().next();
        !next.is_some_and(|c| c.is_alphanumeric() || matches!(c, '/' | '.' | '-' | '_'))
    })
}

#[cfg(test)]
mod tests {
    use super::without_repeated_paths;

    #[test]
    fn a_path_named_before_is_not_repeated() {
        assert_eq!(
            without_repeated_paths(
                "cannot create the dockhand home /h: failed to create directory `/h`: File exists (os error 17)"
            ),
            "cannot create the dockhand home /h: File exists (os error 17)"
        );
        assert_eq!(
            without_repeated_paths(
                "/a.tar: failed to open file `/a.tar`: No such file or directory (os error 2)"
            ),
            "/a.tar: No such file or directory (os error 2)"
        );
    }

    #[test]
    fn fs_err_phrases_are_the_ones_recognised() {
        // Pins fs_err's wording: an upgrade that changes it fails here.
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let std_reason = std::io::Error::from_raw_os_error(2).to_string();
        let path = missing.display();
        let open = fs_err::read(&missing).unwrap_err();
        let copy = fs_err::copy(&missing, dir.path().join("b")).unwrap_err();
        assert_eq!(
            without_repeated_paths(&format!("{path}: {open}")),
            format!("{path}: {std_reason}")
        );
        let to = dir.path().join("b");
        assert_eq!(
            without_repeated_paths(&format!("{path} to {}: {copy}", to.display())),
            format!("{path} to {}: {std_reason}", to.display())
        );
    }

    #[test]
    fn both_paths_of_a_copy_must_have_been_named() {
        let text = "copying /a to /b: failed to copy file from `/a` to `/b`: Is a directory";
        assert_eq!(
            without_repeated_paths(text),
            "copying /a to /b: Is a directory"
        );
        let only_one = "copying /a: failed to copy file from `/a` to `/b`: Is a directory";
        assert_eq!(without_repeated_paths(only_one), only_one);
    }

    #[test]
    fn text_without_a_repeated_path_is_kept() {
        for text in [
            // A path said only by fs_err stays.
            "failed to open file `/x`: No such file or directory (os error 2)",
            "cannot read the store: failed to open file `/x`: denied",
            "cannot read /x/y: failed to open file `/x`: denied",
            "reading /x.json: failed to open file `/x`: denied",
            // Text that only looks like an fs_err phrase.
            "failed to ",
            "x failed to start `/x`",
            "/x: failed to Open `/x`: no",
            "/x: failed to open `/x` and more",
            "`/x`: failed to open file `/x`",
        ] {
            assert_eq!(without_repeated_paths(text), text);
        }
    }

    #[test]
    fn every_repeat_is_dropped() {
        assert_eq!(
            without_repeated_paths(
                "/a: failed to open file `/a`: gone; /b: failed to remove file `/b`: busy"
            ),
            "/a: gone; /b: busy"
        );
    }
}
