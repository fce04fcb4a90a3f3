//! `spec.infrastructure` and `spec.services`: each unit's phase (its deploy group, component
//! or section), dependencies that phases leave possible, `when` and `scope`, image and code
//! update strategy.

use super::groups::{phase_of, Component};
use super::Options;
use crate::config::path::FieldPath;
use crate::config::phase::Phase;
use crate::import::context::{Importer, SourceFile, StringKind};
use crate::import::images;
use crate::import::report::Action;
use crate::import::units::{self, Unit};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// What converting a unit needs to know of the rest of the stack.
pub(super) struct UnitContext<'a> {
    pub(super) phases: &'a BTreeMap<String, Phase>,
    pub(super) options: &'a Options,
    pub(super) components: &'a BTreeMap<String, Component>,
    pub(super) infra_names: &'a BTreeSet<String>,
    pub(super) images: &'a images::Images,
}

/// The units of `spec.<section>`, converted.
pub(super) fn units_of(
    imp: &mut Importer,
    file: &SourceFile,
    spec: &Map<String, Value>,
    section: &str,
    context: &UnitContext,
    cluster_scoped: &mut BTreeSet<String>,
) -> Vec<Value> {
    let list_path = FieldPath::key("spec", section);
    let list: Vec<Value> = spec.get(section).and_then(Value::as_array).cloned().unwrap_or_default();
    // Each unit's phase first: a dependency on a unit of a later phase cannot be kept.
    let unit_phase = phases_of(imp, file, &list_path, section, &list, context);
    let phase_of_dependency = |dependency: &str| {
        unit_phase
            .get(dependency)
            .copied()
            .or_else(|| context.infra_names.contains(dependency).then_some(Phase::Stateful))
    };
    let mut out = Vec::new();
    for (index, value) in list.iter().enumerate() {
        let Some(unit) = units::named(imp, file, &list_path, section, index, value) else { continue };
        let phase = unit_phase.get(unit.source_name).copied().unwrap_or(Phase::Internal);
        let mut converted = units::convert(imp, file, &unit, phase, None, cluster_scoped);
        let used: Vec<Value> = value.get("use").and_then(Value::as_array).cloned().unwrap_or_default();
        if !used.is_empty() {
            converted.insert("use".into(), Value::Array(used));
        }
        if let Some(strategy) = value.get("codeUpdateStrategy").and_then(Value::as_str) {
            let at = FieldPath::key(&unit.path, "codeUpdateStrategy");
            code_update_strategy(imp, file, &at, strategy, &mut converted, &unit.target);
        }
        depends_on(imp, file, &unit, phase, &phase_of_dependency, &mut converted);
        when(imp, file, &unit, &mut converted);
        let image_reason = "the first container of the object named like the unit runs this image";
        if let Some(image) = units::image(imp, file, &unit, context.images, StringKind::Once, image_reason) {
            converted.insert("image".into(), image);
        }
        out.push(Value::Object(converted));
    }
    out
}

/// The phase of every named unit of the list: `--phase`, its section (infrastructure is
/// stateful), its deploy group, or its component's.
fn phases_of(
    imp: &mut Importer,
    file: &SourceFile,
    list_path: &str,
    section: &str,
    list: &[Value],
    context: &UnitContext,
) -> BTreeMap<String, Phase> {
    let mut unit_phase: BTreeMap<String, Phase> = BTreeMap::new();
    for (index, unit) in list.iter().enumerate() {
        let path = FieldPath::index(list_path, index);
        let Some(name) = unit.get("name").and_then(Value::as_str) else { continue };
        let used: Vec<&str> =
            unit.get("use").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        let group = unit.get("deployGroup").and_then(Value::as_str);
        let from_component =
            used.iter().find_map(|c| context.components.get(*c)?.fields.get("phase")?.as_str()).and_then(Phase::parse);
        let phase = match (context.options.phases.get(name), section, group) {
            (Some(phase), _, _) => *phase,
            (None, "infrastructure", _) => Phase::Stateful,
            (None, _, Some(group)) => phase_of(imp, file, &FieldPath::key(&path, "deployGroup"), group, context.phases),
            (None, _, None) => from_component.unwrap_or(Phase::Internal),
        };
        unit_phase.insert(name.to_string(), phase);
    }
    unit_phase
}

/// `dependsOn`: kept when the dependency deploys in the unit's phase or an earlier one (a
/// later phase cannot be waited for).
fn depends_on(
    imp: &mut Importer,
    file: &SourceFile,
    unit: &Unit,
    phase: Phase,
    phase_of_dependency: &dyn Fn(&str) -> Option<Phase>,
    converted: &mut Map<String, Value>,
) {
    let list_path = FieldPath::key(&unit.path, "dependsOn");
    let mut depends = Vec::new();
    for (d, dependency) in unit.value.get("dependsOn").and_then(Value::as_array).into_iter().flatten().enumerate() {
        let Some(dependency) = dependency.as_str() else { continue };
        let at = FieldPath::index(&list_path, d);
        match phase_of_dependency(dependency) {
            Some(dep) if dep.number() > phase.number() => imp.note_at(
                file,
                &at,
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
            &list_path,
            format!("{}.dependsOn", unit.target),
            Action::Mapped,
            "a same-phase dependency deploys in a later wave, after the dependency is ready",
        );
    }
}

/// `when`, with `scope: infrastructure-singleton` (the unit exists in production only) folded in.
fn when(imp: &mut Importer, file: &SourceFile, unit: &Unit, converted: &mut Map<String, Value>) {
    let when = units::when(imp, file, unit);
    let singleton = unit.value.get("scope").and_then(Value::as_str) == Some("infrastructure-singleton");
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
                &FieldPath::key(&unit.path, "scope"),
                format!("{}.when", unit.target),
                Action::Converted,
                "scope infrastructure-singleton: the unit exists only in the production environment",
            );
        }
        (None, false) => {}
    }
}

/// `codeUpdateStrategy`: the same values. kodex only passes it to the agent, while a
/// kubectl-codex `hot-reload` unit reads its sources from the shared workspace, so it gets the
/// workspace mount (read-only, at /workspace) that this needs.
pub(super) fn code_update_strategy(
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
