//! OCI end to end, on the real registry and engine from `scripts/deps`:
//! daemonless multi-platform builds, reproducibility, push, inspect without
//! downloading the UI, validate on images, a backend built on a base image,
//! loaded into the engine and run, archives, and store gc.

use std::process::{Command, Output};

use serde_json::Value;

use crate::lifecycle::http_get;
use crate::support::{self, RealEnv, TempDir, docker, repo_root, succeeded};

fn dh(home: &TempDir, env: &RealEnv, args: &[&str]) -> Output {
    support::dockhand()
        .env("DOCKHAND_HOME", &home.0)
        .env("DOCKER_HOST", &env.docker_host)
        .env("SOURCE_DATE_EPOCH", "1700000000")
        .args(args)
        .output()
        .expect("dockhand runs")
}

fn dh_ok(home: &TempDir, env: &RealEnv, args: &[&str]) -> String {
    succeeded(&format!("dockhand {args:?}"), dh(home, env, args))
}

fn dh_json(home: &TempDir, env: &RealEnv, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["--format", "json"]);
    serde_json::from_str(&dh_ok(home, env, &all)).expect("json")
}

/// A repository name no earlier run used (the registry outlives test runs).
fn unique(name: &str) -> String {
    support::unique_name("dockhand-it", name)
}

fn example(name: &str) -> String {
    repo_root()
        .join("examples")
        .join(name)
        .display()
        .to_string()
}

#[test]
fn build_push_inspect_validate_two_platforms() {
    let Some(env) = support::real_env("build_push_inspect_validate_two_platforms") else {
        return;
    };
    let home = TempDir::new("oci-home");
    let reference = format!("{}/{}:1.0.0", env.registry, unique("minimal-ui"));
    let built = dh_json(
        &home,
        &env,
        &["build", &example("minimal-ui"), "-t", &reference, "--push"],
    );
    assert_eq!(built["platforms"].as_array().expect("platforms").len(), 2);
    let digest = built["digest"].as_str().expect("digest").to_owned();

    // A second home: inspect downloads only manifest, config and the metadata layer.
    let fresh = TempDir::new("oci-inspect");
    let inspected = dh_json(&fresh, &env, &["inspect", &reference]);
    assert_eq!(inspected["digest"], digest.as_str());
    assert_eq!(
        inspected["platforms"],
        serde_json::json!(["linux/amd64", "linux/arm64"])
    );
    assert_eq!(inspected["api_compatible"], true);
    assert_eq!(
        inspected["metadata"]["ui"]["dashboard-tab"]["title"],
        "Minimal UI"
    );
    assert_eq!(
        inspected["labels"]["org.opencontainers.image.vendor"],
        "dockhand examples"
    );
    assert_eq!(
        inspected["layers_read"], 1,
        "only the top layer is read: {inspected}"
    );
    assert_eq!(inspected["layers_total"], 3);
    let blobs = fs_err::read_dir(fresh.0.join("store/blobs/sha256"))
        .expect("blobs")
        .count();
    // The index, this platform's manifest and config, and the metadata layer.
    assert_eq!(
        blobs, 4,
        "inspect stored only the index, manifest, config and metadata layer"
    );

    // validate on the image (pulls this platform, unpacks the named files).
    let v = dh_json(&fresh, &env, &["validate", &reference]);
    assert_eq!(v["valid"], true, "{v}");
    // skopeo reads our store as an OCI layout.
    let out = Command::new("skopeo")
        .args([
            "inspect",
            "--raw",
            &format!("oci:{}:{reference}", fresh.0.join("store").display()),
        ])
        .output()
        .expect("skopeo runs");
    support::assert_succeeded("skopeo reads the store", &out);
}

#[test]
fn builds_are_reproducible() {
    let Some(env) = support::real_env("builds_are_reproducible") else {
        return;
    };
    let a = TempDir::new("repro-a");
    let b = TempDir::new("repro-b");
    let digest = |home: &TempDir, epoch: &str| {
        let out = support::dockhand()
            .env("DOCKHAND_HOME", &home.0)
            .env("SOURCE_DATE_EPOCH", epoch)
            .args([
                "build",
                &example("host-binaries"),
                "-t",
                "x/hb:1",
                "--format",
                "json",
            ])
            .output()
            .expect("runs");
        support::assert_succeeded("dockhand build", &out);
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        v["digest"].as_str().expect("digest").to_owned()
    };
    let first = digest(&a, "1700000000");
    assert_eq!(first, digest(&b, "1700000000"), "same input, same digest");
    assert_ne!(
        first,
        digest(&b, "1700000001"),
        "the time is part of the image"
    );
    let _ = env;
}

#[test]
fn backend_on_a_base_image_loads_and_runs() {
    let Some(env) = support::real_env("backend_on_a_base_image_loads_and_runs") else {
        return;
    };
    // The backend's runtime: a scratch image with the static binary.
    support::build_backend_image(
        &env,
        "dockhand-it/backend-base:e2e",
        "FROM scratch\nCOPY backend /backend\nCMD [\"/backend\"]\n",
        &[],
    );

    let home = TempDir::new("base-home");
    let reference = format!("{}/{}:1.0.0", env.registry, unique("backend-image"));
    // The same build, pushed then loaded.
    let build = |last: &str| {
        let dir = example("backend-image");
        let base = "engine:dockhand-it/backend-base:e2e";
        dh_json(
            &home,
            &env,
            &["build", &dir, "-t", &reference, "--base", base, last],
        )
    };
    let built = build("--push");
    assert_eq!(
        built["platforms"][0]["platform"], "linux/amd64",
        "platforms come from the base"
    );
    let loaded = build("--load");
    assert_eq!(loaded["digest"], built["digest"], "the same build twice");
    let familiar = reference.clone();
    let inspect: Value = serde_json::from_str(&docker(
        &env,
        &[
            "image",
            "inspect",
            &familiar,
            "--format",
            "{{json .Config}}",
        ],
    ))
    .expect("json");
    assert_eq!(
        inspect["Cmd"],
        serde_json::json!(["/backend"]),
        "the base's command is kept"
    );
    assert_eq!(
        inspect["Labels"]["org.opencontainers.image.title"],
        "Backend Image"
    );

    // Run the loaded image: the backend answers on its socket.
    let sock = TempDir::new("base-sock");
    let cid = docker(
        &env,
        &[
            "run",
            "-d",
            "--rm",
            "-v",
            &format!("{}:/run/guest-services", sock.arg()),
            &familiar,
        ],
    );
    let path = sock.0.join("backend.sock");
    let mut ok = false;
    for _ in 0..200 {
        if std::os::unix::net::UnixStream::connect(&path).is_ok() {
            ok = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let reply = ok.then(|| http_get(&path, "/hello"));
    let _ = Command::new("docker")
        .env("DOCKER_HOST", &env.docker_host)
        .args(["rm", "-f", cid.trim()])
        .output();
    assert!(ok, "backend socket appeared");
    assert!(reply.expect("reply").contains("hello from the backend"));

    // Pulled back from the registry into a fresh store: valid, metadata names vm.image.
    let fresh = TempDir::new("base-fresh");
    let v = dh_json(&fresh, &env, &["validate", &reference]);
    assert_eq!(v["valid"], true, "{v}");
}

#[test]
fn archives_push_and_gc() {
    let Some(env) = support::real_env("archives_push_and_gc") else {
        return;
    };
    let home = TempDir::new("arch-home");
    // docker save → push from the archive → inspect from the registry.
    docker(
        &env,
        &[
            "build",
            "-q",
            "-t",
            "dockhand-it/archive:e2e",
            &example("minimal-ui"),
        ],
    );
    let tar = home.0.join("saved.tar");
    docker(
        &env,
        &[
            "save",
            "-o",
            &tar.display().to_string(),
            "dockhand-it/archive:e2e",
        ],
    );
    let reference = format!("{}/{}:1", env.registry, unique("from-archive"));
    let pushed = dh_json(
        &home,
        &env,
        &["push", &format!("archive:{}", tar.display()), &reference],
    );
    assert!(pushed["uploaded"].as_u64().expect("n") >= 2, "{pushed}");
    let again = dh_json(
        &home,
        &env,
        &["push", &format!("archive:{}", tar.display()), &reference],
    );
    assert_eq!(
        again["uploaded"], 0,
        "a second push uploads nothing: {again}"
    );
    let fresh = TempDir::new("arch-fresh");
    let inspected = dh_json(&fresh, &env, &["inspect", &reference]);
    assert_eq!(
        inspected["metadata"]["ui"]["dashboard-tab"]["title"],
        "Minimal UI"
    );
    // Pushed to another repository of the same registry: blobs are mounted, not uploaded.
    let other = format!("{}/{}:1", env.registry, unique("mounted"));
    let source = format!("{}/{}:1", env.registry, unique("mount-src"));
    dh_ok(
        &home,
        &env,
        &["build", &example("minimal-ui"), "-t", &source, "--push"],
    );
    let mounted = dh_json(&home, &env, &["push", &source, &other]);
    assert!(mounted["mounted"].as_u64().expect("n") >= 1, "{mounted}");

    // An OCI layout tar (what skopeo and newer engines write) is a source too.
    let oci_tar = home.0.join("oci.tar");
    let out = Command::new("skopeo")
        .args([
            "copy",
            &format!("oci:{}:{source}", home.0.join("store").display()),
            &format!("oci-archive:{}", oci_tar.display()),
        ])
        .output()
        .expect("skopeo runs");
    support::assert_succeeded("skopeo copy", &out);
    let from_tar = dh_json(
        &fresh,
        &env,
        &["inspect", &format!("archive:{}", oci_tar.display())],
    );
    assert_eq!(
        from_tar["metadata"]["ui"]["dashboard-tab"]["title"], "Minimal UI",
        "{from_tar}"
    );

    // gc: rebuild the same tag with another label; the old blobs go.
    let tag = "x/gc:1";
    dh_ok(
        &home,
        &env,
        &["build", &example("host-binaries"), "-t", tag],
    );
    dh_ok(
        &home,
        &env,
        &[
            "build",
            &example("host-binaries"),
            "-t",
            tag,
            "--label",
            "com.example.rev=2",
        ],
    );
    let gc = dh_json(&home, &env, &["store", "gc"]);
    assert!(
        gc["blobs_removed"].as_u64().expect("n") >= 3,
        "old index, manifests and configs removed: {gc}"
    );
    let again = dh_json(&home, &env, &["store", "gc"]);
    assert_eq!(again["blobs_removed"], 0);
    let v = dh_json(
        &home,
        &env,
        &[
            "validate",
            &format!("oci:{}:{tag}", home.0.join("store").display()),
        ],
    );
    assert_eq!(v["valid"], true, "what gc kept is complete: {v}");
}

#[test]
fn bad_build_input_writes_nothing() {
    let home = TempDir::new("bad-build");
    let dir = TempDir::new("bad-ext");
    dir.write(
        "metadata.json",
        r#"{"ui":{"dashboard-tab":{"title":"T","root":"/ui","src":"index.html"}}}"#,
    );
    let err = support::fails(support::dockhand().env("DOCKHAND_HOME", &home.0).args([
        "build",
        &dir.arg(),
        "-t",
        "x/y:1",
    ]));
    assert!(
        err.contains("is not a valid extension") && err.contains("nothing was written"),
        "{err}"
    );
    let blobs = home.0.join("store/blobs/sha256");
    assert!(
        !blobs.exists() || fs_err::read_dir(&blobs).expect("dir").count() == 0,
        "no blob written"
    );
}
