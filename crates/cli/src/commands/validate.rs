//! `dockhand validate`.

use std::process::ExitCode;

use anyhow::{Context, Result};
use dockhand_host::update::untagged::parse_source;
use dockhand_oci::source::ImageSource;
use dockhand_spec::{
    Code, Diagnostic, FileChecks, LabelsInput, Location, MetadataBytes, Report, Severity,
    ValidateOptions,
};
use serde::Serialize;

use crate::args::{Format, ValidateArgs};
use dockhand_oci::build::ExtensionDir;

/// `validate --format json`, as CLI.md fixes it.
#[derive(Serialize)]
struct ValidateJson<'a> {
    target: String,
    valid: bool,
    api_version: String,
    diagnostics: Vec<&'a Diagnostic>,
    /// The tag an untagged image reference resolved to (absent otherwise).
    #[serde(skip_serializing_if = "Option::is_none")]
    chosen_tag: Option<String>,
}

pub fn run(args: &ValidateArgs, settings: &crate::settings::Settings) -> Result<ExitCode> {
    let mut options = ValidateOptions::default();
    if let Some(v) = &args.api_version {
        options.api_version =
            semver::Version::parse(v.trim_start_matches('v')).with_context(|| {
                format!("--api-version `{v}` is not a version: write MAJOR.MINOR.PATCH, e.g. 0.4.2")
            })?;
    }
    if args.metadata_only {
        options.file_checks = FileChecks::None;
    }
    let build_args = super::build::key_values(&args.build_args, "--build-arg", "NAME=VALUE")?;
    let target_text = args.target.to_string_lossy().into_owned();
    // TARGET is an image when it parses as an image source, except that a
    // registry reference is a path when a file has that name or it reads as
    // one (`./x`, `/x`).
    let source = match parse_source(&target_text) {
        Ok(ImageSource::Registry(_))
            if args.target.exists() || target_text.starts_with(['.', '/']) =>
        {
            None
        }
        Ok(source) => Some(source),
        Err(_) => None,
    };
    let is_image = source.is_some();
    let staging;
    let mut chosen_tag = None;
    let (dir, image_labels) = if let Some(source) = source {
        // Without a tag: the highest version whose api.version the API
        // checked against satisfies.
        let wanted = super::inspect::Untagged {
            pre: args.pre,
            api: Some(options.api_version.clone()),
            platform: dockhand_oci::Platform::host(),
        };
        let (source, tag) = crate::settings::runtime()?.block_on(
            super::inspect::resolve_untagged(source, &wanted, settings, &args.insecure_registries),
        )?;
        chosen_tag = tag;
        let (path, labels) =
            super::image_tree::unpack_for_validation(&source, settings, &args.insecure_registries)?;
        staging = Some(path);
        let dir = ExtensionDir::open(staging.as_ref().map(|s| s.path()).unwrap_or(&args.target))?;
        (dir, Some(labels))
    } else {
        (ExtensionDir::open(&args.target)?, None)
    };
    let report = match dir.read_metadata()? {
        MetadataBytes::TooLarge(size) => Report {
            diagnostics: vec![Diagnostic::new(
                Code::MetadataTooLarge,
                Location::File("metadata.json".to_owned()),
                format!(
                    "metadata.json is {size} bytes, over the {}-byte limit: it was not read; it should only describe the extension",
                    dockhand_spec::METADATA_MAX_BYTES
                ),
            )],
            ..Report::default()
        },
        MetadataBytes::Unreadable(message) => Report {
            diagnostics: vec![Diagnostic::new(
                Code::MetadataUnreadable,
                Location::File("metadata.json".to_owned()),
                message,
            )],
            ..Report::default()
        },
        MetadataBytes::Read(bytes) => {
            let labels = match image_labels {
                Some(l) => LabelsInput::from_labels(l),
                None => dir.labels(&build_args),
            };
            if let Ok(metadata) = dockhand_spec::Metadata::from_slice(&bytes) {
                let image = is_image.then_some(target_text.as_str());
                options.compose = compose_input(settings, image, &metadata, &dir)?;
            }
            dockhand_spec::validate(&bytes, &labels, &dir, &options)
        }
    };
    let shown: Vec<&Diagnostic> = report
        .diagnostics
        .iter()
        .filter(|d| !args.errors_only || d.severity == Severity::Error)
        .collect();
    let target = args.target.display().to_string();
    match args.format {
        Format::Json => crate::output::json(&ValidateJson {
            target,
            valid: report.is_valid(),
            api_version: options.api_version.to_string(),
            diagnostics: shown,
            chosen_tag,
        })?,
        Format::Text => crate::output::validation(&target, &report, &shown, &options.api_version),
    }
    Ok(if report.is_valid() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(crate::EXIT_FAILURE)
    })
}

/// How the compose file is read: as compose normalizes it with the
/// environment it gets at install (the local reading without a compose CLI).
fn compose_input(
    settings: &crate::settings::Settings,
    image: Option<&str>,
    metadata: &dockhand_spec::Metadata,
    dir: &ExtensionDir,
) -> Result<dockhand_spec::ComposeInput> {
    let scratch = Scratch::new()?;
    let env = super::lifecycle::compose_env(settings);
    let check = dockhand_host::compose_model::ComposeCheck {
        env: &env,
        engine: &settings.engine,
        project: dockhand_engine::project_name("validate"),
        plugin_image: image.unwrap_or(VALIDATE_PLUGIN_IMAGE).to_owned(),
        scratch: scratch.0.join("compose"),
    };
    let (mut input, pending) = check.plan(metadata, dir);
    if let Some(pending) = pending {
        crate::settings::runtime()?.block_on(async {
            let docker = std::path::Path::new(&settings.docker_cli);
            if let Ok(runner) = dockhand_engine::ComposeRunner::detect_choice(
                docker,
                &settings.engine,
                &settings.compose,
            )
            .await
            {
                pending
                    .normalize(&runner.with_env(env.clone()), &mut input)
                    .await;
            }
        });
    }
    Ok(input)
}

/// A private directory of this process (0700, made new), removed on drop.
struct Scratch(std::path::PathBuf);

impl Scratch {
    fn new() -> Result<Self> {
        use std::os::unix::fs::DirBuilderExt;
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path =
            std::env::temp_dir().join(format!("dockhand-validate-{}-{nanos}", std::process::id()));
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&path)
            .with_context(|| format!("create the directory {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = fs_err::remove_dir_all(&self.0);
    }
}

/// `DESKTOP_PLUGIN_IMAGE` when a directory is validated.
const VALIDATE_PLUGIN_IMAGE: &str = "dockhand-validate/plugin-image:latest";
