//! `spec.environments` and the idle TTL every environment gets.

use crate::config::duration;
use crate::config::path::FieldPath;
use crate::import::context::{Importer, SourceFile, StringKind};
use crate::import::environments;
use crate::import::report::Action;
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The idle TTL: `orchestration.cleanupPolicy.fullEnvIdleTTL`, else
/// `webhookRuntime.defaultNamespaceTTL`; per-role TTLs have no place.
pub(super) fn idle_ttl(imp: &mut Importer, file: &SourceFile, spec: &Map<String, Value>) -> Option<String> {
    let full = spec
        .get("orchestration")
        .and_then(|o| o.get("cleanupPolicy"))
        .and_then(|c| c.get("fullEnvIdleTTL"))
        .and_then(Value::as_str);
    let default = spec.get("webhookRuntime").and_then(|w| w.get("defaultNamespaceTTL")).and_then(Value::as_str);
    if spec.get("webhookRuntime").and_then(|w| w.get("namespaceTTLByRole")).is_some() {
        imp.note_at(
            file,
            "spec.webhookRuntime.namespaceTTLByRole",
            "",
            Action::NotCarried,
            "TTLs per agent role: kubectl-codex has one idle TTL per environment (`up --ttl` overrides it per run)",
        );
    }
    for key in ["defaultMode", "triggerModes"] {
        if spec.get("webhookRuntime").and_then(|w| w.get(key)).is_some() {
            imp.note_at(
                file,
                &format!("spec.webhookRuntime.{key}"),
                "",
                Action::NotCarried,
                format!("webhookRuntime.{key}: how the platform reacts to webhooks is not part of an environment"),
            );
        }
    }
    let (text, at) = match (full, default) {
        (Some(text), _) => (text, "spec.orchestration.cleanupPolicy.fullEnvIdleTTL"),
        (None, Some(text)) => (text, "spec.webhookRuntime.defaultNamespaceTTL"),
        (None, None) => return None,
    };
    match duration::parse(text) {
        Ok(_) => {
            imp.note_at(file, at, "environments.*.idleTTL", Action::Mapped, "the idle TTL of every environment");
            Some(text.to_string())
        }
        Err(error) => {
            imp.note_at(file, at, "", Action::NotCarried, format!("TTL \"{text}\": {error}"));
            None
        }
    }
}

pub(super) fn environments(
    imp: &mut Importer,
    file: &SourceFile,
    spec: &Map<String, Value>,
    registry: Option<&str>,
    ttl: Option<&str>,
    cluster_scoped: &BTreeSet<String>,
) -> Map<String, Value> {
    let mut out = Map::new();
    let declared = spec.get("environments").and_then(Value::as_object).cloned().unwrap_or_default();
    if declared.is_empty() {
        imp.error(file, "spec", "a ServiceStack needs spec.environments");
    }
    for (name, env) in &declared {
        let path = FieldPath::key("spec.environments", name);
        let mut converted = Map::new();
        let namespace = match env.get("namespaceTemplate").and_then(Value::as_str) {
            Some(template) => imp.string(file, &FieldPath::key(&path, "namespaceTemplate"), template, StringKind::Once),
            None if name == environments::SLOT_ENV => Some("{{ project }}-dev-{{ slot }}".to_string()),
            None if name == environments::REPAIR_ENV => Some("{{ project }}-production".to_string()),
            None => None,
        };
        let shared = environments::Shared {
            source: env,
            idle_ttl: ttl,
            namespace,
            slot_runtime_reason: "the platform forces hot reload in env ai: runtime dev",
            registry,
            cluster_scoped,
        };
        environments::fill(imp, file, &path, name, &mut converted, shared);
        if env.get("domainTemplate").is_some() {
            imp.note_at(file, &FieldPath::key(&path, "domainTemplate"),
                "inputs.KODEX_PUBLIC_DOMAIN",
                Action::NotCarried,
                "domainTemplate sets KODEX_PUBLIC_DOMAIN for manifests per environment; manifests that read it get the input KODEX_PUBLIC_DOMAIN, set per run (--set KODEX_PUBLIC_DOMAIN=…)",
            );
        }
        imp.note_at(
            file,
            &path,
            format!("environments.{name}"),
            Action::Mapped,
            "environment: from, namespaceTemplate → namespace, imagePullPolicy",
        );
        out.insert(name.clone(), Value::Object(converted));
    }
    out
}
