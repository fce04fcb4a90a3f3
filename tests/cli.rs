//! The command line as scripts see it: exit codes, output formats, determinism.

use std::path::Path;
use std::process::{Command, Output};

fn codex(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("CODEX_ENV")
        .env_remove("CODEX_FILE")
        .output()
        .expect("the binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

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
    std::fs::write(&bad, example.replace("kind: StatefulSet", "kind: StatefullSet").replace("phase: edge", "phase: egde")).unwrap();
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
fn render_without_helm_says_how_to_get_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
        .args(["render", "--env", "prod", "--out", dir.path().to_str().unwrap(), "--helm", "/nonexistent/helm"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out.stderr).contains("--helm /nonexistent/helm: no such file"));
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
    for command in ["validate", "plan", "render", "schema", "version", "completion", "up", "status", "evidence", "down", "revise", "gc", "agent", "check"] {
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
