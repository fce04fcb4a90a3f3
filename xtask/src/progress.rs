//! One line per step for the long commands a newcomer runs first (`cargo xtask demo`,
//! `cargo xtask cluster up`, `cargo xtask buildkit up`): name, elapsed, ✓ or ✗, with a
//! spinner showing the step's latest log line on a TTY.
//!
//! While a step runs, everything its tools print (apt, `go build`, npm, cargo) and every
//! [`say!`] note goes to `.local-cluster/logs/<step>.log` instead of the terminal: child
//! processes take [`stdout`]/[`stderr`] as their stdio. When a step fails, its last
//! [`FAILURE_TAIL`] log lines are shown with the log's path. Outside a step (a bare
//! `cargo xtask tools`, the benchmarks), notes and tool output go to the terminal as before.
//! A step started inside another one writes its name and time into the outer step's log.
use std::fs::{self, File};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

/// Log lines shown when a step fails.
pub const FAILURE_TAIL: usize = 30;
/// Width of the name column, so the times line up.
const NAME_WIDTH: usize = 44;
const SPINNER: &[char] = &['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/// The step whose log receives output now, if any.
static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

struct Active {
    log: File,
}

/// Prints a progress note: into the running step's log, else on standard error.
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => { $crate::progress::note(&format!($($arg)*)) };
}

/// See [`say!`].
pub fn note(line: &str) {
    let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    match active.as_mut() {
        Some(step) => {
            let _ = writeln!(step.log, "{line}");
        }
        None => eprintln!("{line}"),
    }
}

/// Standard output for a child process: the running step's log, else inherited.
pub fn stdout() -> Stdio {
    redirected().unwrap_or_else(Stdio::inherit)
}

/// Standard error for a child process: the running step's log, else our standard error.
pub fn stderr() -> Stdio {
    redirected().unwrap_or_else(Stdio::inherit)
}

/// Where a tool that would print on standard output should print when it only reports
/// progress: the step's log, else our standard error (standard output stays for results).
pub fn progress_output() -> Stdio {
    redirected().unwrap_or_else(|| Stdio::from(std::io::stderr()))
}

fn redirected() -> Option<Stdio> {
    let active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    active.as_ref().and_then(|step| step.log.try_clone().ok()).map(Stdio::from)
}

/// The log file of a step: `<logs>/<slug of name>.log`.
pub fn log_path(logs: &Path, name: &str) -> PathBuf {
    logs.join(format!("{}.log", slug(name)))
}

/// `start kube-apiserver` → `start-kube-apiserver`: lowercase words joined by dashes.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

/// Runs `f` as one step named `name`, logging to `.local-cluster/logs/<slug>.log`.
pub fn step<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    if ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
        return nested(name, f);
    }
    let logs = crate::repo::repo_root().join(".local-cluster/logs");
    fs::create_dir_all(&logs).with_context(|| format!("creating {}", logs.display()))?;
    let path = log_path(&logs, name);
    let log = File::create(&path).with_context(|| format!("creating {}", path.display()))?;
    *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(Active { log });
    let started = Instant::now();
    let spinner = std::io::stderr().is_terminal().then(|| Spinner::start(name, &path, started));
    let result = f();
    if let Some(spinner) = spinner {
        spinner.stop();
    }
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).take();
    let elapsed = started.elapsed();
    match &result {
        Ok(_) => eprintln!("{}", line('✓', name, elapsed)),
        Err(error) => {
            eprintln!("{}", line('✗', name, elapsed));
            let text = fs::read_to_string(&path).unwrap_or_default();
            let tail = last_lines(&text, FAILURE_TAIL);
            if !tail.is_empty() {
                eprintln!("  last {} lines of {}:", tail.len(), path.display());
                for log_line in tail {
                    eprintln!("  | {log_line}");
                }
            }
            eprintln!("  error: {error:#}");
        }
    }
    result.with_context(|| format!("step `{name}` (log: {})", path.display()))
}

fn nested<T>(name: &str, f: impl FnOnce() -> Result<T>) -> Result<T> {
    let started = Instant::now();
    let result = f();
    let mark = if result.is_ok() { '✓' } else { '✗' };
    note(&line(mark, name, started.elapsed()));
    result
}

/// `✓ start etcd ……  0.9s`
pub fn line(mark: char, name: &str, elapsed: Duration) -> String {
    format!("{mark} {name:<NAME_WIDTH$} {:>6.1}s", elapsed.as_secs_f64())
}

/// The last `n` non-empty lines of `text`, oldest first.
pub fn last_lines(text: &str, n: usize) -> Vec<&str> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].to_vec()
}

/// The spinner line on a TTY: `⠋ name  3.2s  <latest log line>`, redrawn ten times a second.
struct Spinner {
    done: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

impl Spinner {
    fn start(name: &str, log: &Path, started: Instant) -> Spinner {
        let done = Arc::new(AtomicBool::new(false));
        let (name, log, flag) = (name.to_string(), log.to_path_buf(), done.clone());
        let width = std::env::var("COLUMNS").ok().and_then(|c| c.parse().ok()).unwrap_or(100usize);
        let thread = std::thread::spawn(move || {
            let mut frame = 0;
            while !flag.load(Ordering::Relaxed) {
                let latest = latest_line(&log);
                let head = line(SPINNER[frame % SPINNER.len()], &name, started.elapsed());
                let room = width.saturating_sub(head.chars().count() + 3);
                let latest: String = latest.chars().take(room).collect();
                eprint!("\r\x1b[2K{head}  {latest}");
                let _ = std::io::stderr().flush();
                frame += 1;
                std::thread::sleep(Duration::from_millis(100));
            }
            eprint!("\r\x1b[2K");
        });
        Spinner { done, thread }
    }

    fn stop(self) {
        self.done.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
    }
}

/// The log's last line, read from its end (logs of `go build` grow to megabytes).
fn latest_line(log: &Path) -> String {
    use std::io::{Read, Seek, SeekFrom};
    let Ok(mut file) = File::open(log) else { return String::new() };
    let len = file.metadata().map(|m| m.len()).unwrap_or(0);
    let _ = file.seek(SeekFrom::Start(len.saturating_sub(4096)));
    let mut bytes = Vec::new();
    let _ = file.read_to_end(&mut bytes);
    let text = String::from_utf8_lossy(&bytes);
    last_lines(&text, 1).first().map(|l| l.trim().replace('\r', "")).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_names_become_file_names() {
        assert_eq!(slug("start kube-apiserver"), "start-kube-apiserver");
        assert_eq!(slug("kubelet (node Ready)"), "kubelet-node-ready");
        assert_eq!(slug("kubectl codex up --env prod"), "kubectl-codex-up-env-prod");
        assert_eq!(log_path(Path::new("/l"), "Debian packages"), PathBuf::from("/l/debian-packages.log"));
    }

    #[test]
    fn a_failure_shows_the_last_lines_that_say_something() {
        let text = (1..=40).map(|i| format!("line {i}\n\n")).collect::<String>();
        let tail = last_lines(&text, FAILURE_TAIL);
        assert_eq!(tail.len(), 30);
        assert_eq!(tail[0], "line 11");
        assert_eq!(tail[29], "line 40");
        assert_eq!(last_lines("one\n", 30), vec!["one"]);
    }

    #[test]
    fn lines_align_their_times() {
        let a = line('✓', "etcd", Duration::from_millis(900));
        let b = line('✗', "cluster DNS", Duration::from_secs(12));
        assert!(a.ends_with("   0.9s") && b.ends_with("  12.0s"), "{a}|{b}");
        assert_eq!(a.chars().count(), b.chars().count());
    }
}
