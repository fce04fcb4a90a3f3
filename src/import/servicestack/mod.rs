//! A codex-k8s / kodex ServiceStack (`metadata` + `spec`, apiVersion `codex-k8s.dev/v1alpha1`
//! or `kodex.works/v1alpha1`) → a kubectl-codex stack.
//!
//! `spec.imports` are merged here (maps merge, lists and scalars replace, the importing file
//! wins, as the ServiceStack loader does), and the merged stack is converted as one file; the
//! report names the file each item was written in.

mod environments;
mod groups;
mod imports;
mod units;

use super::context::{Importer, Part, SourceFile};
use super::images;
use super::report::Action;
use super::Options;
use crate::config::path::FieldPath;
use crate::config::source::SourceDocument;
use imports::{canonical, collect_imports};
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;
use units::UnitContext;

/// `.Vars` keys the platform computes for manifests, and what they are in kubectl-codex.
const KNOWN_VARS: [(&str, &str); 10] = [
    ("KODEX_NAMESPACE", "namespace"),
    ("KODEX_ENV", "env"),
    ("KODEX_PROJECT", "project"),
    ("KODEX_SLOT", "slot"),
    ("KODEX_HOT_RELOAD", "runtime == \"dev\""),
    ("CODEXK8S_NAMESPACE", "namespace"),
    ("CODEXK8S_ENV", "env"),
    ("CODEXK8S_PROJECT", "project"),
    ("CODEXK8S_SLOT", "slot"),
    ("CODEXK8S_HOT_RELOAD", "runtime == \"dev\""),
];

pub fn convert(imp: &mut Importer, name: &str, main: SourceDocument, options: &Options) -> Option<Map<String, Value>> {
    imp.scope.known_vars = KNOWN_VARS.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let main_path = options.file.clone();
    let mut parts = Vec::new();
    let mut chain = vec![canonical(&main_path)];
    collect_imports(imp, name, &main, &main_path, &mut chain, &mut parts);
    let mut merged = Value::Object(Map::new());
    for part in &parts {
        crate::config::merge::deep_merge(&mut merged, part.document.value.clone());
    }
    crate::config::merge::deep_merge(&mut merged, main.value.clone());
    let had_imports = !parts.is_empty();
    parts.push(Part { name: name.to_string(), document: main.clone() });
    let document = SourceDocument { value: merged, ..main };
    let file = SourceFile { name, document: &document, parts: &parts };
    if had_imports {
        imp.note_at(&file, "spec.imports", "", Action::Converted, format!("{} imported file(s) merged into one services.yaml (maps merge, lists replace, the importing file wins)", parts.len() - 1));
    }
    convert_merged(imp, &file, options)
}

fn convert_merged(imp: &mut Importer, file: &SourceFile, options: &Options) -> Option<Map<String, Value>> {
    let root = file.document.value.clone();
    let spec = root.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    let project = project(imp, file, &root, &spec)?;
    let mut out = Map::new();
    out.insert("project".into(), json!({ "name": project }));
    if let Some(versions) = versions(imp, file, &spec) {
        out.insert("versions".into(), versions);
    }
    let phases = groups::deploy_order(imp, file, &spec);
    let images = images::convert(imp, file, "spec.images", &options.out_dir);
    let components = groups::components(imp, file, &spec, &phases);
    let mut cluster_scoped = BTreeSet::new();
    let infra_names: BTreeSet<String> = spec
        .get("infrastructure")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|u| u.get("name").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    let context =
        UnitContext { phases: &phases, options, components: &components, infra_names: &infra_names, images: &images };
    let infrastructure = units::units_of(imp, file, &spec, "infrastructure", &context, &mut cluster_scoped);
    let services = units::units_of(imp, file, &spec, "services", &context, &mut cluster_scoped);
    let ttl = environments::idle_ttl(imp, file, &spec);
    let registry = images.registry.as_deref();
    let environments = environments::environments(imp, file, &spec, registry, ttl.as_deref(), &cluster_scoped);
    out.insert("environments".into(), Value::Object(environments));
    if !images.images.is_empty() {
        out.insert("images".into(), Value::Object(images.images.clone()));
    }
    if !components.is_empty() {
        let written: Map<String, Value> =
            components.iter().map(|(k, c)| (k.clone(), Value::Object(c.fields.clone()))).collect();
        out.insert("components".into(), Value::Object(written));
    }
    out.insert("infrastructure".into(), Value::Array(infrastructure));
    out.insert("services".into(), Value::Array(services));
    not_carried(imp, file, &spec);
    Some(out)
}

/// The project name: `spec.project`, else `metadata.name`.
fn project(imp: &mut Importer, file: &SourceFile, root: &Value, spec: &Map<String, Value>) -> Option<String> {
    let project = spec
        .get("project")
        .and_then(Value::as_str)
        .or_else(|| root.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string);
    let Some(project) = project else {
        imp.error(file, "metadata", "a ServiceStack needs spec.project or metadata.name");
        return None;
    };
    let at = if spec.contains_key("project") { "spec.project" } else { "metadata.name" };
    imp.note_at(file, at, "project.name", Action::Mapped, "the project name");
    Some(project)
}

/// `versions.<name>.value` → `versions.<name>`; `bumpOn` (the platform's CI) is not carried.
fn versions(imp: &mut Importer, file: &SourceFile, spec: &Map<String, Value>) -> Option<Value> {
    let versions = spec.get("versions").and_then(Value::as_object)?;
    let mut converted = Map::new();
    for (name, version) in versions {
        let at = FieldPath::key("spec.versions", name);
        let value = version.get("value").or(Some(version)).filter(|v| !v.is_object());
        match value {
            Some(value) => {
                converted.insert(
                    name.clone(),
                    json!(value.as_str().map(str::to_string).unwrap_or_else(|| value.to_string())),
                );
            }
            None => imp.error(file, &at, "a version needs `value`"),
        }
        if version.get("bumpOn").is_some() {
            imp.note_at(
                file,
                &FieldPath::key(&at, "bumpOn"),
                "",
                Action::NotCarried,
                "bumpOn: version bumps on push are the platform's CI, not part of an environment; not applicable",
            );
        }
    }
    imp.note_at(file, "spec.versions", "versions", Action::Mapped, "versions.<name>.value → versions.<name>");
    Some(Value::Object(converted))
}

/// The `spec` keys without a place in kubectl-codex: agent context and the platform's own
/// settings are not carried, and keys the loader does not read either are dropped.
fn not_carried(imp: &mut Importer, file: &SourceFile, spec: &Map<String, Value>) {
    for (key, reason) in [
        ("webhookRuntime", None),
        ("secretResolution", Some("per-environment secret key names of the platform's secret store; kubectl-codex takes secrets as secret inputs (`inputs: {x: {secret: true}}`, `secrets:`)")),
        ("projectDocs", Some("agent prompt context, not part of an environment")),
        ("roleDocTemplates", Some("agent prompt context, not part of an environment")),
    ] {
        if let (Some(reason), true) = (reason, spec.contains_key(key)) {
            imp.note(imp.at_key(file, &FieldPath::key("spec", key)), "", Action::NotCarried, format!("{key}: {reason}"));
        }
    }
    let known = [
        "project",
        "versions",
        "imports",
        "components",
        "environments",
        "webhookRuntime",
        "secretResolution",
        "projectDocs",
        "roleDocTemplates",
        "images",
        "infrastructure",
        "services",
        "orchestration",
    ];
    for key in spec.keys().filter(|k| !known.contains(&k.as_str())) {
        imp.note(
            imp.at_key(file, &FieldPath::key("spec", key)),
            "",
            Action::Dropped,
            format!("spec.{key}: a field the ServiceStack loader does not read either"),
        );
    }
}
