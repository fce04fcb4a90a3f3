//! Golden files: the plan and the per-phase values of the repository's own services.yaml.
//! Regenerate after an intended change with `UPDATE_GOLDEN=1 cargo test --test tests -- golden::`,
//! then review the diff like any other code change.

use crate::support::check_golden;
use kubectl_codex::config::{self, inputs::GivenInputs, stack::Selection};
use kubectl_codex::{plan, values};
use std::path::{Path, PathBuf};

/// The example's secret input, as the environment gives it; it must show up nowhere.
const DB_PASSWORD: &str = "golden-db-password-6e1f";

fn inputs() -> GivenInputs {
    GivenInputs { env: [("CODEX_INPUT_DBPASSWORD".to_string(), DB_PASSWORD.to_string())].into(), ..Default::default() }
}

fn cases() -> Vec<(&'static str, Selection)> {
    let select =
        |env: &str, slot: &str, issue: &str| Selection { env: env.into(), slot: slot.into(), issue: issue.into() };
    vec![
        ("prod", select("prod", "", "")),
        ("staging", select("staging", "", "")),
        ("dev-slot-2", select("dev", "2", "")),
        ("ai-issue-19", select("ai", "", "19")),
    ]
}

#[test]
fn plans_and_values_of_the_example_match_the_golden_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = config::load_path(&root.join("services.yaml")).expect("the example is valid");
    for (name, selection) in cases() {
        let stack = loaded.resolve_with(&selection, &inputs()).expect("every example environment resolves");
        let plan = plan::plan(&stack);
        let dir: PathBuf = root.join("tests/golden").join(name);
        let text = plan.to_text();
        let json = serde_json::to_string_pretty(&plan).unwrap() + "\n";
        for shown in [&text, &json, &format!("{stack:?}"), &serde_json::to_string(&stack).unwrap()] {
            assert!(!shown.contains(DB_PASSWORD), "the password shows in {name}");
        }
        check_golden(&dir.join("plan.txt"), &text);
        check_golden(&dir.join("plan.json"), &json);
        for phase in values::phase_values(&stack, &plan) {
            assert!(!phase.yaml.contains(DB_PASSWORD), "the password is in the values of {name}");
            check_golden(&dir.join(format!("{}.values.yaml", phase.phase.directory_name())), &phase.yaml);
        }
    }
}

#[test]
fn the_phases_of_the_example_come_in_the_fixed_order() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let loaded = config::load_path(&root.join("services.yaml")).unwrap();
    let stack = loaded.resolve_with(&Selection { env: "prod".into(), ..Default::default() }, &inputs()).unwrap();
    let names: Vec<&str> = plan::plan(&stack).phases.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(names, ["stateful", "migrations", "internal", "edge", "frontend"]);
}

#[test]
fn the_committed_schema_is_the_generated_one() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = std::fs::read_to_string(root.join("schema/services.schema.json")).unwrap();
    let generated = serde_json::to_string_pretty(config::schema::schema()).unwrap() + "\n";
    assert!(
        committed == generated,
        "schema/services.schema.json is stale: run `kubectl codex schema > schema/services.schema.json`"
    );
}

#[test]
fn the_example_carries_the_schema_modeline() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(root.join("services.yaml")).unwrap();
    assert!(text.starts_with("# yaml-language-server: $schema=./schema/services.schema.json\n"));
}
