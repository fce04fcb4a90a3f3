//! Environments: names, `from` inheritance and its cycles, idle TTL, isolation peers and quota.

use super::names::{is_dns_label, is_quantity};
use super::unknown;
use crate::config::diagnostics::{excerpt, Diagnostics};
use crate::config::duration;
use crate::config::isolation;
use crate::config::model::{Document, Environment};
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;

/// `ingress` and `egress` entries are CIDRs, `namespace/<name>`, or environments of this file
/// (not the environment itself: its own namespace is always allowed); quota fields are
/// Kubernetes quantities.
fn check_isolation(
    environment: &Environment,
    path: &str,
    names: &[String],
    source: &SourceDocument,
    errors: &mut Diagnostics,
) {
    for (field, entries) in [("ingress", &environment.ingress), ("egress", &environment.egress)] {
        let field_path = FieldPath::key(path, field);
        for (index, entry) in entries.iter().flatten().enumerate() {
            let known = match isolation::peer_kind(entry) {
                isolation::PeerKind::Cidr | isolation::PeerKind::Namespace(_) => true,
                isolation::PeerKind::EnvironmentName => names.iter().any(|name| name == entry),
            };
            if !known {
                errors.push(source.error_at(
                    &FieldPath::index(&field_path, index),
                    format!(
                        "{field} entry \"{}\" is neither a CIDR (e.g. 10.20.0.0/16), nor {}<name> (a namespace \
                         name: lowercase letters, digits, '-'), nor an environment of this file (declared: {})",
                        excerpt(entry),
                        isolation::NAMESPACE_PEER_PREFIX,
                        names.join(", ")
                    ),
                ));
            }
        }
    }
    let Some(quota) = &environment.quota else {
        return;
    };
    let quota_path = FieldPath::key(path, "quota");
    let defaults_path = FieldPath::key(&quota_path, "containerDefaults");
    let defaults = quota.container_defaults.clone().unwrap_or_default();
    let fields = [
        (FieldPath::key(&quota_path, "cpu"), &quota.cpu),
        (FieldPath::key(&quota_path, "memory"), &quota.memory),
        (FieldPath::key(&quota_path, "storage"), &quota.storage),
        (FieldPath::key(&defaults_path, "cpu"), &defaults.cpu),
        (FieldPath::key(&defaults_path, "memory"), &defaults.memory),
        (FieldPath::key(&defaults_path, "memoryLimit"), &defaults.memory_limit),
    ];
    for (field, value) in &fields {
        if let Some(value) = value {
            if !is_quantity(value) {
                errors.push(source.error_at(
                    field,
                    format!("\"{}\" is not a Kubernetes quantity (e.g. 500m, 2, 4Gi)", excerpt(value)),
                ));
            }
        }
    }
}

pub(super) fn check_environments(document: &Document, source: &SourceDocument, errors: &mut Diagnostics) {
    if document.environments.is_empty() {
        errors.push(source.error_at("environments", "at least one environment is required"));
    }
    let names: Vec<String> = document.environments.keys().cloned().collect();
    for (name, environment) in &document.environments {
        let path = FieldPath::key("environments", name);
        if !is_dns_label(name, 20) {
            errors.push(source.error_at_key(
                &path,
                format!("environment name \"{}\" must be a DNS-1123 label of at most 20 characters", excerpt(name)),
            ));
        }
        if let Some(from) = &environment.from {
            if !document.environments.contains_key(from) {
                errors.push(source.error_at(&FieldPath::key(&path, "from"), unknown("environment", from, &names)));
            }
        }
        if let Some(ttl) = &environment.idle_ttl {
            if let Err(message) = duration::parse(ttl) {
                errors.push(source.error_at(&FieldPath::key(&path, "idleTTL"), message));
            }
        }
        check_isolation(environment, &path, &names, source, errors);
        // Follow `from` and report a cycle once, at the environment that closes it.
        let mut seen = vec![name.clone()];
        let mut current = environment.from.clone();
        while let Some(next) = current {
            if seen.contains(&next) {
                if &next == name {
                    seen.push(next);
                    errors.push(source.error_at(
                        &FieldPath::key(&path, "from"),
                        format!("environment inheritance cycle: {}", seen.join(" -> ")),
                    ));
                }
                break;
            }
            seen.push(next.clone());
            current = document.environments.get(&next).and_then(|e| e.from.clone());
        }
    }
}
