//! Per-phase values for `charts/codex-env`, following `docs/chart-values.md`.
//!
//! Pure and deterministic: the same stack always yields byte-identical YAML, whose digest
//! then tells `up` whether a phase changed since its last install.

mod isolation;
pub mod secrets;
pub mod yaml;

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
// The pod fields of typed workloads (`pod_fields` and the helpers after it).
use crate::config::model::{EnvFrom, EnvValue, Resources, Volume};
use crate::config::stack::ResolvedContainer;
use std::collections::BTreeMap;

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
    /// The phase's units by install wave (see [`crate::plan::PlannedUnit::wave`]).
    pub waves: Vec<Vec<String>>,
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
        finish(stack, planned, &units)
    };
    // Phases are independent and writing their YAML is most of the work on large stacks, so
    // they are built side by side; each result is the same as built alone.
    std::thread::scope(|scope| {
        let phase = &phase;
        let running: Vec<_> = plan.phases.iter().map(|planned| scope.spawn(move || phase(planned))).collect();
        running.into_iter().map(|handle| handle.join().expect("building phase values does not panic")).collect()
    })
}

/// The values of one install wave: only the units in `include`, in plan order. With every
/// unit of the phase included this is exactly the phase's values.
pub fn partial_phase_values(
    stack: &Stack,
    planned: &PlannedPhase,
    include: &std::collections::BTreeSet<String>,
) -> PhaseValues {
    let units: Vec<&ResolvedUnit> = planned
        .units
        .iter()
        .filter(|p| include.contains(&p.name))
        .filter_map(|p| stack.units.iter().find(|u| u.name == p.name))
        .collect();
    finish(stack, planned, &units)
}

fn finish(stack: &Stack, planned: &PlannedPhase, units: &[&ResolvedUnit]) -> PhaseValues {
    let values = values_for(stack, planned.name, units);
    let yaml = yaml::to_string(&values);
    let digest = hex(&Sha256::digest(yaml.as_bytes()));
    let mut waves: Vec<Vec<String>> = Vec::new();
    for unit in &planned.units {
        if waves.len() <= unit.wave {
            waves.resize(unit.wave + 1, Vec::new());
        }
        waves[unit.wave].push(unit.name.clone());
    }
    PhaseValues { phase: planned.name, release: planned.release.clone(), values, yaml, digest, waves }
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
        "podSecurity": stack.isolation.pod_security.as_str(),
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
    let mut values = json!({
        "global": global,
        "configMaps": [],
        "workloads": workloads,
        "extraManifests": extra,
    });
    // The Secrets come with the first phase, before anything that reads them; written only
    // when there are some, so a stack without any keeps its values.
    if !stack.secrets.is_empty() && stack.first_phase() == Some(phase) {
        values["secrets"] = secrets::placeholder_values(&stack.secrets);
    }
    // The fence goes up with the first phase too, before any pod of the environment runs.
    if stack.first_phase() == Some(phase) {
        values["isolation"] = isolation::values(&stack.isolation);
    }
    values
}

/// One unit's entry in `workloads`. `global` is the phase's `global` section: a Job's name
/// digest covers it too, since its labels and identity end up in the Job's pod template.
/// Pod fields beyond the original contract are added only when set (see [`pod_fields`]).
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
        "env": env_list(&workload.env),
        "ports": workload.ports.iter().map(|p| json!({
            "name": p.name,
            "containerPort": p.port,
            "servicePort": p.service_port.unwrap_or(p.port),
            "protocol": protocol(p.protocol),
        })).collect::<Vec<_>>(),
        "readinessProbe": probe(probes.and_then(|p| p.readiness.as_ref())),
        "livenessProbe": probe(probes.and_then(|p| p.liveness.as_ref())),
        "startupProbe": probe(probes.and_then(|p| p.startup.as_ref())),
        "resources": resources(workload.resources.as_ref()),
        "securityContext": workload.security_context.as_ref().map_or_else(|| json!({}), |c| json!(c)),
        "podAnnotations": workload.pod_annotations,
        "serviceAccountName": workload.service_account_name.clone().unwrap_or_default(),
        "volumes": workload.volumes.iter().map(volume).collect::<Vec<_>>(),
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
    if let Value::Object(map) = &mut value {
        map.extend(pod_fields(workload));
    }
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

/// The keys of a workload entry that are written only when set, so that the values of a stack
/// using none of them (and the names of its Jobs) stay what they were before these existed.
fn pod_fields(workload: &ResolvedWorkload) -> Map<String, Value> {
    let mut out = Map::new();
    let mut put = |key: &str, value: Value, set: bool| {
        if set {
            out.insert(key.into(), value);
        }
    };
    put("envFrom", env_from_list(&workload.env_from), !workload.env_from.is_empty());
    let containers = |list: &[ResolvedContainer]| Value::Array(list.iter().map(container).collect());
    put("initContainers", containers(&workload.init_containers), !workload.init_containers.is_empty());
    put("sidecars", containers(&workload.containers), !workload.containers.is_empty());
    put("podSecurityContext", json!(workload.pod_security_context), workload.pod_security_context.is_some());
    put("nodeSelector", json!(workload.node_selector), !workload.node_selector.is_empty());
    put("tolerations", json!(workload.tolerations), !workload.tolerations.is_empty());
    put("affinity", json!(workload.affinity), workload.affinity.is_some());
    put("podLabels", json!(workload.pod_labels), !workload.pod_labels.is_empty());
    out
}

/// An init container or sidecar, in the Kubernetes Container shape; empty fields left out.
fn container(c: &ResolvedContainer) -> Value {
    let mut out = Map::new();
    out.insert("name".into(), json!(c.name));
    out.insert("image".into(), json!(c.image));
    let mut put = |key: &str, value: Value, set: bool| {
        if set {
            out.insert(key.into(), value);
        }
    };
    put("command", json!(c.command), !c.command.is_empty());
    put("args", json!(c.args), !c.args.is_empty());
    put("workingDir", json!(c.working_dir), c.working_dir.is_some());
    put("env", Value::Array(env_list(&c.env)), !c.env.is_empty());
    put("envFrom", env_from_list(&c.env_from), !c.env_from.is_empty());
    let ports: Vec<Value> = c
        .ports
        .iter()
        .map(|p| json!({"name": p.name, "containerPort": p.port, "protocol": protocol(p.protocol)}))
        .collect();
    put("ports", Value::Array(ports), !c.ports.is_empty());
    put("resources", resources(c.resources.as_ref()), c.resources.is_some());
    put("securityContext", json!(c.security_context), c.security_context.is_some());
    let mounts: Vec<Value> = c
        .volume_mounts
        .iter()
        .map(|m| {
            let mut mount = json!({"name": m.name, "mountPath": m.mount_path});
            if let Some(sub_path) = &m.sub_path {
                mount["subPath"] = json!(sub_path);
            }
            if m.read_only {
                mount["readOnly"] = json!(true);
            }
            mount
        })
        .collect();
    put("volumeMounts", Value::Array(mounts), !c.volume_mounts.is_empty());
    Value::Object(out)
}

fn protocol(protocol: Option<Protocol>) -> &'static str {
    match protocol.unwrap_or(Protocol::Tcp) {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

/// `{name, value}` for a plain value, `{name, valueFrom}` (a Kubernetes EnvVarSource) otherwise.
fn env_list(env: &BTreeMap<String, EnvValue>) -> Vec<Value> {
    env.iter()
        .map(|(name, value)| match value {
            EnvValue::Value(text) => json!({"name": name, "value": text.as_str()}),
            EnvValue::From(source) => json!({"name": name, "valueFrom": source}),
        })
        .collect()
}

/// Kubernetes EnvFromSource objects.
fn env_from_list(list: &[EnvFrom]) -> Value {
    let items = list.iter().map(|e| {
        let mut out = Map::new();
        if let Some(prefix) = &e.prefix {
            out.insert("prefix".into(), json!(prefix));
        }
        let reference = |name: &String| match e.optional {
            Some(optional) => json!({"name": name, "optional": optional}),
            None => json!({"name": name}),
        };
        if let Some(name) = &e.secret_ref {
            out.insert("secretRef".into(), reference(name));
        }
        if let Some(name) = &e.config_map_ref {
            out.insert("configMapRef".into(), reference(name));
        }
        Value::Object(out)
    });
    Value::Array(items.collect())
}

fn resources(resources: Option<&Resources>) -> Value {
    let mut out = Map::new();
    if let Some(r) = resources {
        for (key, map) in [("requests", &r.requests), ("limits", &r.limits)] {
            if !map.is_empty() {
                let values = map.iter().map(|(k, v)| (k.clone(), Value::String(v.0.clone())));
                out.insert(key.into(), Value::Object(values.collect()));
            }
        }
    }
    Value::Object(out)
}

/// A unit volume: an owned claim (`size`, `accessMode`, `storageClassName`), or its source
/// (`configMap`, `secret`, `emptyDir`, `claimName`); `readOnly` only when true.
fn volume(v: &Volume) -> Value {
    let mut out = json!({
        "name": v.name,
        "mountPath": v.mount_path,
        "subPath": v.sub_path.clone().unwrap_or_default(),
    });
    if v.is_owned_claim() {
        out["size"] = json!(v.size.clone().unwrap_or_else(|| "1Gi".into()));
        out["accessMode"] = json!(v.access_mode.map_or("ReadWriteOnce", |m| m.as_str()));
        out["storageClassName"] = json!(v.storage_class_name.clone().unwrap_or_default());
    }
    let sources = [
        ("configMap", v.config_map.as_ref().map(|n| json!(n))),
        ("secret", v.secret.as_ref().map(|n| json!(n))),
        ("emptyDir", v.empty_dir.as_ref().map(|e| json!(e))),
        ("claimName", v.claim_name.as_ref().map(|n| json!(n))),
    ];
    for (key, source) in sources {
        if let Some(source) = source {
            out[key] = source;
        }
    }
    if v.read_only == Some(true) {
        out["readOnly"] = json!(true);
    }
    out
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
    if let Some(exec) = &probe.exec {
        out.insert("exec".into(), json!({"command": exec.command}));
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
