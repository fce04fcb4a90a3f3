//! The cluster's background processes: started detached (own session, output to
//! one log file per component, pid in a pid file) so they outlive `cargo xtask`,
//! and stopped by that pid only.
use std::ffi::OsStr;
use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use super::layout::Layout;

/// A process we start and stop.
pub struct Daemon<'a> {
    pub name: &'a str,
    pub program: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(&'a str, String)>,
    /// Configuration files (path, content) written just before the start, and
    /// only then: some daemons (kube-proxy) exit when their config file changes.
    pub files: Vec<(PathBuf, String)>,
}

impl<'a> Daemon<'a> {
    /// The built tool `name` (`cargo xtask tools <name>`) as a daemon that reaches the
    /// apiserver with the admin kubeconfig: `--kubeconfig=…` then `args`, no env, no files.
    pub fn admin_client(name: &'a str, layout: &Layout, args: &[String]) -> Result<Daemon<'a>> {
        let mut all = vec![format!("--kubeconfig={}", layout.kubeconfig().display())];
        all.extend_from_slice(args);
        Ok(Daemon { name, program: crate::tools::tool_path(name)?, args: all, env: vec![], files: vec![] })
    }
}

impl Daemon<'_> {
    /// Starts the daemon unless it already runs; returns its pid.
    pub fn ensure_running(&self, layout: &Layout) -> Result<u32> {
        if let Some(pid) = running_pid(layout, self.name) {
            return Ok(pid);
        }
        self.start(layout)
    }

    fn start(&self, layout: &Layout) -> Result<u32> {
        for (path, content) in &self.files {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            fs::write(path, content).with_context(|| format!("writing {}", path.display()))?;
        }
        let log_path = layout.log(self.name);
        let pid_path = layout.pid_file(self.name);
        for dir in [log_path.parent(), pid_path.parent()].into_iter().flatten() {
            fs::create_dir_all(dir)?;
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        writeln!(log, "===== {} {} {}", self.name, self.program.display(), self.args.join(" "))?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log);
        // A session of its own: no terminal hangup or Ctrl-C aimed at `cargo xtask`
        // reaches the cluster.
        unsafe {
            command.pre_exec(|| {
                if libc::setsid() < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = command.spawn().with_context(|| format!("starting {} ({})", self.name, self.program.display()))?;
        let pid = child.id();
        fs::write(&pid_path, format!("{pid}\n{}\n", self.program.display()))?;
        Ok(pid)
    }
}

/// The pid of a component we started, if that process still runs.
pub fn running_pid(layout: &Layout, name: &str) -> Option<u32> {
    let text = fs::read_to_string(layout.pid_file(name)).ok()?;
    let mut lines = text.lines();
    let pid: u32 = lines.next()?.trim().parse().ok()?;
    let program = lines.next()?;
    // A recycled pid would belong to another program.
    (is_alive(pid) && argv0(pid).as_deref() == Some(OsStr::new(program))).then_some(pid)
}

/// Whether the process exists and is not a zombie waiting for its parent.
pub fn is_alive(pid: u32) -> bool {
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the parenthesised command name.
        Ok(stat) => stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_some_and(|state| state != "Z" && state != "X"),
        Err(_) => false,
    }
}

fn argv0(pid: u32) -> Option<std::ffi::OsString> {
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let first = cmdline.split(|b| *b == 0).next()?;
    Some(<OsStr as std::os::unix::ffi::OsStrExt>::from_bytes(first).to_owned())
}

/// Stops a component we started: SIGTERM, then SIGKILL after `grace`.
pub fn stop(layout: &Layout, name: &str, grace: Duration) -> Result<bool> {
    let stopped = match running_pid(layout, name) {
        Some(pid) => {
            terminate(pid, grace)?;
            true
        }
        None => false,
    };
    let pid_file = layout.pid_file(name);
    if pid_file.exists() {
        fs::remove_file(&pid_file)?;
    }
    Ok(stopped)
}

/// SIGTERM, wait up to `grace`, then SIGKILL and wait for the process to go.
pub fn terminate(pid: u32, grace: Duration) -> Result<()> {
    signal(pid, libc::SIGTERM);
    let deadline = Instant::now() + grace;
    while is_alive(pid) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(100));
    }
    if is_alive(pid) {
        signal(pid, libc::SIGKILL);
        let deadline = Instant::now() + Duration::from_secs(10);
        while is_alive(pid) {
            if Instant::now() > deadline {
                bail!("process {pid} survived SIGKILL");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

fn signal(pid: u32, sig: libc::c_int) {
    // The process may have exited in between; that is the goal anyway.
    unsafe {
        libc::kill(pid as libc::pid_t, sig);
    }
}

/// The processes whose command line contains `needle` (for containerd's shims,
/// which detach from containerd and are recognisable only by its socket path).
pub fn pids_with_arg(needle: &str) -> Vec<u32> {
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| c.split(|b| *b == 0).any(|arg| arg == needle.as_bytes()))
                .unwrap_or(false)
        })
        .collect()
}

/// Resident memory of a process in KiB (0 if it is gone).
pub fn rss_kib(pid: u32) -> u64 {
    fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

pub fn rss_kib_of(pids: &[u32]) -> u64 {
    pids.iter().map(|pid| rss_kib(*pid)).sum()
}

/// The last lines of a component's log, to explain a failure.
pub fn log_tail(layout: &Layout, name: &str, lines: usize) -> String {
    tail(&layout.log(name), lines)
}

fn tail(path: &Path, lines: usize) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
