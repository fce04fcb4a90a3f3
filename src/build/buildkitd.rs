//! A buildkitd running on this machine, found in `/proc`: so that "no builder" and "cannot
//! reach BuildKit" errors can say exactly what to export instead of pointing at set-up that
//! is already done.
use std::path::{Path, PathBuf};

/// Where buildctl connects when neither `--addr` nor `$BUILDKIT_HOST` says otherwise.
pub const DEFAULT_ADDR: &str = "unix:///run/buildkit/buildkitd.sock";

/// A running buildkitd.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Running {
    pub pid: u32,
    /// Its binary; `cargo xtask tools` puts buildctl next to it.
    pub program: PathBuf,
    /// The address it listens on (its first `--addr`).
    pub addr: String,
}

impl Running {
    /// The lines a shell needs to build against this daemon.
    pub fn exports(&self) -> String {
        let mut lines = format!("export BUILDKIT_HOST={}", self.addr);
        if let Some(dir) = self.program.parent().filter(|d| d.join("buildctl").is_file()) {
            lines.push_str(&format!(" and export PATH={}:$PATH", dir.display()));
        }
        lines
    }
}

/// The first buildkitd process this user can see, if any.
pub fn find_running() -> Option<Running> {
    let entries = std::fs::read_dir("/proc").ok()?;
    entries.filter_map(Result::ok).find_map(|entry| {
        let pid: u32 = entry.file_name().to_str()?.parse().ok()?;
        let raw = std::fs::read(entry.path().join("cmdline")).ok()?;
        let argv: Vec<String> =
            raw.split(|b| *b == 0).filter(|a| !a.is_empty()).map(|a| String::from_utf8_lossy(a).into_owned()).collect();
        let addr = daemon_addr(&argv)?;
        let program = std::fs::read_link(entry.path().join("exe")).unwrap_or_else(|_| PathBuf::from(&argv[0]));
        Some(Running { pid, program, addr })
    })
}

/// The listening address of a buildkitd command line, or `None` when it is not buildkitd.
pub fn daemon_addr(argv: &[String]) -> Option<String> {
    let program = argv.first()?;
    if Path::new(program).file_name()? != "buildkitd" {
        return None;
    }
    let mut args = argv[1..].iter();
    while let Some(arg) = args.next() {
        if arg == "--addr" {
            return args.next().cloned();
        }
        if let Some(value) = arg.strip_prefix("--addr=") {
            return Some(value.to_string());
        }
    }
    Some(DEFAULT_ADDR.to_string())
}

/// What to add to a build failure of buildctl run without an address: when it could not
/// reach the default socket and a buildkitd listens elsewhere, the exports that fix it.
pub fn unreachable_hint(error: &str, addr: Option<&str>) -> Option<String> {
    let unreachable = ["buildkitd.sock", "connection refused", "no such file or directory", "connect:"]
        .iter()
        .any(|needle| error.to_ascii_lowercase().contains(needle));
    if addr.is_some() || !unreachable {
        return None;
    }
    let running = find_running().filter(|r| r.addr != DEFAULT_ADDR)?;
    Some(format!(
        "buildctl had no address (--buildkit-addr / $BUILDKIT_HOST) and tried {DEFAULT_ADDR}, but buildkitd (pid {}) \
         listens on {}: {}",
        running.pid,
        running.addr,
        running.exports()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(line: &str) -> Vec<String> {
        line.split(' ').map(String::from).collect()
    }

    #[test]
    fn the_address_comes_from_the_daemons_command_line() {
        let ours = "/root/.cache/kubectl-codex/tools/buildkit-v0.34.2/buildkitd --config /r/buildkitd.toml \
                    --addr unix:///r/buildkitd.sock --root /c/buildkit";
        assert_eq!(daemon_addr(&argv(ours)).as_deref(), Some("unix:///r/buildkitd.sock"));
        assert_eq!(
            daemon_addr(&argv("buildkitd --addr=tcp://127.0.0.1:1234")).as_deref(),
            Some("tcp://127.0.0.1:1234")
        );
        assert_eq!(daemon_addr(&argv("/usr/bin/buildkitd")).as_deref(), Some(DEFAULT_ADDR));
        assert_eq!(daemon_addr(&argv("/usr/bin/buildkitd-helper --addr x")), None);
        assert_eq!(daemon_addr(&argv("sh -c buildkitd")), None);
        assert_eq!(daemon_addr(&[]), None);
    }

    #[test]
    fn an_explicit_address_or_an_unrelated_failure_gets_no_hint() {
        assert_eq!(unreachable_hint("dial unix /run/buildkit/buildkitd.sock: connect: no such file", Some("x")), None);
        assert_eq!(unreachable_hint("failed to solve: process \"/bin/sh -c make\" did not complete", None), None);
    }
}
