//! `cargo xtask buildkit up|down|status`: a BuildKit daemon on this machine for
//! `kubectl codex build`, its tests and the demo. Nothing comes from a container registry:
//! buildkitd and buildctl are built through the Go module proxy (`cargo xtask tools
//! buildkit`), the base images are assembled here and pushed to the local registry
//! ([`crate::images::base`]).
//!
//! | what                | where |
//! |---------------------|-------|
//! | socket              | `.local-cluster/buildkit/buildkitd.sock` (`BUILDKIT_HOST=unix://…`) |
//! | config              | `.local-cluster/buildkit/buildkitd.toml` |
//! | pid file, log       | `.local-cluster/buildkit/{run,logs}/` |
//! | state (build cache) | `~/.cache/kubectl-codex/buildkit`, kept by `down` so warm builds stay warm |
//!
//! `up` is idempotent: it starts the local registry alone if nothing runs it, buildkitd if it
//! does not run, waits until `buildctl debug workers` answers, pushes the base images that
//! are missing or stale and prepares the example's offline build inputs
//! ([`build_inputs`]). It prints `export BUILDKIT_HOST=…` on stdout.
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::cluster::layout::Layout;
use crate::cluster::process::{self, Daemon};
use crate::tools;

pub mod build_inputs;
mod config;

use config::Settings;

const DAEMON: &str = "buildkitd";
/// Longest path a unix socket address may have (`sun_path` is 108 bytes with its NUL).
const MAX_SOCKET_PATH: usize = 107;

#[derive(clap::Subcommand, Debug)]
pub enum BuildkitCommand {
    /// Start buildkitd (and the local registry if nothing runs it), push the base images and
    /// prepare the example's build inputs; prints `export BUILDKIT_HOST=…`.
    Up,
    /// Stop buildkitd; its build cache stays for the next `up`.
    Down,
    /// Show whether buildkitd runs and answers; fails unless it does.
    Status,
}

pub fn run_cli(command: BuildkitCommand) -> Result<()> {
    match command {
        BuildkitCommand::Up => {
            let host = up()?;
            println!("export BUILDKIT_HOST={host}");
            Ok(())
        }
        BuildkitCommand::Down => down(),
        BuildkitCommand::Status => status(),
    }
}

/// Everything `kubectl codex build` runs against; returns the `BUILDKIT_HOST` value.
pub fn up() -> Result<String> {
    let started = Instant::now();
    let (layout, settings) = paths()?;
    step("start the registry", crate::cluster::ensure_registry)?;
    step("start buildkitd", || start_daemon(&layout, &settings))?;
    step("push the base images", || crate::images::base::ensure_all().map(drop))?;
    step("prepare the example's build inputs", build_inputs::ensure)?;
    let summary = format!("buildkit: up (BUILDKIT_HOST={})", settings.buildkit_host());
    eprintln!("{}", crate::progress::line('✓', &summary, started.elapsed()));
    Ok(settings.buildkit_host())
}

pub fn down() -> Result<()> {
    let (layout, settings) = paths()?;
    let stopped = process::stop(&layout, DAEMON, Duration::from_secs(30))?;
    if settings.socket.exists() {
        fs::remove_file(&settings.socket).with_context(|| format!("removing {}", settings.socket.display()))?;
    }
    eprintln!(
        "[buildkit] {}; build cache kept in {}",
        if stopped { "stopped" } else { "was not running" },
        settings.state_dir.display()
    );
    Ok(())
}

pub fn status() -> Result<()> {
    let (layout, settings) = paths()?;
    let pid = process::running_pid(&layout, DAEMON);
    match pid {
        Some(pid) => println!("{DAEMON:<12} pid {pid:<8} running  {:>6.1} MiB", process::rss_kib(pid) as f64 / 1024.0),
        None => println!("{DAEMON:<12} stopped"),
    }
    println!("BUILDKIT_HOST={}", settings.buildkit_host());
    println!("state: {}", settings.state_dir.display());
    println!("log:   {}", layout.log(DAEMON).display());
    if pid.is_none() {
        bail!("buildkitd is not running (start it with `cargo xtask buildkit up`)");
    }
    let workers = buildctl_workers(&settings).context("buildkitd runs but does not answer `buildctl debug workers`")?;
    print!("{workers}");
    Ok(())
}

/// The daemon's files: pid and log under `.local-cluster/buildkit/`, state in the cache.
fn paths() -> Result<(Layout, Settings)> {
    let layout = Layout { root: Layout::for_repo()?.buildkit() };
    let socket = layout.root.join("buildkitd.sock");
    if socket.as_os_str().len() > MAX_SOCKET_PATH {
        bail!(
            "the socket path {} is longer than {MAX_SOCKET_PATH} bytes, the limit of a unix \
             socket; use a checkout with a shorter path",
            socket.display()
        );
    }
    let settings = Settings {
        socket,
        state_dir: tools::cache_root()?.join("buildkit"),
        config_file: layout.root.join("buildkitd.toml"),
    };
    Ok((layout, settings))
}

fn start_daemon(layout: &Layout, settings: &Settings) -> Result<()> {
    if process::running_pid(layout, DAEMON).is_some() && buildctl_workers(settings).is_ok() {
        return Ok(());
    }
    if !Path::new(config::RUNC).is_file() {
        crate::cluster::packages::ensure()?;
    }
    fs::create_dir_all(&settings.state_dir).with_context(|| format!("creating {}", settings.state_dir.display()))?;
    // A socket left by a killed daemon would make the new one fail to listen.
    if process::running_pid(layout, DAEMON).is_none() && settings.socket.exists() {
        fs::remove_file(&settings.socket)?;
    }
    let daemon = Daemon {
        name: DAEMON,
        program: tools::tool_path(DAEMON)?,
        args: config::daemon_args(settings),
        env: vec![],
        files: vec![(settings.config_file.clone(), config::render_toml())],
    };
    daemon.ensure_running(layout)?;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if buildctl_workers(settings).is_ok() {
            return Ok(());
        }
        if process::running_pid(layout, DAEMON).is_none() {
            bail!(
                "buildkitd exited; last lines of {}:\n{}",
                layout.log(DAEMON).display(),
                process::log_tail(layout, DAEMON, 30)
            );
        }
        if Instant::now() > deadline {
            bail!(
                "buildkitd did not answer `buildctl debug workers` within 60s; last lines of {}:\n{}",
                layout.log(DAEMON).display(),
                process::log_tail(layout, DAEMON, 30)
            );
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// `buildctl debug workers`' output, or why it failed.
fn buildctl_workers(settings: &Settings) -> Result<String> {
    Ok(crate::exec::stdout(Command::new(buildctl()?).args(["--addr", &settings.buildkit_host(), "debug", "workers"]))?)
}

/// The pinned buildctl, built if missing.
pub fn buildctl() -> Result<PathBuf> {
    tools::tool_path("buildctl")
}

/// Runs one step of `up` as a progress step (one line; tool output in its log).
fn step<T>(what: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    crate::progress::step(&format!("buildkit: {what}"), f)
}
