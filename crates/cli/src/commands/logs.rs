//! `dockhand logs`.

use std::io::Write;
use std::process::ExitCode;

use anyhow::Result;
use dockhand_engine::StdStream;
use futures_util::StreamExt;

use super::lifecycle::{id, manager};
use crate::args::LogsArgs;
use crate::settings::{Settings, runtime};

pub fn run(args: &LogsArgs, settings: &Settings) -> Result<ExitCode> {
    let id = id(&args.id)?;
    let manager = manager(settings)?;
    let record = manager.get(&id)?;
    if args.bridge {
        return super::dev::bridge_logs(&manager, &id, args, settings);
    }
    if record.backend.is_none() {
        anyhow::bail!("{id} has no backend: there are no logs");
    }
    runtime()?.block_on(async {
        let engine = manager.engine().await?;
        let containers = engine
            .containers_by_label(&manager.layout.owner_label(&id))
            .await?;
        let many = containers.len() > 1;
        let streams = containers.iter().map(|c| {
            let prefix = if many {
                format!(
                    "{} | ",
                    crate::output::clean_line(c.service.as_deref().unwrap_or(&c.name))
                )
            } else {
                String::new()
            };
            engine
                .logs(&c.id, args.follow, args.tail)
                .map(move |item| (prefix.clone(), item))
        });
        let mut all = futures_util::stream::select_all(streams);
        while let Some((prefix, item)) = all.next().await {
            let chunk = item?;
            let text = chunk.text();
            for line in text.lines() {
                match chunk.stream {
                    StdStream::Stdout => {
                        let _ = writeln!(anstream::stdout(), "{prefix}{line}");
                    }
                    StdStream::Stderr => {
                        let _ = writeln!(anstream::stderr(), "{prefix}{line}");
                    }
                }
            }
        }
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
