//! Printing: data on stdout, messages on stderr, colour only on a terminal and
//! never with `NO_COLOR` (anstream decides).
//!
//! Text that came from an image, a registry or a backend (titles, labels,
//! vendors, URLs, diagnostics that quote them, service names) may hold
//! terminal control sequences that would rewrite what the person reads — an
//! ESC sequence that erases the privilege lines above `[y/N]`. Every
//! function here escapes control characters in the text it is given
//! ([`clean`]: `\x1b`, `\u{9b}`, bidirectional overrides as `\u{202e}`), and
//! table cells and one-line fields also lose their line breaks
//! ([`clean_line`]). dockhand's own colours are added around the cleaned text.

use std::borrow::Cow;
use std::io::Write;

use anstyle::{AnsiColor, Style};
use dockhand_host::fs_message::without_repeated_paths;
use dockhand_spec::{Diagnostic, Report, Severity};
use serde::Serialize;

use crate::args::Format;

const BOLD: Style = Style::new().bold();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default().bold();
const GREEN: Style = AnsiColor::Green.on_default().bold();
const DIM: Style = Style::new().dimmed();

/// `text` with every control character but line feed and tab escaped
/// (C0, DEL, C1 and the bidirectional formatting characters).
pub fn clean(text: &str) -> Cow<'_, str> {
    dockhand_spec::text::escape_controls(text)
}

/// `text` on one line: as [`clean`], and line feeds, carriage returns and
/// tabs escaped too.
pub fn clean_line(text: &str) -> Cow<'_, str> {
    dockhand_spec::text::one_line(text)
}

/// Prints data (a line or more) on stdout.
pub fn data(text: &str) {
    let mut out = anstream::stdout();
    let _ = writeln!(out, "{}", clean(text));
}

/// Prints one JSON document on stdout.
pub fn json<T: Serialize>(value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    data(&text);
    Ok(())
}

/// Prints `value` as `format` asks: one JSON document, or the text that
/// `text` makes of it.
pub fn report<T: Serialize>(
    format: Format,
    value: &T,
    text: impl FnOnce(&T) -> String,
) -> anyhow::Result<()> {
    match format {
        Format::Json => json(value)?,
        Format::Text => data(&text(value)),
    }
    Ok(())
}

/// Writes bytes on stdout as they are (a generated script or man page).
pub fn raw(bytes: &[u8]) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(bytes)?;
    out.flush()?;
    Ok(())
}

/// Prints a progress line on stderr.
pub fn progress(text: &str) {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "{DIM}{}{DIM:#}", clean(text));
}

/// Prints a warning on stderr (even when quiet).
pub fn warning(text: &str) {
    let mut err = anstream::stderr();
    let _ = writeln!(err, "{YELLOW}warning{YELLOW:#}: {}", clean(text));
}

/// Prints an error and its causes on stderr.
pub fn error(e: &anyhow::Error) {
    let mut err = anstream::stderr();
    // Library errors often repeat their source in their message: print each
    // piece of the chain once.
    let text = dockhand_engine::error_chain(e.as_ref());
    // fs_err's causes name their path, which the message often has already.
    let text = without_repeated_paths(&text);
    let _ = writeln!(err, "{RED}error{RED:#}: {}", clean(&text));
}

fn severity_style(s: Severity) -> Style {
    match s {
        Severity::Error => RED,
        Severity::Warning => YELLOW,
    }
}

/// Renders a validation report for people: a verdict line, then the findings
/// grouped by what they are about.
pub fn validation(target: &str, report: &Report, shown: &[&Diagnostic], api: &semver::Version) {
    let mut out = anstream::stdout();
    let (errors, warnings) = (report.errors(), report.warnings());
    let verdict = if report.is_valid() {
        format!("{GREEN}valid{GREEN:#}")
    } else {
        format!("{RED}invalid{RED:#}")
    };
    let title = report
        .metadata
        .as_ref()
        .and_then(|m| m.dashboard_tab())
        .map(|t| format!(" ({})", clean_line(&t.title)))
        .unwrap_or_default();
    let target = clean_line(target);
    let _ = writeln!(
        out,
        "{BOLD}{target}{BOLD:#}{title}: {verdict}, {} and {} {DIM}(extension API {api}){DIM:#}",
        plural(errors, "error"),
        plural(warnings, "warning"),
    );
    let mut group = "";
    for d in shown {
        let g = d.location.group();
        if g != group {
            let _ = writeln!(out, "\n{BOLD}{g}{BOLD:#}");
            group = g;
        }
        let style = severity_style(d.severity);
        let sev = d.severity.as_str();
        let _ = writeln!(
            out,
            "  {style}{sev:<7}{style:#} {DIM}{}{DIM:#}  {}\n          {}",
            d.code,
            clean_line(&d.location.to_string()),
            clean(&d.message)
        );
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

/// An aligned table: a header row and rows of cells (each cell on one line,
/// control characters escaped).
pub fn table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) -> String {
    let rows: Vec<[String; N]> = rows
        .iter()
        .map(|r| r.clone().map(|cell| clean_line(&cell).into_owned()))
        .collect();
    let rows = &rows[..];
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut out = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<w$}   "));
            }
        }
        out.trim_end().to_owned()
    };
    let mut out = vec![line(header.to_vec())];
    out.extend(
        rows.iter()
            .map(|r| line(r.iter().map(String::as_str).collect())),
    );
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(clean("plain text, ünïcode ✓"), "plain text, ünïcode ✓");
        assert!(matches!(clean("plain"), Cow::Borrowed(_)));
        // Erase the line above, clear the screen, set the window title, C1 CSI.
        assert_eq!(
            clean("Nice\x1b[1A\x1b[2K\x1b]0;t\x07\u{9b}2J"),
            "Nice\\x1b[1A\\x1b[2K\\x1b]0;t\\x07\\u{9b}2J"
        );
        assert_eq!(clean("a\rb\x08c\x7f"), "a\\x0db\\x08c\\x7f");
        assert_eq!(clean("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        // Line feeds and tabs stay in messages, not in one-line fields.
        assert_eq!(clean("a\n\tb"), "a\n\tb");
        assert_eq!(clean_line("a\n\tb"), "a\\x0a\\x09b");
    }

    #[test]
    fn table_cells_stay_on_their_line() {
        let t = table(
            &["ID", "TITLE"],
            &[["acme/x".to_owned(), "T\n  privileged: no\x1b[2K".to_owned()]],
        );
        assert_eq!(t.lines().count(), 2, "{t}");
        assert!(t.contains("T\\x0a  privileged: no\\x1b[2K"), "{t}");
    }
}
