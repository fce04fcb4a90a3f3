//! validate, plan, render, schema, version, help and completion: what each prints and its
//! exit code.

use super::*;

#[test]
fn validate_accepts_the_example() {
    let out = codex(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("is valid: 7 units"));
}

#[test]
fn validate_reports_every_error_with_its_location_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("services.yaml");
    let example = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("services.yaml")).unwrap();
    std::fs::write(
        &bad,
        example.replace("kind: StatefulSet", "kind: StatefullSet").replace("phase: edge", "phase: egde"),
    )
    .unwrap();
    let out = codex(&["validate", "-f", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("services[3].phase: \"egde\" is not one of"), "{stderr}");
    assert!(stderr.contains("infrastructure[0].workload.kind: \"StatefullSet\" is not one of"), "{stderr}");
    assert!(stderr.contains("2 errors found"), "{stderr}");
    let json = codex(&["validate", "-f", bad.to_str().unwrap(), "-o", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["valid"], false);
    assert!(report["errors"][0]["line"].as_u64().unwrap() > 0);
}

#[test]
fn a_missing_file_is_an_input_error() {
    let out = codex(&["validate", "-f", "/nonexistent/services.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot read /nonexistent/services.yaml"));
}

#[test]
fn plan_is_byte_identical_across_runs() {
    let first = codex(&["plan", "--env", "ai", "--issue", "19", "-o", "json"]);
    let second = codex(&["plan", "--env", "ai", "--issue", "19", "-o", "json"]);
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert_eq!(first.stdout, second.stdout);
    let plan: serde_json::Value = serde_json::from_slice(&first.stdout).unwrap();
    let phases: Vec<&str> = plan["phases"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(phases, ["stateful", "migrations", "internal", "edge", "frontend"]);
    assert_eq!(plan["namespace"], "codex-ai-issue-19");
}

#[test]
fn an_unknown_environment_is_an_input_error() {
    let out = codex(&["plan", "--env", "qa"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no environment named \"qa\""));
}

#[test]
fn a_usage_error_exits_64() {
    assert_eq!(codex(&["plan"]).status.code(), Some(64));
    assert_eq!(codex(&["frobnicate"]).status.code(), Some(64));
}

#[test]
fn render_values_only_writes_one_directory_per_phase() {
    let dir = tempfile::tempdir().unwrap();
    let out = codex(&["render", "--env", "prod", "--out", dir.path().to_str().unwrap(), "--values-only"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    for phase in ["01-stateful", "02-migrations", "03-internal", "04-edge", "05-frontend"] {
        assert!(dir.path().join(phase).join("values.yaml").is_file(), "{phase}");
    }
}

#[test]
fn schema_is_json_and_denies_unknown_fields() {
    let out = codex(&["schema"]);
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(schema["additionalProperties"], false);
}

#[test]
fn version_names_the_commit() {
    let out = codex(&["version", "-o", "json"]);
    let version: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(version["version"], env!("CARGO_PKG_VERSION"));
    assert!(!version["commit"].as_str().unwrap().is_empty());
}

#[test]
fn every_command_help_has_examples() {
    for command in [
        "validate",
        "plan",
        "render",
        "build",
        "schema",
        "version",
        "completion",
        "up",
        "status",
        "evidence",
        "down",
        "revise",
        "gc",
        "agent",
        "check",
    ] {
        let out = codex(&[command, "--help"]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Example"), "{command} --help has no examples");
    }
}

#[test]
fn completion_scripts_are_generated() {
    for shell in ["bash", "zsh", "fish"] {
        let out = codex(&["completion", shell]);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("kubectl-codex"), "{shell}");
    }
}

#[test]
fn agent_run_and_check_explain_themselves_and_agent_run_needs_a_command() {
    for command in [&["agent", "run", "--help"][..], &["check", "--help"][..]] {
        let out = codex(command);
        assert_eq!(out.status.code(), Some(0));
        assert!(text(&out.stdout).contains("Example"), "{command:?} --help has no examples");
    }
    // The example declares no agent.command: without `-- CMD` there is nothing to run, and
    // that is known before any cluster is contacted.
    let out = codex(&["agent", "run", "--env", "dev", "--slot", "1", "--kubeconfig", "/nonexistent"]);
    assert_eq!(out.status.code(), Some(64), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("after `--`"), "{}", text(&out.stderr));
}

/// `-f services.yaml` run inside the stack's directory: the file's parent is the empty path,
/// and the manifests next to it must still be found.
#[test]
fn manifests_are_found_next_to_a_bare_file_name() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/manifest-stack");
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["plan", "--env", "staging", "-f", "services.yaml", "-o", "json"])
        .current_dir(&fixture)
        .env_remove("CODEX_ENV")
        .env_remove("CODEX_FILE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(plan["phases"].as_array().is_some_and(|p| !p.is_empty()), "{plan}");
}

#[test]
fn an_imports_cycle_exits_2_naming_the_chain_and_the_split_fixture_plans() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("services.yaml");
    std::fs::write(&main, "imports: [a.yaml]\napiVersion: codex-k8s.dev/v1alpha1\n").unwrap();
    std::fs::write(dir.path().join("a.yaml"), "imports: [services.yaml]\n").unwrap();
    let out = codex(&["validate", "-f", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    let shown = dir.path().join("a.yaml");
    let expected =
        format!("{}:1:11: imports[0]: imports cycle: services.yaml → a.yaml → services.yaml", shown.display());
    assert!(stderr.contains(&expected), "{stderr}");
    let out = codex(&["plan", "--env", "prod", "-f", "tests/fixtures/split-stack/services.yaml"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("api [Deployment] split/app:1.4.0"));
}
