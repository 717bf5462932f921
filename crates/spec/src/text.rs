//! Text from an image or a registry, made safe to show on a terminal.
//!
//! Titles, labels, vendors, URLs and messages that quote them may hold
//! control sequences that rewrite what a person reads on a terminal (an ESC
//! sequence that erases the privilege lines above `[y/N]`), or line breaks
//! that forge a line. [`escape_controls`] writes every control character as
//! text (`\\x1b`, `\\u{9b}`, the bidirectional overrides as `\\u{202e}`),
//! keeping line feeds and tabs; [`one_line`] escapes those too.

use std::borrow::Cow;

/// `text` with every control character but line feed and tab escaped (C0,
/// DEL, C1, the bidirectional formatting characters and the Unicode line
/// and paragraph separators).
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` for one line: as [`escape_controls`], and line feeds, carriage
/// returns and tabs escaped too.
pub fn one_line(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn needs_escape(c: char, one_line: bool) -> bool {
    match c {
        '\n' | '\t' => one_line,
        '\u{0}'..='\u{1f}' | '\u{7f}'..='\u{9f}' => true,
        // Bidirectional embeddings, overrides and isolates; the line and
        // paragraph separators.
        '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}' => true,
        _ => false,
    }
}

fn escape(text: &str, one_line: bool) -> Cow<'_, str> {
    if !text.chars().any(|c| needs_escape(c, one_line)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !needs_escape(c, one_line) {
            out.push(c);
        } else if (c as u32) < 0x80 {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert!(matches!(
            escape_controls("plain ünïcode ✓"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape_controls("Nice\x1b[1A\x1b[2K\u{9b}2J\u{202e}"),
            "Nice\\x1b[1A\\x1b[2K\\u{9b}2J\\u{202e}"
        );
        assert_eq!(escape_controls("a\n\tb"), "a\n\tb");
        assert_eq!(one_line("a\n\tb\r"), "a\\x0a\\x09b\\x0d");
    }
}
