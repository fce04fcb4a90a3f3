//! Per-phase values for `charts/codex-env`, following `docs/chart-values.md`.
//!
//! Pure and deterministic: the same stack always yields byte-identical YAML, whose digest
//! then tells `up` whether a phase changed since its last install.

pub mod contract;
mod isolation;
pub mod schema;
pub mod secrets;
mod shapes;
pub mod yaml;

use crate::config::manifest_edit;
use crate::config::manifest_unit::kind_of;
use crate::config::model::{EnvFrom, EnvValue, Probe, Protocol, Resources, ScalarString, WorkloadKind};
use crate::config::phase::Phase;
use crate::config::resolve::hex;
use crate::config::stack::{ResolvedContainer, ResolvedUnit, ResolvedVolume, ResolvedWorkload, Stack};
use crate::labels;
use crate::plan::{Plan, PlannedPhase};
use contract::{
    ChartValues, ContainerPortValues, ContainerValues, EnvFromRef, EnvFromValues, EnvVar, ExecAction, Global, HttpGet,
    IngressValues, OrEmpty, Ordered, ProbeValues, ResourcesValues, ServicePort, TcpSocket, VolumeMountValues,
    VolumeValues, WorkloadValues, WorkspaceClaim, WorkspaceIdentity, WorkspaceMountValues,
};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// The values of one phase release.
#[derive(Debug, Clone)]
pub struct PhaseValues {
    pub phase: Phase,
    pub release: String,
    pub values: ChartValues,
    /// `values` as YAML: what is written to disk and handed to helm.
    pub yaml: String,
    /// sha256 of `yaml`.
    pub digest: String,
    /// The phase's units by install wave (see [`crate::plan::PlannedUnit::wave`]).
    pub waves: Vec<Vec<String>>,
}

/// The values file every install reads before its standard input. Helm deletes a default
/// that a values file sets to null, so without a document on standard input the chart's
/// default `global` is gone and the chart's schema refuses the install: a helm whose `up`
/// died before handing it the values installs nothing. [`helm_document`] sets `global` again.
pub const STDIN_GUARD: &str = "global: null\n";

/// The one values document a phase's helm reads on its standard input: the phase's values, with
/// the Secrets' real values (first phase only) merged over their placeholders. JSON, which Helm
/// reads as YAML: a document cut short is never valid, so a helm whose `up` died while handing
/// it over installs nothing (see [`STDIN_GUARD`] for the document that never came).
pub fn helm_document(phase: &PhaseValues, secrets: Option<&Value>) -> String {
    let mut document = serde_json::to_value(&phase.values).expect("plain data");
    if let Some(secrets) = secrets {
        crate::config::merge::deep_merge(&mut document, secrets.clone());
    }
    document.to_string()
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
    let yaml = yaml::to_string(&serde_json::to_value(&values).expect("plain data"));
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

fn values_for(stack: &Stack, phase: Phase, units: &[&ResolvedUnit]) -> ChartValues {
    let labels = environment_labels(stack).into_iter().map(|(key, value)| (key.to_string(), value)).collect();
    let ingress_disabled = stack.disable_kinds.iter().any(|k| k == "Ingress");
    let global = Global {
        project: stack.project.clone(),
        env: stack.env.clone(),
        slot: stack.slot.clone(),
        issue: stack.issue.clone(),
        phase,
        runtime: stack.runtime,
        labels: Ordered(labels),
        image_pull_policy: stack.image_pull_policy,
        pod_security: stack.isolation.pod_security,
        security_context: WorkspaceIdentity {
            run_as_user: stack.workspace.uid,
            run_as_group: stack.workspace.gid,
            fs_group: stack.workspace.fs_group,
        },
        workspace: WorkspaceClaim {
            claim_name: stack.workspace.claim_name.clone(),
            create: false,
            size: stack.workspace.size.clone(),
            access_mode: stack.workspace.access_mode,
            storage_class_name: stack.workspace.storage_class_name.clone(),
        },
    };
    let workloads =
        units.iter().filter_map(|u| Some(workload(u, u.workload.as_ref()?, ingress_disabled, &global))).collect();
    let first_phase = stack.first_phase() == Some(phase);
    ChartValues {
        global,
        config_maps: Vec::new(),
        workloads,
        extra_manifests: units.iter().flat_map(|u| unit_manifests(u, &stack.disable_kinds)).collect(),
        // The Secrets come with the first phase, before anything that reads them; written only
        // when there are some, so a stack without any keeps its values.
        secrets: (first_phase && !stack.secrets.is_empty()).then(|| secrets::placeholder_values(&stack.secrets)),
        // The fence goes up with the first phase too, before any pod of the environment runs.
        isolation: first_phase.then(|| isolation::values(&stack.isolation)),
        tests: None,
    }
}

/// One unit's entry in `workloads`. `global` is the phase's `global` section: a Job's name
/// digest covers it too, since its labels and identity end up in the Job's pod template.
/// Pod fields beyond the original contract are written only when set (see [`contract`]).
fn workload(
    unit: &ResolvedUnit,
    workload: &ResolvedWorkload,
    ingress_disabled: bool,
    global: &Global,
) -> WorkloadValues {
    let probes = workload.probes.as_ref();
    let probe = |p: Option<&Probe>| p.map(kubernetes_probe).unwrap_or_default();
    let mut values = WorkloadValues {
        name: unit.name.clone(),
        resource_name: unit.name.clone(),
        kind: workload.kind,
        replicas: workload.replicas,
        schedule: workload.schedule.clone().unwrap_or_default(),
        backoff_limit: workload.backoff_limit,
        active_deadline_seconds: 0,
        image: workload.image.clone(),
        command: workload.command.clone(),
        args: workload.args.clone(),
        working_dir: workload.working_dir.clone().unwrap_or_default(),
        env: env_list(&workload.env),
        ports: workload
            .ports
            .iter()
            .map(|p| ServicePort {
                name: p.name.clone(),
                container_port: p.port,
                service_port: p.service_port,
                protocol: protocol(p.protocol),
            })
            .collect(),
        readiness_probe: probe(probes.and_then(|p| p.readiness.as_ref())),
        liveness_probe: probe(probes.and_then(|p| p.liveness.as_ref())),
        startup_probe: probe(probes.and_then(|p| p.startup.as_ref())),
        resources: resources(workload.resources.as_ref()),
        security_context: OrEmpty(workload.security_context.clone()),
        pod_annotations: workload.pod_annotations.clone(),
        service_account_name: workload.service_account_name.clone().unwrap_or_default(),
        volumes: workload.volumes.iter().map(volume).collect(),
        workspace: unit.workspace.as_ref().map(|w| WorkspaceMountValues {
            mount_path: w.mount_path.clone(),
            sub_path: w.sub_path.clone(),
            read_only: w.read_only,
        }),
        ingress: unit.ingress.as_ref().filter(|_| !ingress_disabled).map(|ingress| IngressValues {
            host: ingress.host.clone(),
            path: ingress.path.clone(),
            port: ingress.port.clone(),
            class_name: ingress.class_name.clone(),
        }),
        env_from: env_from_list(&workload.env_from),
        init_containers: workload.init_containers.iter().map(container).collect(),
        sidecars: workload.containers.iter().map(container).collect(),
        pod_security_context: workload.pod_security_context.clone(),
        node_selector: workload.node_selector.clone(),
        tolerations: workload.tolerations.clone(),
        affinity: workload.affinity.clone(),
        pod_labels: workload.pod_labels.clone(),
    };
    if workload.kind == WorkloadKind::Job {
        // Job templates are immutable: a Job whose pod template would change gets a new name,
        // so an upgrade replaces it (and re-runs it) instead of failing; an unchanged Job keeps
        // its name and is not re-run. The template also carries the global labels (issue,
        // slot, env) and identity, so those count as well: a namespace deployed by `up` and
        // then by `revise N` must not patch a Job's labels in place.
        let spec = serde_json::to_vec(&(&values, global)).expect("plain data");
        let suffix = &hex(&Sha256::digest(&spec))[..8];
        values.resource_name = format!("{}-{suffix}", unit.name);
    }
    values
}

/// An init container or sidecar, in the Kubernetes Container shape; empty fields left out.
fn container(c: &ResolvedContainer) -> ContainerValues {
    ContainerValues {
        name: c.name.clone(),
        image: c.image.clone(),
        command: c.command.clone(),
        args: c.args.clone(),
        working_dir: c.working_dir.clone(),
        env: env_list(&c.env),
        env_from: env_from_list(&c.env_from),
        ports: c
            .ports
            .iter()
            .map(|p| ContainerPortValues {
                name: p.name.clone(),
                container_port: p.port,
                protocol: protocol(p.protocol),
            })
            .collect(),
        resources: c.resources.as_ref().map(|r| resources(Some(r))),
        security_context: c.security_context.clone(),
        volume_mounts: c
            .volume_mounts
            .iter()
            .map(|m| VolumeMountValues {
                name: m.name.clone(),
                mount_path: m.mount_path.clone(),
                sub_path: m.sub_path.clone(),
                read_only: m.read_only,
            })
            .collect(),
    }
}

fn protocol(protocol: Protocol) -> &'static str {
    match protocol {
        Protocol::Tcp => "TCP",
        Protocol::Udp => "UDP",
    }
}

/// `{name, value}` for a plain value, `{name, valueFrom}` (a Kubernetes EnvVarSource) otherwise.
fn env_list(env: &BTreeMap<String, EnvValue>) -> Vec<EnvVar> {
    env.iter()
        .map(|(name, value)| match value {
            EnvValue::Value(text) => EnvVar { name: name.clone(), value: Some(text.as_str().into()), value_from: None },
            EnvValue::From(source) => EnvVar { name: name.clone(), value: None, value_from: Some((**source).clone()) },
        })
        .collect()
}

/// Kubernetes EnvFromSource objects.
fn env_from_list(list: &[EnvFrom]) -> Vec<EnvFromValues> {
    let reference = |e: &EnvFrom, name: &String| EnvFromRef { name: name.clone(), optional: e.optional };
    list.iter()
        .map(|e| EnvFromValues {
            prefix: e.prefix.clone(),
            secret_ref: e.secret_ref.as_ref().map(|name| reference(e, name)),
            config_map_ref: e.config_map_ref.as_ref().map(|name| reference(e, name)),
        })
        .collect()
}

fn resources(resources: Option<&Resources>) -> ResourcesValues {
    let text = |map: &BTreeMap<String, ScalarString>| map.iter().map(|(k, v)| (k.clone(), v.0.clone())).collect();
    resources.map_or_else(ResourcesValues::default, |r| ResourcesValues {
        requests: text(&r.requests),
        limits: text(&r.limits),
    })
}

/// A unit volume: an owned claim (`size`, `accessMode`, `storageClassName`), or its source
/// (`configMap`, `secret`, `emptyDir`, `claimName`).
fn volume(v: &ResolvedVolume) -> VolumeValues {
    let claim = v.owned_claim.as_ref();
    VolumeValues {
        name: v.name.clone(),
        mount_path: v.mount_path.clone(),
        sub_path: v.sub_path.clone(),
        size: claim.map(|c| c.size.clone()),
        access_mode: claim.map(|c| c.access_mode),
        storage_class_name: claim.map(|c| c.storage_class_name.clone()),
        config_map: v.config_map.clone(),
        secret: v.secret.clone(),
        empty_dir: v.empty_dir.clone(),
        claim_name: v.claim_name.clone(),
        read_only: v.read_only,
    }
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

fn kubernetes_probe(probe: &Probe) -> ProbeValues {
    ProbeValues {
        http_get: probe.http.as_ref().map(|http| HttpGet { path: http.path.clone(), port: http.port.clone() }),
        tcp_socket: probe.tcp.as_ref().map(|tcp| TcpSocket { port: tcp.port.clone() }),
        exec: probe.exec.as_ref().map(|exec| ExecAction { command: exec.command.clone() }),
        initial_delay_seconds: probe.initial_delay_seconds,
        period_seconds: probe.period_seconds,
        timeout_seconds: probe.timeout_seconds,
        failure_threshold: probe.failure_threshold,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The values of a services.yaml that states none of the defaults the chart also has.
    fn values_of_defaults() -> Vec<ChartValues> {
        let stack = crate::config::test_stack::dev_stack(&[
            "  - name: seed",
            "    phase: migrations",
            "    workload: { kind: Job, image: \"seed:1\" }",
            "  - name: web",
            "    phase: internal",
            "    ingress: { host: web.test }",
            "    workload:",
            "      kind: Deployment",
            "      image: \"web:1\"",
            "      ports: [{ name: http, port: 8080 }]",
            "      volumes: [{ name: data, mountPath: /data }]",
        ]);
        phase_values(&stack, &crate::plan::plan(&stack)).into_iter().map(|p| p.values).collect()
    }

    fn chart_file(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("charts/codex-env").join(name);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// kubectl-codex owns these defaults and always writes them; the chart's copies (for
    /// hand-written values) must be the same values.
    #[test]
    fn the_chart_defaults_are_the_ones_kubectl_codex_resolves() {
        let phases = values_of_defaults();
        let written = serde_json::to_value(&phases[0].global).unwrap();
        let chart: Value = serde_yaml::from_str(&chart_file("values.yaml")).unwrap();
        for key in ["imagePullPolicy", "podSecurity", "securityContext", "workspace"] {
            assert_eq!(chart["global"][key], written[key], "global.{key}");
        }

        let workloads: Vec<&WorkloadValues> = phases.iter().flat_map(|p| &p.workloads).collect();
        let job = workloads.iter().find(|w| w.kind == WorkloadKind::Job).unwrap();
        let web = workloads.iter().find(|w| w.kind == WorkloadKind::Deployment).unwrap();
        let helpers = chart_file("templates/_helpers.tpl");
        let deployment = chart_file("templates/deployment.yaml");
        let expected_in_templates = [
            (&helpers, format!("dig \"backoffLimit\" {} .workload", job.backoff_limit)),
            (&deployment, format!("dig \"replicas\" {} $w", web.replicas)),
            (&helpers, format!("dig \"accessMode\" \"{}\" .", web.volumes[0].access_mode.unwrap().as_str())),
            (&helpers, format!("dig \"protocol\" \"{}\" .", web.ports[0].protocol)),
        ];
        for (template, default) in expected_in_templates {
            assert!(template.contains(&default), "the chart's templates say `{default}`");
        }
        let ingress = web.ingress.as_ref().unwrap();
        assert!(chart_file("templates/ingress.yaml").contains(&format!("dig \"path\" \"{}\"", ingress.path)));
    }
}
