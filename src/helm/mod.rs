//! The `helm` process: finding it, asking its version, and running it with clear errors.

pub mod transient;
mod version;

use crate::exit::{self, coded};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
pub use version::{HelmVersion, MINIMUM};

/// The Helm version our tests run against by default (built by `cargo xtask tools helm`).
pub const TESTED_VERSION: &str = "v4.3.2";
/// The Helm 3 of the compatibility run (built by `cargo xtask tools helm3`).
pub const TESTED_HELM3_VERSION: &str = "v3.22.0";
/// Environment variable that points at a helm binary.
pub const HELM_ENV: &str = "CODEX_HELM";

/// A helm binary and the version it reported: every command line is built for that major.
#[derive(Debug, Clone)]
pub struct Helm {
    pub path: PathBuf,
    pub version: HelmVersion,
}

impl Helm {
    /// Finds helm (see [`locate_path`]) and asks its version: exit 3 when it is missing, is
    /// not Helm, or is older than [`MINIMUM`].
    pub fn locate(explicit: Option<&Path>) -> Result<Helm> {
        let path = locate_path(explicit)?;
        let version = version::probe(&path)?;
        Ok(Helm { path, version })
    }

    /// The binary's path, for messages.
    pub fn display(&self) -> std::path::Display<'_> {
        self.path.display()
    }
}

/// Finds helm and asks its version; see [`Helm::locate`].
pub fn locate(explicit: Option<&Path>) -> Result<Helm> {
    Helm::locate(explicit)
}

/// Finds helm: an explicit path first, then `$CODEX_HELM`, then `helm` on PATH, then the
/// copy `cargo xtask tools` builds into the user cache.
fn locate_path(explicit: Option<&Path>) -> Result<PathBuf> {
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
    if let Some(path) = cached_build() {
        return Ok(path);
    }
    Err(coded(
        exit::TOOL_MISSING,
        anyhow::anyhow!(
            "helm not found: put Helm on PATH ({MINIMUM} or later; tested with {TESTED_VERSION} and \
             {TESTED_HELM3_VERSION}), pass --helm PATH, \
             or set ${HELM_ENV}. In this repository `cargo xtask tools helm` builds it from source."
        ),
    ))
}

/// Where `cargo xtask tools` leaves its helm build.
fn cached_build() -> Option<PathBuf> {
    crate::tool_cache::built(&format!("helm-{TESTED_VERSION}"), "helm")
}

/// `helm template` of one release: the manifests Helm would install.
pub fn template(helm: &Helm, release: &str, chart: &Path, namespace: &str, values_file: &Path) -> Result<String> {
    let output = Command::new(&helm.path)
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

/// One `helm upgrade --install` of a phase release.
pub struct Install<'a> {
    pub helm: &'a Helm,
    pub release: &'a str,
    pub chart: &'a Path,
    pub namespace: &'a str,
    /// A file holding [`crate::values::STDIN_GUARD`], named before the standard input that
    /// carries the values.
    pub guard_file: &'a Path,
    pub timeout: std::time::Duration,
    /// Stored on the release record (`--labels`), so releases can be found by environment.
    pub labels: &'a [(String, String)],
}

impl Install<'_> {
    /// The command, not yet started: the caller runs it and may stop it.
    pub fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.helm.path);
        command
            .args(["upgrade", "--install", self.release])
            .arg(self.chart)
            .args(["--namespace", self.namespace, "--values"])
            .arg(self.guard_file)
            // The values themselves, Secrets' included: they never touch the disk, and helm can
            // be started before they are handed over (`deploy::standby`).
            .args(["--values", "-"]);
        command.args(self.helm.version.install_wait_flags()).args(self.helm.version.apply_flags());
        // Every server we support validates fields itself (Helm 4's server-side apply asks for
        // `Strict`), and Helm's client-side schema check then checks nothing: it only fetches
        // the OpenAPI documents of the release's API groups to find that out, about 0.1 s of
        // every install on the local cluster (README, Performance).
        command.arg("--disable-openapi-validation");
        // Its debug lines say when every object is applied and its wait begins, which lets
        // `up` move on as soon as its own gate has seen the phase ready (deploy::helm_process).
        // With it Helm prints the release's values on stdout, which is only ever drained.
        command.arg("--debug");
        command.arg("--timeout").arg(format!("{}s", self.timeout.as_secs().max(1)));
        if !self.labels.is_empty() {
            let labels: Vec<String> = self.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
            command.arg("--labels").arg(labels.join(","));
        }
        // With `--debug` a helm that outlived `up` would die of a broken pipe at its next line.
        dies_with_parent(&mut command);
        command
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped());
        command
    }
}

/// One entry of `helm history`.
#[derive(Debug, Clone, serde::Deserialize, serde::Serialize)]
pub struct HistoryEntry {
    pub revision: u32,
    /// When this revision was deployed (RFC 3339).
    pub updated: String,
    pub status: String,
    #[serde(default)]
    pub chart: String,
    #[serde(default)]
    pub description: String,
}

/// A killed `up` (or `down`) takes its helms with it (SIGTERM: Helm records the release
/// failed, or leaves it pending for the next run to recover) rather than leaving them racing
/// the next run.
fn dies_with_parent(command: &mut tokio::process::Command) {
    let parent = std::process::id();
    // SAFETY: prctl and getppid are async-signal-safe, and nothing else runs before exec.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) != 0 || libc::getppid() as u32 != parent {
                return Err(std::io::Error::other("the parent process is gone"));
            }
            Ok(())
        });
    }
}

async fn run_helm(helm: &Helm, args: &[&str]) -> Result<String> {
    let mut command = tokio::process::Command::new(&helm.path);
    dies_with_parent(&mut command);
    let output = command
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .with_context(|| format!("running {}", helm.display()))
        .map_err(|e| coded(exit::TOOL_MISSING, e))?;
    if !output.status.success() {
        anyhow::bail!(
            "helm {} failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Helm's own record of a release's revisions (empty when the release does not exist).
pub async fn history(helm: &Helm, release: &str, namespace: &str) -> Result<Vec<HistoryEntry>> {
    match run_helm(helm, &["history", release, "--namespace", namespace, "--max", "256", "-o", "json"]).await {
        Ok(text) => Ok(serde_json::from_str(&text).with_context(|| format!("parsing helm history of {release}"))?),
        Err(e) if e.to_string().contains("release: not found") => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The units a release holds now, read from the values it was installed with: typed
/// workloads by name, manifest objects by their unit label.
pub async fn installed_units(
    helm: &Helm,
    release: &str,
    namespace: &str,
) -> Result<std::collections::BTreeSet<String>> {
    let text = run_helm(helm, &["get", "values", release, "--namespace", namespace, "-o", "json"]).await?;
    let values: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("parsing helm get values of {release}"))?;
    let workloads = values["workloads"].as_array().into_iter().flatten().filter_map(|w| w["name"].as_str());
    let objects = values["extraManifests"].as_array().into_iter().flatten().filter_map(crate::labels::unit_of);
    Ok(workloads.chain(objects).map(str::to_string).collect())
}

pub async fn uninstall(helm: &Helm, release: &str, namespace: &str, timeout: std::time::Duration) -> Result<()> {
    let timeout = format!("{}s", timeout.as_secs().max(1));
    let wait = helm.version.plain_wait_flag();
    match run_helm(helm, &["uninstall", release, "--namespace", namespace, wait, "--timeout", &timeout]).await {
        Err(e) if e.to_string().contains("not found") => Ok(()),
        other => other.map(|_| ()),
    }
}

pub async fn rollback(helm: &Helm, release: &str, namespace: &str, revision: u32) -> Result<()> {
    let wait = helm.version.plain_wait_flag();
    run_helm(helm, &["rollback", release, &revision.to_string(), "--namespace", namespace, wait]).await.map(|_| ())
}
