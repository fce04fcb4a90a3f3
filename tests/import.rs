//! `kubectl codex import` on fixtures of both formats, written from the formats' description:
//! the written stack and report against golden files, then the result through validate, plan
//! and (with the real helm) render for every environment of the source.

use crate::support::{check_golden, root, text};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The fixtures, each a directory holding `services.yaml` and what it references.
const FIXTURES: [&str; 3] = ["codexctl", "servicestack", "servicestack-codex-k8s"];

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/import").join(name)
}

/// Runs kubectl-codex in `dir` (so the report names files relative to it).
fn codex_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-codex")).args(args).current_dir(dir).output().expect("kubectl-codex runs")
}

/// A copy of the fixture in a fresh directory, imported into its `codex/` subdirectory, so
/// every path the import writes is relative and the same on every machine.
struct Imported {
    _dir: tempfile::TempDir,
    source: PathBuf,
    out: PathBuf,
    report: Value,
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

fn import(name: &str) -> Imported {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("src");
    copy_tree(&fixture(name), &source);
    let output = codex_in(&source, &["import", "services.yaml", "--out", "codex", "-o", "json"]);
    assert_eq!(output.status.code(), Some(0), "import {name}: {}{}", text(&output.stdout), text(&output.stderr));
    let report = serde_json::from_slice(&output.stdout).unwrap();
    let out = source.join("codex");
    Imported { _dir: dir, source, out, report }
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(current) = stack.pop() {
        for entry in std::fs::read_dir(&current).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else {
                found.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    found.sort();
    found
}

fn environments(out: &Path) -> Vec<String> {
    let stack: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(out.join("services.yaml")).unwrap()).unwrap();
    stack["environments"].as_mapping().unwrap().keys().map(|k| k.as_str().unwrap().to_string()).collect()
}

#[test]
fn each_fixture_imports_to_its_golden_stack_and_report() {
    for name in FIXTURES {
        let imported = import(name);
        let report = &imported.report;
        assert_eq!(report["valid"], true, "{name}: {report:#}");
        let golden = root().join("tests/golden/import").join(name);
        check_golden(&golden.join("report.json"), &format!("{}\n", serde_json::to_string_pretty(&report).unwrap()));
        let written = files_under(&imported.out);
        let listed: Vec<String> = {
            let mut listed: Vec<String> =
                report["written"].as_array().unwrap().iter().map(|f| f.as_str().unwrap().to_string()).collect();
            listed.sort();
            listed
        };
        assert_eq!(written, listed, "{name}: the report lists every file written");
        for file in written {
            check_golden(&golden.join("out").join(&file), &std::fs::read_to_string(imported.out.join(&file)).unwrap());
        }
    }
}

#[test]
fn every_imported_fixture_validates_and_plans_for_every_environment_of_its_source() {
    for name in FIXTURES {
        let imported = import(name);
        let (stack, values) = ("codex/services.yaml", "codex/inputs.example.yaml");
        let validate = codex_in(&imported.source, &["validate", "-f", stack, "--values-file", values]);
        assert_eq!(validate.status.code(), Some(0), "{name}: {}", text(&validate.stderr));
        for env in environments(&imported.out) {
            let plan = codex_in(
                &imported.source,
                &["plan", "-f", stack, "--env", &env, "--slot", "1", "--values-file", values, "-o", "json"],
            );
            assert_eq!(
                plan.status.code(),
                Some(0),
                "{name} plan --env {env}: {}{}",
                text(&plan.stdout),
                text(&plan.stderr)
            );
            let plan: Value = serde_json::from_slice(&plan.stdout).unwrap();
            assert!(!plan["phases"].as_array().unwrap().is_empty(), "{name} {env}: a plan with phases");
        }
    }
}

#[cfg(feature = "helm-tests")]
#[test]
fn every_imported_fixture_renders_through_helm_for_every_environment() {
    let helm = std::env::var("CODEX_HELM").expect("CODEX_HELM must point at helm; `cargo xtask test` sets it");
    for name in FIXTURES {
        let imported = import(name);
        let stack = imported.out.join("services.yaml");
        let values = imported.out.join("inputs.example.yaml");
        for env in environments(&imported.out) {
            let rendered = tempfile::tempdir().unwrap();
            let render = Command::new(env!("CARGO_BIN_EXE_kubectl-codex"))
                .args(["render", "-f", stack.to_str().unwrap(), "--env", &env, "--slot", "1"])
                .args(["--values-file", values.to_str().unwrap()])
                .args(["--out", rendered.path().to_str().unwrap()])
                .env("CODEX_HELM", &helm)
                .output()
                .unwrap();
            assert_eq!(render.status.code(), Some(0), "{name} render --env {env}: {}", text(&render.stderr));
            let manifests: Vec<String> =
                files_under(rendered.path()).into_iter().filter(|f| f.ends_with("manifests.yaml")).collect();
            assert!(!manifests.is_empty(), "{name} {env}: helm template wrote manifests");
        }
    }
}

#[test]
fn strict_refuses_what_was_not_carried_and_text_lists_it_with_lines() {
    let out = tempfile::tempdir().unwrap();
    let output =
        codex_in(&fixture("codexctl"), &["import", "services.yaml", "--out", out.path().to_str().unwrap(), "--strict"]);
    assert_eq!(output.status.code(), Some(2), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("not-carried:") && stdout.contains("services.yaml:61: hook \"announce\": github.comment"),
        "{stdout}"
    );
    assert!(text(&output.stderr).contains("--strict"), "{}", text(&output.stderr));
}

#[test]
fn the_phase_of_a_codexctl_unit_is_set_with_phase() {
    let out = tempfile::tempdir().unwrap();
    let output = codex_in(
        &fixture("codexctl"),
        &[
            "import",
            "services.yaml",
            "--out",
            out.path().to_str().unwrap(),
            "--phase",
            "migrate=migrations",
            "-o",
            "json",
        ],
    );
    assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
    let stack: serde_yaml::Value =
        serde_yaml::from_str(&std::fs::read_to_string(out.path().join("services.yaml")).unwrap()).unwrap();
    let migrate = stack["services"].as_sequence().unwrap().iter().find(|u| u["name"] == "migrate").unwrap();
    assert_eq!(migrate["phase"], "migrations");
    let bad = codex_in(
        &fixture("codexctl"),
        &["import", "services.yaml", "--out", out.path().to_str().unwrap(), "--phase", "migrate=later"],
    );
    assert_eq!(bad.status.code(), Some(64), "{}", text(&bad.stderr));
}

#[test]
fn validate_given_a_foreign_file_names_the_import_command_in_one_line() {
    for name in FIXTURES {
        let output = codex_in(&fixture(name), &["validate", "-f", "services.yaml"]);
        assert_eq!(output.status.code(), Some(2), "{name}");
        let stderr = text(&output.stderr);
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.starts_with("services.yaml:1:1: ") && first.contains("kubectl codex import services.yaml --out DIR"),
            "{name}: {stderr}"
        );
        assert_eq!(stderr.lines().count(), 2, "{name}: one error and the count: {stderr}");
    }
}

/// One bad input: what it is, its files (name, content) in a fresh directory, and the start
/// (`file:line:column`) and words of the error line expected.
type BadCase = (&'static str, &'static [(&'static str, &'static str)], &'static str, &'static str);

#[test]
fn bad_input_is_exit_2_with_file_line_and_column() {
    let cases: [BadCase; 6] = [
        (
            "a template that does not parse",
            &[("services.yaml", "project: p\nservices:\n  - name: a\n    manifests: [{path: a.yaml}]\n"), ("a.yaml", "kind: ConfigMap\nmetadata:\n  name: {{ .Project \n")],
            "a.yaml:3:",
            "",
        ),
        (
            "an unknown function",
            &[("services.yaml", "project: p\nservices:\n  - name: a\n    manifests: [{path: a.yaml}]\n"), ("a.yaml", "kind: ConfigMap\nmetadata:\n  name: {{ sha256sum .Project }}\n")],
            "a.yaml:3:12:",
            "sha256sum",
        ),
        (
            "an unknown function in the stack file",
            &[("services.yaml", "project: p\nnamespace:\n  patterns:\n    dev: \"{{ upper .Project }}\"\n")],
            "services.yaml:4:",
            "upper",
        ),
        (
            "an imports cycle",
            &[
                ("services.yaml", "apiVersion: kodex.works/v1alpha1\nkind: ServiceStack\nmetadata: {name: p}\nspec:\n  imports: [a.yaml]\n  environments: {dev: {}}\n"),
                ("a.yaml", "spec:\n  imports: [b.yaml]\n"),
                ("b.yaml", "spec:\n  imports: [a.yaml]\n"),
            ],
            "b.yaml:2:",
            "imports cycle detected: a.yaml -> b.yaml -> a.yaml",
        ),
        (
            "a missing referenced manifest",
            &[("services.yaml", "project: p\nservices:\n  - name: a\n    manifests:\n      - path: deploy/missing.yaml\n")],
            "services.yaml:5:",
            "deploy/missing.yaml",
        ),
        ("a file that is neither format", &[("services.yaml", "hello: world\n")], "services.yaml:1:1:", "neither a codexctl"),
    ];
    for (what, files, at, words) in cases {
        let dir = tempfile::tempdir().unwrap();
        for (name, content) in files {
            std::fs::write(dir.path().join(name), content).unwrap();
        }
        let out = dir.path().join("out");
        let output = codex_in(dir.path(), &["import", "services.yaml", "--out", out.to_str().unwrap()]);
        let stderr = text(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{what}: {stderr}");
        assert!(
            stderr.lines().any(|l| l.starts_with(at) && l.contains(words)),
            "{what}: wanted `{at}…{words}` in\n{stderr}"
        );
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    }
}
