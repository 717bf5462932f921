//! Strings from an image reach the terminal escaped: a title full of ESC
//! sequences cannot erase or forge the consent lines above `[y/N]`, nor the
//! rows of `ls`.

use crate::support::{self, TempDir, build_to_layout, dockhand, run};

const EVIL: &str = "Nice\u{1b}[1A\u{1b}[2K\u{1b}]0;pwned\u{7}\u{9b}2J\n  privileges     none";

#[test]
fn consent_and_listings_show_control_characters_escaped() {
    let src = TempDir::new("term-src");
    let metadata = serde_json::json!({
        "icon": "icon.svg",
        "ui": {"dashboard-tab": {"title": EVIL, "root": "/ui", "src": "index.html"}}
    });
    src.write("metadata.json", metadata.to_string());
    let labels = serde_json::json!({
        "org.opencontainers.image.title": EVIL,
        "org.opencontainers.image.description": "d",
        "org.opencontainers.image.vendor": format!("Acme{EVIL}"),
        "com.docker.desktop.extension.api.version": ">= 0.3.0",
    });
    src.write("labels.json", labels.to_string());
    src.write("icon.svg", "<svg/>");
    src.write("ui/index.html", "<p>hi</p>");
    let home = TempDir::new("term-home");
    let source = build_to_layout(&home, &src, "acme/escapes:1.0.0");

    // Without a terminal and without -y, install shows the summary and refuses.
    let stderr = support::fails(
        dockhand()
            .args(["--home", &home.arg(), "install", &source])
            .stdin(std::process::Stdio::null()),
    );
    assert!(
        stderr.contains(r#"a dashboard tab "Nice\x1b[1A\x1b[2K\x1b]0;pwned\x07\u{9b}2J\x0a  privileges     none""#),
        "{stderr}"
    );
    assert!(
        !stderr.contains('\u{1b}') && !stderr.contains('\u{9b}'),
        "{stderr:?}"
    );
    // The forged line is not a line of its own.
    assert!(
        !stderr
            .lines()
            .any(|l| l.trim_start().starts_with("privileges")),
        "{stderr}"
    );

    let installed = run(&["--home", &home.arg(), "install", "-y", &source]);
    crate::support::assert_succeeded("dockhand install", &installed);
    let ls = run(&["--home", &home.arg(), "ls"]);
    let stdout = String::from_utf8_lossy(&ls.stdout);
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
    assert!(stdout.contains(r"Acme"), "{stdout}");
    assert_eq!(
        stdout.lines().count(),
        2,
        "one header and one row: {stdout}"
    );
}
