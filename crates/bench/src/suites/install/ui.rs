//! Step 1, a UI-only install: `dockhand install` against `docker pull`,
//! `create`, `cp` and `rm`.

use super::*;

pub(super) fn ui_table(env: &Env, fx: &Fixture, options: &Options) -> Result<Table> {
    progress(
        "ui: dockhand install (fresh home) vs docker pull + create + cp + rm (image removed first)",
    );
    let reference = fx.ui.to_string();
    let id = fx.ui.extension_id();
    let samples = {
        let mut contenders = [
            Contender::new("dockhand install", || {
                let home = env.fresh("ui-home");
                let took =
                    support::run_timed(env.dockhand(&home).args(["install", &reference, "-y"]))?;
                let root = home
                    .join("extensions")
                    .join(id.fs_name())
                    .join("current/root");
                for f in ["ui/index.html", "metadata.json", "icon.svg"] {
                    ensure!(root.join(f).is_file(), "dockhand install left no {f}");
                }
                // A UI-only extension has nothing on the engine.
                support::discard(&home)?;
                Ok(took)
            }),
            Contender::new("docker pull + cp", || {
                env.remove_image(&reference)?;
                let dest = env.fresh("ui-docker");
                fs_err::create_dir_all(&dest)?;
                env.left.images.borrow_mut().insert(reference.clone());
                let start = Instant::now();
                support::output(env.docker().args(["pull", "-q", &reference]))?;
                // A UI-only image has no command; create needs one (nothing runs).
                let container = support::output(env.docker().args(["create", &reference, "none"]))?
                    .trim()
                    .to_owned();
                env.left.containers.borrow_mut().insert(container.clone());
                for (from, to) in [
                    ("/ui", "ui"),
                    ("/metadata.json", "metadata.json"),
                    ("/icon.svg", "icon.svg"),
                ] {
                    support::output(
                        env.docker()
                            .arg("cp")
                            .arg(format!("{container}:{from}"))
                            .arg(dest.join(to)),
                    )?;
                }
                support::output(env.docker().args(["rm", &container]))?;
                let took = start.elapsed();
                env.left.containers.borrow_mut().remove(&container);
                for f in ["ui/index.html", "metadata.json", "icon.svg"] {
                    ensure!(dest.join(f).is_file(), "docker cp left no {f}");
                }
                support::discard(&dest)?;
                Ok(took)
            }),
        ];
        interleaved(options.plan, &mut contenders)?
    };
    let mut t = Table::new(format!("install: UI-only extension {}", fx.ui));
    t.row(
        Row::timed("install (pull, unpack, state)", &samples[0], &samples[1])
            .ratio_at_most(UI_RATIO_TARGET, 2),
    );
    t.note(options.plan.describe());
    t.note("dockhand: `dockhand --quiet install REF -y` (release binary) into a fresh DOCKHAND_HOME each run: pulls this platform into an empty store, validates, unpacks UI, metadata.json and icon, records the state");
    t.note("baseline (what Docker Desktop does for a UI-only extension): `docker pull -q REF`, `docker create REF none` (the image has no command; nothing runs), `docker cp` of /ui, /metadata.json and /icon.svg, `docker rm`; before each run (untimed) `docker rmi REF`, so the pull really pulls");
    t.note(format!(
        "{}; both talk to the same local registry",
        env.docker_version
    ));
    Ok(t)
}
