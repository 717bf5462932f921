//! Finding compose for the manager: detected once, and kept in
//! `$DOCKHAND_HOME/compose.json` until what it was detected from changes.

use dockhand_engine::{ComposeCli, ComposeRunner};

use crate::Manager;
use crate::error::InstallError;

#[derive(Debug, serde::Serialize, serde::Deserialize)]
struct CachedCompose {
    program: String,
    prefix: Vec<String>,
    version: String,
    stamp: String,
    /// The [`dockhand_engine::ComposeChoice::key`] it was detected for.
    #[serde(default)]
    choice: String,
    /// The docker CLI's compose plugin files: present or not, size, time.
    #[serde(default)]
    plugins: String,
}

/// `path:size:mtime;` (the modification time in nanoseconds since the
/// epoch, 0 when unknown).
fn file_stamp(path: &std::path::Path, meta: &std::fs::Metadata) -> String {
    let mtime = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok());
    format!(
        "{}:{}:{};",
        path.display(),
        meta.len(),
        mtime.map(|d| d.as_nanos()).unwrap_or(0)
    )
}

/// Each of `paths` as `path:size:mtime;`, or `path:-;` when it is not there
/// (a plugin that appears changes it).
fn presence_stamp(paths: &[std::path::PathBuf]) -> String {
    let mut out = String::new();
    for p in paths {
        match fs_err::metadata(p) {
            Ok(meta) => out.push_str(&file_stamp(p, &meta)),
            Err(_) => out.push_str(&format!("{}:-;", p.display())),
        }
    }
    out
}

/// Size and modification time of each program (found on PATH when bare);
/// empty when one cannot be found.
fn stamp(programs: &[&std::path::Path], search_path: &[std::path::PathBuf]) -> String {
    let mut out = String::new();
    for p in programs {
        let found = if p.components().count() > 1 {
            Some(p.to_path_buf())
        } else {
            search_path.iter().map(|d| d.join(p)).find(|c| c.is_file())
        };
        let Some(meta) = found.and_then(|f| fs_err::metadata(&f).ok()) else {
            return String::new();
        };
        out.push_str(&file_stamp(p, &meta));
    }
    out
}

impl Manager {
    /// Finds compose. Detection runs the candidates (`docker compose`, then
    /// `docker-compose`, a slow Python program), so the answer is kept in
    /// `$DOCKHAND_HOME/compose.json` until the docker CLI, the chosen
    /// program, a compose plugin file (one appearing makes v2 the choice) or
    /// [`Manager::compose_choice`] changes.
    pub async fn compose(&self) -> Result<ComposeRunner, InstallError> {
        let cache_path = self.layout.home.join("compose.json");
        let docker = std::path::Path::new(&self.docker_cli);
        let choice = self.compose_choice.key();
        let plugins = presence_stamp(&self.compose_plugins);
        if let Ok(text) = fs_err::read_to_string(&cache_path)
            && let Ok(cached) = serde_json::from_str::<CachedCompose>(&text)
            && cached.choice == choice
            && cached.plugins == plugins
        {
            let program = std::path::PathBuf::from(&cached.program);
            let now = stamp(&[docker, &program], &self.search_path);
            if !now.is_empty() && cached.stamp == now {
                let cli = ComposeCli {
                    program,
                    prefix: cached.prefix,
                };
                return Ok(
                    ComposeRunner::new(cli, cached.version, self.engine_host.clone())
                        .with_env(self.compose_env.clone()),
                );
            }
        }
        let runner =
            ComposeRunner::detect_choice(docker, &self.engine_host, &self.compose_choice).await?;
        let program = runner.cli().program.clone();
        let cached = CachedCompose {
            program: program.to_string_lossy().into_owned(),
            prefix: runner.cli().prefix.clone(),
            version: runner.version().to_owned(),
            stamp: stamp(&[docker, &program], &self.search_path),
            choice,
            plugins,
        };
        if let Ok(text) = serde_json::to_string(&cached) {
            let _ = fs_err::create_dir_all(&self.layout.home);
            let _ = fs_err::write(&cache_path, text);
        }
        Ok(runner.with_env(self.compose_env.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::Layout;
    use dockhand_engine::ComposeChoice;
    use std::os::unix::fs::PermissionsExt;

    fn script(path: &std::path::Path, text: &str) {
        fs_err::write(path, text).unwrap();
        fs_err::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }

    /// compose.json keeps v1 only until a v2 plugin file appears, and the
    /// choice is part of what it was detected for.
    #[tokio::test]
    async fn a_compose_plugin_that_appears_is_preferred() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("bin");
        let plugin = tmp.path().join("cli-plugins/docker-compose");
        fs_err::create_dir_all(&bin).unwrap();
        // `docker compose` answers only once the plugin file exists.
        script(
            &bin.join("docker"),
            &format!(
                "#!/bin/sh\n[ \"$1\" = compose ] && [ -e {} ] && echo 5.6.1 && exit 0\nexit 1\n",
                plugin.display()
            ),
        );
        script(&bin.join("docker-compose"), "#!/bin/sh\necho 1.29.2\n");
        let layout = Layout {
            home: tmp.path().join("home"),
            runtime: tmp.path().join("run"),
        };
        let mut m = Manager::open(
            layout,
            "unix:///nonexistent/docker.sock".parse().unwrap(),
            bin.join("docker").display().to_string(),
            vec![bin.clone()],
        )
        .unwrap();
        m.compose_plugins = vec![plugin.clone()];
        let first = m.compose().await.unwrap();
        assert!(first.is_v1(), "{first:?}");
        assert!(m.compose().await.unwrap().is_v1(), "cached");
        fs_err::create_dir_all(plugin.parent().unwrap()).unwrap();
        fs_err::write(&plugin, "").unwrap();
        let now = m.compose().await.unwrap();
        assert!(
            !now.is_v1(),
            "the plugin that appeared is preferred: {now:?}"
        );
        assert_eq!(now.version(), "5.6.1");
        m.compose_choice = ComposeChoice::Standalone(bin.join("docker-compose"));
        assert!(m.compose().await.unwrap().is_v1(), "the choice is obeyed");
        m.compose_choice = ComposeChoice::parse("v2");
        assert!(!m.compose().await.unwrap().is_v1());
    }
}
