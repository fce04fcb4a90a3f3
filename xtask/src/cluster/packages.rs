//! The Debian packages the node needs: container runtime, CNI plugins, netfilter tools.
use std::path::Path;
use std::process::Command;

use anyhow::{Context, Result};

/// Debian's CNI plugins live here (containernetworking-plugins).
pub const CNI_BIN_DIR: &str = "/usr/lib/cni";

/// A package and a file that proves it is installed.
const PACKAGES: &[(&str, &str)] = &[
    ("containerd", "/usr/bin/containerd"),
    ("runc", "/usr/sbin/runc"),
    ("containernetworking-plugins", "/usr/lib/cni/bridge"),
    ("iptables", "/usr/sbin/iptables"),
    ("conntrack", "/usr/sbin/conntrack"),
    ("iproute2", "/usr/sbin/ip"),
    // kube-router keeps the pods that NetworkPolicies select in ipsets.
    ("ipset", "/usr/sbin/ipset"),
];

/// Installs whichever packages are missing; returns what it installed.
pub fn ensure() -> Result<Vec<&'static str>> {
    ensure_installed(PACKAGES)
}

/// Installs whichever of these `(package, file that proves it)` are missing.
pub fn ensure_installed(packages: &[(&'static str, &str)]) -> Result<Vec<&'static str>> {
    let missing: Vec<&str> =
        packages.iter().filter(|(_, file)| !Path::new(file).exists()).map(|(package, _)| *package).collect();
    if missing.is_empty() {
        return Ok(missing);
    }
    crate::say!("[cluster] installing Debian packages: {}", missing.join(" "));
    apt(&["update"])?;
    let mut install = vec!["install", "-y", "--no-install-recommends"];
    install.extend(&missing);
    apt(&install)?;
    Ok(missing)
}

fn apt(args: &[&str]) -> Result<()> {
    crate::exec::logged(Command::new("apt-get").args(args).env("DEBIAN_FRONTEND", "noninteractive"))
        .context("the local cluster needs a Debian host and root")?;
    Ok(())
}
