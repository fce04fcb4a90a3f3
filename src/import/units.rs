//! Units of both formats, up to where the formats part: the name and where the unit stands,
//! manifests converted and referenced, the phase, `when`, the image, and what the manifests'
//! kinds ask of the environment.

use super::context::{Importer, SourceFile, StringKind};
use super::images::{self, Images};
use super::report::Action;
use crate::config::kinds;
use crate::config::path::FieldPath;
use crate::config::phase::Phase;
use serde_json::{json, Map, Value};
use std::collections::BTreeSet;

/// A unit of either format, named, and where it stands: its path in the source, and its place
/// in the written stack (`services[2]`), which the report names.
pub struct Unit<'a> {
    /// The unit as the source writes it.
    pub value: &'a Value,
    pub path: String,
    pub target: String,
    /// The name as the source writes it, which `dependsOn` and `--phase` may use.
    pub source_name: &'a str,
    /// The name as kubectl-codex accepts it.
    pub name: String,
}

/// Item `index` of the unit list `section` (at `list_path` of the source); an error when it has
/// no name.
pub fn named<'a>(
    imp: &mut Importer,
    file: &SourceFile,
    list_path: &str,
    section: &str,
    index: usize,
    value: &'a Value,
) -> Option<Unit<'a>> {
    let path = FieldPath::index(list_path, index);
    let Some(source_name) = value.get("name").and_then(Value::as_str) else {
        imp.error(file, &path, "a unit needs `name`");
        return None;
    };
    let name = unit_name(imp, file, &path, source_name);
    Some(Unit { value, path, target: format!("{section}[{index}]"), source_name, name })
}

/// A manifest unit in `phase`: its manifests converted, the unit reported (with how the phase
/// was chosen, when `phase_reason` says), and what the manifests' kinds need.
pub fn convert(
    imp: &mut Importer,
    file: &SourceFile,
    unit: &Unit,
    phase: Phase,
    phase_reason: Option<&str>,
    cluster_scoped: &mut BTreeSet<String>,
) -> Map<String, Value> {
    let manifests = manifests(imp, file, &unit.path, unit.value);
    let reason = phase_reason.map(|reason| format!(" ({reason})")).unwrap_or_default();
    imp.note_at(
        file,
        &unit.path,
        unit.target.clone(),
        Action::Mapped,
        format!("unit {}: {} manifest(s), phase {}{reason}", unit.name, manifests.len(), phase.as_str()),
    );
    manifest_unit(imp, file, &unit.path, &unit.name, phase, manifests, cluster_scoped)
}

/// A unit's `image {repository, tagTemplate}` (its tag rendered as `tag` says): the image of
/// the first container of the object `reason` names.
pub fn image(
    imp: &mut Importer,
    file: &SourceFile,
    unit: &Unit,
    images: &Images,
    tag: StringKind,
    reason: &str,
) -> Option<Value> {
    let image = unit.value.get("image").and_then(Value::as_object)?;
    let at = FieldPath::key(&unit.path, "image");
    let name = images::unit_image(imp, file, &at, image, images, tag)?;
    imp.note_at(file, &at, format!("{}.image", unit.target), Action::Mapped, reason);
    Some(json!({ "name": name }))
}

/// The manifest paths of a unit at `path` (`manifests: [{path}]` or plain strings), converted.
fn manifests(imp: &mut Importer, file: &SourceFile, path: &str, unit: &Value) -> Vec<String> {
    let list_path = FieldPath::key(path, "manifests");
    let mut kept = Vec::new();
    for (index, entry) in unit.get("manifests").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let at = FieldPath::index(&list_path, index);
        let (relative, value_path) = match entry {
            Value::String(text) => (text.clone(), at.clone()),
            Value::Object(map) => match map.get("path").and_then(Value::as_str) {
                Some(text) => (text.to_string(), FieldPath::key(&at, "path")),
                None => {
                    imp.error(file, &at, "a manifest entry needs `path`");
                    continue;
                }
            },
            _ => {
                imp.error(file, &at, "a manifest entry is a path or `{path: …}`");
                continue;
            }
        };
        if super::gotemplate::is_go_template(&relative) {
            imp.error(file, &value_path, format!("manifest path \"{relative}\" is a template: name the file itself"));
            continue;
        }
        let relative = relative.trim_start_matches("./").to_string();
        if imp.manifest(file, &value_path, &relative) {
            kept.push(relative);
        }
    }
    kept
}

/// The kinds (top-level `kind:` lines) of the converted manifests of a unit.
fn kinds_of(imp: &Importer, manifests: &[String]) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for relative in manifests {
        let Some(text) = imp.manifests.get(relative) else { continue };
        for line in text.lines() {
            if let Some(kind) = line.strip_prefix("kind:") {
                let kind = kind.trim().trim_matches(['"', '\'']);
                if !kind.is_empty() && kind.chars().all(|c| c.is_ascii_alphanumeric()) {
                    found.insert(kind.to_string());
                }
            }
        }
    }
    found
}

/// Builds a manifest unit: name, phase, manifests, and what its kinds need: `Namespace`
/// documents dropped (kubectl-codex owns the namespace), cluster-scoped kinds returned for the
/// environments' `allowClusterScoped`.
fn manifest_unit(
    imp: &mut Importer,
    file: &SourceFile,
    path: &str,
    name: &str,
    phase: Phase,
    manifests: Vec<String>,
    cluster_scoped: &mut BTreeSet<String>,
) -> Map<String, Value> {
    let mut unit = Map::new();
    unit.insert("name".into(), json!(name));
    unit.insert("phase".into(), json!(phase.as_str()));
    let kinds = kinds_of(imp, &manifests);
    if !manifests.is_empty() {
        unit.insert("manifests".into(), json!(manifests));
    }
    let mut drop = Vec::new();
    for kind in &kinds {
        if kind == "Namespace" {
            drop.push(kind.clone());
            imp.note_at(
                file,
                &FieldPath::key(path, "manifests"),
                format!("{}.dropKinds", name),
                Action::Dropped,
                "Namespace documents: kubectl-codex creates and labels each environment's namespace itself",
            );
        } else if kinds::is_cluster_scoped(kind) {
            cluster_scoped.insert(kind.clone());
        }
    }
    if !drop.is_empty() {
        unit.insert("dropKinds".into(), json!(drop));
    }
    unit
}

/// `when` of a unit, translated with the source's truthiness made explicit.
pub fn when(imp: &mut Importer, file: &SourceFile, unit: &Unit) -> Option<String> {
    let text = unit.value.get("when")?;
    let text = match text {
        Value::String(text) if text.trim().is_empty() => return None,
        Value::String(text) => text.clone(),
        other => other.to_string(),
    };
    let at = FieldPath::key(&unit.path, "when");
    let converted = imp.string(file, &at, &text, StringKind::Condition)?;
    let rules = match imp.dialect {
        super::gotemplate::Dialect::Codexctl => {
            "codexctl's rules: empty → true; false, 0, no (any case) → false; anything else true"
        }
        super::gotemplate::Dialect::ServiceStack => "Go's strconv.ParseBool, as the ServiceStack platform reads it",
    };
    imp.note_at(
        file,
        &at,
        format!("{}.when", unit.target),
        Action::Converted,
        format!("rendered to true or false by {rules}"),
    );
    Some(converted)
}

/// A unit name as kubectl-codex accepts it (a DNS-1123 label), reported when it changed.
fn unit_name(imp: &mut Importer, file: &SourceFile, path: &str, name: &str) -> String {
    let cleaned: String = name
        .to_ascii_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .trim_matches('-')
        .to_string();
    if cleaned != name {
        imp.note_at(
            file,
            &FieldPath::key(path, "name"),
            cleaned.clone(),
            Action::Converted,
            format!("unit \"{name}\" renamed to a DNS-1123 label"),
        );
    }
    cleaned
}
