//! `dockhand dev ui-source|debug|reset`, and `dockhand logs ID --bridge`.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, Result};
use dockhand_host::Manager;
use dockhand_host::dev::{BridgeLog, DevUiSource};
use dockhand_spec::ExtensionId;
use serde_json::Value;

use super::lifecycle::{id, manager};
use crate::args::{DevCommand, Format, LogsArgs};
use crate::settings::Settings;

/// How often `logs --bridge -f` looks for new lines.
const FOLLOW_EVERY: Duration = Duration::from_millis(250);

pub fn run(cmd: &DevCommand, settings: &Settings) -> Result<ExitCode> {
    let raw = match cmd {
        DevCommand::UiSource(a) => &a.id,
        DevCommand::Debug(a) | DevCommand::Reset(a) => &a.id,
    };
    let id = id(raw)?;
    let manager = manager(settings)?;
    // Names the extension and says what to do when it is not installed.
    manager.get(&id)?;
    let state = &manager.state;
    let mut dev = state.dev_settings(&id)?;
    match cmd {
        DevCommand::UiSource(a) => {
            let source = DevUiSource::parse(&a.url, a.allow_remote)?;
            if !answers(&source) {
                settings.say(format!(
                    "warning: nothing answers at {source} yet: start the dev server before opening the tab"
                ));
            }
            dev.ui_source = Some(source.clone());
            state.set_dev_settings(&id, &dev)?;
            settings.say(format!(
                "{id}'s tab now loads from {source}, through its own origin in `dockhand serve`; `dockhand dev reset {id}` brings back the installed UI"
            ));
        }
        DevCommand::Debug(_) => {
            dev.debug = true;
            state.set_dev_settings(&id, &dev)?;
            let log = BridgeLog::of(&manager.layout, &id);
            settings.say(format!(
                "{id}'s bridge calls are logged to {}: `dockhand logs {id} --bridge -f` shows them, so does its page in the dashboard",
                log.path().display()
            ));
        }
        DevCommand::Reset(_) => {
            let was = state.reset_dev_settings(&id)?;
            settings.say(if was {
                format!("{id} is out of dev mode: its installed UI is served again, its bridge calls are not logged")
            } else {
                format!("{id} was not in dev mode")
            });
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// True when something accepts a TCP connection at the dev server's address.
fn answers(source: &DevUiSource) -> bool {
    use std::net::ToSocketAddrs as _;
    let Ok(addrs) = source.authority().to_socket_addrs() else {
        return false;
    };
    addrs
        .into_iter()
        .any(|a| std::net::TcpStream::connect_timeout(&a, Duration::from_millis(500)).is_ok())
}

/// `dockhand logs ID --bridge [-f] [--tail N] [--format json]`.
pub fn bridge_logs(
    manager: &Manager,
    id: &ExtensionId,
    args: &LogsArgs,
    settings: &Settings,
) -> Result<ExitCode> {
    let log = BridgeLog::of(&manager.layout, id);
    if !manager.state.dev_settings(id)?.debug {
        settings.say(format!(
            "{id}'s bridge calls are not being logged: `dockhand dev debug {id}` turns the log on"
        ));
    }
    let lines = log
        .tail(args.tail)
        .with_context(|| format!("reading {}", log.path().display()))?;
    let mut offset = log.len();
    print(&lines, args.format);
    if !args.follow {
        return Ok(ExitCode::SUCCESS);
    }
    loop {
        std::thread::sleep(FOLLOW_EVERY);
        let (lines, next) = log
            .read_from(offset)
            .with_context(|| format!("reading {}", log.path().display()))?;
        offset = next;
        print(&lines, args.format);
    }
}

fn print(lines: &[String], format: Format) {
    let mut out = anstream::stdout().lock();
    for line in lines {
        let text = match format {
            Format::Json => line.clone(),
            Format::Text => crate::output::clean(&human(line)).into_owned(),
        };
        let _ = writeln!(out, "{text}");
    }
    let _ = out.flush();
}

/// One log line for people:
/// `TS KIND [METHOD] TARGET ARGV… -> STATUS DURATION ms, N B`.
pub fn human(line: &str) -> String {
    let Ok(Value::Object(e)) = serde_json::from_str::<Value>(line) else {
        return line.to_owned();
    };
    let s = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or_default();
    let mut parts = vec![s("ts").to_owned(), s("kind").to_owned()];
    if s("kind") == "vm.service" || e.get("target").is_none() {
        parts.push(s("method").to_owned());
    }
    let target = if e.contains_key("target") {
        s("target")
    } else {
        s("path")
    };
    parts.push(target.to_owned());
    if let Some(argv) = e.get("argv").and_then(Value::as_array) {
        parts.extend(argv.iter().map(|a| quote(a.as_str().unwrap_or_default())));
    }
    if let Some(n) = e.get("argv_total").and_then(Value::as_u64) {
        parts.push(format!("… ({n} arguments)"));
    }
    if let Some(names) = e.get("env").and_then(Value::as_array) {
        let names: Vec<&str> = names.iter().filter_map(Value::as_str).collect();
        parts.push(format!("env[{}]", names.join(",")));
    }
    if let Some(body) = e.get("body").and_then(Value::as_str) {
        parts.push(format!("body {}", quote(body)));
    }
    let status = e.get("status").map_or("?".into(), Value::to_string);
    let ms = e.get("duration_ms").and_then(Value::as_f64).unwrap_or(0.0);
    let bytes = e.get("bytes_out").and_then(Value::as_u64).unwrap_or(0);
    parts.retain(|p| !p.is_empty());
    format!("{} -> {status} {ms:.1} ms, {bytes} B", parts.join(" "))
}

/// `s` as a shell would need it written to be one word.
fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,{}".contains(c));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_for_people() {
        let exec = r#"{"ts":"2026-01-01T00:00:00.000Z","kind":"docker.cli.exec","method":"POST","path":"/.dockhand/api/docker/exec","target":"ps","argv":["-a","--format","{{.Names}} x"],"env":["TOKEN"],"status":200,"duration_ms":12.345,"bytes_in":10,"bytes_out":99}"#;
        assert_eq!(
            human(exec),
            "2026-01-01T00:00:00.000Z docker.cli.exec ps -a --format '{{.Names}} x' env[TOKEN] -> 200 12.3 ms, 99 B"
        );
        let svc = r#"{"ts":"t","kind":"vm.service","method":"GET","path":"/.dockhand/api/vm/request","target":"/hello","status":200,"duration_ms":1,"bytes_out":5}"#;
        assert_eq!(human(svc), "t vm.service GET /hello -> 200 1.0 ms, 5 B");
        let info = r#"{"ts":"t","kind":"info","method":"GET","path":"/.dockhand/api/info","status":200,"duration_ms":0.5,"bytes_out":50}"#;
        assert_eq!(
            human(info),
            "t info GET /.dockhand/api/info -> 200 0.5 ms, 50 B"
        );
        assert_eq!(human("not json"), "not json");
    }
}
