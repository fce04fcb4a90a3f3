//! A stack split with `imports` and sharing defaults through `components`
//! (tests/fixtures/split-stack): it must plan and render exactly like its single-file twin
//! (flat.yaml, imports merged and components expanded by hand), and errors in any of its files
//! must name that file, line and column.
//! Regenerate the golden files with `UPDATE_GOLDEN=1 cargo test --test tests -- split_stack::`.

use crate::support::check_golden;
use kubectl_codex::config::{self, diagnostics::Diagnostics, stack::Selection};
use kubectl_codex::{plan, values};
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/split-stack")
}

fn selections() -> Vec<Selection> {
    let select = |env: &str, slot: &str| Selection { env: env.into(), slot: slot.into(), issue: String::new() };
    vec![select("prod", ""), select("dev", ""), select("dev", "3")]
}

#[test]
fn the_split_stack_plans_and_renders_like_its_single_file_twin() {
    let split = config::load_path(&fixture().join("services.yaml")).expect("the split stack is valid");
    let flat = config::load_path(&fixture().join("flat.yaml")).expect("its twin is valid");
    assert!(split.check_all_environments("1", "").is_empty());
    for selection in selections() {
        let (split, flat) = (split.resolve(&selection).unwrap(), flat.resolve(&selection).unwrap());
        let (split_plan, flat_plan) = (plan::plan(&split), plan::plan(&flat));
        assert_eq!(
            serde_json::to_string_pretty(&split_plan).unwrap(),
            serde_json::to_string_pretty(&flat_plan).unwrap(),
            "plan of {}",
            selection.env
        );
        assert_eq!(split.input_digest, flat.input_digest, "the same stack, the same input digest");
        let yaml = |stack, plan| values::phase_values(stack, plan).into_iter().map(|p| p.yaml).collect::<Vec<_>>();
        assert_eq!(yaml(&split, &split_plan), yaml(&flat, &flat_plan), "values of {}", selection.env);
    }
}

#[test]
fn the_plan_and_values_of_the_split_stack_match_the_golden_files() {
    let loaded = config::load_path(&fixture().join("services.yaml")).unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/split-stack");
    let stack = loaded.resolve(&Selection { env: "dev".into(), ..Default::default() }).unwrap();
    let plan = plan::plan(&stack);
    check_golden(&dir.join("plan.txt"), &plan.to_text());
    for phase in values::phase_values(&stack, &plan) {
        check_golden(&dir.join(format!("{}.values.yaml", phase.phase.directory_name())), &phase.yaml);
    }
}

/// The fixture copied into a temporary directory, `file` edited (`from` → `to`), and loaded.
fn edited_fixture(file: &str, from: &str, to: &str) -> Diagnostics {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(), dir.path());
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches(from).count(), 1, "{from:?} must occur once in {file}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    match config::load_bytes("services.yaml", std::fs::read(dir.path().join("services.yaml")).unwrap(), dir.path()) {
        Ok(loaded) => loaded.check_all_environments("1", ""),
        Err(found) => found,
    }
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn lines(found: &Diagnostics) -> Vec<String> {
    found.0.iter().map(ToString::to_string).collect()
}

#[test]
fn an_error_in_an_imported_file_names_that_file_line_and_column() {
    let found = edited_fixture("units/20-services.yaml", "replicas: 2", "replicas: two");
    assert_eq!(
        lines(&found),
        ["units/20-services.yaml:19:17: services[1].workload.replicas: \"two\" is not an integer"]
    );
    let found = edited_fixture("units/20-services.yaml", "dependsOn: [api]", "dependsOn: [apx]");
    assert_eq!(
        lines(&found),
        ["units/20-services.yaml:22:17: services[2].dependsOn[0]: unknown unit \"apx\"; did you mean \"api\"?"],
    );
}

#[test]
fn an_error_in_a_component_is_reported_once_where_the_component_wrote_it() {
    // Found in the component itself and in both units that use it: one error.
    let found = edited_fixture("shared/components.yaml", "kind: Deployment", "kind: Deploy");
    assert_eq!(lines(&found).len(), 1, "{found}");
    assert!(
        lines(&found)[0].starts_with(
            "shared/components.yaml:9:13: components.http-service.workload.kind: \"Deploy\" is not one of: Deployment"
        ),
        "{found}"
    );
    // Only wrong in a unit that uses it: located in the component, named by the unit's path.
    let found = edited_fixture("shared/components.yaml", "port: http }, periodSeconds", "port: htp }, periodSeconds");
    assert_eq!(
        lines(&found),
        ["shared/components.yaml:14:52: services[1].workload.probes.readiness.http.port: unknown port \"htp\"; did you mean \"http\"?"],
        "web replaced the HTTP check, so only api has it"
    );
    // From a component of a component, two imports away.
    let found = edited_fixture("shared/base.yaml", "team: split", "team: [split]");
    assert_eq!(lines(&found).len(), 1, "{found}");
    assert!(
        lines(&found)[0].starts_with("shared/base.yaml:9:26: components.base.workload.podLabels.team: "),
        "{found}"
    );
}

#[test]
fn a_use_naming_no_component_lists_the_declared_ones() {
    let found = edited_fixture("units/20-services.yaml", "use: [base]", "use: [bse]");
    assert_eq!(
        lines(&found),
        ["units/20-services.yaml:5:11: services[0].use[0]: no component named \"bse\"; did you mean \"base\"?; declared: base, http-service"],
    );
}
