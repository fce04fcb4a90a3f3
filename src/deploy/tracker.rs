//! What a phase waits for: every unit's typed workload and every object of its manifests,
//! each polled until ready, with the evidence of how and when.

use crate::clock;
use crate::cluster::diagnose;
use crate::cluster::object_gate::{self, Lookups, ManifestObject};
use crate::cluster::object_readiness::ObjectState;
use crate::cluster::readiness::{self, InstalledUnit, UnitState};
use crate::config::model::WorkloadKind;
use crate::config::stack::Stack;
use crate::evidence::record::{ObjectEvidence, UnitEvidence};
use crate::ui::progress::Progress;
use crate::values::PhaseValues;
use anyhow::Result;
use kube::Client;
use std::collections::{BTreeSet, HashMap, HashSet};

/// One unit of the phase and what is known of it so far.
pub struct TrackedUnit {
    pub workload: Option<InstalledUnit>,
    workload_ready: bool,
    pub objects: Vec<ManifestObject>,
    /// Hooks passed (or the unit has none).
    pub hooks_done: bool,
    pub evidence: UnitEvidence,
}

impl TrackedUnit {
    pub fn name(&self) -> &str {
        &self.evidence.name
    }

    pub fn is_ready(&self) -> bool {
        self.evidence.ready_at.is_some()
    }
}

pub struct Tracker {
    pub units: Vec<TrackedUnit>,
    /// The run's discovery answers: lent to the phase's tracker, handed back when it is done.
    pub lookups: Lookups,
    /// Generations of the objects that existed when the current install step started, by
    /// `Kind/name`. While Helm is still applying, a failure of pods whose owner kept its
    /// generation is the old spec's, which this step is about to replace: not a verdict yet.
    baseline: HashMap<String, i64>,
}

/// Which unit failed, and why.
pub type Failure = (Option<usize>, String);

impl Tracker {
    /// The units of `phase`, in plan order, with their workloads and manifest objects.
    pub fn new(stack: &Stack, phase: &PhaseValues, lookups: Lookups) -> Tracker {
        let workloads = installed_units(phase);
        let mut units = Vec::new();
        let same_phase: BTreeSet<&String> = phase.waves.iter().flatten().collect();
        for (wave, names) in phase.waves.iter().enumerate() {
            for name in names {
                let Some(unit) = stack.units.iter().find(|u| &u.name == name) else { continue };
                let workload = workloads.iter().find(|w| &w.name == name).cloned();
                let objects: Vec<ManifestObject> = phase
                    .values
                    .extra_manifests
                    .iter()
                    .filter(|o| crate::labels::unit_of(o) == Some(name))
                    .map(|o| ManifestObject::of(name, o))
                    .collect();
                let kind = match (&workload, objects.is_empty()) {
                    (Some(w), true) => w.kind.as_str().to_string(),
                    (Some(w), false) => format!("{}+manifests", w.kind.as_str()),
                    (None, _) => "manifests".to_string(),
                };
                let evidence = UnitEvidence {
                    name: name.clone(),
                    kind,
                    wave,
                    depends_on: unit.depends_on.iter().filter(|d| same_phase.contains(d)).cloned().collect(),
                    created_at: None,
                    ready_at: None,
                    observed: Vec::new(),
                    objects: objects
                        .iter()
                        .map(|o| ObjectEvidence {
                            object: o.reference(),
                            api_version: o.api_version.clone(),
                            created_at: None,
                            ready_at: None,
                            observed: None,
                        })
                        .collect(),
                };
                units.push(TrackedUnit {
                    workload,
                    workload_ready: false,
                    objects,
                    hooks_done: unit.hooks.is_empty(),
                    evidence,
                });
            }
        }
        Tracker { units, lookups, baseline: HashMap::new() }
    }

    /// Whether every unit in `include` is ready.
    pub fn all_ready(&self, include: &BTreeSet<String>) -> bool {
        self.units.iter().filter(|u| include.contains(u.name())).all(TrackedUnit::is_ready)
    }

    /// Forgets readiness seen earlier (an unchanged phase that was not ready gets upgraded).
    pub fn reset(&mut self) {
        for unit in &mut self.units {
            unit.workload_ready = false;
            unit.evidence.ready_at = None;
            unit.evidence.observed.clear();
            for object in &mut unit.evidence.objects {
                object.ready_at = None;
                object.observed = None;
            }
        }
    }

    /// The objects with pod templates of unit `i`: its typed workload and its manifests'.
    fn owners(&self, i: usize) -> Vec<ManifestObject> {
        let unit = &self.units[i];
        let mut out: Vec<ManifestObject> =
            unit.objects.iter().filter(|o| crate::config::manifest_edit::has_pod_template(&o.kind)).cloned().collect();
        if let Some(workload) = &unit.workload {
            out.push(workload_object(workload));
        }
        out
    }

    /// Notes the generation of every pod owner of `include` before an install step.
    pub async fn note_generations(
        &mut self,
        client: &Client,
        namespace: &str,
        include: &BTreeSet<String>,
    ) -> Result<()> {
        self.baseline.clear();
        for i in 0..self.units.len() {
            if !include.contains(self.units[i].name()) {
                continue;
            }
            for object in self.owners(i) {
                if let Some(generation) = object_gate::generation(client, namespace, &object, &mut self.lookups).await?
                {
                    self.baseline.insert(object.reference(), generation);
                }
            }
        }
        Ok(())
    }

    /// The pod owners of unit `i` (by `Kind/name`) that still have the spec they had when
    /// the step started, and whether that is all of them (and there is at least one).
    async fn owners_with_old_spec(
        &mut self,
        i: usize,
        client: &Client,
        namespace: &str,
    ) -> Result<(HashSet<String>, bool)> {
        let owners = self.owners(i);
        let mut old = HashSet::new();
        for object in &owners {
            let before = self.baseline.get(&object.reference()).copied();
            let now = object_gate::generation(client, namespace, object, &mut self.lookups).await?;
            if before.is_some() && now == before {
                old.insert(object.reference());
            }
        }
        let all = !owners.is_empty() && old.len() == owners.len();
        Ok((old, all))
    }

    /// Polls every unit of `include` not yet ready; returns the first fatal failure.
    /// `applying`: Helm may still be applying this step's objects (see `baseline`).
    pub async fn poll(
        &mut self,
        client: &Client,
        namespace: &str,
        phase: &str,
        include: &BTreeSet<String>,
        applying: bool,
        progress: &mut Progress,
    ) -> Result<Option<Failure>> {
        for i in 0..self.units.len() {
            if self.units[i].is_ready() || !include.contains(self.units[i].name()) {
                continue;
            }
            // Read before the unit's state, never after: generations only grow, so a state read
            // later belongs to this spec or a newer one. Read after, the check could see Helm's
            // new spec while the state judged was still the old one's.
            let (old_spec, all_old) =
                if applying { self.owners_with_old_spec(i, client, namespace).await? } else { (HashSet::new(), false) };
            if let Some(why) = self.poll_unit(i, client, namespace, phase, &old_spec, progress).await? {
                if all_old {
                    let name = self.units[i].name().to_string();
                    progress.line(
                        &format!("{phase}/{name}"),
                        &format!("  {name}: old pods failing, waiting for the new spec: {why}"),
                    );
                    continue;
                }
                let name = self.units[i].name().to_string();
                progress.finish(&format!("{phase}/{name}"), &format!("  ✗ {name} failed: {why}"));
                return Ok(Some((Some(i), why)));
            }
        }
        Ok(None)
    }

    /// `old_spec`: while Helm is still applying, the pod owners that had no new spec when
    /// this poll began; readiness by the spec Helm has not replaced yet does not count.
    async fn poll_unit(
        &mut self,
        i: usize,
        client: &Client,
        namespace: &str,
        phase: &str,
        old_spec: &HashSet<String>,
        progress: &mut Progress,
    ) -> Result<Option<String>> {
        let key = format!("{phase}/{}", self.units[i].name());
        let mut waiting = Vec::new();
        let pending_workload = self.units[i].workload.clone().filter(|_| !self.units[i].workload_ready);
        if let Some(workload) = pending_workload {
            match readiness::state(client, namespace, &workload).await? {
                // Ready by the spec Helm has not replaced yet: that proves nothing about this
                // step, and would hide a new spec whose pods never come (e.g. one that Pod
                // Security refuses) behind Helm's own, longer wait.
                UnitState::Ready(_) if old_spec.contains(&workload_object(&workload).reference()) => {
                    waiting.push(format!("{} waiting for Helm to apply the new spec", workload.kind.as_str()));
                }
                UnitState::Ready(how) => {
                    self.units[i].workload_ready = true;
                    self.units[i].evidence.observed.push(how);
                }
                UnitState::Pending(what) => waiting.push(format!("{} {what}", workload.kind.as_str())),
                UnitState::Failed(why) => return Ok(Some(why)),
            }
        }
        let unit = &mut self.units[i];
        for (object, evidence) in unit.objects.iter().zip(unit.evidence.objects.iter_mut()) {
            if evidence.ready_at.is_some() {
                continue;
            }
            let seen = object_gate::observe(client, namespace, object, &mut self.lookups).await?;
            evidence.created_at = evidence.created_at.take().or(seen.created_at);
            match seen.state {
                ObjectState::Ready(_) if old_spec.contains(&object.reference()) => {
                    waiting.push(format!("{}: waiting for Helm to apply the new spec", object.reference()));
                }
                ObjectState::Ready(how) => {
                    evidence.ready_at = Some(clock::now_precise());
                    evidence.observed = Some(how);
                }
                ObjectState::Pending(what) => waiting.push(format!("{}: {what}", object.reference())),
                ObjectState::Failed(why) => return Ok(Some(format!("{}: {why}", object.reference()))),
            }
        }
        if !waiting.is_empty() {
            progress.line(&key, &format!("  {}: {}", unit.evidence.name, waiting.join("; ")));
            return Ok(None);
        }
        let created_at = self.created_at(i, client, namespace).await?;
        let unit = &mut self.units[i];
        unit.evidence.created_at = created_at;
        unit.evidence.ready_at = Some(clock::now_precise());
        let objects = unit.evidence.objects.len();
        let how = match (unit.evidence.observed.first(), objects) {
            (Some(how), 0) => how.clone(),
            (Some(how), n) => format!("{how}; {n} object(s) ready"),
            (None, n) => format!("{n} object(s) ready"),
        };
        progress.finish(&key, &format!("  ✓ {} ready: {how}", unit.evidence.name));
        Ok(None)
    }

    /// The earliest creation time among the unit's objects and its typed workload.
    async fn created_at(&mut self, i: usize, client: &Client, namespace: &str) -> Result<Option<String>> {
        let unit = &self.units[i];
        let mut times: Vec<String> = unit.evidence.objects.iter().filter_map(|o| o.created_at.clone()).collect();
        if let Some(workload) = &unit.workload {
            let object = workload_object(workload);
            let seen = object_gate::observe(client, namespace, &object, &mut self.lookups).await?;
            times.extend(seen.created_at);
        }
        // RFC 3339 in UTC with one precision sorts as text.
        Ok(times.into_iter().min())
    }

    /// What went wrong with unit `i`: its workload's pods, then each object not ready.
    pub async fn report(&mut self, i: usize, client: &Client, namespace: &str) -> String {
        let mut out = String::new();
        if let Some(workload) = &self.units[i].workload {
            out.push_str(&diagnose::report(client, namespace, workload).await);
        }
        let pending: Vec<ManifestObject> = self.units[i]
            .objects
            .iter()
            .zip(&self.units[i].evidence.objects)
            .filter(|(_, e)| e.ready_at.is_none())
            .map(|(o, _)| o.clone())
            .collect();
        for object in pending {
            out.push_str(&format!("  object {} is not ready\n", object.reference()));
            let selector = object_gate::pod_selector_of(client, namespace, &object, &mut self.lookups).await;
            out.push_str(
                &diagnose::pods_report(client, namespace, selector.as_deref(), &object.reference(), &object.name).await,
            );
        }
        out
    }
}

/// A typed workload as an object reference.
fn workload_object(workload: &InstalledUnit) -> ManifestObject {
    let api_version = match workload.kind {
        WorkloadKind::Job | WorkloadKind::CronJob => "batch/v1",
        _ => "apps/v1",
    };
    ManifestObject {
        unit: workload.name.clone(),
        api_version: api_version.into(),
        kind: workload.kind.as_str().into(),
        name: workload.resource_name.clone(),
    }
}

/// The typed workloads a phase's values install.
fn installed_units(phase: &PhaseValues) -> Vec<InstalledUnit> {
    let workloads = phase.values.workloads.iter();
    workloads
        .map(|w| InstalledUnit {
            name: w.name.clone(),
            kind: w.kind,
            resource_name: w.resource_name.clone(),
            release: phase.release.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests;
