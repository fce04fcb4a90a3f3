//! Per-phase values for `charts/codex-env`, following `docs/chart-values.md`.
//!
//! Pure and deterministic: the same stack always yields byte-identical YAML, whose digest
//! then tells `up` whether a phase changed since its last install.

use crate::config::manifest_edit;
use crate::config::manifest_unit::kind_of;
use crate::config::model::{PortRef, Probe, Protocol, WorkloadKind};
use crate::config::resolve::hex;
use crate::config::stack::{ResolvedUnit, ResolvedWorkload, Stack};
use crate::labels;
use crate::plan::phase::Phase;
use crate::plan::{Plan, PlannedPhase};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// The values of one phase release.
#[derive(Debug, Clone)]
pub struct PhaseValues {
    pub phase: Phase,
    pub release: String,
    pub values: Value,
    /// `values` as YAML: what is written to disk and handed to helm.
    pub yaml: String,
    /// sha256 of `yaml`.
    pub digest: String,
}

/// The labels that tie every object and release record to its environment.
pub fn environment_labels(stack: &Stack) -> Vec<(&'static str, String)> {
    let mut labels = vec![(labels::PROJECT, stack.project.clone()), (labels::ENV, stack.env.clone())];
    if !stack.slot.is_empty() {
        labels.push((labels::SLOT, stack.slot.clone()));
    }
    if !stack.issue.is_empty() {
        labels.push((labels::ISSUE, stack.issue.clone()));
    }
    labels
}

/// Values for every phase of `plan`, in deploy order.
pub fn phase_values(stack: &Stack, plan: &Plan) -> Vec<PhaseValues> {
    let mut by_name: HashMap<&str, &ResolvedUnit> = HashMap::with_capacity(stack.units.len());
    for unit in &stack.units {
        by_name.entry(unit.name.as_str()).or_insert(unit);
    }
    let phase = |planned: &PlannedPhase| {
        let units: Vec<&ResolvedUnit> =
            planned.units.iter().filter_map(|p| by_name.get(p.name.as_str()).copied()).collect();
        let values = values_for(stack, planned.name, &units);
        let yaml = serde_yaml::to_string(&values).expect("values are plain data");
        let digest = hex(&Sha256::digest(yaml.as_bytes()));
        PhaseValues { phase: planned.name, release: planned.release.clone(), values, yaml, digest }
    };
    // Phases are independent and writing their YAML is most of the work on large stacks, so
    // they are built side by side; each result is the same as built alone.
    std::thread::scope(|scope| {
        let phase = &phase;
        let running: Vec<_> = plan.phases.iter().map(|planned| scope.spawn(move || phase(planned))).collect();
        running.into_iter().map(|handle| handle.join().expect("building phase values does not panic")).collect()
    })
}

fn values_for(stack: &Stack, phase: Phase, units: &[&ResolvedUnit]) -> Value {
    let mut common_labels = Map::new();
    for (key, value) in environment_labels(stack) {
        common_labels.insert(key.to_string(), Value::String(value));
    }
    let ingress_disabled = stack.disable_kinds.iter().any(|k| k == "Ingress");
    let extra: Vec<Value> = units.iter().flat_map(|u| unit_manifests(u, &stack.disable_kinds)).collect();
    let global = json!({
        "project": stack.project,
        "env": stack.env,
        "slot": stack.slot,
        "issue": stack.issue,
        "phase": phase.as_str(),
        "runtime": stack.runtime.as_str(),
        "labels": common_labels,
        "imagePullPolicy": stack.image_pull_policy.as_str(),
        "securityContext": {
            "runAsUser": stack.workspace.uid,
            "runAsGroup": stack.workspace.gid,
            "fsGroup": stack.workspace.fs_group,
        },
        "workspace": {
            "claimName": stack.workspace.claim_name,
            "create": false,
            "size": stack.workspace.size,
            "accessMode": stack.workspace.access_mode.as_str(),
            "storageClassName": stack.workspace.storage_class_name,
        },
    });
    let workloads: Vec<Value> =
        units.iter().filter_map(|u| Some(workload(u, u.workload.as_ref()?, ingress_disabled, &global))).collect();
    json!({
        "global": global,
        "configMaps": [],
        "workloads": workloads,
        "extraManifests": extra,
    })
}

/// One unit's entry in `workloads`. `global` is the phase's `global` section: a Job's name
/// digest covers it too, since its labels and identity end up in the Job's pod template.
fn workload(unit: &ResolvedUnit, workload: &ResolvedWorkload, ingress_disabled: bool, global: &Value) -> Value {
    let probes = workload.probes.as_ref();
    let probe = |p: Option<&Probe>| p.map_or_else(|| json!({}), kubernetes_probe);
    let mut value = json!({
        "name": unit.name,
        "resourceName": unit.name,
        "kind": workload.kind.as_str(),
        "replicas": workload.replicas,
        "schedule": workload.schedule.clone().unwrap_or_default(),
        "backoffLimit": workload.backoff_limit,
        "activeDeadlineSeconds": 0,
        "image": workload.image,
        "command": workload.command,
        "args": workload.args,
        "workingDir": workload.working_dir.clone().unwrap_or_default(),
        "env": workload.env.iter().map(|(name, value)| json!({"name": name, "value": value})).collect::<Vec<_>>(),
        "ports": workload.ports.iter().map(|p| json!({
            "name": p.name,
            "containerPort": p.port,
            "servicePort": p.service_port.unwrap_or(p.port),
            "protocol": match p.protocol.unwrap_or(Protocol::Tcp) { Protocol::Tcp => "TCP", Protocol::Udp => "UDP" },
        })).collect::<Vec<_>>(),
        "readinessProbe": probe(probes.and_then(|p| p.readiness.as_ref())),
        "livenessProbe": probe(probes.and_then(|p| p.liveness.as_ref())),
        "startupProbe": probe(probes.and_then(|p| p.startup.as_ref())),
        "resources": workload.resources.as_ref().map_or_else(|| json!({}), |r| {
            let mut out = Map::new();
            for (key, map) in [("requests", &r.requests), ("limits", &r.limits)] {
                if !map.is_empty() {
                    out.insert(key.into(), map.iter().map(|(k, v)| (k.clone(), Value::String(v.0.clone()))).collect::<Map<_, _>>().into());
                }
            }
            Value::Object(out)
        }),
        "securityContext": {},
        "podAnnotations": {},
        "serviceAccountName": "",
        "volumes": workload.volumes.iter().map(|v| json!({
            "name": v.name,
            "mountPath": v.mount_path,
            "subPath": v.sub_path.clone().unwrap_or_default(),
            "size": v.size.clone().unwrap_or_else(|| "1Gi".into()),
            "accessMode": v.access_mode.map_or("ReadWriteOnce", |m| m.as_str()),
            "storageClassName": v.storage_class_name.clone().unwrap_or_default(),
        })).collect::<Vec<_>>(),
        "workspace": unit.workspace.as_ref().map_or(Value::Null, |w| json!({
            "mountPath": w.mount_path.clone().unwrap_or_else(|| labels::DEFAULT_WORKSPACE_MOUNT_PATH.into()),
            "subPath": w.sub_path.clone().unwrap_or_default(),
            "readOnly": w.read_only,
        })),
        "ingress": match (&unit.ingress, ingress_disabled) {
            (Some(ingress), false) => json!({
                "host": ingress.host,
                "path": ingress.path.clone().unwrap_or_else(|| "/".into()),
                "port": ingress.port.clone().unwrap_or_default(),
                "className": ingress.class_name.clone().unwrap_or_default(),
            }),
            _ => Value::Null,
        },
    });
    if workload.kind == WorkloadKind::Job {
        // Job templates are immutable: a Job whose pod template would change gets a new name,
        // so an upgrade replaces it (and re-runs it) instead of failing; an unchanged Job keeps
        // its name and is not re-run. The template also carries the global labels (issue,
        // slot, env) and identity, so those count as well: a namespace deployed by `up` and
        // then by `revise N` must not patch a Job's labels in place.
        let spec = serde_json::to_vec(&(&value, global)).expect("plain data");
        let suffix = &hex(&Sha256::digest(&spec))[..8];
        value["resourceName"] = Value::String(format!("{}-{suffix}", unit.name));
    }
    value
}

/// A unit's manifests as installed: kinds the environment disables left out, the image edit
/// applied (its reference is final only now), and the unit named in a label so readiness and
/// diagnostics can tell whose objects they are.
fn unit_manifests(unit: &ResolvedUnit, disabled: &[String]) -> Vec<Value> {
    let mut out = Vec::with_capacity(unit.manifests.len());
    for (i, object) in unit.manifests.iter().enumerate() {
        if disabled.iter().any(|k| k == kind_of(object)) {
            continue;
        }
        let mut object = object.clone();
        if let Some(edit) = unit.image_edit.as_ref().filter(|e| e.object == i) {
            // Checked when the stack was resolved; the edit cannot fail here.
            let _checked = manifest_edit::set_images(&mut object, &edit.containers, &edit.image);
        }
        if let Some(metadata) = object.get_mut("metadata").and_then(Value::as_object_mut) {
            let labels = metadata.entry("labels").or_insert_with(|| json!({}));
            if let Some(labels) = labels.as_object_mut() {
                labels.insert(labels::UNIT.into(), Value::String(unit.name.clone()));
            }
        }
        out.push(object);
    }
    out
}

fn kubernetes_probe(probe: &Probe) -> Value {
    let port = |p: &PortRef| match p {
        PortRef::Number(n) => json!(n),
        PortRef::Name(name) => json!(name),
    };
    let mut out = Map::new();
    if let Some(http) = &probe.http {
        out.insert("httpGet".into(), json!({"path": http.path, "port": port(&http.port)}));
    }
    if let Some(tcp) = &probe.tcp {
        out.insert("tcpSocket".into(), json!({"port": port(&tcp.port)}));
    }
    for (key, value) in [
        ("initialDelaySeconds", probe.initial_delay_seconds),
        ("periodSeconds", probe.period_seconds),
        ("timeoutSeconds", probe.timeout_seconds),
        ("failureThreshold", probe.failure_threshold),
    ] {
        if let Some(v) = value {
            out.insert(key.into(), json!(v));
        }
    }
    Value::Object(out)
}
