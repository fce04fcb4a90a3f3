//! Arbitrary bytes as services.yaml: loading, resolving every environment, planning and
//! rendering values must end in a value or diagnostics, never a panic.
//!
//! Besides "no panic", the target checks the plan's own contract on every stack that resolves,
//! so a plan that silently drops, duplicates or misorders units is a finding too.
#![no_main]

use kubectl_codex::config::load_bytes;
use kubectl_codex::config::stack::{Selection, Stack};
use kubectl_codex::plan::Plan;
use libfuzzer_sys::fuzz_target;
use std::collections::HashMap;
use std::path::Path;

/// Extra manifests are read relative to this directory; it does not exist, so a relative
/// manifest path is a diagnostic rather than a read of whatever lies around the fuzzer.
const BASE_DIR: &str = "/nonexistent/kubectl-codex-fuzz";

fuzz_target!(|data: &[u8]| {
    let Ok(loaded) = load_bytes("services.yaml", data.to_vec(), Path::new(BASE_DIR)) else {
        return;
    };
    for env in loaded.environment_names() {
        // Slot "1" like `validate` does: namespace templates that use the slot then render.
        let selection = Selection { env, slot: "1".into(), issue: String::new() };
        let Ok(stack) = loaded.resolve(&selection) else {
            continue;
        };
        let plan = kubectl_codex::plan::plan(&stack);
        check_plan(&stack, &plan);
        let values = kubectl_codex::values::phase_values(&stack, &plan);
        assert_eq!(values.len(), plan.phases.len(), "one values file per planned phase");
        for phase in &values {
            assert!(!phase.yaml.is_empty(), "empty values for {}", phase.release);
        }
    }
});

/// Every resolved unit is planned exactly once, in its own phase, after the units of its phase
/// it depends on, and never after a unit of a later phase.
fn check_plan(stack: &Stack, plan: &Plan) {
    let mut position = HashMap::new();
    for (p, phase) in plan.phases.iter().enumerate() {
        for (u, unit) in phase.units.iter().enumerate() {
            let previous = position.insert(unit.name.as_str(), (p, u));
            assert!(previous.is_none(), "unit {} planned twice", unit.name);
        }
    }
    assert_eq!(position.len(), stack.units.len(), "every resolved unit is planned once");
    for unit in &stack.units {
        let (p, u) = position[unit.name.as_str()];
        assert_eq!(plan.phases[p].name, unit.phase, "unit {} planned in the wrong phase", unit.name);
        for dependency in &unit.depends_on {
            let Some(&(dp, du)) = position.get(dependency.as_str()) else {
                panic!("unit {} depends on {dependency}, which is not planned", unit.name);
            };
            assert!(
                (dp, du) < (p, u),
                "unit {} (phase {}) is planned before its dependency {dependency} (phase {})",
                unit.name,
                plan.phases[p].name,
                plan.phases[dp].name
            );
        }
    }
}
