//! dockhand run as the lab's ordinary user (`DOCKHAND_TEST_USER`, a member
//! of the `docker` group that `scripts/test` and `scripts/compat` create), as
//! a person installing extensions would: `setpriv` to the user and its
//! groups, a clean environment, a home of its own.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, ensure};

use crate::support::{RealEnv, TempDir};

/// The user and the home its dockhand runs in.
pub(crate) struct LabUser {
    pub name: String,
    dir: TempDir,
    docker_host: String,
}

impl LabUser {
    /// A fresh home (`dh/` is `DOCKHAND_HOME`, `run/` the runtime dir) owned
    /// by `name`.
    pub(crate) fn new(name: &str, env: &RealEnv) -> Result<Self> {
        let dir = TempDir::new("compat-user");
        fs_err::create_dir_all(dir.0.join("run"))?;
        fs_err::set_permissions(dir.0.join("run"), std::fs::Permissions::from_mode(0o700))?;
        fs_err::set_permissions(&dir.0, std::fs::Permissions::from_mode(0o755))?;
        let status = Command::new("chown")
            .args(["-R", name, &dir.arg()])
            .status()
            .context("chown runs")?;
        ensure!(status.success(), "chown -R {name} {}", dir.arg());
        Ok(Self {
            name: name.to_owned(),
            dir,
            docker_host: env.docker_host.clone(),
        })
    }

    /// Its home directory.
    pub(crate) fn home(&self) -> &Path {
        &self.dir.0
    }

    /// `dockhand ARGS` as the user.
    pub(crate) fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("setpriv");
        c.args([
            &format!("--reuid={}", self.name),
            &format!("--regid={}", self.name),
            "--init-groups",
            "--",
            env!("CARGO_BIN_EXE_dockhand"),
        ])
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", self.home())
        .env("DOCKHAND_HOME", self.home().join("dh"))
        .env("XDG_RUNTIME_DIR", self.home().join("run"))
        .env("DOCKER_HOST", &self.docker_host)
        .env("NO_COLOR", "1");
        c
    }

    pub(crate) fn run(&self, args: &[&str]) -> Result<Output> {
        self.cmd(args)
            .output()
            .with_context(|| format!("dockhand {args:?} as {}", self.name))
    }

    /// `dockhand ARGS` as the user, which must succeed; its stdout.
    pub(crate) fn ok(&self, args: &[&str]) -> Result<String> {
        let out = self.run(args)?;
        ensure!(
            out.status.success(),
            "dockhand {} (as {}) failed: {}{}",
            args.join(" "),
            self.name,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr).trim_end()
        );
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Where a log of this run goes.
    pub(crate) fn log_path(&self, name: &str) -> PathBuf {
        self.home().join(name)
    }
}
