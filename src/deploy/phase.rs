//! One phase: skip when unchanged, recover a release left pending by a killed run, install
//! with Helm while watching every unit, then gate on readiness and hooks.

use super::DeployOptions;
use crate::clock;
use crate::cluster::readiness::{self, InstalledUnit, UnitState};
use crate::cluster::{diagnose, hooks, releases};
use crate::config::model::WorkloadKind;
use crate::config::stack::Stack;
use crate::evidence::record::{PhaseEvidence, PhaseResult, UnitEvidence};
use crate::helm;
use crate::labels;
use crate::ui::progress::Progress;
use crate::values::{environment_labels, PhaseValues};
use anyhow::{Context, Result};
use kube::Client;
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;

const POLL_EVERY: Duration = Duration::from_millis(500);
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

fn installed_units(phase: &PhaseValues) -> Vec<InstalledUnit> {
    phase.values["workloads"]
        .as_array()
        .map(|workloads| {
            workloads
                .iter()
                .filter_map(|w| {
                    let kind = match w["kind"].as_str()? {
                        "Deployment" => WorkloadKind::Deployment,
                        "StatefulSet" => WorkloadKind::StatefulSet,
                        "Job" => WorkloadKind::Job,
                        "CronJob" => WorkloadKind::CronJob,
                        _ => return None,
                    };
                    Some(InstalledUnit {
                        name: w["name"].as_str()?.to_string(),
                        kind,
                        resource_name: w["resourceName"].as_str()?.to_string(),
                        release: phase.release.clone(),
                    })
                })
                .collect()
        })
        .unwrap_or_default()
}

struct Tracker {
    units: Vec<InstalledUnit>,
    evidence: Vec<UnitEvidence>,
}

impl Tracker {
    fn all_ready(&self) -> bool {
        self.evidence.iter().all(|u| u.ready_at.is_some())
    }

    /// Polls every unit not yet ready; returns the first fatal failure, if any.
    async fn poll(
        &mut self,
        client: &Client,
        namespace: &str,
        phase: &str,
        progress: &mut Progress,
    ) -> Result<Option<(usize, String)>> {
        for (i, unit) in self.units.iter().enumerate() {
            if self.evidence[i].ready_at.is_some() {
                continue;
            }
            let key = format!("{phase}/{}", unit.name);
            match readiness::state(client, namespace, unit).await? {
                UnitState::Ready(how) => {
                    self.evidence[i].ready_at = Some(clock::now_precise());
                    self.evidence[i].observed.push(how.clone());
                    progress.finish(&key, &format!("  ✓ {} ready: {how}", unit.name));
                }
                UnitState::Pending(what) => {
                    progress.line(&key, &format!("  {} {}: {what}", unit.name, unit.kind.as_str()))
                }
                UnitState::Failed(why) => {
                    progress.finish(&key, &format!("  ✗ {} failed: {why}", unit.name));
                    return Ok(Some((i, why)));
                }
            }
        }
        Ok(None)
    }
}

pub async fn deploy_phase(
    client: &Client,
    stack: &Stack,
    phase: &PhaseValues,
    options: &DeployOptions,
    work_dir: &Path,
    progress: &mut Progress,
) -> Result<PhaseEvidence> {
    let namespace = &stack.namespace;
    let name = phase.phase.as_str();
    let started = Instant::now();
    let units = installed_units(phase);
    let mut evidence = PhaseEvidence {
        name: name.into(),
        release: phase.release.clone(),
        revision: None,
        values_digest: phase.digest.clone(),
        result: PhaseResult::Running,
        started_at: clock::now_precise(),
        ready_at: None,
        units: Vec::new(),
        error: None,
    };
    let mut tracker = Tracker {
        evidence: units
            .iter()
            .map(|u| UnitEvidence {
                name: u.name.clone(),
                kind: u.kind.as_str().into(),
                ready_at: None,
                observed: Vec::new(),
            })
            .collect(),
        units,
    };
    let current = releases::latest(client, namespace, Some(&phase.release)).await?.into_iter().next();
    if let Some(release) = &current {
        if release.status.starts_with("pending-") {
            recover_pending(options, namespace, &phase.release, &release.status, progress).await?;
        }
    }
    let unchanged = current.as_ref().is_some_and(|r| {
        r.status == "deployed"
            && r.labels.get(labels::VALUES_DIGEST).map(String::as_str) == Some(&phase.digest[..DIGEST_LABEL_LEN])
    });
    if unchanged && !options.force {
        tracker.poll(client, namespace, name, progress).await?;
        if tracker.all_ready() {
            let revision = current.as_ref().map(|r| r.revision);
            for unit in &mut tracker.evidence {
                unit.observed.insert(0, format!("unchanged since revision {}", revision.unwrap_or(0)));
            }
            evidence.revision = revision;
            evidence.result = PhaseResult::Skipped;
            evidence.ready_at = Some(clock::now_precise());
            evidence.units = tracker.evidence;
            progress.finish(
                name,
                &format!(
                    "{}. {name}: skipped (values unchanged, revision {}, all units ready)",
                    phase.phase.number(),
                    revision.unwrap_or(0)
                ),
            );
            return Ok(evidence);
        }
        // Unchanged values but something is not ready: upgrade anyway, which also repairs.
        for unit in &mut tracker.evidence {
            unit.ready_at = None;
            unit.observed.clear();
        }
    }

    progress.line(name, &format!("{}. {name}: helm upgrade --install {}", phase.phase.number(), phase.release));
    let values_file = work_dir.join(format!("{}.values.yaml", phase.phase.directory_name()));
    std::fs::write(&values_file, &phase.yaml).with_context(|| format!("writing {}", values_file.display()))?;
    let labels = release_labels(stack, phase);
    let install = helm::Install {
        helm: &options.helm,
        release: &phase.release,
        chart: &options.chart,
        namespace,
        values_file: &values_file,
        timeout: options.timeout,
        labels: &labels,
    };
    let mut child = install.command().spawn().with_context(|| format!("starting {}", options.helm.display()))?;
    let mut stderr_pipe = child.stderr.take();
    let mut stdout_pipe = child.stdout.take();
    let output = tokio::spawn(async move {
        let mut text = String::new();
        if let Some(err) = stderr_pipe.as_mut() {
            let _ = err.read_to_string(&mut text).await;
        }
        let mut out = String::new();
        if let Some(o) = stdout_pipe.as_mut() {
            let _ = o.read_to_string(&mut out).await;
        }
        text
    });
    let mut failure: Option<(Option<usize>, String)> = None;
    let status = loop {
        tokio::select! {
            status = child.wait() => break status?,
            _ = tokio::time::sleep(POLL_EVERY) => {
                if let Some((unit, why)) = tracker.poll(client, namespace, name, progress).await? {
                    // Waiting longer cannot help: stop Helm (it marks the release failed).
                    stop(&mut child).await;
                    failure = Some((Some(unit), why));
                    break child.wait().await?;
                }
            }
        }
    };
    let helm_errors = output.await.unwrap_or_default();
    if failure.is_none() && !status.success() {
        failure =
            Some((None, format!("helm upgrade --install {} failed ({status}): {}", phase.release, helm_errors.trim())));
    }
    // Helm said ready; confirm with our own eyes (and timestamp units Helm's wait hid from us).
    while failure.is_none() && !tracker.all_ready() {
        if started.elapsed() > options.timeout {
            failure = Some((None, format!("not ready within {}s", options.timeout.as_secs())));
            break;
        }
        if let Some((unit, why)) = tracker.poll(client, namespace, name, progress).await? {
            failure = Some((Some(unit), why));
            break;
        }
        if !tracker.all_ready() {
            tokio::time::sleep(POLL_EVERY).await;
        }
    }
    if failure.is_none() {
        failure = run_hooks(client, stack, &mut tracker, name, progress).await;
    }
    evidence.revision = releases::latest(client, namespace, Some(&phase.release)).await?.first().map(|r| r.revision);
    if let Some((unit, why)) = failure {
        let mut report = format!("phase {name} failed: {why}\n");
        let suspects: Vec<usize> = match unit {
            Some(i) => vec![i],
            None => (0..tracker.units.len()).filter(|i| tracker.evidence[*i].ready_at.is_none()).collect(),
        };
        for i in suspects {
            let unit = &tracker.units[i];
            report.push_str(&format!("unit {} ({}) is not ready:\n", unit.name, unit.kind.as_str()));
            report.push_str(&diagnose::report(client, namespace, unit).await);
        }
        progress.finish(
            name,
            &format!("{}. {name}: FAILED after {:.1}s", phase.phase.number(), started.elapsed().as_secs_f64()),
        );
        evidence.result = PhaseResult::Failed;
        evidence.error = Some(report);
    } else {
        evidence.result = PhaseResult::Deployed;
        evidence.ready_at = Some(clock::now_precise());
        progress.finish(
            name,
            &format!(
                "{}. {name}: deployed revision {} in {:.1}s",
                phase.phase.number(),
                evidence.revision.unwrap_or(0),
                started.elapsed().as_secs_f64()
            ),
        );
    }
    evidence.units = tracker.evidence;
    Ok(evidence)
}

/// Runs every unit's hooks, units concurrently; the first failure stops the phase.
async fn run_hooks(
    client: &Client,
    stack: &Stack,
    tracker: &mut Tracker,
    phase: &str,
    progress: &mut Progress,
) -> Option<(Option<usize>, String)> {
    let mut jobs = Vec::new();
    for (i, installed) in tracker.units.iter().enumerate() {
        let Some(unit) = stack.units.iter().find(|u| u.name == installed.name) else { continue };
        if unit.hooks.is_empty() {
            continue;
        }
        progress.line(
            &format!("{phase}/{}", unit.name),
            &format!("  {}: running {} readiness hook(s)", unit.name, unit.hooks.len()),
        );
        let client = client.clone();
        let namespace = stack.namespace.clone();
        let unit = unit.clone();
        let installed = installed.clone();
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
        let key = format!("{phase}/{}", tracker.units[i].name);
        match outcome {
            Ok(passed) => {
                progress.finish(&key, &format!("  ✓ {} hooks passed", tracker.units[i].name));
                tracker.evidence[i].observed.extend(passed);
                tracker.evidence[i].ready_at = Some(clock::now_precise());
            }
            Err(why) => {
                progress.finish(&key, &format!("  ✗ {} hook failed: {why}", tracker.units[i].name));
                return Some((Some(i), format!("readiness hook of {}: {why}", tracker.units[i].name)));
            }
        }
    }
    None
}

/// A run killed mid-phase leaves its release `pending-*`, which blocks every later Helm
/// operation. We hold the namespace's lease, so nobody else is working on it: put it back.
async fn recover_pending(
    options: &DeployOptions,
    namespace: &str,
    release: &str,
    status: &str,
    progress: &mut Progress,
) -> Result<()> {
    let history = helm::history(&options.helm, release, namespace).await?;
    let last_good =
        history.iter().filter(|h| h.status == "deployed" || h.status == "superseded").map(|h| h.revision).max();
    match last_good {
        Some(revision) => {
            progress.note(&format!(
                "{release} was left {status} by an interrupted run; rolling back to revision {revision}"
            ));
            helm::rollback(&options.helm, release, namespace, revision).await
        }
        None => {
            progress.note(&format!(
                "{release} was left {status} by an interrupted first install; removing it to start clean"
            ));
            helm::uninstall(&options.helm, release, namespace, options.timeout).await
        }
    }
}

/// Asks Helm to stop (SIGTERM, so it can record the release as failed), then insists.
async fn stop(child: &mut tokio::process::Child) {
    if let Some(pid) = child.id() {
        // SAFETY: sending a signal to our own child process by pid.
        unsafe {
            libc::kill(pid as i32, libc::SIGTERM);
        }
    }
    if tokio::time::timeout(Duration::from_secs(15), child.wait()).await.is_err() {
        let _ = child.start_kill();
    }
}
