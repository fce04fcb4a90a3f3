//! A phase's helm, started ahead of its phase.
//!
//! Until it has read its kubeconfig, looked up the release's history and loaded the chart,
//! helm needs nothing but its command line; it reads the values last, from its standard input.
//! That first part is about 0.1 s of every install on the local cluster (README, Performance).
//! So the next phase's helm is started while the current phase waits for its units, once the
//! current phase's helm has applied everything (the two do not compete for the CPU while
//! objects are created), and it is handed its values the moment the gate opens.
//!
//! Only the history lookup touches the cluster before the values come, and it only reads: a
//! phase that fails takes the helm started for the next one down with it, which installed
//! nothing (see `values::STDIN_GUARD` for an `up` that dies instead).

use super::helm_process::{HelmProcess, Standby};
use super::phase::release_labels;
use super::DeployOptions;
use super::RunShared;
use crate::cluster::releases::ReleaseRecord;
use crate::config::stack::Stack;
use crate::helm;
use crate::values::PhaseValues;
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tokio::sync::oneshot;

/// One step's helm, standing by for its values.
pub struct PhaseHelm {
    standby: Standby,
    release: String,
    labels: Vec<(String, String)>,
}

impl PhaseHelm {
    /// Whether this helm installs `release` with these labels (which hold the values' digest).
    pub fn fits(&self, release: &str, labels: &[(String, String)]) -> bool {
        self.release == release && self.labels == labels
    }

    /// Hands helm the values document (`values::helm_document`): it installs from here on.
    pub async fn go(self, document: &str) -> Result<HelmProcess> {
        self.standby.go(document).await
    }
}

/// Starts the helm that installs `values` (a phase's, or one wave's), standing by.
pub fn start(stack: &Stack, options: &DeployOptions, values: &PhaseValues, work_dir: &Path) -> Result<PhaseHelm> {
    let labels = release_labels(stack, values);
    let guard_file = guard_file(work_dir);
    let install = helm::Install {
        helm: &options.helm,
        release: &values.release,
        chart: &options.chart,
        namespace: &stack.namespace,
        guard_file: &guard_file,
        timeout: options.timeout,
        labels: &labels,
    };
    let standby = Standby::spawn(install.command(), &values.release, options.helm.version)
        .with_context(|| format!("running {}", options.helm.display()))?;
    Ok(PhaseHelm { standby, release: values.release.clone(), labels })
}

/// Whether the helm of this phase is worth starting ahead: a first install in one wave. A
/// release that exists may first need a pending revision recovered and its installed units
/// looked up, and a phase in waves installs its first wave with other values.
pub fn worth_starting(values: &PhaseValues, known: &[ReleaseRecord]) -> bool {
    values.waves.len() == 1 && !known.iter().any(|r| r.name == values.release)
}

/// Writes the run's file of `values::STDIN_GUARD`, which every install names.
pub fn write_guard(work_dir: &Path) -> Result<()> {
    let path = guard_file(work_dir);
    std::fs::write(&path, crate::values::STDIN_GUARD).with_context(|| format!("writing {}", path.display()))
}

fn guard_file(work_dir: &Path) -> PathBuf {
    work_dir.join("values-guard.yaml")
}

/// What a phase gets from the one before it and gives to the one after.
#[derive(Default)]
pub struct Handoff {
    /// This phase's helm, started ahead.
    pub helm: Option<PhaseHelm>,
    /// Told once this phase's helm has applied everything: the next phase's helm may start.
    pub applied: Option<oneshot::Sender<()>>,
}

impl Handoff {
    /// The helm started ahead for `release` with `labels`, if there is one that fits.
    pub fn take_helm(&mut self, release: &str, labels: &[(String, String)]) -> Option<PhaseHelm> {
        self.helm.take().filter(|helm| helm.fits(release, labels))
    }

    pub fn tell_applied(&mut self) {
        if let Some(applied) = self.applied.take() {
            let _ = applied.send(());
        }
    }
}

/// The next phase's helm, started once `applied` is told; None when the phase that tells it
/// ends without applying anything, or when `next` is not worth starting ahead.
pub async fn start_when_applied(
    applied: oneshot::Receiver<()>,
    stack: &Stack,
    shared: &RunShared<'_>,
    next: Option<&PhaseValues>,
) -> Option<PhaseHelm> {
    let next = next.filter(|values| worth_starting(values, shared.known))?;
    applied.await.ok()?;
    // A helm that cannot start here fails again, with its reason, when its phase starts it.
    start(stack, shared.options, next, shared.work_dir).ok()
}
