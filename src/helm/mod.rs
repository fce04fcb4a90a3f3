//! The `helm` process: finding it, and running it with clear errors.

use crate::exit::{self, coded};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The Helm version our tests run against (built by `cargo xtask tools helm`).
pub const TESTED_VERSION: &str = "v3.22.0";
/// Environment variable that points at a helm binary.
pub const HELM_ENV: &str = "CODEX_HELM";

/// Finds helm: an explicit path first, then `$CODEX_HELM`, then `helm` on PATH, then the
/// copy `cargo xtask tools` builds into the user cache.
pub fn locate(explicit: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = explicit {
        return if path.is_file() {
            Ok(path.to_path_buf())
        } else {
            Err(coded(exit::TOOL_MISSING, anyhow::anyhow!("--helm {}: no such file", path.display())))
        };
    }
    if let Some(path) = std::env::var_os(HELM_ENV).filter(|p| !p.is_empty()) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(coded(exit::TOOL_MISSING, anyhow::anyhow!("${HELM_ENV}={}: no such file", path.display())))
        };
    }
    if let Ok(path) = which::which("helm") {
        return Ok(path);
    }
    if let Some(path) = cached_build().filter(|p| p.is_file()) {
        return Ok(path);
    }
    Err(coded(
        exit::TOOL_MISSING,
        anyhow::anyhow!(
            "helm not found: put Helm 3 on PATH (tested with {TESTED_VERSION}), pass --helm PATH, \
             or set ${HELM_ENV}. In this repository `cargo xtask tools helm` builds it from source."
        ),
    ))
}

/// Where `cargo xtask tools` leaves its helm build.
fn cached_build() -> Option<PathBuf> {
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(cache.join("kubectl-codex/tools").join(format!("helm-{TESTED_VERSION}")).join("helm"))
}

/// `helm template` of one release: the manifests Helm would install.
pub fn template(helm: &Path, release: &str, chart: &Path, namespace: &str, values_file: &Path) -> Result<String> {
    let output = Command::new(helm)
        .args(["template", release])
        .arg(chart)
        .args(["--namespace", namespace, "--values"])
        .arg(values_file)
        .output()
        .with_context(|| format!("running {}", helm.display()))
        .map_err(|e| coded(exit::TOOL_MISSING, e))?;
    if !output.status.success() {
        return Err(coded(
            exit::TOOL_MISSING,
            anyhow::anyhow!(
                "helm template {release} failed ({}): {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}
