//! Host programs some tests drive for real, installed from Debian's packages when missing (as
//! `images/dev.rs` installs busybox): headless Chromium renders the evidence timeline for the
//! screenshot test, Graphviz's dot checks `kubectl codex graph` output.

use anyhow::{bail, Context, Result};
use std::path::PathBuf;
use std::process::Command;

/// A program and the Debian package that provides it.
pub struct HostProgram {
    pub program: &'static str,
    pub package: &'static str,
    /// The variable its path is passed to the tests in.
    pub env: &'static str,
}

pub const CHROMIUM: HostProgram = HostProgram { program: "chromium", package: "chromium", env: "CODEX_TEST_CHROMIUM" };
pub const DOT: HostProgram = HostProgram { program: "dot", package: "graphviz", env: "CODEX_TEST_DOT" };

/// The program on PATH, installed with apt-get first when it is not there.
pub fn ensure(host: &HostProgram) -> Result<PathBuf> {
    if let Ok(path) = crate::tools::on_path(host.program) {
        return Ok(path);
    }
    eprintln!("[test] installing {} ({}) from Debian's packages", host.package, host.program);
    let install = || {
        Command::new("apt-get")
            .env("DEBIAN_FRONTEND", "noninteractive")
            .args(["install", "-y", "--no-install-recommends", host.package])
            .status()
            .context("running apt-get install")
    };
    // A fresh machine may have no package lists yet: update once and try again.
    if !install()?.success() {
        let updated =
            Command::new("apt-get").env("DEBIAN_FRONTEND", "noninteractive").arg("update").status()?.success();
        if !updated || !install()?.success() {
            bail!("apt-get install {} failed (run as root, or install it yourself)", host.package);
        }
    }
    crate::tools::on_path(host.program)
        .with_context(|| format!("{} installed but {} is still not on PATH", host.package, host.program))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_program_on_path_is_used_without_apt() {
        let sh = HostProgram { program: "sh", package: "no-such-package-would-install", env: "X" };
        let path = ensure(&sh).unwrap();
        assert!(path.ends_with("sh") && path.is_file(), "{}", path.display());
    }
}
