//! Setup: the examples built with `dockhand build` and pushed.

use super::*;

/// The images in the registry.
pub(super) struct Fixture {
    /// examples/minimal-ui.
    pub(super) ui: Reference,
    /// examples/backend-image on the base image.
    pub(super) backend: Reference,
    /// The doctor state: minimal-ui, host-binaries and backend-image under
    /// repositories of their own (an extension per repository).
    pub(super) doctor: Vec<Reference>,
}

impl Fixture {
    pub(super) fn reference(env: &Env, name: &str) -> Result<Reference> {
        Ok(Reference::parse(&format!(
            "{}/{REPOSITORY}/{name}:1",
            env.registry
        ))?)
    }

    pub(super) fn ids(&self) -> BTreeSet<String> {
        [&self.ui, &self.backend]
            .into_iter()
            .chain(&self.doctor)
            .map(|r| r.extension_id().to_string())
            .collect()
    }

    pub(super) fn create(env: &Env) -> Result<Fixture> {
        let ui = Self::reference(env, "install-ui")?;
        let backend = Self::reference(env, "install-backend")?;
        let mut doctor = Vec::new();
        let mut sources = Vec::new();
        // Pushed from: the image built under the first name given.
        for (example, count, source) in [
            ("minimal-ui", DOCTOR_UI, Some(ui.clone())),
            ("host-binaries", DOCTOR_HOST_BINARIES, None),
            ("backend-image", DOCTOR_BACKENDS, Some(backend.clone())),
        ] {
            let refs: Vec<Reference> = (1..=count)
                .map(|i| Self::reference(env, &format!("doctor-{example}-{i:02}")))
                .collect::<Result<_>>()?;
            sources.push((example, source, refs.clone()));
            doctor.extend(refs);
        }
        let fixture = Fixture {
            ui,
            backend,
            doctor,
        };

        // Leftovers of an interrupted earlier run carry the same labels.
        let swept = env.sweep(&fixture.ids())?;
        if swept > 0 {
            progress(&format!(
                "setup: removed {swept} containers/networks an earlier run left"
            ));
        }

        support::ensure_examples_base(&env.rt, &env.engine)?;
        let base_id = env
            .rt
            .block_on(env.engine.image(BASE_IMAGE))?
            .with_context(|| format!("{BASE_IMAGE} is not in the engine"))?
            .id;

        progress("setup: dockhand build --push of the examples");
        let home = env.fresh("build-home");
        let build = |example: &str, reference: &Reference, base: bool| -> Result<()> {
            let cmd = env.dockhand(&home);
            support::push_example(cmd, example, &reference.to_string(), IMAGE_LABEL, base)
        };
        build("minimal-ui", &fixture.ui, false)?;
        build("backend-image", &fixture.backend, true)?;
        for (example, source, refs) in sources {
            let mut refs = refs.into_iter();
            let source = match source {
                Some(source) => source,
                None => {
                    let first = refs.next().context("no reference to build")?;
                    build(example, &first, false)?;
                    first
                }
            };
            for r in refs {
                support::output(env.dockhand(&home).args([
                    "push",
                    &source.to_string(),
                    &r.to_string(),
                ]))?;
            }
        }
        support::remove_dir(&home)?;
        progress(&format!(
            "setup: pushed {} and {} more under {}/{REPOSITORY}/ (base {BASE_IMAGE}, {})",
            fixture.ui,
            fixture.doctor.len() + 1,
            env.registry,
            base_id.get(..19).unwrap_or(&base_id)
        ));
        Ok(fixture)
    }
}
