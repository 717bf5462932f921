//! `dockhand validate` on good and hostile directories: every bad input gets
//! one clear message and the right exit code, never a panic.

use fs_err::os::unix::fs::symlink;

use serde_json::Value;

use crate::support::{self, TempDir, run};

const LABELS: &str = r#"{
  "org.opencontainers.image.title": "T",
  "org.opencontainers.image.description": "D",
  "org.opencontainers.image.vendor": "V",
  "com.docker.desktop.extension.api.version": ">= 0.3.0",
  "com.docker.desktop.extension.icon": "https://example.com/i.svg",
  "com.docker.extension.screenshots": "[{\"alt\":\"a\",\"url\":\"https://example.com/s.png\"}]",
  "com.docker.extension.detailed-description": "<p>d</p>",
  "com.docker.extension.publisher-url": "https://example.com",
  "com.docker.extension.changelog": "<p>c</p>",
  "com.docker.extension.categories": "utility-tools"
}"#;

const METADATA: &str =
    r#"{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"index.html"}}}"#;

/// A complete, valid image-root directory.
fn good_dir(tag: &str) -> TempDir {
    let d = TempDir::new(tag);
    d.write("metadata.json", METADATA);
    d.write("labels.json", LABELS);
    d.write("icon.svg", "<svg/>");
    d.write("ui/index.html", "<html></html>");
    d
}

fn json(dir: &TempDir, extra: &[&str]) -> (Value, Option<i32>) {
    let mut args = vec![
        "validate".to_owned(),
        dir.arg(),
        "--format".into(),
        "json".into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    let v = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
    (v, out.status.code())
}

fn codes(v: &Value) -> Vec<String> {
    v["diagnostics"]
        .as_array()
        .expect("array")
        .iter()
        .map(|d| d["code"].as_str().expect("code").to_owned())
        .collect()
}

/// Validates `d`, asserting that it fails with the one finding `code`
/// whose message contains `message`.
#[track_caller]
fn one_error(d: &TempDir, code: &str, message: &str) {
    let (v, exit) = json(d, &[]);
    assert_eq!(exit, Some(1), "{v}");
    assert_eq!(codes(&v), vec![code]);
    support::assert_str_contains(&v["diagnostics"][0]["message"], message, &v);
}

fn stderr_of(args: &[&str]) -> (String, Option<i32>) {
    let out = run(args);
    assert!(out.stdout.is_empty(), "no data on failure");
    (
        String::from_utf8(out.stderr).expect("utf-8"),
        out.status.code(),
    )
}

#[test]
fn a_complete_directory_is_valid_and_clean() {
    let d = good_dir("good");
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(0));
    assert_eq!(v["valid"], true);
    assert_eq!(v["api_version"], "0.4.2");
    assert_eq!(codes(&v), Vec::<String>::new());
    // The same through the metadata.json path.
    let out = run(&["validate", &d.0.join("metadata.json").display().to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn json_output_has_the_contract_fields() {
    let d = good_dir("fields");
    d.write("metadata.json", r#"{"icon":"missing.svg","ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"/index.html?v=1"}}}"#);
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(v["target"], d.arg());
    let diag = &v["diagnostics"][0];
    assert_eq!(diag["code"], "DH400");
    assert_eq!(diag["severity"], "error");
    assert_eq!(diag["location"], "missing.svg");
    assert!(
        diag["message"]
            .as_str()
            .expect("message")
            .contains("metadata.json:/icon")
    );
}

#[test]
fn missing_path_and_directory_without_metadata() {
    let (err, code) = stderr_of(&["validate", "/nonexistent/ext"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("/nonexistent/ext does not exist"), "{err}");
    let d = TempDir::new("empty");
    let (err, code) = stderr_of(&["validate", &d.arg()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("has no metadata.json"), "{err}");
    assert_eq!(err.lines().count(), 1, "one clear error: {err}");
}

#[test]
fn malformed_json_names_line_and_column() {
    let d = good_dir("syntax");
    d.write(
        "metadata.json",
        "{\n  \"icon\": \"icon.svg\",\n  \"ui\": ]\n}",
    );
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(1));
    assert_eq!(codes(&v), vec!["DH003"]);
    assert_eq!(v["diagnostics"][0]["location"], "metadata.json:3:9");
}

#[test]
fn non_utf8_and_oversized_metadata() {
    let d = good_dir("utf8");
    d.write("metadata.json", b"{\"icon\": \"\xff\xfe\"}");
    let (v, _) = json(&d, &[]);
    assert_eq!(codes(&v), vec!["DH002"]);
    let d = good_dir("big");
    let mut big = b"{\"icon\":\"icon.svg\",\"pad\":\"".to_vec();
    big.extend(std::iter::repeat_n(b'a', 1024 * 1024 + 10));
    big.extend(b"\"}");
    d.write("metadata.json", big);
    one_error(&d, "DH001", "was not read");
}

#[test]
fn symlinks_leading_outside_are_refused() {
    let outside = TempDir::new("outside");
    outside.write("secret/index.html", "secret");
    outside.write("metadata.json", METADATA);
    // metadata.json itself
    let d = TempDir::new("mlink");
    symlink(outside.0.join("metadata.json"), d.0.join("metadata.json")).expect("symlink");
    let (err, code) = stderr_of(&["validate", &d.arg()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("symlink that leads outside"), "{err}");
    // the ui root, and a relative link climbing out
    let d = good_dir("uilink");
    fs_err::remove_dir_all(d.0.join("ui")).expect("rm");
    symlink(outside.0.join("secret"), d.0.join("ui")).expect("symlink");
    fs_err::remove_file(d.0.join("icon.svg")).expect("rm");
    symlink("../../../../../../etc/hostname", d.0.join("icon.svg")).expect("symlink");
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(1));
    let c = codes(&v);
    assert_eq!(c.iter().filter(|c| *c == "DH402").count(), 3, "{v}");
    // A symlink inside the directory is fine.
    let d = good_dir("innerlink");
    fs_err::rename(d.0.join("ui"), d.0.join("real-ui")).expect("mv");
    symlink("real-ui", d.0.join("ui")).expect("symlink");
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(0), "{v}");
}

#[test]
fn labels_from_the_dockerfile_with_build_args() {
    let d = good_dir("dockerfile");
    fs_err::remove_file(d.0.join("labels.json")).expect("rm");
    let labels: serde_json::Map<String, Value> = serde_json::from_str(LABELS).expect("labels");
    let mut dockerfile = String::from("ARG VENDOR\nFROM scratch\nARG VENDOR\nCOPY . /\nLABEL ");
    for (k, v) in &labels {
        let v = v.as_str().expect("str");
        let v = if k == "org.opencontainers.image.vendor" {
            "${VENDOR}".to_owned()
        } else {
            v.replace('"', "\\\"")
        };
        dockerfile.push_str(&format!("{k}=\"{v}\" \\\n  "));
    }
    dockerfile.push_str("x=1\n");
    d.write("Dockerfile", dockerfile);
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(1), "{v}");
    assert!(
        codes(&v).contains(&"DH213".to_owned()),
        "unset build arg is named: {v}"
    );
    assert!(
        codes(&v).contains(&"DH202".to_owned()),
        "vendor is empty: {v}"
    );
    let (v, code) = json(&d, &["--build-arg", "VENDOR=acme"]);
    assert_eq!(code, Some(0), "{v}");
    let (err, code) = stderr_of(&["validate", &d.arg(), "--build-arg", "VENDOR"]);
    assert_eq!(code, Some(1));
    assert!(err.contains("write NAME=VALUE"), "{err}");
}

#[test]
fn api_version_checks_and_override() {
    let d = good_dir("api");
    d.write("labels.json", LABELS.replace(">= 0.3.0", ">= 9.0.0"));
    one_error(&d, "DH209", "0.4.2");
    let (_, code) = json(&d, &["--api-version", "9.1.0"]);
    assert_eq!(code, Some(0));
    d.write("labels.json", LABELS.replace(">= 0.3.0", "latest"));
    let (v, _) = json(&d, &[]);
    assert_eq!(codes(&v), vec!["DH208"]);
    let (err, code) = stderr_of(&["validate", &d.arg(), "--api-version", "nope"]);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("--api-version `nope` is not a version"),
        "{err}"
    );
}

#[test]
fn errors_only_hides_warnings_and_metadata_only_skips_files() {
    let d = good_dir("flags");
    d.write("metadata.json", r#"{"icon":"nope.svg","extra":1,"ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"index.html"}}}"#);
    let (v, _) = json(&d, &[]);
    assert_eq!(codes(&v), vec!["DH101", "DH400"]);
    let (v, _) = json(&d, &["--errors-only"]);
    assert_eq!(codes(&v), vec!["DH400"]);
    let (v, code) = json(&d, &["--metadata-only"]);
    assert_eq!(code, Some(0));
    assert_eq!(codes(&v), vec!["DH101"]);
}

#[test]
fn hostile_metadata_values() {
    let d = good_dir("hostile");
    d.write(
        "metadata.json",
        r#"{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"T","root":"../../etc","src":"index.html"}},
            "vm":{"image":"x","composefile":"c.yaml","exposes":{"socket":"../../tmp/evil.sock"}},
            "host":{"binaries":[{"linux":[{"path":"relative/bin"},{"path":"/../../bin/sh"},{"path":"/linux/a"},{"path":"/linux/a"}]}]}}"#,
    );
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(1));
    let c = codes(&v);
    for want in ["DH111", "DH125", "DH122", "DH130", "DH131"] {
        assert!(c.contains(&want.to_owned()), "{want} missing from {c:?}");
    }
}

#[test]
fn bad_labels_json_is_one_clear_error() {
    let d = good_dir("badlabels");
    d.write("labels.json", r#"{"a": 1}"#);
    one_error(&d, "DH215", "string values");
}

#[test]
fn text_output_groups_findings() {
    let d = good_dir("text");
    d.write(
        "metadata.json",
        r#"{"ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"index.html"}}}"#,
    );
    d.write(
        "labels.json",
        LABELS.replace("\"com.docker.extension.changelog\": \"<p>c</p>\",", ""),
    );
    let out = run(&["validate", &d.arg()]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("(T): invalid, 1 error and 1 warning"),
        "{text}"
    );
    assert!(text.contains("\nmetadata.json\n  warning DH102"), "{text}");
    assert!(
        text.contains("\nlabels\n  error   DH201  label:com.docker.extension.changelog"),
        "{text}"
    );
    assert!(!text.contains('\u{1b}'), "no colour without a terminal");
}

/// Both `vm.image` and `vm.composefile` (a published Kubernetes inspector
/// ships this; Docker Desktop installs it): one warning saying the compose
/// file runs, and the compose file is the one checked.
#[test]
fn both_vm_keys_warn_and_the_compose_file_is_checked() {
    let d = good_dir("vmboth");
    d.write(
        "metadata.json",
        r#"{"icon":"icon.svg","ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"index.html"}},
            "vm":{"image":"acme/other:1","composefile":"docker-compose.yaml","exposes":{"socket":"b.sock"}}}"#,
    );
    d.write(
        "docker-compose.yaml",
        "services:\n  api:\n    image: ${DESKTOP_PLUGIN_IMAGE}\n    privileged: true\n",
    );
    let (v, code) = json(&d, &[]);
    assert_eq!(code, Some(0), "{v}");
    assert_eq!(v["valid"], true);
    insta::assert_json_snapshot!(v["diagnostics"]);
    let out = run(&["validate", &d.arg()]);
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(
        text.contains("warning DH125") && text.contains("valid, 0 errors and 2 warnings"),
        "{text}"
    );
}

#[test]
fn an_icon_that_is_not_an_image_is_reported() {
    let d = good_dir("icon-html");
    d.write(
        "icon.svg",
        "<!doctype html><script>fetch('/api/install')</script>",
    );
    let (v, code) = json(&d, &[]);
    assert_eq!(codes(&v), ["DH406"], "{v}");
    assert_eq!(code, Some(0), "a warning: Docker Desktop installs it");
    let d = good_dir("icon-png");
    d.write("icon.svg", "\u{89}PNG");
    let (v, _) = json(&d, &[]);
    assert_eq!(codes(&v), ["DH406"], "a name is not a type: {v}");
}
