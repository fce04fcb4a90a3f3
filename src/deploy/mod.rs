//! `up`: the environment, phase by phase. Each phase is one `helm upgrade --install --wait`,
//! watched unit by unit while it runs, and gated on our own readiness checks and hooks; the
//! next phase starts only after that (once Helm has applied everything, not necessarily after
//! Helm's own wait has returned: see `helm_process`). Every step lands in the run's evidence.

mod changes;
mod helm_process;
mod phase;
mod standby;
mod tracker;

use helm_process::HelmProcess;

use crate::cluster::namespace::{self, NamespacePhase};
use crate::cluster::secrets as cluster_secrets;
use crate::cluster::{lease, object_gate, releases, slot_access};
use crate::config::phase::Phase;
use crate::config::stack::Stack;
use crate::evidence::record::{new_run_id, EvidenceRecord, PhaseResult, RunResult, SecretEvidence};
use crate::evidence::store;
use crate::labels;
use crate::plan::Plan;
use crate::ui::progress::Progress;
use crate::values::{self, PhaseValues};
use anyhow::{Context, Result};
use kube::Client;
use std::path::PathBuf;
use std::time::Duration;

/// How a run behaves; filled from the command line.
#[derive(Debug, Clone)]
pub struct DeployOptions {
    pub helm: crate::helm::Helm,
    pub chart: PathBuf,
    /// Per phase: Helm's `--timeout` and our readiness gate's deadline.
    pub timeout: Duration,
    /// How long to wait for another run's lease on the namespace.
    pub lock_timeout: Duration,
    /// `up` or `revise <issue>`, recorded in the evidence.
    pub trigger: String,
    pub idle_ttl: String,
    /// Deploy phases even when their values did not change.
    pub force: bool,
    /// Why this namespace (created, reused, recreated), recorded in the evidence.
    pub namespace_decision: String,
}

/// Brings `stack` up. Returns the evidence record; its `result` says `deployed` or `failed`.
pub async fn deploy(
    client: &Client,
    stack: &Stack,
    plan: &Plan,
    options: &DeployOptions,
    progress: &mut Progress,
) -> Result<EvidenceRecord> {
    let run_id = new_run_id();
    // Kinds the API server does not serve, or cluster-scoped kinds not allowed: refused
    // before the namespace or anything else is touched.
    let mut lookups = object_gate::Lookups::default();
    object_gate::preflight(client, stack, &mut lookups).await?;
    wait_while_terminating(client, &stack.namespace, options.timeout, progress).await?;
    let ns = namespace::ensure(client, stack, &options.idle_ttl).await?;
    progress.note(&format!("namespace {} ({})", stack.namespace, options.namespace_decision));
    let holder = format!("{}/{}/{run_id}", hostname(), std::process::id());
    let held = lease::acquire(client, &stack.namespace, &holder, options.lock_timeout, |who| {
        progress.note(&format!("waiting for the environment's lease, held by {who}"));
    })
    .await?;
    let run = Run { id: run_id, namespace_uid: ns.uid, lease: &held, lookups };
    let outcome = deploy_locked(client, stack, plan, options, progress, run).await;
    held.release().await;
    outcome
}

/// This run, once it holds the environment's lease.
struct Run<'a> {
    id: String,
    namespace_uid: String,
    lease: &'a lease::HeldLease,
    /// Discovery answers, asked once per run (the preflight's, then every phase's).
    lookups: object_gate::Lookups,
}

async fn deploy_locked(
    client: &Client,
    stack: &Stack,
    plan: &Plan,
    options: &DeployOptions,
    progress: &mut Progress,
    run: Run<'_>,
) -> Result<EvidenceRecord> {
    let work_dir = std::env::temp_dir().join(format!("kubectl-codex-{}", run.id));
    std::fs::create_dir_all(&work_dir).with_context(|| format!("creating {}", work_dir.display()))?;
    standby::write_guard(&work_dir)?;
    let all_values = values::phase_values(stack, plan);
    // Read once: we hold the Lease, and a phase's install changes no other phase's release.
    let known = releases::latest(client, &stack.namespace, None).await?;
    // The first phase's helm starts now, while the run prepares access and Secrets.
    let first_helm = all_values
        .first()
        .filter(|values| standby::worth_starting(values, &known))
        .and_then(|values| standby::start(stack, options, values, &work_dir).ok());
    slot_access::ensure(client, stack).await?;
    let secrets = cluster_secrets::prepare(client, stack).await?;
    if let Some(prepared) = &secrets {
        note_secrets(stack, prepared, progress);
    }
    let mut record = new_record(stack, options, &run, secrets.as_ref());
    store::save(client, &record).await?;
    let feed = changes::ChangeFeed::start(client, &stack.namespace);
    let shared = RunShared { known: &known, options, work_dir: &work_dir, feed: &feed };
    let phases = Phases { stack, plan, all_values: &all_values, shared };
    let mut finishing = Vec::new();
    let context = RunContext { secrets: secrets.as_ref(), held: run.lease, first_helm, lookups: run.lookups };
    let phase_failed = phases.deploy(client, context, &mut record, progress, &mut finishing).await;
    // Whatever happened, no helm is left running; one that failed after all fails the run.
    let helm_failed = collect_helms(finishing, &mut record, progress).await?;
    let failed = phase_failed? || helm_failed;
    if !failed {
        run.lease.ensure_held(&stack.namespace)?;
        remove_emptied_phases(stack, &all_values, &known, options, progress).await?;
    }
    record.result = if failed { RunResult::Failed } else { RunResult::Deployed };
    record.finished_at = Some(crate::clock::now_precise());
    store::save(client, &record).await?;
    namespace::touch(client, &stack.namespace, Some(stack), &options.idle_ttl).await?;
    let _ = std::fs::remove_dir_all(&work_dir);
    Ok(record)
}

/// Says which Secrets the run brings, which it generated and which it is to (re)write.
fn note_secrets(stack: &Stack, prepared: &cluster_secrets::Prepared, progress: &mut Progress) {
    let mut what = vec![format!("{} secret(s)", stack.secrets.len())];
    if !prepared.generated.is_empty() {
        what.push(format!("generated {}", prepared.generated.join(", ")));
    }
    if !prepared.repair.is_empty() {
        what.push(format!("to write: {}", prepared.repair.join(", ")));
    }
    progress.note(&format!("secrets: {}", what.join("; ")));
}

/// The run's evidence record as it starts: no phase yet.
fn new_record(
    stack: &Stack,
    options: &DeployOptions,
    run: &Run<'_>,
    secrets: Option<&cluster_secrets::Prepared>,
) -> EvidenceRecord {
    EvidenceRecord {
        run_id: run.id.clone(),
        trigger: options.trigger.clone(),
        tool_version: crate::version::LONG.to_string(),
        input_digest: stack.input_digest.clone(),
        project: stack.project.clone(),
        env: stack.env.clone(),
        slot: stack.slot.clone(),
        issue: stack.issue.clone(),
        namespace: stack.namespace.clone(),
        namespace_uid: run.namespace_uid.clone(),
        namespace_decision: options.namespace_decision.clone(),
        started_at: crate::clock::now_precise(),
        finished_at: None,
        result: RunResult::Running,
        inputs: stack.inputs.iter().map(|(k, v)| (k.clone(), v.value.clone())).collect(),
        secrets: stack
            .secrets
            .iter()
            .map(|s| SecretEvidence {
                name: s.name.clone(),
                keys: s.placeholders().into_keys().collect(),
                digest: s.digest.clone(),
                generated: secrets
                    .iter()
                    .flat_map(|p| &p.generated)
                    .filter_map(|g| g.strip_prefix(&format!("{}/", s.name)).map(str::to_string))
                    .collect(),
            })
            .collect(),
        phases: Vec::new(),
    }
}

/// What every phase of a run shares.
pub struct RunShared<'a> {
    /// The namespace's releases as the run found them.
    pub known: &'a [releases::ReleaseRecord],
    pub options: &'a DeployOptions,
    pub work_dir: &'a std::path::Path,
    /// The namespace's watches, started once before the first install: the gate sees the first
    /// phase's first changes, and a later phase's install does not wait behind their setup.
    pub feed: &'a changes::ChangeFeed,
}

/// The phases of one run and what they share.
struct Phases<'a> {
    stack: &'a Stack,
    plan: &'a Plan,
    all_values: &'a [PhaseValues],
    shared: RunShared<'a>,
}

/// What every phase of a run is deployed with.
struct RunContext<'a> {
    secrets: Option<&'a cluster_secrets::Prepared>,
    held: &'a lease::HeldLease,
    /// The first phase's helm, started ahead (see `standby`).
    first_helm: Option<standby::PhaseHelm>,
    /// Discovery answers, asked once per run: each phase's tracker borrows them.
    lookups: object_gate::Lookups,
}

impl Phases<'_> {
    /// Deploys the phases in order into `record`, saving it as they change the cluster;
    /// stops at the first failed phase. True when one failed. A phase's helm may still be
    /// recording its release while the next phase deploys: it goes into `finishing`, for
    /// [`collect_helms`]. Once a phase's helm has applied everything, the next phase's helm
    /// starts, to wait for its values (`standby`).
    async fn deploy(
        &self,
        client: &Client,
        context: RunContext<'_>,
        record: &mut EvidenceRecord,
        progress: &mut Progress,
        finishing: &mut Vec<(usize, HelmProcess)>,
    ) -> Result<bool> {
        let stack = self.stack;
        let first = stack.first_phase();
        let mut ahead = context.first_helm;
        let mut lookups = context.lookups;
        for (i, (planned, phase_values)) in self.plan.phases.iter().zip(self.all_values).enumerate() {
            let with_secrets = context.secrets.filter(|_| Some(planned.name) == first);
            context.held.ensure_held(&stack.namespace)?;
            let (applied, on_applied) = tokio::sync::oneshot::channel();
            let handoff = standby::Handoff { helm: ahead.take(), applied: Some(applied) };
            let next = self.all_values.get(i + 1);
            let (deployed, next_helm) = tokio::join!(
                phase::deploy_phase(
                    client,
                    stack,
                    planned,
                    phase_values,
                    with_secrets,
                    &self.shared,
                    &mut lookups,
                    handoff,
                    progress,
                ),
                standby::start_when_applied(on_applied, stack, &self.shared, next),
            );
            ahead = next_helm;
            let (evidence, still_running) = deployed?;
            let failed = evidence.result == PhaseResult::Failed;
            let skipped = evidence.result == PhaseResult::Skipped;
            let mut evidence = evidence;
            evidence.helm_pending = still_running.is_some();
            record.phases.push(evidence);
            finishing.extend(still_running.map(|helm| (record.phases.len() - 1, helm)));
            // A skipped phase changed nothing in the cluster: the record is saved with the next
            // phase that does, or at the end.
            if !skipped {
                store::save(client, record).await?;
            }
            if failed {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// Waits for the helms still recording their phases' releases; true when one failed, which
/// fails its phase (and the run).
async fn collect_helms(
    finishing: Vec<(usize, HelmProcess)>,
    record: &mut EvidenceRecord,
    progress: &mut Progress,
) -> Result<bool> {
    let mut failed = false;
    for (index, helm) in finishing {
        let outcome = helm.finish().await?;
        let phase = &mut record.phases[index];
        phase.helm_pending = false;
        if let Some(why) = outcome {
            progress.note(&format!("✗ {}: {why}", phase.name));
            phase.result = PhaseResult::Failed;
            phase.error = Some(crate::redact::scrub(&why).into_owned());
            failed = true;
        }
    }
    Ok(failed)
}

/// A phase that has no units any more must not keep its old release running.
async fn remove_emptied_phases(
    stack: &Stack,
    planned: &[PhaseValues],
    existing: &[releases::ReleaseRecord],
    options: &DeployOptions,
    progress: &mut Progress,
) -> Result<()> {
    for phase in Phase::ORDER.iter().rev() {
        let release = labels::release_name(*phase);
        let planned_here = planned.iter().any(|p| p.release == release);
        if !planned_here && existing.iter().any(|r| r.name == release) {
            progress.note(&format!("{release}: no units left in phase {phase}; uninstalling"));
            crate::helm::uninstall(&options.helm, &release, &stack.namespace, options.timeout).await?;
        }
    }
    Ok(())
}

/// A namespace being deleted cannot take new objects: wait until it is gone.
async fn wait_while_terminating(client: &Client, name: &str, timeout: Duration, progress: &mut Progress) -> Result<()> {
    let started = std::time::Instant::now();
    let mut told = false;
    while let Some(ns) = namespace::get(client, name).await? {
        if ns.phase != NamespacePhase::Terminating {
            return Ok(());
        }
        if !told {
            progress.note(&format!("namespace {name} is being deleted; waiting for that to finish"));
            told = true;
        }
        anyhow::ensure!(
            started.elapsed() < timeout,
            "namespace {name} is still terminating after {}s",
            timeout.as_secs()
        );
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}
