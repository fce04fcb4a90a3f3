//! One phase: skip when unchanged, recover a release left pending by a killed run, install
//! with Helm in waves (one revision per wave of same-phase dependencies) while watching every
//! unit, each wave gated on readiness and hooks before the next.

use super::changes::{self, ChangeSignal};
use super::helm_process::{self, HelmProcess, HELM_FAILED};
use super::standby::{self, Handoff};
use super::tracker::{Failure, Tracker};
use super::{DeployOptions, RunShared};
use crate::clock;
use crate::cluster::object_gate::Lookups;
use crate::cluster::secrets as cluster_secrets;
use crate::cluster::{hooks, releases};
use crate::config::stack::Stack;
use crate::evidence::record::{PhaseEvidence, PhaseResult, WaveEvidence};
use crate::helm;
use crate::labels;
use crate::plan::PlannedPhase;
use crate::ui::progress::Progress;
use crate::values::{environment_labels, partial_phase_values, PhaseValues};
use anyhow::{Context, Result};
use kube::Client;
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

/// Label values are at most 63 characters: the values digest is stored shortened.
const DIGEST_LABEL_LEN: usize = 32;

/// The labels Helm stores on a phase's release record (`--labels`).
pub fn release_labels(stack: &Stack, phase: &PhaseValues) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> =
        environment_labels(stack).into_iter().map(|(k, v)| (k.to_string(), v)).collect();
    out.push((labels::PHASE.into(), phase.phase.as_str().into()));
    out.push((labels::VALUES_DIGEST.into(), phase.digest[..DIGEST_LABEL_LEN].to_string()));
    out
}

/// One revision of the phase release: the units it holds, and the wave it adds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallStep {
    pub wave: usize,
    /// Units this step adds to the release.
    pub adds: Vec<String>,
    /// Every unit the release holds after this step.
    pub include: BTreeSet<String>,
}

/// The revisions that install `waves`, given the units the release already holds. Units
/// already installed are upgraded with the first step (their objects exist, so there is no
/// creation order left to keep); a wave that adds nothing new needs no revision of its own.
pub fn install_steps(waves: &[Vec<String>], installed: &BTreeSet<String>) -> Vec<InstallStep> {
    let all: BTreeSet<&String> = waves.iter().flatten().collect();
    let mut include: BTreeSet<String> = installed.iter().filter(|u| all.contains(u)).cloned().collect();
    let mut steps = Vec::new();
    for (wave, units) in waves.iter().enumerate() {
        let adds: Vec<String> = units.iter().filter(|u| !include.contains(*u)).cloned().collect();
        include.extend(units.iter().cloned());
        if wave == 0 || !adds.is_empty() {
            steps.push(InstallStep { wave, adds, include: include.clone() });
        }
    }
    steps
}

/// Deploys one phase; `secrets` is given for the first phase of a stack with Secrets, `known`
/// are the namespace's releases as the run found them. With the evidence comes the helm that
/// is still finishing the phase's release after our gate saw it ready: the caller collects it.
/// `lookups` are the run's discovery answers; `handoff` may hold this phase's helm, started
/// ahead, and is told when its objects are applied.
#[allow(clippy::too_many_arguments)]
pub async fn deploy_phase(
    client: &Client,
    stack: &Stack,
    planned: &PlannedPhase,
    phase: &PhaseValues,
    secrets: Option<&cluster_secrets::Prepared>,
    shared: &RunShared<'_>,
    lookups: &mut Lookups,
    handoff: Handoff,
    progress: &mut Progress,
) -> Result<(PhaseEvidence, Option<HelmProcess>)> {
    let handoff = Mutex::new(handoff);
    let (options, work_dir) = (shared.options, shared.work_dir);
    let changes = shared.feed.signal();
    let job = PhaseJob { client, stack, planned, phase, secrets, options, work_dir, changes, handoff };
    job.run(shared.known, lookups, progress).await
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// One phase's deployment: what every step of it reads.
struct PhaseJob<'a> {
    client: &'a Client,
    stack: &'a Stack,
    planned: &'a PlannedPhase,
    phase: &'a PhaseValues,
    secrets: Option<&'a cluster_secrets::Prepared>,
    options: &'a DeployOptions,
    work_dir: &'a Path,
    changes: ChangeSignal,
    handoff: Mutex<Handoff>,
}

impl PhaseJob<'_> {
    fn namespace(&self) -> &str {
        &self.stack.namespace
    }

    fn name(&self) -> &'static str {
        self.phase.phase.as_str()
    }

    /// Skip when unchanged, else install wave by wave and record how it went.
    async fn run(
        &self,
        known: &[releases::ReleaseRecord],
        lookups: &mut Lookups,
        progress: &mut Progress,
    ) -> Result<(PhaseEvidence, Option<HelmProcess>)> {
        let started = Instant::now();
        let mut evidence = self.new_evidence();
        let mut tracker = Tracker::new(self.stack, self.phase, std::mem::take(lookups));
        let everything: BTreeSet<String> = self.phase.waves.iter().flatten().cloned().collect();
        let mut current = known.iter().find(|r| r.name == self.phase.release).cloned();
        if let Some(release) = &current {
            if release.status.starts_with("pending-") && self.recover(&release.status, progress).await? {
                current = None; // an interrupted first install, removed: this is a first install again
            }
        }
        if self.may_skip(current.as_ref()) {
            tracker.poll(self.client, self.namespace(), self.name(), &everything, false, progress).await?;
            if tracker.all_ready(&everything) {
                *lookups = std::mem::take(&mut tracker.lookups);
                return Ok((self.skipped(evidence, tracker, current.as_ref(), progress), None));
            }
            // Unchanged values but something is not ready: upgrade anyway, which also repairs.
            tracker.reset();
        }
        let installed = match &current {
            Some(_) => helm::installed_units(&self.options.helm, &self.phase.release, self.namespace()).await?,
            None => BTreeSet::new(),
        };
        let steps = install_steps(&self.phase.waves, &installed);
        let (failure, finishing) =
            self.install_waves(&steps, &everything, started, &mut tracker, &mut evidence, progress).await?;
        if steps.len() < 2 {
            evidence.waves.clear(); // one revision: the phase's own times say it all
        }
        evidence.revision = self.latest_revision().await?;
        match failure {
            Some(failure) => self.failed(&mut evidence, &mut tracker, failure, started, progress).await,
            None => self.deployed(&mut evidence, started, progress),
        }
        *lookups = tracker.lookups;
        evidence.units = tracker.units.into_iter().map(|u| u.evidence).collect();
        Ok((evidence, finishing))
    }

    fn new_evidence(&self) -> PhaseEvidence {
        PhaseEvidence {
            name: self.name().into(),
            release: self.phase.release.clone(),
            revision: None,
            values_digest: self.phase.digest.clone(),
            result: PhaseResult::Running,
            started_at: clock::now_precise(),
            ready_at: None,
            units: Vec::new(),
            waves: Vec::new(),
            error: None,
            helm_pending: false,
        }
    }

    /// The release holds these values already, and nothing asks to install it again.
    fn may_skip(&self, current: Option<&releases::ReleaseRecord>) -> bool {
        let unchanged = current.is_some_and(|r| {
            r.status == "deployed"
                && r.labels.get(labels::VALUES_DIGEST).map(String::as_str)
                    == Some(&self.phase.digest[..DIGEST_LABEL_LEN])
        });
        // A Secret missing or changed in the cluster is rewritten even when the values are not.
        let repair = self.secrets.is_some_and(|s| !s.repair.is_empty());
        unchanged && !self.options.force && !repair
    }

    /// The evidence of a phase left as it was: unchanged and every unit ready.
    fn skipped(
        &self,
        mut evidence: PhaseEvidence,
        mut tracker: Tracker,
        current: Option<&releases::ReleaseRecord>,
        progress: &mut Progress,
    ) -> PhaseEvidence {
        let revision = current.map(|r| r.revision);
        for unit in &mut tracker.units {
            unit.evidence.observed.insert(0, format!("unchanged since revision {}", revision.unwrap_or(0)));
        }
        evidence.revision = revision;
        evidence.result = PhaseResult::Skipped;
        evidence.ready_at = Some(clock::now_precise());
        evidence.units = tracker.units.into_iter().map(|u| u.evidence).collect();
        let name = self.name();
        progress.finish(
            name,
            &format!(
                "{}. {name}: skipped (values unchanged, revision {}, all units ready)",
                self.phase.phase.number(),
                revision.unwrap_or(0)
            ),
        );
        evidence
    }

    /// Installs `steps` one after the other, recording each wave; stops at the first failure
    /// or once the phase's deadline has passed. A wave's helm must be done before the next
    /// wave upgrades the same release; the last one may still be finishing when this returns.
    async fn install_waves(
        &self,
        steps: &[InstallStep],
        everything: &BTreeSet<String>,
        started: Instant,
        tracker: &mut Tracker,
        evidence: &mut PhaseEvidence,
        progress: &mut Progress,
    ) -> Result<(Option<Failure>, Option<HelmProcess>)> {
        let mut failure: Option<Failure> = None;
        let mut finishing: Option<HelmProcess> = None;
        for step in steps {
            if let Some(previous) = finishing.take() {
                if let Some(why) = previous.finish().await? {
                    failure = Some((None, why));
                    break;
                }
            }
            let values = if step.include == *everything {
                self.phase.clone()
            } else {
                partial_phase_values(self.stack, self.planned, &step.include)
            };
            let wave_started = clock::now_precise();
            (failure, finishing) = self.install_with_retry(&values, step, steps.len(), tracker, progress).await?;
            evidence.waves.push(WaveEvidence {
                wave: step.wave,
                units: step.adds.clone(),
                revision: self.latest_revision().await?,
                started_at: wave_started,
                ready_at: failure.is_none().then(clock::now_precise),
            });
            if failure.is_some() || started.elapsed() > self.options.timeout {
                if failure.is_none() {
                    failure = Some((None, self.not_ready_in_time()));
                }
                break;
            }
        }
        Ok((failure, finishing))
    }

    /// A helm that failed because the API server hiccupped gets one more try, after the
    /// release it may have left pending-* is put back (the recovery of an interrupted run).
    async fn install_with_retry(
        &self,
        values: &PhaseValues,
        step: &InstallStep,
        steps: usize,
        tracker: &mut Tracker,
        progress: &mut Progress,
    ) -> Result<(Option<Failure>, Option<HelmProcess>)> {
        let mut attempt = 1;
        loop {
            let (failure, finishing) =
                self.install_and_gate(values, step, steps, tracker, &self.changes, progress).await?;
            let transient = matches!(&failure, Some((None, why)) if why.starts_with(HELM_FAILED) && helm::transient::is_transient(why));
            if !transient || attempt == 2 {
                return Ok((failure, finishing));
            }
            let release = &self.phase.release;
            progress.note(&format!("{release}: helm failed on a transient API error; trying once more"));
            let left = releases::latest(self.client, self.namespace(), Some(release)).await?.into_iter().next();
            if let Some(left) = left.filter(|r| r.status.starts_with("pending-")) {
                self.recover(&left.status, progress).await?;
            }
            attempt += 1;
        }
    }

    /// The revision the phase's release is at now.
    async fn latest_revision(&self) -> Result<Option<u32>> {
        let latest = releases::latest(self.client, self.namespace(), Some(&self.phase.release)).await?;
        Ok(latest.first().map(|r| r.revision))
    }

    fn not_ready_in_time(&self) -> String {
        format!("not ready within {}s", self.options.timeout.as_secs())
    }

    /// Records the failure with what the units that are not ready say about themselves.
    async fn failed(
        &self,
        evidence: &mut PhaseEvidence,
        tracker: &mut Tracker,
        (unit, why): Failure,
        started: Instant,
        progress: &mut Progress,
    ) {
        let name = self.name();
        let mut report = format!("phase {name} failed: {why}\n");
        let suspects: Vec<usize> = match unit {
            Some(i) => vec![i],
            None => (0..tracker.units.len()).filter(|i| !tracker.units[*i].is_ready()).collect(),
        };
        for i in suspects {
            let unit = &tracker.units[i];
            report.push_str(&format!("unit {} ({}) is not ready:\n", unit.name(), unit.evidence.kind));
            let details = tracker.report(i, self.client, self.namespace()).await;
            report.push_str(&details);
        }
        progress.finish(
            name,
            &format!("{}. {name}: FAILED after {:.1}s", self.phase.phase.number(), started.elapsed().as_secs_f64()),
        );
        evidence.result = PhaseResult::Failed;
        // Helm's and the API server's words and the pods' log lines come from elsewhere.
        evidence.error = Some(crate::redact::scrub(&report).into_owned());
    }

    fn deployed(&self, evidence: &mut PhaseEvidence, started: Instant, progress: &mut Progress) {
        let name = self.name();
        evidence.result = PhaseResult::Deployed;
        evidence.ready_at = Some(clock::now_precise());
        progress.finish(
            name,
            &format!(
                "{}. {name}: deployed revision {} in {:.1}s",
                self.phase.phase.number(),
                evidence.revision.unwrap_or(0),
                started.elapsed().as_secs_f64()
            ),
        );
    }

    /// One revision: helm upgrade --install while watching the units it holds, then our own
    /// gate and the hooks of units that have not run theirs. No failure when everything became
    /// ready; then also the helm that is still finishing, if our gate saw it all first.
    async fn install_and_gate(
        &self,
        values: &PhaseValues,
        step: &InstallStep,
        steps: usize,
        tracker: &mut Tracker,
        changes: &ChangeSignal,
        progress: &mut Progress,
    ) -> Result<(Option<Failure>, Option<HelmProcess>)> {
        let name = values.phase.as_str();
        let started = Instant::now();
        let wave = if steps > 1 { format!(" (wave {}: {})", step.wave, step.adds.join(", ")) } else { String::new() };
        progress
            .line(name, &format!("{}. {name}: helm upgrade --install {}{wave}", values.phase.number(), values.release));
        tracker.note_generations(self.client, self.namespace(), &step.include).await?;
        let helm = self.start_helm(values).await?;
        let (mut failure, finishing) = self.watch_helm(helm, values, step, tracker, changes, progress).await?;
        if failure.is_none() {
            failure = self.confirm_ready(step, started, tracker, changes, progress).await?;
        }
        if failure.is_none() {
            failure = run_hooks(self.client, self.stack, tracker, name, &step.include, progress).await;
        }
        match (failure, finishing) {
            // A failed phase ends the run: Helm's record of it is settled before we report.
            (Some(failure), Some(helm)) => {
                let _ = helm.finish().await?;
                Ok((Some(failure), None))
            }
            outcome => Ok(outcome),
        }
    }

    /// Starts the step's helm, or takes the one started ahead for it, and hands it the values,
    /// the Secrets' among them.
    async fn start_helm(&self, values: &PhaseValues) -> Result<HelmProcess> {
        let labels = release_labels(self.stack, values);
        let ahead = self.handoff().take_helm(&values.release, &labels);
        let helm = match ahead {
            Some(helm) => helm,
            None => standby::start(self.stack, self.options, values, self.work_dir)?,
        };
        let document = crate::values::helm_document(values, self.secrets.map(|s| &s.values));
        helm.go(&document).await.with_context(|| format!("running {}", self.options.helm.display()))
    }

    fn handoff(&self) -> MutexGuard<'_, Handoff> {
        lock(&self.handoff)
    }

    /// Watches the units while helm runs, stopping helm at the first failure waiting longer
    /// cannot cure; a helm that fails by itself is a failure too. Returns early, with helm
    /// still running, once helm has applied everything and our gate has seen every unit ready.
    async fn watch_helm(
        &self,
        mut helm: HelmProcess,
        values: &PhaseValues,
        step: &InstallStep,
        tracker: &mut Tracker,
        changes: &ChangeSignal,
        progress: &mut Progress,
    ) -> Result<(Option<Failure>, Option<HelmProcess>)> {
        let mut waiting = helm.waiting_signal();
        loop {
            let already_waiting = helm.is_waiting();
            tokio::select! {
                _ = helm.exited() => break,
                // Helm's wait began: everything is applied, and what our gate saw counts now.
                _ = helm_process::started_waiting(&mut waiting), if !already_waiting => {}
                _ = changes.next(changes::FALLBACK) => {
                    // Once Helm waits, it has applied everything: a spec unchanged by now
                    // stays unchanged, and readiness by it counts.
                    let applying = !helm.is_waiting();
                    if let Some(found) = tracker.poll(self.client, self.namespace(), values.phase.as_str(), &step.include, applying, progress).await? {
                        // Waiting longer cannot help: stop Helm (it marks the release failed).
                        helm.stop().await;
                        let _ = helm.finish().await?;
                        return Ok((Some(found), None));
                    }
                }
            }
            if helm.is_waiting() {
                self.handoff().tell_applied();
            }
            if helm.is_waiting() && tracker.all_ready(&step.include) {
                return Ok((None, Some(helm)));
            }
        }
        Ok((helm.finish().await?.map(|why| (None, why)), None))
    }

    /// Helm said ready; confirm with our own eyes (and timestamp units Helm's wait hid from us).
    async fn confirm_ready(
        &self,
        step: &InstallStep,
        started: Instant,
        tracker: &mut Tracker,
        changes: &ChangeSignal,
        progress: &mut Progress,
    ) -> Result<Option<Failure>> {
        let mut failure: Option<Failure> = None;
        while failure.is_none() && !tracker.all_ready(&step.include) {
            if started.elapsed() > self.options.timeout {
                failure = Some((None, self.not_ready_in_time()));
                break;
            }
            failure = tracker.poll(self.client, self.namespace(), self.name(), &step.include, false, progress).await?;
            if failure.is_none() && !tracker.all_ready(&step.include) {
                changes.next(changes::FALLBACK).await;
            }
        }
        Ok(failure)
    }

    /// True when the release is gone (it had no good revision to go back to).
    async fn recover(&self, status: &str, progress: &mut Progress) -> Result<bool> {
        recover_pending(self.options, self.namespace(), &self.phase.release, status, progress).await
    }
}

/// Runs the hooks of every unit in `include` that has not passed them yet, units
/// concurrently; the first failure stops the phase.
async fn run_hooks(
    client: &Client,
    stack: &Stack,
    tracker: &mut Tracker,
    phase: &str,
    include: &BTreeSet<String>,
    progress: &mut Progress,
) -> Option<Failure> {
    let mut jobs = Vec::new();
    for (i, tracked) in tracker.units.iter().enumerate() {
        if tracked.hooks_done || !include.contains(tracked.name()) {
            continue;
        }
        let Some(unit) = stack.units.iter().find(|u| u.name == tracked.name()) else { continue };
        let Some(installed) = tracked.workload.clone() else { continue };
        progress.line(
            &format!("{phase}/{}", unit.name),
            &format!("  {}: running {} readiness hook(s)", unit.name, unit.hooks.len()),
        );
        let client = client.clone();
        let namespace = stack.namespace.clone();
        let unit = unit.clone();
        jobs.push(async move {
            let mut passed = Vec::new();
            for hook in &unit.hooks {
                match hooks::run(&client, &namespace, &unit, &installed, hook).await {
                    Ok(how) => passed.push(how),
                    Err(e) => return (i, Err(format!("{e:#}"))),
                }
            }
            (i, Ok(passed))
        });
    }
    for (i, outcome) in futures::future::join_all(jobs).await {
        let unit = &mut tracker.units[i];
        let key = format!("{phase}/{}", unit.name());
        match outcome {
            Ok(passed) => {
                progress.finish(&key, &format!("  ✓ {} hooks passed", unit.name()));
                unit.evidence.observed.extend(passed);
                unit.evidence.ready_at = Some(clock::now_precise());
                unit.hooks_done = true;
            }
            Err(why) => {
                progress.finish(&key, &format!("  ✗ {} hook failed: {why}", unit.name()));
                return Some((Some(i), format!("readiness hook of {}: {why}", unit.name())));
            }
        }
    }
    None
}

/// A run killed mid-phase leaves its release `pending-*`, which blocks every later Helm
/// operation. We hold the namespace's lease, so nobody else is working on it: put it back.
/// True when it was removed instead (a first install has nothing to go back to).
async fn recover_pending(
    options: &DeployOptions,
    namespace: &str,
    release: &str,
    status: &str,
    progress: &mut Progress,
) -> Result<bool> {
    let history = helm::history(&options.helm, release, namespace).await?;
    let last_good =
        history.iter().filter(|h| h.status == "deployed" || h.status == "superseded").map(|h| h.revision).max();
    match last_good {
        Some(revision) => {
            progress.note(&format!(
                "{release} was left {status} by an interrupted run; rolling back to revision {revision}"
            ));
            helm::rollback(&options.helm, release, namespace, revision).await?;
            Ok(false)
        }
        None => {
            progress.note(&format!(
                "{release} was left {status} by an interrupted first install; removing it to start clean"
            ));
            helm::uninstall(&options.helm, release, namespace, options.timeout).await?;
            Ok(true)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn a_first_install_takes_one_revision_per_wave() {
        let waves = vec![names(&["db", "cache"]), names(&["api"]), names(&["worker"])];
        let steps = install_steps(&waves, &BTreeSet::new());
        assert_eq!(steps.iter().map(|s| s.adds.clone()).collect::<Vec<_>>(), waves);
        assert_eq!(steps[1].include, ["api", "cache", "db"].iter().map(|s| s.to_string()).collect());
        assert_eq!(steps[2].include.len(), 4);
    }

    #[test]
    fn installed_units_are_upgraded_at_once_and_only_new_ones_wait() {
        let waves = vec![names(&["db"]), names(&["api"]), names(&["worker"])];
        let installed: BTreeSet<String> = names(&["db", "api", "gone"]).into_iter().collect();
        let steps = install_steps(&waves, &installed);
        assert_eq!(steps.len(), 2, "{steps:?}");
        assert_eq!(steps[0].include, names(&["api", "db"]).into_iter().collect());
        assert_eq!((steps[1].wave, steps[1].adds.clone()), (2, names(&["worker"])));
    }

    #[test]
    fn a_phase_without_same_phase_dependencies_is_one_revision() {
        let steps = install_steps(&[names(&["a", "b"])], &BTreeSet::new());
        assert_eq!(steps.len(), 1);
    }
}
