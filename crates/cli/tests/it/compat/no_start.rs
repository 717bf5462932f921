//! `dockhand install --no-start`, the lab's way to install an extension
//! whose backend needs images this machine cannot pull: the extension is
//! installed with its backend stopped (no container), `up` starts it later,
//! and `rm` leaves nothing.

use crate::lifecycle::{Home, example, http_get, publish};
use crate::support::{self, docker};

#[test]
fn no_start_installs_with_the_backend_stopped_and_up_starts_it() {
    let test = "no_start_installs_with_the_backend_stopped_and_up_starts_it";
    let Some(env) = support::real_env(test) else {
        return;
    };
    let home = Home::new(&env, "no-start");
    let (reference, id) = publish(&env, &example("backend-image"), true, &[]);
    let out = home.run(&["install", &reference, "-y", "--no-start"]);
    support::assert_succeeded("dockhand install --no-start", &out);
    let label = format!("label=dev.dockhand.extension={id}");
    let containers = docker(&env, &["ps", "-aq", "--filter", &label]);
    assert!(containers.trim().is_empty(), "no container: {containers}");
    let listed = home.ls();
    let entry = listed
        .iter()
        .find(|e| e["id"] == id.as_str())
        .expect("listed");
    assert_eq!(entry["vm"]["state"], "stopped", "{entry}");
    assert_eq!(entry["vm"]["containers"], 0, "{entry}");
    assert!(!home.socket(&id, "backend.sock").exists());

    // `up` starts it as any stopped backend.
    home.ok(&["up"]);
    let running = docker(&env, &["ps", "-q", "--filter", &label]);
    assert_eq!(running.lines().count(), 1, "one container runs: {running}");
    let hello = http_get(&home.socket(&id, "backend.sock"), "/hello");
    assert!(hello.contains("hello from the backend"), "{hello}");

    home.ok(&["rm", &id]);
    home.assert_gone(&id);
}
