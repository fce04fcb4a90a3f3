//! What more than one benchmark needs: running a command while measuring its wall time and
//! peak memory, the machine's load around a measurement, the one-line edits that make a
//! rebuild necessary, and the helm, kubeconfig and namespaces of the cluster benchmarks.

use anyhow::{bail, ensure, Context, Result};
use clap::{Args, ValueEnum};
use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Wall time and peak memory of one run of a command.
pub struct Sample {
    pub wall: Duration,
    pub max_rss_kb: u64,
}

/// Runs `program` to completion (output discarded) and returns its wall time and peak RSS.
pub fn measure(program: &Path, args: &[OsString]) -> Result<Sample> {
    let stderr = tempfile::tempfile()?;
    let start = Instant::now();
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr.try_clone()?)
        .spawn()
        .with_context(|| format!("starting {}", program.display()))?;
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: rusage is plain old data; all-zero is a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: `pid` is our own child, not yet reaped (std reaps only in wait/try_wait,
        // which are never called on `child`); both out-pointers are valid for writes.
        let reaped = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if reaped == pid {
            break;
        }
        let error = std::io::Error::last_os_error();
        if error.kind() != std::io::ErrorKind::Interrupted {
            return Err(error).context("wait4");
        }
    }
    let wall = start.elapsed();
    drop(child);
    if !(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0) {
        let mut message = String::new();
        use std::io::{Read, Seek};
        let mut stderr = stderr;
        stderr.rewind()?;
        stderr.read_to_string(&mut message)?;
        bail!("{} {:?} failed (wait status {status}): {}", program.display(), args, message.trim());
    }
    // Linux reports ru_maxrss in KiB.
    Ok(Sample { wall, max_rss_kb: usage.ru_maxrss.max(0) as u64 })
}

/// The 1-minute load average (/proc/loadavg).
pub fn load_average() -> Result<f64> {
    fs::read_to_string("/proc/loadavg")?
        .split_whitespace()
        .next()
        .and_then(|v| v.parse().ok())
        .context("unreadable /proc/loadavg")
}

/// Replaces the one line starting with `prefix`.
pub fn replace_line(file: &Path, prefix: &str, line: &str) -> Result<()> {
    let text = fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    let mut found = false;
    let changed: Vec<&str> = text
        .lines()
        .map(|l| {
            if l.starts_with(prefix) {
                found = true;
                line
            } else {
                l
            }
        })
        .collect();
    ensure!(found, "{} has no line starting with {prefix:?}", file.display());
    fs::write(file, changed.join("\n") + "\n")?;
    Ok(())
}

/// `path` as UTF-8, for the command lines and manifests that need it as text.
pub fn path_str(path: &Path) -> Result<&str> {
    path.to_str().with_context(|| format!("{} is not UTF-8", path.display()))
}

/// The helm under test: `--helm`, then $CODEX_HELM, then the pinned build of `cargo xtask tools helm`.
pub fn helm_binary(flag: Option<&Path>) -> Result<PathBuf> {
    match (flag, std::env::var_os("CODEX_HELM")) {
        (Some(path), _) => Ok(path.to_path_buf()),
        (None, Some(path)) => Ok(PathBuf::from(path)),
        (None, None) => crate::tools::tool_path("helm"),
    }
}

/// $KUBECONFIG, else the local cluster's kubeconfig, as `cargo xtask cluster up` prints it.
pub fn kubeconfig(root: &Path) -> PathBuf {
    std::env::var_os("KUBECONFIG").map_or_else(|| root.join(".local-cluster/kubeconfig"), PathBuf::from)
}

/// Deletes `namespace` (gone already is fine) with `kubectl`, waiting up to `timeout`.
pub fn delete_namespace(mut kubectl: Command, namespace: &str, timeout: Duration) -> Result<()> {
    let timeout = format!("--timeout={}s", timeout.as_secs());
    crate::exec::output(kubectl.args([
        "delete",
        "namespace",
        namespace,
        "--ignore-not-found",
        "--wait=true",
        &timeout,
    ]))?;
    Ok(())
}

/// services.yaml with `environment`'s namespace line replaced by `namespace: <namespace>`, so a
/// benchmark deploys where it cleans up; an error if the line is no longer there.
pub fn retarget(services_yaml: &str, environment: &str, namespace: &str) -> Result<String> {
    let line = format!("namespace: \"{{{{ project }}}}-{environment}\"");
    ensure!(services_yaml.contains(&line), "services.yaml no longer has the line `{line}` this benchmark replaces");
    Ok(services_yaml.replace(&line, &format!("namespace: {namespace}")))
}

/// The flags of both cluster benchmarks (`bench up`, `bench reload`): the helm under test and
/// the report's format.
#[derive(Args)]
pub struct HelmAndOutput {
    /// helm binary; default: $CODEX_HELM, then the pinned build of `cargo xtask tools helm`.
    #[arg(long)]
    pub helm: Option<PathBuf>,
    #[arg(short, long, value_enum, default_value_t = Format::Text)]
    pub output: Format,
}

#[derive(ValueEnum, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Json,
}
