//! Entry names: `..`, absolute paths, `./` forms, long and non-UTF-8 names.

use super::*;

// ---------------------------------------------------------------- hostile names

#[test]
fn dot_dot_entry_is_refused() {
    let (f, [l]) = Fixture::with([Layer::new()
        .file("ui/ok", b"x")
        .raw_file(b"../evil", b"pwned")]);
    let err = assert_refused!(
        f.unpack(std::slice::from_ref(&l), &everything()),
        UnpackError::UnsafePath { entry, problem: PathProblem::DotDot, layer }
            if entry == "../evil" && *layer == l.digest
    );
    assert_eq!(
        err.to_string(),
        format!(
            "layer {}: entry `../evil`: the path has a `..` component, refusing the image",
            l.digest
        )
    );
}

#[test]
fn dot_dot_is_refused_even_outside_the_selection() {
    let (f, [l]) = Fixture::with([Layer::new().raw_file(b"a/../../evil", b"pwned")]);
    assert_refused!(
        f.unpack(&[l], &ui_and_metadata()),
        UnpackError::UnsafePath { entry, problem: PathProblem::DotDot, .. }
            if entry == "a/../../evil"
    );
    assert!(f.tree().is_empty());
}

#[test]
fn absolute_entry_is_refused() {
    let mut f = Fixture::new();
    let target = f.outside.join("evil");
    let l = f.plain(
        Layer::new()
            .raw_file(b"/etc/evil", b"pwned")
            .raw_file(target.to_str().unwrap().as_bytes(), b"pwned"),
    );
    assert_refused!(
        f.unpack(&[l], &everything()),
        UnpackError::UnsafePath { entry, problem: PathProblem::Absolute, .. }
            if entry == "/etc/evil"
    );
    assert!(!Path::new("/etc/evil").exists());
}

#[test]
fn dot_slash_and_plain_names_are_the_same_path() {
    let (f, [l]) = Fixture::with([Layer::new()
        .dir("./")
        .dir("./ui/")
        .file("./ui/a.js", b"one")
        .file("ui/a.js", b"two")
        .file("ui//b.js", b"b")]);
    f.unpack(&[l], &everything()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/a.js", "ui/b.js"]);
    assert_eq!(f.read("ui/a.js"), b"two");
}

#[test]
fn hostile_long_name_is_refused() {
    let mut f = Fixture::new();
    let name = format!("ui/{}/../../../evil", "d".repeat(120));
    let l = f.plain(Layer::new().long_name(&name, b"pwned"));
    assert_refused!(
        f.unpack(&[l], &everything()),
        UnpackError::UnsafePath { entry, problem: PathProblem::DotDot, .. } if *entry == name
    );
}

#[test]
fn long_names_gnu_and_pax() {
    let mut f = Fixture::new();
    let gnu = format!("ui/{}/gnu.js", "g".repeat(150));
    let pax = format!("ui/{}/pax.js", "p".repeat(150));
    let l = f.plain(Layer::new().long_name(&gnu, b"gnu").pax_path(&pax, b"pax"));
    let report = f
        .unpack(&[l], &Selection::new().dir("ui").unwrap())
        .unwrap();
    assert_eq!(report.files, 2);
    assert_eq!(f.read(&gnu), b"gnu");
    assert_eq!(f.read(&pax), b"pax");
    assert!(!f.staging.join("placeholder").exists());
}

#[test]
fn non_utf8_names() {
    let (f, [skipped]) = Fixture::with([Layer::new()
        .raw_file(b"other/\xff.bin", b"x")
        .file("ui/a", b"a")]);
    f.unpack(&[skipped], &ui_and_metadata()).unwrap();
    assert_eq!(f.tree(), ["ui/", "ui/a"]);

    let (f, [refused]) = Fixture::with([Layer::new().raw_file(b"ui/\xff.js", b"x")]);
    assert_refused!(
        f.unpack(&[refused], &ui_and_metadata()),
        UnpackError::UnsafePath {
            problem: PathProblem::NotUtf8,
            ..
        }
    );
}
