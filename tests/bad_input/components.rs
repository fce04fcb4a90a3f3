//! Components and `use`: merging, unknown names, cycles, and errors that point into the
//! component.

use super::*;

/// MINIMAL with `components` (written before `infrastructure:`) and `api` using `uses`.
fn with_components(components: &str, uses: &str) -> String {
    edited("infrastructure:\n", &format!("components:\n{components}infrastructure:\n")).replacen(
        "  - name: api\n",
        &format!("  - name: api\n    use: {uses}\n"),
        1,
    )
}

#[test]
fn a_component_merges_into_the_unit_that_uses_it() {
    let text = with_components("  web:\n    workload: { replicas: 2 }\n", "[web]");
    assert!(problems(text.into_bytes()).is_empty());
}

#[test]
fn a_use_naming_no_component_lists_the_declared_ones() {
    let text = with_components("  web: {}\n  worker: {}\n", "[web, wrker]");
    assert_error(
        &text,
        32,
        16,
        "services[1].use[1]",
        "no component named \"wrker\"; did you mean \"worker\"?; declared: web, worker",
    );
    let text = edited("  - name: api\n", "  - name: api\n    use: [web]\n");
    assert_error(&text, 29, 11, "services[1].use[0]", "no components are declared");
}

#[test]
fn a_components_cycle_names_the_whole_chain() {
    let text = with_components("  a: { use: [b] }\n  b: { use: [a] }\n", "[a]");
    assert_error(&text, 16, 14, "components.b.use[0]", "components cycle: a → b → a");
}

#[test]
fn a_component_has_no_name() {
    let text = with_components("  web: { name: web }\n", "[web]");
    assert_error(&text, 15, 10, "components.web.name", "a component has no name: each unit that uses it has its own");
}

#[test]
fn a_component_field_of_the_wrong_type_is_reported_once_at_the_component() {
    let text = with_components("  web:\n    workload: { replicas: many }\n", "[web]");
    assert_error(&text, 16, 27, "components.web.workload.replicas", "\"many\" is not an integer");
    assert_eq!(problems(text.into_bytes()).len(), 1, "the unit that uses it adds no second report");
}

#[test]
fn a_rule_broken_by_a_merged_unit_points_into_the_component() {
    // Replicas suit a Deployment (the component's) but not the Job the unit makes of it.
    let text = with_components("  scaled:\n    workload: { replicas: 3 }\n", "[scaled]").replacen(
        "      kind: Deployment\n",
        "      kind: Job\n",
        1,
    );
    assert_error(&text, 16, 27, "services[1].workload.replicas", "Deployment and StatefulSet only");
}
