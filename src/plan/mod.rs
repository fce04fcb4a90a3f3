//! The plan: which units deploy in which phase, in a deterministic order.
//!
//! Phases follow [`Phase::ORDER`]. Inside a phase, units are listed in dependency order with
//! ties broken by name, so the plan depends only on what the file says, never on key order.

use crate::cluster::object_readiness::Rule;
use crate::config::manifest_unit::{kind_of, object_ref};
use crate::config::model::{PortRef, Runtime, WorkloadKind};
use crate::config::phase::Phase;
use crate::config::stack::{ResolvedHook, ResolvedMount, ResolvedUnit, Stack};
use crate::labels;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub project: String,
    pub env: String,
    pub slot: String,
    pub issue: String,
    pub runtime: Runtime,
    pub namespace: String,
    #[serde(rename = "idleTTL")]
    pub idle_ttl: String,
    pub input_digest: String,
    /// Images copied into the environment's registry before deploying (those the stack uses).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mirrors: Vec<PlannedMirror>,
    /// The declared inputs and their values (`<secret:NAME>` for secret ones).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub inputs: BTreeMap<String, PlannedInput>,
    /// The Secrets of `secrets`, created with the first phase (values as placeholders).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<PlannedSecret>,
    /// The namespace's Pod Security level, and the NetworkPolicy, quota and LimitRange that
    /// come with the first phase.
    pub isolation: crate::config::isolation::Isolation,
    /// Phases that have units, in deploy order.
    pub phases: Vec<PlannedPhase>,
}

/// A mirrored image: where it comes from and the reference units deploy (pinned by digest
/// once copied).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlannedMirror {
    pub name: String,
    pub source: String,
    pub reference: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlannedInput {
    /// The value; a secret input's placeholder.
    pub value: serde_json::Value,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub secret: bool,
    /// `--set`, `--values-file FILE`, `CODEX_INPUT_<NAME>`, `default` or `not set`.
    pub from: String,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlannedSecret {
    pub name: String,
    /// The phase whose release creates it.
    pub phase: Option<Phase>,
    /// Key → `<secret:NAME/KEY>`, or `<generated:NAME/KEY>` for a key generated in the cluster.
    pub keys: BTreeMap<String, String>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlannedPhase {
    pub name: Phase,
    pub number: usize,
    pub release: String,
    pub units: Vec<PlannedUnit>,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlannedUnit {
    pub name: String,
    /// The typed workload's kind; `None` for a unit made of manifests alone.
    pub kind: Option<WorkloadKind>,
    /// The image of the typed workload, or of the manifests' image edit.
    pub image: Option<String>,
    pub depends_on: Vec<String>,
    /// Install wave inside the phase: 0 for units without same-phase dependencies, else one
    /// more than the latest wave they depend on. Each wave is one revision of the phase
    /// release, gated before the next.
    pub wave: usize,
    /// The objects of the unit's manifests (`Kind/name`) and how each one's readiness is read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<PlannedObject>,
    /// Human-readable readiness gates: the workload's own, then declared hooks.
    pub readiness: Vec<String>,
    pub workspace: Option<ResolvedMount>,
    pub code_update_strategy: crate::config::model::CodeUpdateStrategy,
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct PlannedObject {
    /// `Kind/name`.
    pub object: String,
    pub ready_when: &'static str,
}

/// Builds the plan of a resolved stack.
pub fn plan(stack: &Stack) -> Plan {
    let mut by_phase: BTreeMap<Phase, Vec<&ResolvedUnit>> = BTreeMap::new();
    for unit in &stack.units {
        by_phase.entry(unit.phase).or_default().push(unit);
    }
    let phases = Phase::ORDER
        .iter()
        .filter_map(|phase| {
            let units = by_phase.get(phase)?;
            Some(PlannedPhase {
                name: *phase,
                number: phase.number(),
                release: labels::release_name(*phase),
                units: with_waves(order_within_phase(units).into_iter().map(planned_unit).collect()),
            })
        })
        .collect();
    Plan {
        project: stack.project.clone(),
        env: stack.env.clone(),
        slot: stack.slot.clone(),
        issue: stack.issue.clone(),
        runtime: stack.runtime,
        namespace: stack.namespace.clone(),
        idle_ttl: stack.idle_ttl.clone(),
        input_digest: stack.input_digest.clone(),
        mirrors: mirrors(stack),
        inputs: stack
            .inputs
            .iter()
            .map(|(name, input)| {
                let planned =
                    PlannedInput { value: input.value.clone(), secret: input.secret, from: input.from.clone() };
                (name.clone(), planned)
            })
            .collect(),
        secrets: stack
            .secrets
            .iter()
            .map(|s| PlannedSecret { name: s.name.clone(), phase: stack.first_phase(), keys: s.placeholders() })
            .collect(),
        isolation: stack.isolation.clone(),
        phases,
    }
}

/// The isolation block of the text plan: level, policy, quota (see templates/isolation.yaml).
fn isolation_text(isolation: &crate::config::isolation::Isolation) -> String {
    use crate::config::isolation::{Peer, NETWORK_POLICY, RESOURCE_QUOTA};
    let peer = |peer: &Peer| match peer {
        Peer::Cidr(cidr) => cidr.clone(),
        Peer::Environment { name, namespace } => format!("environment {name} ({namespace})"),
        Peer::Namespace(name) => format!("namespace {name}"),
    };
    let mut ingress = vec!["the namespace".to_string()];
    ingress.extend(isolation.ingress.iter().map(peer));
    let mut egress = vec!["the namespace".to_string(), "cluster DNS".to_string()];
    egress.extend(isolation.egress.iter().map(peer));
    let mut out = format!("   pod security: {} (enforce, audit, warn)\n", isolation.pod_security.as_str());
    out.push_str(&format!(
        "   network policy {NETWORK_POLICY}: ingress from {}{}; egress to {}\n",
        ingress.join(", "),
        if isolation.ingress.is_empty() { " only" } else { "" },
        egress.join(", ")
    ));
    if let Some(defaults) = &isolation.container_defaults {
        let hard: Vec<String> = isolation.quota.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let limit = defaults.memory_limit.as_ref().map(|l| format!(", memory limit {l}")).unwrap_or_default();
        out.push_str(&format!(
            "   quota {RESOURCE_QUOTA}: {}; container defaults: cpu {}, memory {}{limit}\n",
            if hard.is_empty() { "nothing bounded".to_string() } else { hard.join(", ") },
            defaults.cpu,
            defaults.memory
        ));
    }
    out
}

/// The mirrored images the stack deploys or builds from, by name (as `build` copies them).
fn mirrors(stack: &Stack) -> Vec<PlannedMirror> {
    if stack.images.values().all(|i| i.mirror.is_none()) {
        return Vec::new();
    }
    // Sources were parsed when the stack was resolved, so planning them cannot fail here.
    crate::build::mirror::plan(stack)
        .unwrap_or_default()
        .into_iter()
        .map(|m| PlannedMirror { name: m.name, source: m.source, reference: m.reference })
        .collect()
}

/// Kahn's algorithm over same-phase dependencies, always taking the smallest ready name.
/// Cycles were rejected by validation; any leftover would still be emitted, by name.
fn order_within_phase<'a>(units: &[&'a ResolvedUnit]) -> Vec<&'a ResolvedUnit> {
    let names: BTreeSet<&str> = units.iter().map(|u| u.name.as_str()).collect();
    let mut waiting: BTreeMap<&str, BTreeSet<&str>> = units
        .iter()
        .map(|u| {
            let same_phase = u.depends_on.iter().map(String::as_str).filter(|d| names.contains(d)).collect();
            (u.name.as_str(), same_phase)
        })
        .collect();
    let by_name: BTreeMap<&str, &ResolvedUnit> = units.iter().map(|u| (u.name.as_str(), *u)).collect();
    let mut ordered = Vec::with_capacity(units.len());
    while !waiting.is_empty() {
        let next = waiting
            .iter()
            .find(|(_, deps)| deps.is_empty())
            .map(|(name, _)| *name)
            .unwrap_or_else(|| *waiting.keys().next().expect("not empty"));
        waiting.remove(next);
        for deps in waiting.values_mut() {
            deps.remove(next);
        }
        ordered.push(by_name[next]);
    }
    ordered
}

/// Gives every unit its wave; `units` are in dependency order already.
fn with_waves(mut units: Vec<PlannedUnit>) -> Vec<PlannedUnit> {
    let mut waves: BTreeMap<String, usize> = BTreeMap::new();
    for unit in &mut units {
        unit.wave = unit.depends_on.iter().filter_map(|d| waves.get(d)).map(|w| w + 1).max().unwrap_or(0);
        waves.insert(unit.name.clone(), unit.wave);
    }
    units
}

fn planned_unit(unit: &ResolvedUnit) -> PlannedUnit {
    let mut readiness: Vec<String> = unit
        .workload
        .iter()
        .map(|w| {
            match w.kind {
                WorkloadKind::Deployment => "deployment available",
                WorkloadKind::StatefulSet => "statefulset ready",
                WorkloadKind::DaemonSet => "daemonset rolled out",
                WorkloadKind::Job => "job complete",
                WorkloadKind::CronJob => "cronjob created",
            }
            .to_string()
        })
        .collect();
    if !unit.manifests.is_empty() {
        readiness.push(format!("{} manifest object(s) ready", unit.manifests.len()));
    }
    readiness.extend(unit.hooks.iter().map(describe_hook));
    let mut depends_on = unit.depends_on.clone();
    depends_on.sort();
    let objects = unit
        .manifests
        .iter()
        .map(|object| {
            let api_version = object.get("apiVersion").and_then(serde_json::Value::as_str).unwrap_or_default();
            PlannedObject {
                object: object_ref(object),
                ready_when: Rule::for_kind(api_version, kind_of(object)).describe(),
            }
        })
        .collect();
    PlannedUnit {
        name: unit.name.clone(),
        kind: unit.workload.as_ref().map(|w| w.kind),
        image: unit.images().next().cloned(),
        depends_on,
        wave: 0,
        objects,
        readiness,
        workspace: unit.workspace.clone(),
        code_update_strategy: unit.code_update_strategy,
    }
}

fn port_text(port: &PortRef) -> String {
    match port {
        PortRef::Number(n) => n.to_string(),
        PortRef::Name(name) => name.clone(),
    }
}

/// One line per hook, e.g. `http GET :http/readyz -> 200`.
pub fn describe_hook(hook: &ResolvedHook) -> String {
    if let Some(http) = &hook.http {
        format!("http GET :{}{} -> {}", port_text(&http.port), http.path, http.expect_status)
    } else if let Some(tcp) = &hook.tcp {
        format!("tcp connect :{}", port_text(&tcp.port))
    } else if let Some(job) = &hook.job {
        format!("job {} succeeds", job.image)
    } else {
        "none".into()
    }
}

impl Plan {
    /// The text form of `kubectl codex plan`.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let scope = match (self.slot.as_str(), self.issue.as_str()) {
            ("", "") => String::new(),
            (slot, "") => format!(" slot {slot}"),
            ("", issue) => format!(" issue {issue}"),
            (slot, issue) => format!(" slot {slot} issue {issue}"),
        };
        out.push_str(&format!(
            "project {} env {}{} (runtime {}) -> namespace {} (idle TTL {})\n",
            self.project,
            self.env,
            scope,
            self.runtime.as_str(),
            self.namespace,
            self.idle_ttl
        ));
        for mirror in &self.mirrors {
            out.push_str(&format!("mirror {}: {} -> {}\n", mirror.name, mirror.source, mirror.reference));
        }
        if !self.inputs.is_empty() {
            out.push_str("\ninputs\n");
            for (name, input) in &self.inputs {
                let value = crate::config::inputs::text_of(&input.value);
                out.push_str(&format!("   {name} = {value} ({})\n", input.from));
            }
        }
        if !self.secrets.is_empty() {
            match self.secrets[0].phase {
                Some(phase) => out.push_str(&format!("\nsecrets (created with {}. {phase})\n", phase.number())),
                None => out.push_str("\nsecrets (no phase to create them with: the stack has no units)\n"),
            }
            for secret in &self.secrets {
                let keys: Vec<String> = secret.keys.iter().map(|(k, v)| format!("{k}={v}")).collect();
                out.push_str(&format!("   {}: {}\n", secret.name, keys.join(", ")));
            }
        }
        if let Some(first) = self.phases.first() {
            out.push_str(&format!("\nisolation (created with {}. {})\n", first.number, first.name));
            out.push_str(&isolation_text(&self.isolation));
        }
        for phase in &self.phases {
            out.push_str(&format!("\n{}. {} (release {})\n", phase.number, phase.name, phase.release));
            for unit in &phase.units {
                let kind = unit.kind.map_or("manifests", WorkloadKind::as_str);
                let wave = if unit.wave > 0 { format!(" (wave {})", unit.wave) } else { String::new() };
                out.push_str(&format!("   - {} [{kind}] {}{wave}\n", unit.name, unit.image.as_deref().unwrap_or("-")));
                for object in &unit.objects {
                    out.push_str(&format!("       object {}: {}\n", object.object, object.ready_when));
                }
                if !unit.depends_on.is_empty() {
                    out.push_str(&format!("       after: {}\n", unit.depends_on.join(", ")));
                }
                out.push_str(&format!("       ready when: {}\n", unit.readiness.join("; ")));
            }
        }
        out
    }
}
