//! Checks of the image labels.

use semver::Version;
use serde_json::Value;

use super::LabelsInput;
use crate::api_version::ApiVersionReq;
use crate::diagnostics::{Code, Diagnostic, Location};
use crate::labels::{Category, Labels, is_http_url, name};

fn at(label: &str) -> Location {
    Location::Label(label.to_owned())
}

pub(super) fn check(input: &LabelsInput, api: &Version, out: &mut Vec<Diagnostic>) {
    let labels = match input {
        LabelsInput::Absent => {
            out.push(Diagnostic::new(
                Code::NoLabels,
                Location::File("labels.json".to_owned()),
                "no labels.json or Dockerfile beside metadata.json: labels not checked; validate the image or its build directory to check them",
            ));
            return;
        }
        LabelsInput::Unreadable { source, message } => {
            out.push(Diagnostic::new(
                Code::LabelsUnreadable,
                Location::File(source.clone()),
                message.clone(),
            ));
            return;
        }
        LabelsInput::Found {
            labels,
            duplicates,
            unset_variables,
        } => {
            for key in duplicates {
                out.push(Diagnostic::new(
                    Code::DuplicateLabel,
                    at(key),
                    "set more than once in the Dockerfile: the last value wins; remove the others",
                ));
            }
            for (key, var) in unset_variables {
                out.push(Diagnostic::new(
                    Code::UnsetBuildArg,
                    at(key),
                    format!("uses `${var}`, which has no value here: give the ARG a default or pass --build-arg {var}=…"),
                ));
            }
            labels
        }
    };
    required(labels, out);
    api_version(labels, api, out);
    urls(labels, out);
    screenshots(labels, out);
    additional_urls(labels, out);
    categories(labels, out);
    if let Some(v) = labels.get(name::ACCOUNT_INFO)
        && !v.is_empty()
        && v != "required"
    {
        out.push(Diagnostic::new(
            Code::AccountInfo,
            at(name::ACCOUNT_INFO),
            format!("`{v}` is not understood: use `required` or leave it empty"),
        ));
    }
    for key in labels.0.keys() {
        let in_namespace = name::FORMAT_PREFIXES.iter().any(|p| key.starts_with(p));
        if in_namespace && !name::KNOWN.contains(&key.as_str()) {
            let hint = name::KNOWN
                .iter()
                .find(|k| k.starts_with(key.as_str()) || key.starts_with(*k))
                .map(|k| format!(": did you mean `{k}`?"))
                .unwrap_or_else(|| ": hosts ignore it".to_owned());
            out.push(Diagnostic::new(
                Code::UnknownLabel,
                at(key),
                format!("unknown label{hint}"),
            ));
        }
    }
    if let Some(v) = labels.non_empty(name::CHANGELOG)
        && is_http_url(v.trim())
    {
        out.push(Diagnostic::new(
            Code::ChangelogIsUrl,
            at(name::CHANGELOG),
            "the changelog is only a link: hosts show it as text; describe this version's changes",
        ));
    }
    for key in [name::ICON, name::SCREENSHOTS, name::ADDITIONAL_URLS] {
        if let Some(v) = labels.get(key)
            && (v.contains("?token=") || v.contains("&token="))
        {
            out.push(Diagnostic::new(
                Code::ExpiringUrl,
                at(key),
                "a URL carries an access token (`token=`), which expires: link to a public copy",
            ));
        }
    }
    for key in name::HTML {
        if let Some(v) = labels.get(key) {
            if let Some(problem) = unbalanced_html(v) {
                out.push(Diagnostic::new(Code::UnbalancedHtml, at(key), problem));
            }
            if has_active_html(v) {
                out.push(Diagnostic::new(
                    Code::UnsafeHtml,
                    at(key),
                    "contains script, event handlers or javascript: URLs, which are removed when shown: use plain HTML",
                ));
            }
        }
    }
}

fn required(labels: &Labels, out: &mut Vec<Diagnostic>) {
    for key in name::REQUIRED {
        match labels.get(key) {
            None => out.push(Diagnostic::new(
                Code::MissingLabel,
                at(key),
                "required label is missing: Docker Desktop does not list an extension without it",
            )),
            Some(v) if v.trim().is_empty() => out.push(Diagnostic::new(
                Code::EmptyLabel,
                at(key),
                "required label is empty: give it a value",
            )),
            Some(_) => {}
        }
    }
}

fn api_version(labels: &Labels, api: &Version, out: &mut Vec<Diagnostic>) {
    let Some(raw) = labels.non_empty(name::API_VERSION) else {
        return;
    };
    match ApiVersionReq::parse(raw) {
        Err(e) => out.push(Diagnostic::new(Code::ApiVersionSyntax, at(name::API_VERSION), format!("`{raw}`: {e}"))),
        Ok(req) if !req.matches(api) => out.push(Diagnostic::new(
            Code::ApiVersionUnsatisfied,
            at(name::API_VERSION),
            format!("requires API `{}`, which excludes {api}: lower the constraint (for example `>= 0.3.0`) or install with --ignore-api-version", req),
        )),
        Ok(_) => {}
    }
}

fn urls(labels: &Labels, out: &mut Vec<Diagnostic>) {
    if let Some(icon) = labels.non_empty(name::ICON) {
        let data_image = icon.starts_with("data:image/") && !icon.contains("$(");
        if !is_http_url(icon) && !data_image {
            out.push(Diagnostic::new(
                Code::LabelUrl,
                at(name::ICON),
                format!(
                    "`{}` is not an http(s) URL: give the icon's full URL",
                    shorten(icon)
                ),
            ));
        }
    }
    if let Some(url) = labels.non_empty(name::PUBLISHER_URL)
        && !is_http_url(url)
    {
        out.push(Diagnostic::new(
            Code::LabelUrl,
            at(name::PUBLISHER_URL),
            format!("`{}` is not an http(s) URL", shorten(url)),
        ));
    }
}

fn screenshots(labels: &Labels, out: &mut Vec<Diagnostic>) {
    let key = name::SCREENSHOTS;
    let Some(raw) = labels.non_empty(key) else {
        return;
    };
    let items = match serde_json::from_str::<Value>(raw) {
        Err(e) => {
            out.push(Diagnostic::new(Code::LabelJson, at(key), json_error(&e)));
            return;
        }
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            out.push(Diagnostic::new(
                Code::LabelJsonShape,
                at(key),
                "must be a JSON array of {\"alt\": …, \"url\": …} objects",
            ));
            return;
        }
    };
    for (i, item) in items.iter().enumerate() {
        let url = item.get("url").and_then(Value::as_str);
        let alt = item.get("alt").and_then(Value::as_str);
        match (alt, url) {
            (Some(_), Some(url)) if !is_http_url(url) => out.push(Diagnostic::new(
                Code::LabelUrl,
                at(key),
                format!("screenshot {i}: `{}` is not an http(s) URL", shorten(url)),
            )),
            (Some(_), Some(_)) => {}
            _ => out.push(Diagnostic::new(
                Code::LabelJsonShape,
                at(key),
                format!("screenshot {i} must be an object with string fields \"alt\" and \"url\""),
            )),
        }
    }
}

fn additional_urls(labels: &Labels, out: &mut Vec<Diagnostic>) {
    let key = name::ADDITIONAL_URLS;
    let Some(raw) = labels.non_empty(key) else {
        return;
    };
    let warn = |out: &mut Vec<Diagnostic>, m: String| {
        out.push(Diagnostic::new(Code::OptionalLabelJson, at(key), m));
    };
    let items = match serde_json::from_str::<Value>(raw) {
        Err(e) => return warn(out, format!("{}: hosts will show no links", json_error(&e))),
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return warn(
                out,
                "must be a JSON array of {\"title\": …, \"url\": …} objects".to_owned(),
            );
        }
    };
    for (i, item) in items.iter().enumerate() {
        let title = item.get("title").and_then(Value::as_str);
        let url = item.get("url").and_then(Value::as_str);
        match (title, url) {
            (Some(_), Some(url)) if !is_http_url(url) => {
                warn(
                    out,
                    format!("link {i}: `{}` is not an http(s) URL", shorten(url)),
                );
            }
            (Some(_), Some(_)) => {
                let extra: Vec<&str> = item
                    .as_object()
                    .map(|o| {
                        o.keys()
                            .map(String::as_str)
                            .filter(|k| *k != "title" && *k != "url")
                            .collect()
                    })
                    .unwrap_or_default();
                if !extra.is_empty() {
                    warn(
                        out,
                        format!(
                            "link {i} has unknown keys {}: only \"title\" and \"url\" are shown",
                            extra.join(", ")
                        ),
                    );
                }
            }
            _ => warn(
                out,
                format!("link {i} must be an object with string fields \"title\" and \"url\""),
            ),
        }
    }
}

fn categories(labels: &Labels, out: &mut Vec<Diagnostic>) {
    let key = name::CATEGORIES;
    let Some(raw) = labels.get(key) else { return };
    if raw.trim().is_empty() {
        out.push(Diagnostic::new(
            Code::UnknownCategory,
            at(key),
            "categories label is empty: list one or more categories or remove the label",
        ));
        return;
    }
    for cat in labels.categories().iter().filter(|c| !c.is_known()) {
        out.push(Diagnostic::new(
            Code::UnknownCategory,
            at(key),
            format!(
                "`{cat}` is not an official category ({})",
                Category::KNOWN.join(", ")
            ),
        ));
    }
}

fn json_error(e: &serde_json::Error) -> String {
    format!("not valid JSON (column {}): {}", e.column(), {
        let s = e.to_string();
        s.rfind(" at line ").map(|i| s[..i].to_owned()).unwrap_or(s)
    })
}

fn shorten(s: &str) -> String {
    const MAX: usize = 80;
    if s.chars().count() <= MAX {
        return s.to_owned();
    }
    let cut: String = s.chars().take(MAX).collect();
    format!("{cut}…")
}

/// A rough test for markup that a sanitizer removes: `<script`, `on…=`
/// attributes and `javascript:` URLs.
fn has_active_html(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    if lower.contains("<script") || lower.contains("javascript:") {
        return true;
    }
    // An event handler attribute inside a tag: `<a onclick=…`.
    lower.split('<').skip(1).any(|tag| {
        let tag = tag.split('>').next().unwrap_or("");
        tag.split_whitespace().skip(1).any(|attr| {
            attr.starts_with("on")
                && attr[2..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count()
                    > 0
                && attr.contains('=')
        })
    })
}

/// Elements that must be closed; `p`, `li` and void elements may stay open.
const CLOSED_ELEMENTS: [&str; 17] = [
    "a", "b", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "i", "ol", "pre", "span",
    "strong", "ul",
];

/// Describes the first element left open or closed without being opened.
fn unbalanced_html(v: &str) -> Option<String> {
    let mut open: Vec<String> = Vec::new();
    for chunk in v.split('<').skip(1) {
        let tag = chunk.split('>').next().unwrap_or("");
        let (closing, rest) = match tag.strip_prefix('/') {
            Some(r) => (true, r),
            None => (false, tag),
        };
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        // A trailing `/` does not close a non-void element in HTML.
        if !CLOSED_ELEMENTS.contains(&name.as_str()) {
            continue;
        }
        if !closing {
            open.push(name);
        } else if let Some(pos) = open.iter().rposition(|o| *o == name) {
            if let Some(inner) = open.get(pos + 1) {
                return Some(format!(
                    "<{inner}> is not closed before </{name}>: close it"
                ));
            }
            open.truncate(pos);
        } else {
            return Some(format!("</{name}> closes an element that was never opened"));
        }
    }
    open.last()
        .map(|o| format!("<{o}> is never closed: add </{o}>"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_balance() {
        assert_eq!(unbalanced_html("<p>a<ul><li>x</li></ul>"), None);
        assert_eq!(
            unbalanced_html("<ul><li>x"),
            Some("<ul> is never closed: add </ul>".into())
        );
        assert!(unbalanced_html("</div>").is_some());
        assert!(unbalanced_html("<ul><b></ul>").is_some());
        assert_eq!(unbalanced_html("<br/><img src=x>"), None);
        assert_eq!(unbalanced_html("<a href=https://x/>x</a>"), None);
    }

    #[test]
    fn active_html() {
        let active = [
            "<p onclick=\"x()\">hi</p>",
            "<SCRIPT>alert(1)</SCRIPT>",
            "<a href=\"javascript:x\">",
        ];
        for html in active {
            assert!(has_active_html(html), "{html}");
        }
        for html in [
            "<h2 id=-features>one</h2> online",
            "<a href=https://x/on=1>x</a>",
        ] {
            assert!(!has_active_html(html), "{html}");
        }
    }
}
