//! What both formats give an environment the same way: the environment it extends, its idle
//! TTL and namespace, the runtime of the agent's slot environment, the registry the images
//! share, the pull policy and the cluster-scoped kinds its manifests install.

use super::context::{Importer, SourceFile};
use super::report::Action;
use crate::config::path::FieldPath;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// The environment both tools treat as the agent's per-slot one.
pub const SLOT_ENV: &str = "ai";
/// The environment where the agent repairs production: named so, both tools give it a
/// namespace of their own (besides [`SLOT_ENV`], the one name that carries behaviour).
pub const REPAIR_ENV: &str = "ai-repair";

/// The shared fields of one environment.
pub struct Shared<'a> {
    /// The environment as the source writes it: `from` and `imagePullPolicy` are read from it.
    pub source: &'a Value,
    pub idle_ttl: Option<&'a str>,
    pub namespace: Option<String>,
    /// Why the slot environment runs the dev runtime, in the source's terms.
    pub slot_runtime_reason: &'a str,
    pub registry: Option<&'a str>,
    pub cluster_scoped: &'a BTreeSet<String>,
}

/// Writes the shared fields of environment `name` (at `path` of the source) into `env`.
pub fn fill(
    imp: &mut Importer,
    file: &SourceFile,
    path: &str,
    name: &str,
    env: &mut Map<String, Value>,
    shared: Shared,
) {
    if let Some(from) = shared.source.get("from").and_then(Value::as_str) {
        env.insert("from".into(), json!(from));
    }
    if let Some(ttl) = shared.idle_ttl {
        env.insert("idleTTL".into(), json!(ttl));
    }
    if let Some(namespace) = shared.namespace {
        env.insert("namespace".into(), json!(namespace));
    }
    if name == SLOT_ENV {
        env.insert("runtime".into(), json!("dev"));
        imp.note_at(file, path, format!("environments.{name}.runtime"), Action::Converted, shared.slot_runtime_reason);
    }
    if let Some(registry) = shared.registry {
        env.insert("registry".into(), json!(registry));
    }
    if let Some(policy) = shared.source.get("imagePullPolicy").and_then(Value::as_str) {
        env.insert("imagePullPolicy".into(), json!(policy));
        imp.note_at(
            file,
            &FieldPath::key(path, "imagePullPolicy"),
            format!("environments.{name}.imagePullPolicy"),
            Action::Mapped,
            "pull policy of every unit container",
        );
    }
    if !shared.cluster_scoped.is_empty() {
        env.insert("allowClusterScoped".into(), json!(shared.cluster_scoped.iter().collect::<Vec<_>>()));
    }
    // The source's manifests were written for namespaces without Pod Security admission;
    // restricted (the default) would refuse most of them. baseline still refuses privileged
    // pods and host namespaces, and the note says how to go the rest of the way.
    env.insert("podSecurity".into(), json!(IMPORTED_POD_SECURITY));
    imp.note_at(
        file,
        path,
        format!("environments.{name}.podSecurity"),
        Action::Converted,
        "baseline, not the restricted default: the imported manifests never had to pass Pod Security admission; \
         once `kubectl codex check` finds no refused workload at restricted, remove the line",
    );
}

/// The Pod Security level an imported environment starts at.
pub const IMPORTED_POD_SECURITY: &str = "baseline";
