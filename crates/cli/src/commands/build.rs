//! `dockhand build`.

use std::collections::BTreeMap;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use dockhand_oci::build::{BaseImage, BuildError, BuildOptions, ExtensionDir, ExtraFile};
use dockhand_oci::source::{ImageSource, export_docker_archive, platforms, resolve};
use dockhand_oci::store::Store;
use dockhand_oci::{Platform, Reference};
use dockhand_spec::{Class, Severity};
use serde::Serialize;

use crate::args::{BuildArgs, Format};
use crate::settings::{Settings, runtime};

#[derive(Serialize)]
struct BuiltJson {
    reference: String,
    digest: String,
    platforms: Vec<PlatformJson>,
    output: String,
}

#[derive(Serialize)]
struct PlatformJson {
    platform: String,
    digest: String,
}

pub fn run(args: &BuildArgs, settings: &Settings) -> Result<ExitCode> {
    let reference = Reference::parse(&args.tag).context("check -t")?;
    let dir = ExtensionDir::open(&args.dir)?;
    let output_dir = match &args.output {
        Some(o) => match ImageSource::parse(o) {
            Ok(ImageSource::Layout { dir, .. }) => dir,
            _ => bail!("--output `{o}` is not an OCI layout: write --output oci:DIR"),
        },
        None => settings.store_dir(),
    };
    let mut store = Store::open(&output_dir)?;
    let rt = runtime()?;
    let mut options = BuildOptions {
        build_args: key_values(&args.build_args, "--build-arg", "--build-arg KEY=VALUE")?,
        extra_labels: key_values(&args.labels, "--label", "--label KEY=VALUE")?,
        source_date_epoch: settings.source_date_epoch,
        extra_files: args
            .add
            .iter()
            .map(|a| a.parse::<ExtraFile>())
            .collect::<Result<_, _>>()?,
        cmd: (!args.cmd.is_empty()).then(|| args.cmd.clone()),
        stop_signal: args.stop_signal.clone(),
        strict: args.strict,
        ..Default::default()
    };
    let asked: Vec<Platform> = args
        .platform
        .iter()
        .filter(|p| !p.is_empty())
        .map(|p| p.parse::<Platform>())
        .collect::<Result<_, _>>()?;
    if let Some(base) = &args.base {
        let source = ImageSource::parse(base).context("check --base")?;
        settings.say(format!("reading base image {source}"));
        let top = rt
            .block_on(crate::commands::fetch(
                &source,
                &store,
                settings,
                &args.insecure_registries,
            ))?
            .top;
        let offered = platforms(&store, &top)?;
        let wanted = if asked.is_empty() {
            offered.clone()
        } else {
            asked.clone()
        };
        for p in &wanted {
            let image = resolve(&store, &top, p).with_context(|| {
                format!("--base {base} cannot serve {p}: pick platforms it has, or another base")
            })?;
            options.bases.insert(
                p.clone(),
                BaseImage {
                    layers: image.manifest.layers,
                    config: image.config,
                },
            );
        }
        options.platforms = wanted;
    } else if asked.is_empty() {
        options.platforms = vec!["linux/amd64".parse()?, "linux/arm64".parse()?];
    } else {
        options.platforms = asked;
    }
    settings.say(format!(
        "building {} for {}",
        dir.root.display(),
        options
            .platforms
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    ));
    let built = match dockhand_oci::build::build(&dir, &options, &mut store) {
        Ok(b) => b,
        Err(BuildError::Invalid { report, .. }) => {
            let shown: Vec<_> = report.diagnostics.iter().collect();
            crate::output::validation(
                &args.dir.display().to_string(),
                &report,
                &shown,
                &dockhand_spec::implemented_api_version(),
            );
            let marketplace = report
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error && !d.blocks_build());
            bail!(
                "{} is not a valid extension: fix the errors above{}; nothing was written",
                args.dir.display(),
                if marketplace {
                    " (--strict refuses marketplace findings too)"
                } else {
                    ""
                }
            );
        }
        Err(e) => return Err(e.into()),
    };
    warn(&built.report);
    store.tag(&reference.to_string(), &built.index)?;
    let mut output = format!("oci:{}:{}", output_dir.display(), reference);
    if args.push {
        settings.say(format!("pushing to {reference}"));
        rt.block_on(crate::commands::push::push_from_store(
            &store,
            &built.index,
            &reference,
            settings,
            &args.insecure_registries,
        ))?;
        output = reference.to_string();
    }
    if args.load {
        output = load(&store, &built.index, &reference, settings, &rt)?;
    }
    let json = BuiltJson {
        reference: reference.to_string(),
        digest: built.index.digest.to_string(),
        platforms: built
            .manifests
            .iter()
            .map(|(p, d)| PlatformJson {
                platform: p.to_string(),
                digest: d.digest.to_string(),
            })
            .collect(),
        output,
    };
    match args.format {
        Format::Json => crate::output::json(&json)?,
        Format::Text => {
            let width = json
                .platforms
                .iter()
                .map(|p| p.platform.len())
                .chain([6])
                .max()
                .unwrap_or(6);
            let mut text = format!(
                "{}\n  {:<width$}   {}\n  {:<width$}   {}",
                json.reference, "digest", json.digest, "output", json.output
            );
            for p in &json.platforms {
                text.push_str(&format!("\n  {:<width$}   {}", p.platform, p.digest));
            }
            crate::output::data(&text);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints the findings the build went ahead with, one warning each, and
/// says when some of them are errors for `validate` and `--strict`.
fn warn(report: &dockhand_spec::Report) {
    for d in &report.diagnostics {
        crate::output::warning(&format!("{} {}: {}", d.code, d.location, d.message));
    }
    let marketplace = report
        .diagnostics
        .iter()
        .filter(|d| d.code.severity() == Severity::Error && d.code.class() == Class::Marketplace)
        .count();
    if marketplace > 0 {
        crate::output::warning(&format!(
            "{marketplace} of these {} marketplace {}: the image installs, but dockhand validate and build --strict refuse {}",
            if marketplace == 1 { "is a" } else { "are" },
            if marketplace == 1 { "error" } else { "errors" },
            if marketplace == 1 { "it" } else { "them" },
        ));
    }
}

fn load(
    store: &Store,
    top: &dockhand_oci::image::Descriptor,
    reference: &Reference,
    settings: &Settings,
    rt: &tokio::runtime::Runtime,
) -> Result<String> {
    let host = Platform::host();
    let image =
        resolve(store, top, &host).with_context(|| format!("--load needs a {host} image"))?;
    let tmp = store
        .root()
        .join("ingest")
        .join(format!("load-{}.tar", std::process::id()));
    export_docker_archive(store, &image, &reference.familiar(), &tmp)?;
    settings.say(format!(
        "loading {host} into the engine at {}",
        settings.engine
    ));
    let loaded = rt.block_on(async {
        let engine = dockhand_engine::Engine::connect(&settings.engine).await?;
        engine.load_image(&tmp).await
    });
    let _ = fs_err::remove_file(&tmp);
    loaded?;
    Ok(format!("engine:{}", reference.familiar()))
}

/// Repeated `KEY=VALUE` flags, by key (the last of a key wins).
pub type KeyValues = BTreeMap<String, String>;

/// Parses repeated `KEY=VALUE` flags; one without a value is an error
/// saying to write `form`.
pub fn key_values(raw: &[String], flag: &str, form: &str) -> Result<KeyValues> {
    let mut out = BTreeMap::new();
    for arg in raw {
        let Some((k, v)) = arg.split_once('=') else {
            bail!("{flag} `{arg}` has no value: write {form}");
        };
        out.insert(k.to_owned(), v.to_owned());
    }
    Ok(out)
}
