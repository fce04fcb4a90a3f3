//! A codex-k8s / kodex ServiceStack (`metadata` + `spec`, apiVersion `codex-k8s.dev/v1alpha1`
//! or `kodex.works/v1alpha1`) → a kubectl-codex stack.
//!
//! `spec.imports` are merged here (maps merge, lists and scalars replace, the importing file
//! wins, as the ServiceStack loader does), and the merged stack is converted as one file; the
//! report names the file each item was written in.

use super::context::{Importer, Part, SourceFile, StringKind};
use super::environments;
use super::images;
use super::report::Action;
use super::units;
use super::Options;
use crate::config::diagnostics::Diagnostic;
use crate::config::duration;
use crate::config::path::FieldPath;
use crate::config::phase::Phase;
use crate::config::source::SourceDocument;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Most files one stack may import (as our own `imports`).
const MAX_IMPORTED_FILES: usize = 256;

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

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize().unwrap_or_else(|_| path.to_path_buf())
}

/// Reads `spec.imports` of `document` (at `path`) depth first, in the order merged: every
/// import before the file that imports it.
fn collect_imports(
    imp: &mut Importer,
    name: &str,
    document: &SourceDocument,
    path: &Path,
    chain: &mut Vec<PathBuf>,
    parts: &mut Vec<Part>,
) {
    let Some(list) = document.value.pointer("/spec/imports").and_then(Value::as_array) else { return };
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")).to_path_buf();
    for (index, entry) in list.iter().enumerate() {
        let at = FieldPath::index("spec.imports", index);
        let position = document.map.value_position(&at);
        let pattern = match entry {
            Value::String(text) => text.clone(),
            Value::Object(map) => match map.get("path").and_then(Value::as_str) {
                Some(text) => text.to_string(),
                None => {
                    imp.errors.push(Diagnostic::new(name, position, &at, "an import is a path or `{path: …}`"));
                    continue;
                }
            },
            _ => {
                imp.errors.push(Diagnostic::new(name, position, &at, "an import is a path or `{path: …}`"));
                continue;
            }
        };
        let files = match expand(&dir, &pattern) {
            Ok(files) if !files.is_empty() => files,
            Ok(_) => {
                imp.errors.push(Diagnostic::new(name, position, &at, format!("import \"{pattern}\" names no file")));
                continue;
            }
            Err(message) => {
                imp.errors.push(Diagnostic::new(name, position, &at, message));
                continue;
            }
        };
        for file in files {
            let key = canonical(&file);
            if let Some(start) = chain.iter().position(|p| *p == key) {
                let names: Vec<String> =
                    chain[start..].iter().chain([&key]).map(|p| display_relative(&imp.source_root, p)).collect();
                imp.errors.push(Diagnostic::new(
                    name,
                    position,
                    &at,
                    format!("imports cycle detected: {}", names.join(" -> ")),
                ));
                continue;
            }
            if parts.len() >= MAX_IMPORTED_FILES {
                imp.errors.push(Diagnostic::new(
                    name,
                    position,
                    &at,
                    format!("more than {MAX_IMPORTED_FILES} imported files"),
                ));
                return;
            }
            let display = display_relative(&imp.source_root, &file);
            let bytes = match std::fs::read(&file) {
                Ok(bytes) => bytes,
                Err(error) => {
                    imp.errors.push(Diagnostic::new(
                        name,
                        position,
                        &at,
                        format!("import \"{display}\" cannot be read: {error}"),
                    ));
                    continue;
                }
            };
            for document in read_documents(imp, &display, &bytes) {
                chain.push(key.clone());
                collect_imports(imp, &display, &document, &file, chain, parts);
                chain.pop();
                parts.push(Part { name: display.clone(), document });
            }
        }
    }
}

/// The documents of a file (a multi-document file is merged document by document).
fn read_documents(imp: &mut Importer, display: &str, bytes: &[u8]) -> Vec<SourceDocument> {
    let text = String::from_utf8_lossy(bytes);
    let mut documents = Vec::new();
    let mut offset = 0usize;
    for chunk in split_documents(&text) {
        let padded = format!("{}{}", "\n".repeat(offset), chunk);
        offset += chunk.lines().count() + 1;
        if chunk.trim().is_empty() {
            continue;
        }
        match crate::config::source::read(display, padded.as_bytes()) {
            Ok(document) => documents.push(document),
            Err(errors) => imp.errors.extend(errors),
        }
    }
    documents
}

/// Splits on `---` lines; padding each part with the lines before it keeps its positions.
fn split_documents(text: &str) -> Vec<String> {
    let mut parts = vec![String::new()];
    for line in text.lines() {
        if line.trim_end() == "---" {
            parts.push(String::new());
        } else if let Some(last) = parts.last_mut() {
            last.push_str(line);
            last.push('\n');
        }
    }
    parts
}

fn display_relative(root: &Path, path: &Path) -> String {
    let root = canonical(root);
    let path = canonical(path);
    path.strip_prefix(&root).map(|p| p.display().to_string()).unwrap_or_else(|_| path.display().to_string())
}

/// The files a path or glob names, sorted; relative to `dir`, inside the project.
fn expand(dir: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    if Path::new(pattern).is_absolute() {
        return Err(format!("import \"{pattern}\" is absolute: imports are relative to the importing file"));
    }
    if !pattern.contains(['*', '?', '[', '{']) {
        let file = dir.join(pattern);
        return if file.is_file() {
            Ok(vec![file])
        } else {
            Err(format!("import \"{pattern}\" names no file ({} is not there)", file.display()))
        };
    }
    let glob =
        globset::Glob::new(pattern).map_err(|e| format!("import \"{pattern}\" is not a glob: {e}"))?.compile_matcher();
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    let mut seen = 0usize;
    while let Some(current) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else { continue };
        for entry in entries.flatten() {
            seen += 1;
            if seen > 20_000 {
                return Err(format!("import \"{pattern}\" looks at more than 20000 directory entries"));
            }
            let path = entry.path();
            let Ok(relative) = path.strip_prefix(dir) else { continue };
            if path.is_dir() {
                stack.push(path.clone());
            } else if glob.is_match(relative) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn convert_merged(imp: &mut Importer, file: &SourceFile, options: &Options) -> Option<Map<String, Value>> {
    let root = file.document.value.clone();
    let spec = root.get("spec").and_then(Value::as_object).cloned().unwrap_or_default();
    let project = spec
        .get("project")
        .and_then(Value::as_str)
        .or_else(|| root.pointer("/metadata/name").and_then(Value::as_str))
        .map(str::to_string);
    let Some(project) = project else {
        imp.error(file, "metadata", "a ServiceStack needs spec.project or metadata.name");
        return None;
    };
    let mut out = Map::new();
    out.insert("project".into(), json!({ "name": project }));
    imp.note_at(
        file,
        if spec.contains_key("project") { "spec.project" } else { "metadata.name" },
        "project.name",
        Action::Mapped,
        "the project name",
    );
    if let Some(versions) = spec.get("versions").and_then(Value::as_object) {
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
        out.insert("versions".into(), Value::Object(converted));
    }
    let phases = deploy_order(imp, file, &spec);
    let images = images::convert(imp, file, "spec.images", &options.out_dir);
    let components = components(imp, file, &spec, &phases);
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
    let infrastructure = units_of(imp, file, &spec, "infrastructure", &context, &mut cluster_scoped);
    let services = units_of(imp, file, &spec, "services", &context, &mut cluster_scoped);
    let ttl = idle_ttl(imp, file, &spec);
    out.insert(
        "environments".into(),
        Value::Object(environments(imp, file, &spec, images.registry.as_deref(), ttl.as_deref(), &cluster_scoped)),
    );
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
    Some(out)
}

/// Group name → phase. The real files name the groups like our phases; other names follow
/// `orchestration.deployOrder` onto the phases by position, and are reported.
fn deploy_order(imp: &mut Importer, file: &SourceFile, spec: &Map<String, Value>) -> BTreeMap<String, Phase> {
    let mut phases: BTreeMap<String, Phase> = Phase::ORDER.iter().map(|p| (p.as_str().to_string(), *p)).collect();
    let order: Vec<String> = spec
        .get("orchestration")
        .and_then(|o| o.get("deployOrder"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let at = "spec.orchestration.deployOrder";
    for (index, group) in order.iter().enumerate() {
        if phases.contains_key(group) {
            continue;
        }
        let phase = Phase::ORDER[index.min(Phase::ORDER.len() - 1)];
        phases.insert(group.clone(), phase);
        imp.note_at(
            file,
            &FieldPath::index(at, index),
            "",
            Action::Converted,
            format!("deploy group \"{group}\" is the phase {} (its place in deployOrder)", phase.as_str()),
        );
    }
    if !order.is_empty() {
        imp.note_at(file, at, "", Action::Mapped, "deployOrder: groups are kubectl-codex's fixed phase order stateful → migrations → internal → edge → frontend");
    }
    phases
}

struct Component {
    fields: Map<String, Value>,
}

fn components(
    imp: &mut Importer,
    file: &SourceFile,
    spec: &Map<String, Value>,
    phases: &BTreeMap<String, Phase>,
) -> BTreeMap<String, Component> {
    let mut out = BTreeMap::new();
    for (index, component) in spec.get("components").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let at = FieldPath::index("spec.components", index);
        let Some(name) = component.get("name").and_then(Value::as_str) else {
            imp.error(file, &at, "a component needs `name`");
            continue;
        };
        let defaults = component.get("serviceDefaults").cloned().unwrap_or(Value::Null);
        let mut fields = Map::new();
        if let Some(strategy) = defaults.get("codeUpdateStrategy").and_then(Value::as_str) {
            let at = FieldPath::key(&at, "serviceDefaults.codeUpdateStrategy");
            code_update_strategy(imp, file, &at, strategy, &mut fields, &format!("components.{name}"));
        }
        if let Some(group) = defaults.get("deployGroup").and_then(Value::as_str) {
            fields.insert(
                "phase".into(),
                json!(phase_of(imp, file, &FieldPath::key(&at, "serviceDefaults.deployGroup"), group, phases).as_str()),
            );
        }
        if let Some(depends) = defaults.get("dependsOn").and_then(Value::as_array) {
            fields.insert("dependsOn".into(), Value::Array(depends.clone()));
        }
        imp.note_at(
            file,
            &at,
            format!("components.{name}"),
            Action::Mapped,
            "serviceDefaults fill what a unit that uses it leaves empty (deployGroup is its phase)",
        );
        out.insert(name.to_string(), Component { fields });
    }
    out
}

fn phase_of(imp: &mut Importer, file: &SourceFile, at: &str, group: &str, phases: &BTreeMap<String, Phase>) -> Phase {
    match phases.get(group) {
        Some(phase) => *phase,
        None => {
            imp.note_at(
                file,
                at,
                "",
                Action::Converted,
                format!("deploy group \"{group}\" is in no deployOrder: phase internal (change it with --phase)"),
            );
            Phase::Internal
        }
    }
}

/// What converting a unit needs to know of the rest of the stack.
struct UnitContext<'a> {
    phases: &'a BTreeMap<String, Phase>,
    options: &'a Options,
    components: &'a BTreeMap<String, Component>,
    infra_names: &'a BTreeSet<String>,
    images: &'a images::Images,
}

fn units_of(
    imp: &mut Importer,
    file: &SourceFile,
    spec: &Map<String, Value>,
    section: &str,
    context: &UnitContext,
    cluster_scoped: &mut BTreeSet<String>,
) -> Vec<Value> {
    let UnitContext { phases, options, components, infra_names, images } = *context;
    let list_path = FieldPath::key("spec", section);
    let units: Vec<Value> = spec.get(section).and_then(Value::as_array).cloned().unwrap_or_default();
    // Each unit's phase first: a dependency on a unit of a later phase cannot be kept.
    let mut unit_phase: BTreeMap<String, Phase> = BTreeMap::new();
    for (index, unit) in units.iter().enumerate() {
        let path = FieldPath::index(&list_path, index);
        let Some(name) = unit.get("name").and_then(Value::as_str) else { continue };
        let used: Vec<&str> =
            unit.get("use").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let group = unit.get("deployGroup").and_then(Value::as_str);
        let from_component =
            used.iter().find_map(|c| components.get(*c)?.fields.get("phase")?.as_str()).and_then(Phase::parse);
        let phase = match (options.phases.get(name), section, group) {
            (Some(phase), _, _) => *phase,
            (None, "infrastructure", _) => Phase::Stateful,
            (None, _, Some(group)) => phase_of(imp, file, &FieldPath::key(&path, "deployGroup"), group, phases),
            (None, _, None) => from_component.unwrap_or(Phase::Internal),
        };
        unit_phase.insert(name.to_string(), phase);
    }
    let mut out = Vec::new();
    for (index, unit) in units.iter().enumerate() {
        let path = FieldPath::index(&list_path, index);
        let Some(source_name) = unit.get("name").and_then(Value::as_str) else {
            imp.error(file, &path, "a unit needs `name`");
            continue;
        };
        let name = units::unit_name(imp, file, &path, source_name);
        let phase = unit_phase.get(source_name).copied().unwrap_or(Phase::Internal);
        let manifests = units::manifests(imp, file, &path, unit);
        let target = format!("{section}[{index}]");
        imp.note_at(
            file,
            &path,
            target.clone(),
            Action::Mapped,
            format!("unit {name}: {} manifest(s), phase {}", manifests.len(), phase.as_str()),
        );
        let mut converted = units::manifest_unit(imp, file, &path, &name, phase, manifests, cluster_scoped);
        let used: Vec<Value> = unit.get("use").and_then(Value::as_array).cloned().unwrap_or_default();
        if !used.is_empty() {
            converted.insert("use".into(), Value::Array(used));
        }
        if let Some(strategy) = unit.get("codeUpdateStrategy").and_then(Value::as_str) {
            code_update_strategy(
                imp,
                file,
                &FieldPath::key(&path, "codeUpdateStrategy"),
                strategy,
                &mut converted,
                &target,
            );
        }
        let mut depends = Vec::new();
        for (d, dependency) in unit.get("dependsOn").and_then(Value::as_array).into_iter().flatten().enumerate() {
            let Some(dependency) = dependency.as_str() else { continue };
            let dep_phase = unit_phase
                .get(dependency)
                .copied()
                .or_else(|| infra_names.contains(dependency).then_some(Phase::Stateful));
            let at = FieldPath::index(&FieldPath::key(&path, "dependsOn"), d);
            match dep_phase {
                Some(dep) if dep.number() > phase.number() => imp.note_at(file, &at,
                    "",
                    Action::NotCarried,
                    format!("dependsOn {dependency}: it deploys in the later phase {}; phases already order everything, so the dependency cannot hold", dep.as_str()),
                ),
                _ => depends.push(json!(dependency)),
            }
        }
        if !depends.is_empty() {
            converted.insert("dependsOn".into(), Value::Array(depends));
            imp.note_at(
                file,
                &FieldPath::key(&path, "dependsOn"),
                format!("{target}.dependsOn"),
                Action::Mapped,
                "a same-phase dependency deploys in a later wave, after the dependency is ready",
            );
        }
        let when = units::when(imp, file, &path, unit, &target);
        let singleton = unit.get("scope").and_then(Value::as_str) == Some("infrastructure-singleton");
        match (when, singleton) {
            (Some(when), false) => {
                converted.insert("when".into(), json!(when));
            }
            (when, true) => {
                let production = "{{ env == \"production\" }}".to_string();
                let combined = match when {
                    Some(when) => format!("{{% if env == \"production\" %}}{when}{{% else %}}false{{% endif %}}"),
                    None => production,
                };
                converted.insert("when".into(), json!(combined));
                imp.note_at(
                    file,
                    &FieldPath::key(&path, "scope"),
                    format!("{target}.when"),
                    Action::Converted,
                    "scope infrastructure-singleton: the unit exists only in the production environment",
                );
            }
            (None, false) => {}
        }
        if let Some(image) = unit.get("image").and_then(Value::as_object) {
            let at = FieldPath::key(&path, "image");
            if let Some(name) = images::unit_image(imp, file, &at, image, images, StringKind::Once) {
                converted.insert("image".into(), json!({ "name": name }));
                imp.note_at(
                    file,
                    &at,
                    format!("{target}.image"),
                    Action::Mapped,
                    "the first container of the object named like the unit runs this image",
                );
            }
        }
        out.push(Value::Object(converted));
    }
    out
}

/// The idle TTL: `orchestration.cleanupPolicy.fullEnvIdleTTL`, else
/// `webhookRuntime.defaultNamespaceTTL`; per-role TTLs have no place.
fn idle_ttl(imp: &mut Importer, file: &SourceFile, spec: &Map<String, Value>) -> Option<String> {
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

fn environments(
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
        if let Some(from) = env.get("from").and_then(Value::as_str) {
            converted.insert("from".into(), json!(from));
        }
        let namespace = match env.get("namespaceTemplate").and_then(Value::as_str) {
            Some(template) => imp.string(file, &FieldPath::key(&path, "namespaceTemplate"), template, StringKind::Once),
            None if name == environments::SLOT_ENV => Some("{{ project }}-dev-{{ slot }}".to_string()),
            None if name == "ai-repair" => Some("{{ project }}-production".to_string()),
            None => None,
        };
        if let Some(ttl) = ttl {
            converted.insert("idleTTL".into(), json!(ttl));
        }
        let shared = environments::Shared {
            namespace,
            slot_runtime_reason: "the platform forces hot reload in env ai: runtime dev",
            registry,
            image_pull_policy: env.get("imagePullPolicy").and_then(Value::as_str),
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

/// `codeUpdateStrategy`: the same values. kodex only passes it to the agent, while a
/// kubectl-codex `hot-reload` unit reads its sources from the shared workspace, so it gets the
/// workspace mount (read-only, at /workspace) that this needs.
fn code_update_strategy(
    imp: &mut Importer,
    file: &SourceFile,
    at: &str,
    strategy: &str,
    fields: &mut Map<String, Value>,
    target: &str,
) {
    fields.insert("codeUpdateStrategy".into(), json!(strategy));
    if strategy == "hot-reload" {
        fields.insert("workspace".into(), json!({ "mountPath": "/workspace", "readOnly": true }));
        imp.note_at(file, at,
            format!("{target}.workspace"),
            Action::Converted,
            "codeUpdateStrategy hot-reload: a hot-reload unit reads its sources from the shared workspace, so it mounts it at /workspace (read-only)",
        );
    } else {
        imp.note_at(
            file,
            at,
            format!("{target}.codeUpdateStrategy"),
            Action::Mapped,
            "how code changes reach the unit",
        );
    }
}
