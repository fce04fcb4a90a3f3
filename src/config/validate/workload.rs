//! A typed workload: kind-specific fields, ports, probes and pod metadata.

use super::containers::Containers;
use super::env::check_env;
use super::names::{check_label, check_object_name, is_dns_label, is_qualified_name, not_a_key};
use super::volumes::check_volumes;
use super::{check_image_reference, unknown};
use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::model::{
    Document, HttpCheck, PortRef, Probe, TaintEffect, TolerationOperator, Workload, WorkloadKind,
};
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;
use std::collections::BTreeSet;

/// The rules of a typed workload; returns its port names for probes, hooks and ingress.
pub(super) fn check_workload<'a>(
    document: &Document,
    unit_name: &str,
    workload: &'a Workload,
    workload_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> BTreeSet<&'a str> {
    check_image_reference(document, &workload.image, &FieldPath::key(workload_path, "image"), source, errors);
    match (workload.kind, &workload.schedule) {
        (WorkloadKind::CronJob, None) => errors.push(source.error_at(workload_path, "a CronJob needs \"schedule\"")),
        (kind, Some(_)) if kind != WorkloadKind::CronJob => errors.push(source.error_at(
            &FieldPath::key(workload_path, "schedule"),
            format!("\"schedule\" applies to CronJob only, not {}", kind.as_str()),
        )),
        _ => {}
    }
    if workload.replicas.is_some() && !matches!(workload.kind, WorkloadKind::Deployment | WorkloadKind::StatefulSet) {
        errors.push(source.error_at(
            &FieldPath::key(workload_path, "replicas"),
            "\"replicas\" applies to Deployment and StatefulSet only",
        ));
    }
    let port_names = check_ports(workload, workload_path, source, errors);
    let volume_names = check_volumes(workload, workload_path, source, errors);
    check_env(document, &workload.env, &workload.env_from, workload_path, source, errors);
    let containers = Containers { unit_name, volumes: &volume_names, main_ports: &workload.ports };
    containers.check(document, workload, workload_path, source, errors);
    check_pod_metadata(workload, workload_path, source, errors);
    if let Some(probes) = &workload.probes {
        let probes_path = FieldPath::key(workload_path, "probes");
        for (name, probe) in
            [("readiness", &probes.readiness), ("liveness", &probes.liveness), ("startup", &probes.startup)]
        {
            if let Some(probe) = probe {
                check_probe(probe, &FieldPath::key(&probes_path, name), &port_names, source, errors);
            }
        }
    }
    port_names
}

/// The chart's selector labels, which `podLabels` may not set.
const SELECTOR_LABELS: [&str; 2] = [crate::labels::NAME, crate::labels::INSTANCE];

/// `podLabels`, `podAnnotations`, `nodeSelector`, `tolerations` and `serviceAccountName`.
fn check_pod_metadata(workload: &Workload, workload_path: &str, source: &SourceDocument, errors: &mut Diagnostics) {
    let labels_path = FieldPath::key(workload_path, "podLabels");
    for (key, value) in &workload.pod_labels {
        let key_path = FieldPath::key(&labels_path, key);
        if SELECTOR_LABELS.contains(&key.as_str()) {
            errors.push(source.error_at_key(
                &key_path,
                format!("\"{key}\" is a selector label the chart sets; podLabels cannot change it"),
            ));
        }
        check_label(key, value.as_str(), &key_path, source, errors);
    }
    let selector_path = FieldPath::key(workload_path, "nodeSelector");
    for (key, value) in &workload.node_selector {
        check_label(key, value.as_str(), &FieldPath::key(&selector_path, key), source, errors);
    }
    let annotations_path = FieldPath::key(workload_path, "podAnnotations");
    for key in workload.pod_annotations.keys() {
        if !is_qualified_name(key) {
            errors.push(source.error_at_key(&FieldPath::key(&annotations_path, key), not_a_key(key)));
        }
    }
    for (i, toleration) in workload.tolerations.iter().enumerate() {
        let path = FieldPath::index(&FieldPath::key(workload_path, "tolerations"), i);
        if toleration.operator == Some(TolerationOperator::Exists) && toleration.value.is_some() {
            errors.push(
                source.error_at(&FieldPath::key(&path, "value"), "\"value\" must be left out with operator Exists"),
            );
        }
        if toleration.toleration_seconds.is_some() && toleration.effect != Some(TaintEffect::NoExecute) {
            errors.push(source.error_at(
                &FieldPath::key(&path, "tolerationSeconds"),
                "\"tolerationSeconds\" applies to effect NoExecute only",
            ));
        }
    }
    if let Some(account) = &workload.service_account_name {
        check_object_name(account, &FieldPath::key(workload_path, "serviceAccountName"), source, errors);
    }
}

fn check_ports<'a>(
    workload: &'a Workload,
    workload_path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) -> BTreeSet<&'a str> {
    let mut names = BTreeSet::new();
    let mut numbers = BTreeSet::new();
    for (i, port) in workload.ports.iter().enumerate() {
        let port_path = FieldPath::index(&FieldPath::key(workload_path, "ports"), i);
        if !is_dns_label(&port.name, 15) {
            errors.push(source.error_at(
                &FieldPath::key(&port_path, "name"),
                format!("port name \"{}\" must be a DNS-1123 label of at most 15 characters", excerpt(&port.name)),
            ));
        }
        if !names.insert(port.name.as_str()) {
            errors.push(
                source.error_at(&FieldPath::key(&port_path, "name"), format!("duplicate port name \"{}\"", port.name)),
            );
        }
        if !numbers.insert(port.port) {
            errors.push(source.error_at(&FieldPath::key(&port_path, "port"), format!("duplicate port {}", port.port)));
        }
        if port.port == 0 {
            errors.push(source.error_at(&FieldPath::key(&port_path, "port"), "port 0 is not a valid port"));
        }
    }
    names
}

fn check_probe(probe: &Probe, path: &str, ports: &BTreeSet<&str>, source: &SourceDocument, errors: &mut Diagnostics) {
    match (&probe.http, &probe.tcp, &probe.exec) {
        (Some(http), None, None) => check_http(http, &FieldPath::key(path, "http"), ports, source, errors),
        (None, Some(tcp), None) => {
            check_port_ref(&tcp.port, &FieldPath::key(&FieldPath::key(path, "tcp"), "port"), ports, source, errors)
        }
        (None, None, Some(exec)) => {
            if exec.command.is_empty() {
                errors.push(source.error_at(
                    &FieldPath::key(&FieldPath::key(path, "exec"), "command"),
                    "an exec probe needs a command",
                ));
            }
        }
        _ => errors.push(source.error_at(path, "a probe has exactly one of \"http\", \"tcp\", \"exec\"")),
    }
}

pub(super) fn check_http(
    http: &HttpCheck,
    path: &str,
    ports: &BTreeSet<&str>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    if !http.path.starts_with('/') {
        errors.push(
            source.error_at(&FieldPath::key(path, "path"), format!("\"{}\" must start with '/'", excerpt(&http.path))),
        );
    }
    if let Some(status) = http.expect_status {
        if !(100..=599).contains(&status) {
            errors.push(
                source.error_at(&FieldPath::key(path, "expectStatus"), format!("{status} is not an HTTP status code")),
            );
        }
    }
    check_port_ref(&http.port, &FieldPath::key(path, "port"), ports, source, errors);
}

pub(super) fn check_port_ref(
    port: &PortRef,
    path: &str,
    ports: &BTreeSet<&str>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    match port {
        PortRef::Name(name) if !ports.contains(name.as_str()) => {
            let known: Vec<String> = ports.iter().map(|s| s.to_string()).collect();
            errors.push(source.error_at(path, unknown("port", name, &known)));
        }
        PortRef::Number(0) => errors.push(source.error_at(path, "port 0 is not a valid port")),
        _ => {}
    }
}
