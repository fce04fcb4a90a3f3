//! Deploy groups and components: `orchestration.deployOrder` and `deployGroup` onto the fixed
//! phases, `components[].serviceDefaults` into stack components.

use super::units::code_update_strategy;
use crate::config::path::FieldPath;
use crate::config::phase::Phase;
use crate::import::context::{Importer, SourceFile};
use crate::import::report::Action;
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// Group name → phase. The real files name the groups like our phases; other names follow
/// `orchestration.deployOrder` onto the phases by position, and are reported.
pub(super) fn deploy_order(
    imp: &mut Importer,
    file: &SourceFile,
    spec: &Map<String, Value>,
) -> BTreeMap<String, Phase> {
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

pub(super) struct Component {
    pub(super) fields: Map<String, Value>,
}

pub(super) fn components(
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

pub(super) fn phase_of(
    imp: &mut Importer,
    file: &SourceFile,
    at: &str,
    group: &str,
    phases: &BTreeMap<String, Phase>,
) -> Phase {
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
