//! One unit on its own: name, phase, overlays, workload or manifests, image, hooks, ingress.

use super::names::is_dns_label;
use super::workload::{check_http, check_port_ref, check_workload};
use super::{check_image_reference, unknown, UnitRef, MAX_UNIT_NAME};
use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::duration;
use crate::config::model::{Document, Hook, Ingress, Unit};
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;
use std::collections::{BTreeSet, HashMap};

pub(super) fn check_units(
    document: &Document,
    units: &[UnitRef<'_>],
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let mut first_seen: HashMap<&str, &str> = HashMap::new();
    for entry in units {
        let name_path = FieldPath::key(&entry.path, "name");
        if let Some(previous) = first_seen.insert(&entry.unit.name, &entry.path) {
            errors.push(source.error_at(
                &name_path,
                format!("duplicate unit name \"{}\" (first declared at {previous})", entry.unit.name),
            ));
        }
        check_unit(document, entry, source, errors);
    }
}

/// Every rule about one unit on its own. Resolution runs it again on a unit with its
/// overlays applied, so an overlay cannot smuggle in what the base unit may not have.
pub fn check_unit(document: &Document, entry: &UnitRef<'_>, source: &SourceDocument, errors: &mut Diagnostics) {
    let unit = entry.unit;
    let path = &entry.path;
    check_identity(document, entry, source, errors);
    let port_names = match &unit.workload {
        Some(workload) => {
            check_workload(document, &unit.name, workload, &FieldPath::key(path, "workload"), source, errors)
        }
        None => {
            if unit.manifests.is_empty() {
                errors.push(
                    source.error_at(path, "a unit needs a \"workload\", or \"manifests\" to consist of, or both"),
                );
            }
            BTreeSet::new()
        }
    };
    check_manifest_image(document, unit, path, source, errors);
    check_hooks(document, unit, path, &port_names, source, errors);
    if let Some(ingress) = &unit.ingress {
        check_ingress(unit, ingress, path, &port_names, source, errors);
    }
}

/// The unit's name, its phase, and the environments its overlays name.
fn check_identity(document: &Document, entry: &UnitRef<'_>, source: &SourceDocument, errors: &mut Diagnostics) {
    let unit = entry.unit;
    let path = &entry.path;
    if !is_dns_label(&unit.name, MAX_UNIT_NAME) {
        errors.push(source.error_at(
            &FieldPath::key(path, "name"),
            format!("\"{}\" is not a DNS-1123 label of at most {MAX_UNIT_NAME} characters", excerpt(&unit.name)),
        ));
    }
    if entry.phase.is_none() {
        errors.push(source.error_at(
            path,
            "missing required field \"phase\" (one of: stateful, migrations, internal, edge, frontend)",
        ));
    }
    for env in unit.overlays.keys() {
        if !document.environments.contains_key(env) {
            let names: Vec<String> = document.environments.keys().cloned().collect();
            errors.push(source.error_at_key(
                &FieldPath::key(&FieldPath::key(path, "overlays"), env),
                unknown("environment", env, &names),
            ));
        }
    }
}

/// Jobs, CronJobs and manifest-only units have no Service of ours for hooks and ingress.
fn has_no_service(unit: &Unit) -> bool {
    unit.workload.as_ref().is_none_or(|w| w.kind.runs_to_completion())
}

/// `image` of a manifest unit: only with manifests, and a known image.
fn check_manifest_image(
    document: &Document,
    unit: &Unit,
    path: &str,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    if unit.image.is_some() && unit.manifests.is_empty() {
        errors.push(source.error_at(
            &FieldPath::key(path, "image"),
            "\"image\" sets containers of the unit's manifests, and this unit has none (a typed workload takes workload.image)",
        ));
    }
    if let Some(image) = &unit.image {
        check_image_reference(
            document,
            &image.name,
            &FieldPath::key(&FieldPath::key(path, "image"), "name"),
            source,
            errors,
        );
    }
}

/// `hooks.readiness`: typed workloads only, exactly one check per hook, known ports and images.
fn check_hooks(
    document: &Document,
    unit: &Unit,
    path: &str,
    port_names: &BTreeSet<&str>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    if unit.hooks.as_ref().is_some_and(|h| !h.readiness.is_empty()) && unit.workload.is_none() {
        errors.push(source.error_at(
            &FieldPath::key(path, "hooks"),
            "readiness hooks belong to a typed workload; a manifest unit is gated on its objects' own readiness",
        ));
    }
    let Some(hooks) = &unit.hooks else { return };
    let hooks_path = FieldPath::key(&FieldPath::key(path, "hooks"), "readiness");
    for (i, hook) in hooks.readiness.iter().enumerate() {
        check_hook(document, hook, &FieldPath::index(&hooks_path, i), has_no_service(unit), port_names, source, errors);
    }
}

fn check_hook(
    document: &Document,
    hook: &Hook,
    hook_path: &str,
    no_service: bool,
    port_names: &BTreeSet<&str>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let chosen = [hook.http.is_some(), hook.tcp.is_some(), hook.job.is_some()].iter().filter(|b| **b).count();
    if chosen != 1 {
        errors.push(source.error_at(hook_path, "a readiness hook has exactly one of \"http\", \"tcp\", \"job\""));
    }
    if let Some(http) = &hook.http {
        check_http(http, &FieldPath::key(hook_path, "http"), port_names, source, errors);
    }
    if let Some(tcp) = &hook.tcp {
        check_port_ref(
            &tcp.port,
            &FieldPath::key(&FieldPath::key(hook_path, "tcp"), "port"),
            port_names,
            source,
            errors,
        );
    }
    if let Some(job) = &hook.job {
        check_image_reference(
            document,
            &job.image,
            &FieldPath::key(&FieldPath::key(hook_path, "job"), "image"),
            source,
            errors,
        );
    }
    if let Some(timeout) = &hook.timeout {
        if let Err(message) = duration::parse(timeout) {
            errors.push(source.error_at(&FieldPath::key(hook_path, "timeout"), message));
        }
    }
    if (hook.http.is_some() || hook.tcp.is_some()) && no_service {
        errors.push(source.error_at(
            hook_path,
            "http and tcp hooks need the Service of a typed workload; Jobs, CronJobs and manifest-only units have none",
        ));
    }
}

/// An ingress needs the unit's Service with a port, and names one of its ports.
fn check_ingress(
    unit: &Unit,
    ingress: &Ingress,
    path: &str,
    port_names: &BTreeSet<&str>,
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    let ingress_path = FieldPath::key(path, "ingress");
    if has_no_service(unit) {
        let what = unit
            .workload
            .as_ref()
            .map_or("a unit without a workload".to_string(), |w| format!("a {}", w.kind.as_str()));
        errors.push(source.error_at(
            &ingress_path,
            format!("an ingress needs the Service of a typed workload; {what} has none (a manifest unit brings its own Ingress)"),
        ));
    } else if port_names.is_empty() {
        errors.push(source.error_at(&ingress_path, "an ingress needs at least one port in workload.ports"));
    }
    if let Some(port) = &ingress.port {
        if !port_names.contains(port.as_str()) {
            errors.push(source.error_at(
                &FieldPath::key(&ingress_path, "port"),
                format!("no port named \"{}\" in workload.ports", excerpt(port)),
            ));
        }
    }
}
